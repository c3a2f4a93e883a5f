"""Request-head facts the HTTP/1.1 connection needs, as functions over values.

Framing (Content-Length, Transfer-Encoding), Expect and Host are read here;
``method_error`` tells a method httptools does not know (501) from garbage (400).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from corral.errors import BadRequest, NotImplementedMethod, ProtocolError
from corral.http1.body import BodyBuffer

if TYPE_CHECKING:
    from corral.http1.exchange import H1Exchange

_TOKEN_BYTES = frozenset(
    b"!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
)


def head_size(url: bytes, headers: list[tuple[bytes, bytes]]) -> int:
    return len(url) + sum(len(name) + len(value) + 4 for name, value in headers)


# Lengths of the names _read_framing looks at: host, expect, content-length,
# transfer-encoding. Checking a name's length is cheaper than comparing it.
FRAMING_NAME_SIZES = frozenset({4, 6, 14, 17})


def read_framing(exchange: H1Exchange, version: str, fields: list[tuple[bytes, bytes]]) -> None:
    """Content-Length, Transfer-Encoding, Expect and Host, as far as the gateways need them."""
    host_count = 0
    for name, value in fields:
        if name == b"content-length":
            if exchange.content_length is not None or not value.isdigit():
                raise BadRequest("invalid or repeated Content-Length")
            exchange.content_length = int(value)
        elif name == b"transfer-encoding":
            if version == "1.0":
                raise BadRequest("Transfer-Encoding in an HTTP/1.0 request")
            exchange.chunked_request = True
        elif name == b"expect":
            if value.lower() == b"100-continue":
                exchange.expect_continue = True
        elif name == b"host":
            host_count += 1
    if host_count > 1 or (host_count == 0 and version == "1.1"):
        raise BadRequest("an HTTP/1.1 request needs exactly one Host header")
    if exchange.chunked_request or exchange.content_length:
        exchange.has_body = True
        exchange.body = BodyBuffer()
    else:
        exchange.expect_continue = False


METHODS = {m.encode(): m for m in ("GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "PATCH")}


def method_error(data: bytes) -> ProtocolError:
    """501 for a well-formed method httptools does not know, 400 for garbage."""
    method, sep, _ = data.partition(b" ")
    if sep and method and all(b in _TOKEN_BYTES for b in method):
        return NotImplementedMethod(f"method {method[:32]!r} is not implemented")
    return BadRequest("malformed request method")
