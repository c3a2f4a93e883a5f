"""In-process driver of corral's HTTP/1.1 hot path: microseconds of Python per request.

No sockets and no load generator: requests are fed straight to connections whose
transport only counts writes, so the figure is the Python cost of parsing,
dispatching, running a hello-world app and framing the response, and it moves
far less with machine noise than a wrk run. Use it to check a hot-path change
in seconds, then confirm with ``bench/hello.py``.

    python bench/hotpath.py [--interface wsgi|asgi] [--browser] [--requests 200000]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent / "apps"))

from corral.config.loader import load_config
from corral.gateway.asgi import ASGIGateway
from corral.gateway.wsgi import WSGIGateway
from corral.http1.connection import H1Connection
from corral.http1.context import H1Context, H1Limits
from corral.http1.forwarding import ProxyPolicy
from corral.worker.access import AccessLog

WRK_REQUEST = b"GET / HTTP/1.1\r\nHost: 127.0.0.1:8000\r\n\r\n"
BROWSER_REQUEST = (
    b"GET /notes/?page=2 HTTP/1.1\r\nHost: example.com\r\n"
    b"User-Agent: Mozilla/5.0 (X11; Linux x86_64) Chrome/120.0 Safari/537.36\r\n"
    b"Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8\r\n"
    b"Accept-Language: en-US,en;q=0.9\r\nAccept-Encoding: gzip, deflate, br\r\n"
    b"Connection: keep-alive\r\nCookie: csrftoken=abcdefghijklmnopqrstuvwxyz012345\r\n"
    b"Upgrade-Insecure-Requests: 1\r\nSec-Fetch-Dest: document\r\n"
    b"Sec-Fetch-Mode: navigate\r\nSec-Fetch-Site: none\r\nReferer: https://example.com/\r\n\r\n"
)
# The defaults a user gets (proxy headers from 127.0.0.1 included), access log off
# as in the throughput benchmarks.
SETTINGS = load_config(["--no-access-log"], {}, Path.cwd())


class CountingTransport:
    """Stands in for a socket transport: counts writes, never blocks."""

    def __init__(self) -> None:
        self.writes = 0

    def write(self, data: bytes) -> None:
        self.writes += 1

    def get_extra_info(self, name: str) -> Any:
        return ("127.0.0.1", 50000)

    def is_closing(self) -> bool:
        return False

    def pause_reading(self) -> None: ...

    def resume_reading(self) -> None: ...

    def close(self) -> None: ...


async def measure(
    interface: str, request: bytes, total: int, connections: int = 64, access_log: bool = False
) -> float:
    """Microseconds per request, over ``total`` requests spread over ``connections``."""
    import hello_asgi
    import hello_wsgi

    loop = asyncio.get_running_loop()
    gateway: Any = (
        WSGIGateway(hello_wsgi.app, loop, SETTINGS)
        if interface == "wsgi"
        else ASGIGateway(hello_asgi.app, loop, "", None)
    )
    log = AccessLog(SETTINGS.access_log_format, os.devnull) if access_log else None
    ctx = H1Context(
        loop, H1Limits(SETTINGS), gateway, server_header=True, access_log=log.log if log else None
    )
    ctx.proxy = ProxyPolicy.from_config(SETTINGS)
    ctx.extras = log is not None  # as the worker sets it (checks_before_app stays off)
    transports = [CountingTransport() for _ in range(connections)]
    conns = []
    for transport in transports:
        conn = H1Connection(ctx)
        conn.connection_made(transport)
        conns.append(conn)
    rounds = max(1, total // connections)
    started = time.perf_counter()
    for _ in range(rounds):
        for conn in conns:
            conn.data_received(request)
        await asyncio.sleep(0)  # lets ASGI tasks run, as one loop turn would
    elapsed = time.perf_counter() - started
    answered = sum(t.writes for t in transports)
    if answered != rounds * connections:
        raise SystemExit(f"only {answered} of {rounds * connections} requests were answered")
    return elapsed / answered * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--interface", choices=["wsgi", "asgi"], default="wsgi")
    parser.add_argument("--browser", action="store_true", help="a 12-header browser request")
    parser.add_argument("--requests", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--access-log", action="store_true", help="the default access log on")
    args = parser.parse_args()
    import uvloop

    request = BROWSER_REQUEST if args.browser else WRK_REQUEST
    figures = [
        uvloop.run(measure(args.interface, request, args.requests, access_log=args.access_log))
        for _ in range(args.repeat)
    ]
    from corral.compiled import summary

    kind = "browser" if args.browser else "wrk"
    print(
        f"{args.interface} ({kind} request, {summary()}): best {min(figures):.2f} us/request, "
        f"runs {', '.join(f'{f:.2f}' for f in figures)}"
    )


if __name__ == "__main__":
    main()
