"""Which peers may speak for their clients (the ``--forwarded-allow-ips`` setting).

Pure: a :class:`TrustedPeers` is built once from the setting and then asked, once
per connection (and once per hop of a forwarding chain), whether an address is
trusted. Answers are cached per host string in a small bounded dict, because the
same few proxies connect over and over.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from typing import Final

__all__ = ["TrustedPeers"]

_Address = ipaddress.IPv4Address | ipaddress.IPv6Address
_Network = ipaddress.IPv4Network | ipaddress.IPv6Network

#: Entries kept in the per-host answer cache; the oldest is evicted first.
_CACHE_SIZE: Final = 256
#: Longer strings cannot be IP addresses (45 characters plus a short zone id).
_MAX_HOST_LENGTH: Final = 64


class TrustedPeers:
    """A parsed trust list: addresses, CIDR networks, ``*`` (everyone), ``unix``."""

    __slots__ = ("_cache", "_everyone", "_exact", "_items", "_networks", "_unix")

    def __init__(
        self,
        *,
        everyone: bool = False,
        unix: bool = False,
        exact: Iterable[_Address] = (),
        networks: Iterable[_Network] = (),
        items: tuple[str, ...] = (),
    ) -> None:
        """Build a trust list from parsed parts; :meth:`parse` is the usual way in."""
        self._everyone = everyone
        self._unix = unix
        # (version, integer) keys: a set lookup that ignores IPv6 zone ids.
        self._exact = frozenset(_key(_unmap(address)) for address in exact)
        self._networks = tuple(networks)
        self._items = items
        self._cache: dict[str, bool] = {}

    @classmethod
    def parse(cls, items: Iterable[str]) -> TrustedPeers:
        """Parse the setting's items: IPs, CIDR networks, ``*`` and ``unix``.

        An item may itself hold several comma-separated entries; blank entries
        are skipped. A bad entry raises ``ValueError`` naming it.
        """
        everyone = unix = False
        exact: list[_Address] = []
        networks: list[_Network] = []
        entries = [part.strip() for item in items for part in item.split(",")]
        entries = [entry for entry in entries if entry]
        for entry in entries:
            if entry == "*":
                everyone = True
            elif entry.lower() == "unix":
                unix = True
            elif "/" in entry:
                network = _parse_network(entry)
                if network.num_addresses == 1:
                    exact.append(network.network_address)
                else:
                    networks.append(network)
            else:
                exact.append(_parse_address(entry))
        return cls(
            everyone=everyone, unix=unix, exact=exact, networks=networks, items=tuple(entries)
        )

    @property
    def everyone(self) -> bool:
        """True when ``*`` was listed: every peer is trusted."""
        return self._everyone

    @property
    def unix(self) -> bool:
        """True when unix-socket peers are trusted (``unix`` or ``*`` was listed)."""
        return self._unix or self._everyone

    def trusts(self, host: str | None) -> bool:
        """Whether the peer at ``host`` (an IP string; None for a unix socket) is trusted.

        An IPv4-mapped IPv6 address (``::ffff:127.0.0.1``) matches the IPv4
        entries, since a dual-stack listener reports IPv4 peers that way. A
        string that is not an IP address is never trusted (unless ``*``).
        """
        if host is None:
            return self._unix or self._everyone
        if self._everyone:
            return True
        cache = self._cache
        answer = cache.get(host)
        if answer is not None:
            return answer
        answer = self._check(host)
        if len(host) <= _MAX_HOST_LENGTH:
            if len(cache) >= _CACHE_SIZE:
                del cache[next(iter(cache))]
            cache[host] = answer
        return answer

    def _check(self, host: str) -> bool:
        """Uncached trust check of one host string."""
        if len(host) > _MAX_HOST_LENGTH or not host.isascii():
            return False
        try:
            address = ipaddress.ip_address(host)
        except ValueError:
            return False
        candidates = [address]
        mapped = _unmap(address)
        if mapped is not address:
            candidates.append(mapped)
        for candidate in candidates:
            if _key(candidate) in self._exact:
                return True
            if any(candidate in network for network in self._networks):
                return True
        return False

    def __repr__(self) -> str:
        return f"TrustedPeers.parse({list(self._items)!r})"


def _key(address: _Address) -> tuple[int, int]:
    """A hashable identity of an address that ignores an IPv6 zone id."""
    return address.version, int(address)


def _unmap(address: _Address) -> _Address:
    """The IPv4 address inside an IPv4-mapped IPv6 address (RFC 4291 §2.5.5.2)."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _parse_address(entry: str) -> _Address:
    """One exact address entry, or a ``ValueError`` naming it."""
    try:
        return ipaddress.ip_address(entry)
    except ValueError:
        raise ValueError(f"{entry!r} is not an IP address, a CIDR network, '*' or 'unix'") from None


def _parse_network(entry: str) -> _Network:
    """One CIDR network entry, or a ``ValueError`` naming it."""
    try:
        return ipaddress.ip_network(entry)
    except ValueError:
        pass
    try:
        network = ipaddress.ip_network(entry, strict=False)
    except ValueError:
        raise ValueError(f"{entry!r} is not a valid CIDR network") from None
    # A typo like 10.0.0.1/8 would silently trust far more than meant: refuse it.
    raise ValueError(f"{entry!r} has host bits set; did you mean {str(network)!r}?")
