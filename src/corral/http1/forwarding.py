"""Proxy trust on a connection: forwarding headers and the PROXY protocol.

Whose word is taken is decided once per connection, from the peer's address
(``--forwarded-allow-ips``); only then does a request pay for looking at its
forwarding headers. The logic itself is pure and lives in ``corral.proxy``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from corral.proxy import (
    ForwardedOptions,
    TrustedPeers,
    resolve_forwarded,
    strip_forwarding,
)

if TYPE_CHECKING:
    from corral.http1.exchange import H1Exchange


class ProxyPolicy:
    """The proxy settings of a worker, ready for per-connection decisions."""

    __slots__ = ("headers", "options", "protocol", "strip", "trusted")

    def __init__(self, config: Any) -> None:
        self.trusted = TrustedPeers.parse(config.forwarded_allow_ips)
        self.headers: bool = config.proxy_headers
        self.strip: bool = config.strip_forwarded_headers
        self.protocol: bool = config.proxy_protocol
        self.options = ForwardedOptions(use_prefix=config.forwarded_prefix)

    @classmethod
    def from_config(cls, config: Any) -> ProxyPolicy | None:
        """None when no proxy feature is on (connections then skip every step)."""
        if config.proxy_headers or config.strip_forwarded_headers or config.proxy_protocol:
            return cls(config)
        return None

    def per_request(self, client: tuple[str, int] | None) -> bool:
        """Whether requests from this client need a forwarding step: believe the
        headers of a trusted peer, or strip those of an untrusted one."""
        if self.trusted.trusts(client[0] if client else None):
            return self.headers
        return self.strip

    def expects_proxy_header(self, client: tuple[str, int] | None) -> bool:
        """A PROXY protocol header is read only from trusted peers."""
        return self.protocol and self.trusted.trusts(client[0] if client else None)


def apply_forwarding(policy: ProxyPolicy, exchange: H1Exchange) -> None:
    """Make the exchange show what a trusted proxy says, or strip what an untrusted
    peer sent (the per-connection decision said one of the two is due, and the
    request carries at least one forwarding header)."""
    headers = exchange.headers
    client = exchange.client
    if not policy.trusted.trusts(client[0] if client else None):
        exchange.headers = strip_forwarding(headers)
        return
    view = resolve_forwarded(
        headers, client, exchange.scheme, exchange.server, policy.trusted, policy.options
    )
    exchange.client = view.client
    exchange.scheme = view.scheme
    server = exchange.server
    if view.server_port is not None:
        exchange.server = (server[0] if server else "localhost", view.server_port)
    if view.host is not None:
        exchange.headers = [
            (name, view.host if name == b"host" else value) for name, value in headers
        ]
    exchange.root_path = None
    if view.root_path:
        # The proxy took this prefix off the path: the app is mounted under it.
        prefix = view.root_path.encode("latin-1")
        exchange.path = prefix + exchange.path
        exchange.root_path = prefix
    exchange.forwarded = True
