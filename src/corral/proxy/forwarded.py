"""What the app should see behind trusted proxies: client, scheme, host, port, prefix.

Pure: request headers and connection facts in, a :class:`ProxyView` out. Nothing
here raises, whatever bytes a client sends; a value that does not parse is
ignored as if absent.

Choosing the client (for ``X-Forwarded-For`` and the ``for=`` values of RFC 7239
``Forwarded`` alike): each proxy appends the address it received the request
from, so the list is only trustworthy from the right, hop by hop, as long as the
hop that wrote it is trusted. The walk goes right to left, skipping addresses of
trusted proxies; the first untrusted address is the client; when every address
is trusted, the leftmost one is. An entry that is no IP address (``unknown``, an
obfuscated ``_name``, garbage, a ``Forwarded`` element without ``for=``) cannot
be checked, so the walk stops there and the client is the last valid address to
its right, or the peer itself when there is none: we never report an address
that no trusted hop vouched for. Only the last :data:`MAX_HOPS` entries are
considered, which bounds the work a client can cause.

``Forwarded`` (when enabled and well formed) wins over the ``X-Forwarded-*``
family, which is then ignored except ``X-Forwarded-Prefix`` (it has no
``Forwarded`` counterpart and is opt-in). Its ``proto`` and ``host`` come from
the element of the chosen hop: that element was written by the first trusted
proxy, which saw the client's request. A malformed ``Forwarded`` header is
ignored as a whole.
"""

from __future__ import annotations

import functools
import ipaddress
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Final

from corral.proxy.trust import TrustedPeers

__all__ = [
    "DEFAULT_OPTIONS",
    "FORWARDING_HEADERS",
    "MAX_HOPS",
    "ForwardedOptions",
    "ProxyView",
    "has_forwarding",
    "parse_forwarded_header",
    "resolve_forwarded",
    "strip_forwarding",
]

Address = tuple[str, int]

#: At most this many hops (list entries / Forwarded elements) are considered.
MAX_HOPS: Final = 64

#: Request headers that carry forwarding information (lowercase names).
FORWARDING_HEADERS: Final = frozenset(
    {
        b"forwarded",
        b"x-forwarded-for",
        b"x-forwarded-host",
        b"x-forwarded-port",
        b"x-forwarded-prefix",
        b"x-forwarded-proto",
        b"x-forwarded-scheme",
        b"x-forwarded-ssl",
        b"x-real-ip",
    }
)

# ws/wss name the same transport security as http/https; the caller picks the
# scope's own vocabulary (http/https or ws/wss) from this.
_SCHEMES: Final = {"http": "http", "https": "https", "ws": "http", "wss": "https"}
_SSL_FLAGS: Final = {"on": "https", "off": "http"}

_IP_CHARS: Final = frozenset("0123456789abcdefABCDEF.:")
# RFC 7239 §6.3: obfport = "_" 1*(ALPHA / DIGIT / "." / "_" / "-")
_OBFUSCATED: Final = re.compile(r"_[A-Za-z0-9._-]+")
# A plausible Host value (RFC 9110 §7.2: uri-host [ ":" port ]): a reg-name of
# letters, digits, "-", "." and "_" (container names use "_"), an IPv4 address,
# or a bracketed IPv6 address. Anything else could smuggle text into URLs.
_HOST: Final = re.compile(r"(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._-]+)(?::[0-9]{1,5})?")
_MAX_HOST: Final = 261  # 253 for the name, ":" and five digits, brackets
# RFC 3986 §3.3 pchar without "%": no escapes to hide ".." or "//" behind.
_PREFIX_CHARS: Final = frozenset(
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~!$&'()*+,;=:@/"
)
_MAX_PREFIX: Final = 2048

# RFC 7230 §3.2.6: token and quoted-string (qdtext and quoted-pair).
_TOKEN: Final = r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+"
_QUOTED: Final = r'"(?:[\t \x21\x23-\x5b\x5d-\x7e\x80-\xff]|\\[\t \x21-\x7e\x80-\xff])*"'
# RFC 7239 §4: forwarded-pair = token "=" value; OWS around pairs is tolerated.
_PAIR: Final = re.compile(rf"[ \t]*({_TOKEN})=({_TOKEN}|{_QUOTED})[ \t]*")
_QUOTED_PAIR: Final = re.compile(r"\\(.)", re.DOTALL)


@dataclass(frozen=True, slots=True)
class ForwardedOptions:
    """Which forwarding headers a trusted peer may use."""

    use_forwarded: bool = True  # RFC 7239 Forwarded, preferred over X-Forwarded-*
    use_prefix: bool = False  # X-Forwarded-Prefix sets the root path


DEFAULT_OPTIONS: Final = ForwardedOptions()


@dataclass(frozen=True, slots=True)
class ProxyView:
    """The request as the app should see it.

    ``client`` is the client's (host, port), the peer's unless a trusted proxy
    said otherwise (port 0 when the proxy gave none), or None for an unknown
    unix-socket client. ``scheme`` is "http" or "https". ``host`` replaces the
    Host header when not None. ``server_port`` is the forwarded port, else the
    listener's. ``root_path`` is the forwarded prefix ("" for none).
    """

    client: Address | None
    scheme: str
    host: bytes | None
    server_port: int | None
    root_path: str


def has_forwarding(headers: Iterable[tuple[bytes, bytes]]) -> bool:
    """Whether any header in ``headers`` (lowercase names) is a forwarding header."""
    # A plain loop: 135 ns for five headers against 296 ns with any() and a
    # generator (measured with timeit on CPython 3.11); this runs per request.
    for name, _ in headers:  # noqa: SIM110
        if name in FORWARDING_HEADERS:
            return True
    return False


def strip_forwarding(headers: Iterable[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    """``headers`` without forwarding headers (for peers that are not trusted)."""
    return [header for header in headers if header[0] not in FORWARDING_HEADERS]


def resolve_forwarded(
    headers: Iterable[tuple[bytes, bytes]],
    peer: Address | None,
    scheme: str,
    server: Address | None,
    trusted: TrustedPeers,
    options: ForwardedOptions = DEFAULT_OPTIONS,
) -> ProxyView:
    """Resolve client, scheme, host, port and prefix from a peer's forwarding headers.

    ``peer`` is the connection's remote address (None for a unix socket),
    ``scheme`` the connection's ("http"/"https"), ``server`` the listener's
    address. Headers are honoured only when ``trusted`` trusts the peer;
    otherwise the connection's own facts come back unchanged. Never raises.
    """
    server_port = server[1] if server is not None else None
    found = _collect(headers) if trusted.trusts(None if peer is None else peer[0]) else None
    if not found:
        return ProxyView(peer, scheme, None, server_port, "")
    root_path = ""
    if options.use_prefix and b"x-forwarded-prefix" in found:
        root_path = _prefix(_last_item(found[b"x-forwarded-prefix"])) or ""
    if options.use_forwarded and b"forwarded" in found:
        hop = _from_forwarded(found[b"forwarded"], peer, trusted)
        if hop is not None:
            client, proto, host = hop
            return ProxyView(client, proto or scheme, host, server_port, root_path)
    return ProxyView(
        _x_client(found, peer, trusted),
        _x_scheme(found) or scheme,
        _x_host(found),
        _x_port(found) or server_port,
        root_path,
    )


def parse_forwarded_header(value: str) -> list[dict[str, str]] | None:
    """Parse a ``Forwarded`` field value (RFC 7239 §4) into its elements.

    Each element maps lowercase parameter names to unquoted values; empty
    elements are skipped (RFC 7230 §7 list rule). Returns None when the value
    is malformed or has no element.
    """
    elements: list[dict[str, str]] = []
    current: dict[str, str] = {}
    pos, end = 0, len(value)
    while True:
        match = _PAIR.match(value, pos)
        if match is not None:
            name = match[1].lower()
            if name in current:  # RFC 7239 §4: at most once per element
                return None
            current[name] = _unquote(match[2])
            pos = match.end()
        else:
            while pos < end and value[pos] in " \t":
                pos += 1
        if pos == end:
            break
        separator = value[pos]
        pos += 1
        if separator == ",":
            if current:
                elements.append(current)
            current = {}
        elif separator != ";":
            return None
    if current:
        elements.append(current)
    return elements or None


def _unquote(value: str) -> str:
    """A token as is, or a quoted-string's content with quoted-pairs undone."""
    if value.startswith('"'):
        return _QUOTED_PAIR.sub(r"\1", value[1:-1])
    return value


def _collect(headers: Iterable[tuple[bytes, bytes]]) -> dict[bytes, list[bytes]]:
    """The forwarding headers' values by name, field lines in order."""
    found: dict[bytes, list[bytes]] = {}
    for name, value in headers:
        if name in FORWARDING_HEADERS:
            found.setdefault(name, []).append(value)
    return found


def _walk(nodes: Sequence[Address | None], trusted: TrustedPeers) -> int:
    """Index of the chosen hop in a non-empty list (the module docstring says why)."""
    for index in range(len(nodes) - 1, -1, -1):
        node = nodes[index]
        if node is None or not trusted.trusts(node[0]):
            return index
    return 0


def _client_at(nodes: Sequence[Address | None], index: int, peer: Address | None) -> Address | None:
    """The client for the chosen hop: its address, else the nearest valid one to the right."""
    for node in nodes[index:]:
        if node is not None:
            return node
    return peer


def _from_forwarded(
    values: list[bytes], peer: Address | None, trusted: TrustedPeers
) -> tuple[Address | None, str | None, bytes | None] | None:
    """Client, scheme and host from ``Forwarded`` lines, or None when malformed."""
    elements = parse_forwarded_header(",".join(v.decode("latin-1") for v in values))
    if elements is None:
        return None
    elements = elements[-MAX_HOPS:]
    nodes = [_parse_node(element.get("for", ""), rfc7239=True) for element in elements]
    index = _walk(nodes, trusted)
    chosen = elements[index]
    proto = chosen.get("proto")
    host = chosen.get("host")
    return (
        _client_at(nodes, index, peer),
        _SCHEMES.get(proto.lower()) if proto is not None else None,
        _host(host) if host is not None else None,
    )


def _x_client(
    found: dict[bytes, list[bytes]], peer: Address | None, trusted: TrustedPeers
) -> Address | None:
    """The client from X-Forwarded-For, else X-Real-IP, else the peer."""
    values = found.get(b"x-forwarded-for")
    if values is not None:
        # rsplit bounds the work: the unsplit remainder beyond MAX_HOPS is dropped.
        parts = b",".join(values).rsplit(b",", MAX_HOPS)[-MAX_HOPS:]
        entries = [part.strip(b" \t").decode("latin-1") for part in parts]
        nodes = [_parse_node(entry, rfc7239=False) for entry in entries if entry]
        if nodes:
            return _client_at(nodes, _walk(nodes, trusted), peer)
    values = found.get(b"x-real-ip")
    if values is not None:
        real = _parse_node(values[-1].strip(b" \t").decode("latin-1"), rfc7239=False)
        if real is not None:
            return real
    return peer


def _x_scheme(found: dict[bytes, list[bytes]]) -> str | None:
    """The scheme from X-Forwarded-Proto, else -Scheme, else -Ssl; None if none is valid."""
    for name, table in (
        (b"x-forwarded-proto", _SCHEMES),
        (b"x-forwarded-scheme", _SCHEMES),
        (b"x-forwarded-ssl", _SSL_FLAGS),
    ):
        values = found.get(name)
        if values is not None:
            scheme = table.get(_last_item(values).lower())
            if scheme is not None:
                return scheme
    return None


def _x_host(found: dict[bytes, list[bytes]]) -> bytes | None:
    """The rightmost X-Forwarded-Host value when it is a plausible host."""
    values = found.get(b"x-forwarded-host")
    return None if values is None else _host(_last_item(values))


def _x_port(found: dict[bytes, list[bytes]]) -> int | None:
    """The rightmost X-Forwarded-Port value when it is a port (1-65535)."""
    values = found.get(b"x-forwarded-port")
    port = None if values is None else _parse_port(_last_item(values))
    return port or None


def _last_item(values: list[bytes]) -> str:
    """The rightmost comma-separated item of the last field line, trimmed."""
    return values[-1].rsplit(b",", 1)[-1].strip(b" \t").decode("latin-1")


def _host(text: str) -> bytes | None:
    """``text`` as Host header bytes when it is a plausible host[:port]."""
    if len(text) <= _MAX_HOST and _HOST.fullmatch(text):
        return text.encode("ascii")
    return None


def _prefix(text: str) -> str | None:
    """A safe root path from X-Forwarded-Prefix (trailing "/" dropped), or None."""
    if (
        len(text) > _MAX_PREFIX
        or not text.startswith("/")
        or text.startswith("//")  # a browser reads "//host" as another site
        or ".." in text
        or not _PREFIX_CHARS.issuperset(text)
    ):
        return None
    return text.rstrip("/")


def _parse_port(text: str) -> int | None:
    """A decimal port 0-65535, or None."""
    if 1 <= len(text) <= 5 and text.isascii() and text.isdigit():
        port = int(text)
        return port if port <= 65535 else None
    return None


def _parse_ip(text: str) -> str | None:
    """The canonical form of an IPv4/IPv6 address (no zone id), or None."""
    if not 2 <= len(text) <= 45 or not _IP_CHARS.issuperset(text):
        return None
    return _canonical_ip(text)


# The same few client and proxy addresses recur: this memo took resolving a
# two-entry X-Forwarded-For from 9.4 to 5.0 us (timeit, CPython 3.11). The
# length gate in _parse_ip and maxsize bound what a client can make it hold.
@functools.lru_cache(maxsize=1024)
def _canonical_ip(text: str) -> str | None:
    """``text`` (hex digits, dots, colons only) parsed and printed canonically, or None."""
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        return None


def _split_node(text: str, *, rfc7239: bool) -> tuple[str, str | None] | None:
    """Split "ip", "ip:port", "[ipv6]", "[ipv6]:port" (bare "ipv6" unless RFC 7239)."""
    if text.startswith("["):
        host, bracket, rest = text[1:].partition("]")
        if not bracket or ":" not in host:  # brackets hold IPv6 only (RFC 7239 §6)
            return None
        if not rest:
            return host, None
        return (host, rest[1:]) if rest[0] == ":" else None
    if text.count(":") > 1:
        # RFC 7239 §6 requires brackets; X-Forwarded-For often has bare IPv6.
        return None if rfc7239 else (text, None)
    host, colon, port = text.partition(":")
    return host, (port if colon else None)


def _parse_node(text: str, *, rfc7239: bool) -> Address | None:
    """An (ip, port) node, port 0 when absent or obfuscated; None if no IP address."""
    split = _split_node(text, rfc7239=rfc7239)
    if split is None:
        return None
    host, port_text = split
    ip = _parse_ip(host)
    if ip is None:
        return None
    if port_text is None or (rfc7239 and _OBFUSCATED.fullmatch(port_text)):
        return ip, 0
    port = _parse_port(port_text)
    return None if port is None else (ip, port)
