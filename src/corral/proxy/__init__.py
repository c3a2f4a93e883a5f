"""Proxy trust, pure: which peers may speak for clients, what they said, PROXY headers.

- :mod:`corral.proxy.trust`: the ``--forwarded-allow-ips`` list.
- :mod:`corral.proxy.forwarded`: client, scheme, host, port and prefix from
  ``Forwarded`` / ``X-Forwarded-*`` headers of a trusted peer.
- :mod:`corral.proxy.proxy_protocol`: the PROXY protocol v1/v2 header parser.
"""

from __future__ import annotations

from corral.proxy.forwarded import (
    DEFAULT_OPTIONS,
    FORWARDING_HEADERS,
    MAX_HOPS,
    ForwardedOptions,
    ProxyView,
    has_forwarding,
    parse_forwarded_header,
    resolve_forwarded,
    strip_forwarding,
)
from corral.proxy.proxy_protocol import ProxyProtocolError, ProxyResult, parse_proxy_header
from corral.proxy.trust import TrustedPeers

__all__ = [
    "DEFAULT_OPTIONS",
    "FORWARDING_HEADERS",
    "MAX_HOPS",
    "ForwardedOptions",
    "ProxyProtocolError",
    "ProxyResult",
    "ProxyView",
    "TrustedPeers",
    "has_forwarding",
    "parse_forwarded_header",
    "parse_proxy_header",
    "resolve_forwarded",
    "strip_forwarding",
]
