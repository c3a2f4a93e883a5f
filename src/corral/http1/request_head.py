"""Request-head facts the HTTP/1.1 connection needs, as functions over values.

Framing (Content-Length, Transfer-Encoding), Expect and Host are read here;
``method_error`` tells a method httptools does not know (501) from garbage (400).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from corral.errors import BadRequest, NotImplementedMethod, ProtocolError, UnknownCoding
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


# Field names as clients commonly spell them, mapped to their lower case: the
# connection looks a name up here before calling bytes.lower(), which is a method
# call by name and a new object per field. The table is fixed (an unknown name is
# lowered and not added), so a client cannot grow it.
_COMMON_FIELD_NAMES = (
    "Host",
    "User-Agent",
    "Accept",
    "Accept-Language",
    "Accept-Encoding",
    "Accept-Charset",
    "Connection",
    "Keep-Alive",
    "Cookie",
    "Referer",
    "Origin",
    "Authorization",
    "Content-Type",
    "Content-Length",
    "Transfer-Encoding",
    "Expect",
    "Cache-Control",
    "Pragma",
    "If-None-Match",
    "If-Modified-Since",
    "Range",
    "Upgrade",
    "Upgrade-Insecure-Requests",
    "DNT",
    "TE",
    "Priority",
    "X-Requested-With",
    "X-Forwarded-For",
    "X-Forwarded-Proto",
    "X-Forwarded-Host",
    "X-Forwarded-Port",
    "X-Real-IP",
    "X-Request-ID",
    "X-CSRFToken",
    "Forwarded",
    "Via",
    "Sec-Fetch-Dest",
    "Sec-Fetch-Mode",
    "Sec-Fetch-Site",
    "Sec-Fetch-User",
    "Sec-CH-UA",
    "Sec-CH-UA-Mobile",
    "Sec-CH-UA-Platform",
    "Sec-WebSocket-Key",
    "Sec-WebSocket-Version",
    "Sec-WebSocket-Extensions",
    "Sec-WebSocket-Protocol",
)


def lowered_names() -> dict[bytes, bytes]:
    """Each common field name, as sent and already lower case, to one lower-case object."""
    table: dict[bytes, bytes] = {}
    for text in _COMMON_FIELD_NAMES:
        lower = text.lower().encode("ascii")
        table[lower] = lower
        table[text.encode("ascii")] = lower
        table[text.upper().encode("ascii")] = lower
    return table


def read_framing(exchange: H1Exchange, version: str, fields: list[tuple[bytes, bytes]]) -> None:
    """Content-Length, Transfer-Encoding, Expect and Host, as far as the gateways need them."""
    host_count = 0
    codings: list[bytes] = []
    for name, value in fields:
        if name == b"content-length":
            if exchange.content_length is not None or not value.isdigit():
                raise BadRequest("invalid or repeated Content-Length")
            exchange.content_length = int(value)
        elif name == b"transfer-encoding":
            if version == "1.0":
                raise BadRequest("Transfer-Encoding in an HTTP/1.0 request")
            codings.append(value)
        elif name == b"expect":
            if value.lower() == b"100-continue":
                exchange.expect_continue = True
        elif name == b"host":
            host_count += 1
            if value not in VALID_HOSTS and not _check_host(value):
                raise BadRequest("invalid Host header")
    if host_count > 1 or (host_count == 0 and version == "1.1"):
        raise BadRequest("an HTTP/1.1 request needs exactly one Host header")
    if codings:
        # Field lines of one name form one list (RFC 9110 §5.3).
        coding = codings[0] if len(codings) == 1 else b", ".join(codings)
        if coding.lower() != b"chunked":
            raise transfer_coding_error(coding)
        exchange.chunked_request = True
    if exchange.chunked_request or exchange.content_length:
        exchange.has_body = True
        exchange.body = BodyBuffer()
    else:
        exchange.expect_continue = False


def transfer_coding_error(value: bytes) -> ProtocolError:
    """Why a Transfer-Encoding other than a lone ``chunked`` is refused.

    RFC 9112 §6.3: when chunked is not the final coding the body length cannot be
    known, so 400 (and close). When it is final, the framing is clear but corral
    does not implement the other codings: 501, as RFC 9112 §6.1 advises.
    """
    codings = [c.strip().lower() for c in value.split(b",")]
    if len(codings) > 1 and codings[-1] == b"chunked" and b"chunked" not in codings[:-1]:
        return UnknownCoding(f"transfer coding {value[:64]!r} is not implemented")
    return BadRequest(f"invalid Transfer-Encoding {value[:64]!r}")


# RFC 9110 §7.2 / RFC 3986 §3.2.2: Host = uri-host [ ":" port ]. A reg-name or IPv4
# address uses these bytes only (percent-encoded and sub-delims included).
_REG_NAME_BYTES = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~%!$&'()*+,;="
_IP_LITERAL = re.compile(rb"\[[0-9A-Fa-f:.]+\](?::[0-9]*)?\Z|\[v[0-9A-Fa-f]+\.[^\]/?#@\s]+\]\Z")


# A server sees few distinct Host values: remembering the valid ones makes the check
# a set lookup (measured: ~40 ns instead of ~300 ns for "127.0.0.1:8000").
VALID_HOSTS: set[bytes] = set()
VALID_HOSTS_MAX = 1024


def _check_host(value: bytes) -> bool:
    if not valid_host(value):
        return False
    if len(VALID_HOSTS) < VALID_HOSTS_MAX:
        VALID_HOSTS.add(value)
    return True


def valid_host(value: bytes) -> bool:
    """True for an empty Host or ``uri-host [":" port]`` (RFC 9112 §3.2: else 400)."""
    if not value.translate(None, _REG_NAME_BYTES):
        return True  # the common case: a name or IPv4 address without a port
    name, colon, port = value.rpartition(b":")
    if colon and (not port or port.isdigit()) and not name.translate(None, _REG_NAME_BYTES):
        return True
    return value[:1] == b"[" and _IP_LITERAL.match(value) is not None


def other_target_form(
    url: bytes, method: str, headers: list[tuple[bytes, bytes]]
) -> tuple[bytes, list[tuple[bytes, bytes]]]:
    """The origin-form path of a target that is not one, and the headers to use.

    RFC 9112 §3.2.4: ``*`` only with OPTIONS. §3.2.2: an absolute-form target
    (``http://host/path``, sent to proxies) names the host, which then replaces
    the Host header. Authority-form is CONNECT's, which is answered 501 later.
    """
    if url == b"*":
        if method != "OPTIONS":
            raise BadRequest("the asterisk target is only for OPTIONS")
        return url, headers
    scheme, sep, rest = url.partition(b"://")
    if not sep:
        if method == "CONNECT":
            return url, headers
        raise BadRequest("request target is not in origin or absolute form")
    if scheme.lower() not in (b"http", b"https"):
        raise BadRequest("absolute-form target with a scheme other than http(s)")
    cut = min((i for i in (rest.find(b"/"), rest.find(b"?")) if i >= 0), default=len(rest))
    authority, path = rest[:cut], rest[cut:]
    if not authority or b"@" in authority or not valid_host(authority):
        raise BadRequest("invalid authority in an absolute-form target")
    if not path.startswith(b"/"):
        path = b"/" + path
    return path, [(n, authority if n == b"host" else v) for n, v in headers]


METHODS = {m.encode(): m for m in ("GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "PATCH")}
# The same, as a request line begins: b"GET " -> "GET".
LINE_METHODS = {raw + b" ": text for raw, text in METHODS.items()}


def method_error(data: bytes) -> ProtocolError:
    """501 for a well-formed method httptools does not know, 400 for garbage."""
    method, sep, _ = data.partition(b" ")
    if sep and method and all(b in _TOKEN_BYTES for b in method):
        return NotImplementedMethod(f"method {method[:32]!r} is not implemented")
    return BadRequest("malformed request method")
