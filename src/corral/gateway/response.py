"""App response validation shared by the gateways (pure).

Headers from the app are checked once here, whatever protocol carries them:
names must be tokens, values free of CR, LF and NUL, Content-Length sane, and
hop-by-hop headers refused (PEP 3333), so nothing an app does can split or
smuggle a response.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

# RFC 9110 §5.6.2: field-name = token.
_TOKEN = re.compile(rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]+\Z")
# RFC 9110 §5.5: field values never hold CR, LF or NUL (nor other controls but HTAB).
_BAD_VALUE = re.compile(rb"[\x00-\x08\x0a-\x1f\x7f]")

# PEP 3333 forbids these from WSGI apps: framing and connection management are the server's.
HOP_BY_HOP = frozenset(
    {
        b"connection",
        b"keep-alive",
        b"proxy-authenticate",
        b"proxy-authorization",
        b"te",
        b"trailer",
        b"trailers",
        b"transfer-encoding",
        b"upgrade",
    }
)


class InvalidResponse(Exception):
    """The app produced a response corral refuses to put on the wire (answered 500)."""


def parse_wsgi_status(status: str) -> int:
    """The integer code of a WSGI status string such as ``"200 OK"``."""
    if not isinstance(status, str):
        raise InvalidResponse(f"status must be a str, got {type(status).__name__}")
    code = status[:3]
    if len(status) < 3 or not code.isdigit() or (len(status) > 3 and status[3] != " "):
        raise InvalidResponse(f"invalid WSGI status {status!r}")
    return final_status(int(code))


def final_status(status: int) -> int:
    """The status if it can end a response: 200-599 (RFC 9110 §15). 1xx responses are
    interim and 101 would switch protocols, so an app cannot send them as its answer."""
    if not 200 <= status <= 599:
        raise InvalidResponse(f"invalid final status code {status!r}")
    return status


class EncodedHeaders:
    """Header bytes ready for the wire plus what framing needs to know of them."""

    __slots__ = ("close", "content_length", "data")

    def __init__(self, data: bytes, content_length: int | None, close: bool) -> None:
        self.data = data
        self.content_length = content_length
        self.close = close


def encode_headers(
    headers: Iterable[tuple[bytes, bytes]], *, allow_hop_by_hop: bool
) -> EncodedHeaders:
    """Validate and encode app headers. Raises InvalidResponse on anything unsafe.

    WSGI apps (allow_hop_by_hop=False) may not send hop-by-hop headers at all.
    ASGI apps may send ``connection: close`` (honoured); other framing and
    connection headers are refused because corral frames the body itself.
    """
    parts: list[bytes] = []
    content_length: int | None = None
    close = False
    for name, value in headers:
        if not _TOKEN.match(name) or _BAD_VALUE.search(value):
            raise InvalidResponse(f"invalid response header {name!r}: {value!r}")
        lname = name.lower()
        if lname == b"content-length":
            if content_length is not None or not value.isdigit():
                raise InvalidResponse(f"invalid or repeated Content-Length {value!r}")
            content_length = int(value)
        elif lname in HOP_BY_HOP:
            if allow_hop_by_hop and lname == b"connection" and value.lower() == b"close":
                close = True
                continue
            raise InvalidResponse(f"hop-by-hop header {name.decode('latin-1')!r} from the app")
        parts += (name, b": ", value, b"\r\n")
    return EncodedHeaders(b"".join(parts), content_length, close)


def without_content_length(headers: EncodedHeaders) -> EncodedHeaders:
    """The same headers minus Content-Length: a 204 response must not carry one
    (RFC 9110 §8.6), though frameworks add ``Content-Length: 0`` to it."""
    lines = headers.data.split(b"\r\n")
    kept = [line for line in lines if not line.lower().startswith(b"content-length:")]
    return EncodedHeaders(b"\r\n".join(kept), None, headers.close)


def wsgi_header_pairs(headers: object) -> list[tuple[bytes, bytes]]:
    """PEP 3333 headers (a list of str pairs, latin-1) as byte pairs."""
    if type(headers) is not list:
        raise InvalidResponse(f"response headers must be a list, got {type(headers).__name__}")
    pairs = []
    for item in headers:
        if type(item) is not tuple or len(item) != 2:
            raise InvalidResponse(f"response header {item!r} is not a (name, value) tuple")
        name, value = item
        if type(name) is not str or type(value) is not str:
            raise InvalidResponse(f"response header {item!r} is not a pair of str")
        try:
            pairs.append((name.encode("latin-1"), value.encode("latin-1")))
        except UnicodeEncodeError:
            raise InvalidResponse(f"response header {item!r} is not latin-1") from None
    return pairs
