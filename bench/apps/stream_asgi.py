"""Streamed response, ASGI: 1 MiB as 16 body messages of 64 KiB, without content-length.

Each of the first 15 ``http.response.body`` messages has ``more_body`` set; the
16th ends the response. The chunks are built once at import: the benchmark
measures the server, not the app. The lifespan protocol is completed.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

CHUNK_SIZE = 64 * 1024
CHUNK_COUNT = 16
CHUNKS: tuple[bytes, ...] = tuple(bytes([65 + i]) * CHUNK_SIZE for i in range(CHUNK_COUNT))


async def _lifespan(receive: Receive, send: Send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


async def app(scope: MutableMapping[str, Any], receive: Receive, send: Send) -> None:
    if scope["type"] == "lifespan":
        await _lifespan(receive, send)
        return
    if scope["type"] != "http":
        return
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", b"application/octet-stream")],
        }
    )
    last = CHUNK_COUNT - 1
    for i, chunk in enumerate(CHUNKS):
        await send({"type": "http.response.body", "body": chunk, "more_body": i < last})
