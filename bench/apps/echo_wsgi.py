"""Request-body echo, WSGI: the 100 KB POST scenario of the benchmark harness.

The body is read from ``wsgi.input`` up to ``CONTENT_LENGTH`` (never past it, as
PEP 3333 asks) and sent back as one bytes object with ``Content-Type:
application/octet-stream`` and a ``Content-Length``. A request without a body
(the harness's readiness probe, ``GET /``) gets an empty 200. A chunked request
body is read to its end only when the server says the input is terminated.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

StartResponse = Callable[..., Any]
READ_SIZE = 65536


def _read_body(environ: dict[str, Any]) -> bytes:
    stream = environ["wsgi.input"]
    try:
        length = int(environ.get("CONTENT_LENGTH") or -1)
    except ValueError:
        length = -1
    if length < 0:
        return stream.read() if environ.get("wsgi.input_terminated") else b""
    parts: list[bytes] = []
    while length > 0:
        part = stream.read(min(length, READ_SIZE))
        if not part:
            break  # client went away: echo what arrived
        parts.append(part)
        length -= len(part)
    return b"".join(parts)


def app(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
    body = _read_body(environ)
    start_response(
        "200 OK",
        [("Content-Type", "application/octet-stream"), ("Content-Length", str(len(body)))],
    )
    return [body]
