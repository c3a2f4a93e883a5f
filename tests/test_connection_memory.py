"""Memory an idle keep-alive connection holds: it bounds what 1,000 idle clients cost.

In-process, with the Python allocator traced (tracemalloc sees the compiled build's
objects too), so the figure is exact and does not move with the machine. Measured at
the time of writing (ASGI / WSGI): about 1.8 / 2.5 KiB per connection on both builds;
an empty ``collections.deque`` kept per connection for pipelined requests had added
0.75 KiB to each.
"""

from __future__ import annotations

import asyncio
import gc
import tracemalloc
from pathlib import Path
from typing import Any

import pytest
import uvloop

from corral.config.loader import load_config
from corral.gateway.asgi import ASGIGateway
from corral.gateway.wsgi import WSGIGateway
from corral.http1.connection import H1Connection
from corral.http1.context import H1Context, H1Limits

REQUEST = b"GET / HTTP/1.1\r\nHost: example.com\r\n\r\n"
CONNECTIONS = 400
# The limits this test holds corral to. A WSGI connection also keeps the part of
# the environ that is the same for all its requests (about 700 bytes, built once).
BYTES_PER_IDLE_CONNECTION = {"asgi": 2300, "wsgi": 3100}


class QuietTransport:
    """A socket transport that takes every write; small, so it barely counts."""

    __slots__ = ("writes",)

    def __init__(self) -> None:
        self.writes = 0

    def write(self, data: bytes) -> None:
        self.writes += 1

    def writelines(self, data: Any) -> None:
        self.writes += 1

    def get_extra_info(self, name: str) -> Any:
        return ("127.0.0.1", 50000)

    def is_closing(self) -> bool:
        return False

    def pause_reading(self) -> None: ...

    def resume_reading(self) -> None: ...

    def close(self) -> None: ...


def hello_wsgi(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "2")])
    return [b"ok"]


async def hello_asgi(scope: dict[str, Any], receive: Any, send: Any) -> None:
    headers = [(b"content-type", b"text/plain"), (b"content-length", b"2")]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": b"ok"})


async def bytes_per_idle_connection(interface: str) -> float:
    loop = asyncio.get_running_loop()
    settings = load_config(["--no-access-log"], {}, Path.cwd())
    gateway: Any = (
        WSGIGateway(hello_wsgi, loop, settings)
        if interface == "wsgi"
        else ASGIGateway(hello_asgi, loop, "", None)
    )
    ctx = H1Context(
        loop,
        H1Limits(settings),
        gateway,
        server_header=True,
        access_log=None,
    )
    kept: list[tuple[H1Connection, QuietTransport]] = []

    def serve_one_request_each(count: int) -> None:
        for _ in range(count):
            conn, transport = H1Connection(ctx), QuietTransport()
            conn.connection_made(transport)
            conn.data_received(REQUEST)  # answered, then idle in keep-alive
            kept.append((conn, transport))

    async def settle() -> None:  # ASGI: the request tasks run and end
        for _ in range(3):
            await asyncio.sleep(0)

    serve_one_request_each(20)  # warm caches (heads, environ keys) outside the count
    await settle()
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        serve_one_request_each(CONNECTIONS)
        await settle()
        gc.collect()
        after = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    assert all(transport.writes == 1 for _, transport in kept), "every request is answered"
    return (after - before) / CONNECTIONS


@pytest.mark.parametrize("interface", ["asgi", "wsgi"])
def test_an_idle_keep_alive_connection_holds_little_memory(interface: str) -> None:
    per_connection = uvloop.run(bytes_per_idle_connection(interface))
    limit = BYTES_PER_IDLE_CONNECTION[interface]
    assert per_connection < limit, f"{per_connection:.0f} bytes"
