"""Settings declared now and implemented by a later issue.

They are parsed and shown by --print-config so that config files and command
lines written for gunicorn or uvicorn get a clear answer, but any value other
than the default is refused ("not supported yet"), except where a gunicorn.conf.py
or a conventional environment variable sets one that is safe to ignore: that
gets a warning instead (see ``Setting.ignorable``).
"""

from __future__ import annotations

from corral.config.declaration import setting
from corral.config.kinds import Bool, Int, ListOf, Optional, Str


class LaterSettings:
    """Not supported yet"""

    max_connections: int = setting(
        0,
        Int(0),
        "Maximum open connections per worker (0 = unlimited).",
        flags=["--max-connections", "--worker-connections"],
        gunicorn="worker_connections",
        supported=False,
    )
    limit_concurrency: int = setting(
        0,
        Int(0),
        "Answer 503 beyond this many concurrent requests per worker (0 = unlimited).",
        flags=["--limit-concurrency"],
        supported=False,
    )
    reload: bool = setting(
        False,
        Bool(),
        "Restart workers when source files change (development).",
        flags=["--reload"],
        gunicorn=True,
        supported=False,
    )
    proxy_headers: bool = setting(
        True,
        Bool(),
        "Take client address and scheme from X-Forwarded-* headers of trusted peers.",
        flags=["--proxy-headers"],
        negative_flags=["--no-proxy-headers"],
        supported=False,
    )
    forwarded_allow_ips: list[str] = setting(
        ["127.0.0.1", "::1"],
        ListOf(Str("ADDRESS")),
        "Peers (IPs, CIDR networks, or '*') trusted to send proxy headers, comma separated.",
        flags=["--forwarded-allow-ips"],
        extra_env=["FORWARDED_ALLOW_IPS"],
        gunicorn=True,
        supported=False,
    )
    certfile: str | None = setting(
        None,
        Optional(Str("FILE")),
        "TLS certificate file (PEM).",
        flags=["--certfile", "--ssl-certfile"],
        gunicorn=True,
        supported=False,
        ignorable=False,
    )
    keyfile: str | None = setting(
        None,
        Optional(Str("FILE")),
        "TLS private key file (PEM).",
        flags=["--keyfile", "--ssl-keyfile"],
        gunicorn=True,
        supported=False,
        ignorable=False,
    )
