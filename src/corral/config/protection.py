"""Settings that protect a worker from slow, hostile or too many clients, and decide
whose proxy headers are believed (docs/security.md explains each one)."""

from __future__ import annotations

from corral.config.declaration import setting
from corral.config.kinds import Bool, Float, Int, ListOf, Size, Str
from corral.proxy.trust import TrustedPeers


class PeerPattern(Str):
    """An IP address, a CIDR network, 'unix' or '*'."""

    def __init__(self) -> None:
        super().__init__("ADDRESS", empty=False)
        self.expected = "an IP address, a CIDR network (such as 10.0.0.0/8), 'unix' or '*'"

    def parse(self, raw: object) -> str:
        text = super().parse(raw).strip()
        TrustedPeers.parse([text])  # raises ValueError with the reason
        return text


class SlowClientSettings:
    """Slow clients"""

    min_body_rate: int = setting(
        1024,
        Size(),
        "Minimum request body rate in bytes per second, averaged over each --body-timeout "
        "window in which corral was reading (0 = no minimum). Slower clients get 408.",
        flags=["--min-body-rate"],
    )
    body_timeout: float = setting(
        10.0,
        Float(),
        "Seconds in each window over which --min-body-rate is checked; a window with no "
        "body byte at all fails too (0 = no body timeout).",
        flags=["--body-timeout"],
    )
    write_timeout: float = setting(
        30.0,
        Float(),
        "Seconds a response may stay blocked on a client that reads nothing before the "
        "connection is closed (0 = wait forever).",
        flags=["--write-timeout"],
    )


class OverloadSettings:
    """Overload"""

    max_connections: int = setting(
        0,
        Int(0),
        "Maximum open connections per worker (0 = unlimited). At the limit, idle "
        "keep-alive connections are closed to make room, else new ones wait in the backlog.",
        flags=["--max-connections", "--worker-connections"],
        gunicorn="worker_connections",
    )
    limit_concurrency: int = setting(
        0,
        Int(0),
        "Requests in flight per worker (running ASGI tasks, busy and queued WSGI threads); "
        "more wait in a queue (0 = unlimited).",
        flags=["--limit-concurrency"],
    )
    queue_size: int = setting(
        128,
        Int(0),
        "Requests that may wait for a --limit-concurrency slot; more get 503 at once.",
        flags=["--queue-size"],
    )
    queue_timeout: float = setting(
        10.0,
        Float(exclusive=True),
        "Seconds a request may wait for a --limit-concurrency slot before a 503 with Retry-After.",
        flags=["--queue-timeout"],
    )


class ProxySettings:
    """Proxies"""

    proxy_headers: bool = setting(
        True,
        Bool(),
        "Take the client address, scheme, host and port from X-Forwarded-* or Forwarded "
        "headers, when the peer is in --forwarded-allow-ips.",
        flags=["--proxy-headers"],
        negative_flags=["--no-proxy-headers"],
    )
    forwarded_allow_ips: list[str] = setting(
        ["127.0.0.1", "::1"],
        ListOf(PeerPattern()),
        "Peers trusted to send proxy headers and the PROXY protocol: IPs, CIDR networks, "
        "'unix' for unix-socket peers, or '*' for everyone; comma separated.",
        flags=["--forwarded-allow-ips"],
        extra_env=["FORWARDED_ALLOW_IPS"],
        gunicorn=True,
    )
    forwarded_prefix: bool = setting(
        False,
        Bool(),
        "Also take X-Forwarded-Prefix from trusted peers into SCRIPT_NAME / root_path.",
        flags=["--forwarded-prefix"],
    )
    strip_forwarded_headers: bool = setting(
        False,
        Bool(),
        "Remove forwarding headers sent by untrusted peers before the app sees them.",
        flags=["--strip-forwarded-headers"],
    )
    proxy_protocol: bool = setting(
        False,
        Bool(),
        "Expect a PROXY protocol v1 or v2 header on connections from trusted peers "
        "(a TCP load balancer in front); the client address is taken from it.",
        flags=["--proxy-protocol"],
        gunicorn=True,
    )
