"""Streamed response, WSGI: 1 MiB as 16 chunks of 64 KiB, without Content-Length.

The app returns a generator, so the server cannot know the length and must
stream the chunks (chunked transfer coding on HTTP/1.1). The chunks are built
once at import: the benchmark measures the server, not the app.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

StartResponse = Callable[..., Any]
CHUNK_SIZE = 64 * 1024
CHUNK_COUNT = 16
CHUNKS: tuple[bytes, ...] = tuple(bytes([65 + i]) * CHUNK_SIZE for i in range(CHUNK_COUNT))


def _chunks() -> Iterator[bytes]:
    yield from CHUNKS


def app(environ: dict[str, Any], start_response: StartResponse) -> Iterator[bytes]:
    start_response("200 OK", [("Content-Type", "application/octet-stream")])
    return _chunks()
