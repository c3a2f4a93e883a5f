"""An ASGI app that answers with a JSON description of the request it was given.

The raw-byte corpus (``tests/test_http1_corpus.py``) checks what the parser
handed the app: method, target, version, every header field in order as bytes,
and the whole body. Bytes travel as latin-1 strings so that every byte value
survives the JSON round trip unchanged.
"""

from __future__ import annotations

import json

from asgi_apps import Receive, Scope, Send, lifespan_noop


def _text(data: bytes) -> str:
    return data.decode("latin-1")


async def app(scope: Scope, receive: Receive, send: Send) -> None:
    """Read the whole body, then describe the request as JSON (nothing if the client left)."""
    if scope["type"] == "lifespan":
        return await lifespan_noop(receive, send)
    parts: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        parts.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    description = {
        "method": scope["method"],
        "raw_path": _text(scope["raw_path"]),
        "query_string": _text(scope["query_string"]),
        "http_version": scope["http_version"],
        "headers": [[_text(name), _text(value)] for name, value in scope["headers"]],
        "body": _text(b"".join(parts)),
    }
    payload = json.dumps(description).encode("ascii")
    headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(payload))]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": payload})
    return None
