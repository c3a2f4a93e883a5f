"""corral's own raw-byte HTTP/1.1 request corpus: bytes in, expected outcome out.

Each ``Case`` lists, in order, what the client must get back on one connection:
a ``Parsed`` request (the app answered 200 and saw exactly that) or a set of
acceptable error statuses (after which the server must close the connection and
answer nothing more). ``0`` in a status set means "closed without a response".
Once the listed outcomes are seen, nothing else may arrive: a request smuggled
after the expected ones must never be answered.

The server under test runs with ``--limit-request-body 4096`` (``BODY_LIMIT``)
and corral's defaults otherwise: 8190-byte request target, 8190-byte header
field, 100 header fields.
"""

from __future__ import annotations

from dataclasses import dataclass

BODY_LIMIT = 4096
SERVER_FLAGS = ("--limit-request-body", str(BODY_LIMIT))

Headers = tuple[tuple[bytes, bytes], ...]


@dataclass(frozen=True)
class Parsed:
    """A request as the app must see it (header names compare case-insensitively)."""

    method: str
    target: bytes
    headers: Headers
    body: bytes = b""
    version: str = "1.1"


Outcome = Parsed | frozenset[int]


@dataclass(frozen=True)
class Case:
    """Raw request bytes and the outcomes expected on their connection, in order."""

    name: str
    data: bytes
    expect: tuple[Outcome, ...]
    why: str = ""
    half_close: bool = False  # the client ends its side after sending (an incomplete message)


EOF_OR_400 = frozenset({0, 400})


def outcome(item: Outcome | int | set[int] | frozenset[int]) -> Outcome:
    """An int or set of ints becomes a frozenset of statuses; a Parsed stays as it is."""
    if isinstance(item, int):
        return frozenset({item})
    if isinstance(item, (set, frozenset)):
        return frozenset(item)
    return item


def case(name: str, data: bytes, *expect: object, why: str = "", half_close: bool = False) -> Case:
    return Case(name, data, tuple(outcome(e) for e in expect), why, half_close)  # type: ignore[arg-type]


HOST = (b"host", b"example.com")
SMUGGLE = b"GET /smuggled HTTP/1.1\r\nHost: example.com\r\n\r\n"


def get(target: bytes = b"/", *headers: tuple[bytes, bytes], version: str = "1.1") -> Parsed:
    return Parsed("GET", target, (HOST, *headers) if version == "1.1" else headers, b"", version)


def post(body: bytes, *headers: tuple[bytes, bytes], target: bytes = b"/") -> Parsed:
    return Parsed("POST", target, (HOST, *headers), body)


def head(*lines: bytes, start: bytes = b"GET / HTTP/1.1") -> bytes:
    """A request head: the start line, ``Host: example.com``, then ``lines``."""
    return b"\r\n".join([start, b"Host: example.com", *lines]) + b"\r\n\r\n"


CHUNKED = (b"transfer-encoding", b"chunked")
HELLO_CHUNKED = b"5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"


def chunked_post(body: bytes, te: bytes = b"chunked") -> bytes:
    return head(b"Transfer-Encoding: " + te, start=b"POST / HTTP/1.1") + body


def length_post(value: bytes, body: bytes = b"hello") -> bytes:
    return head(b"Content-Length: " + value, start=b"POST / HTTP/1.1") + body


# -- valid requests: what the app sees ---------------------------------------------------------

VALID = [
    case("get", head(), get(), why="RFC 9112 §3"),
    case(
        "leading_empty_line",
        b"\r\n" + head(start=b"GET /lead HTTP/1.1"),
        get(b"/lead"),
        why="RFC 9112 §2.2: ignore at least one empty line before the request line",
    ),
    case(
        "http10_without_host",
        b"GET /old HTTP/1.0\r\n\r\n",
        get(b"/old", version="1.0"),
        why="RFC 9112 §3.2: Host is required in HTTP/1.1 only",
    ),
    case(
        "value_trailing_whitespace",
        head(b"X-A: value \t "),
        get(b"/", (b"x-a", b"value")),
        why="RFC 9112 §5.1: OWS around a field value is not part of it",
    ),
    case(
        "value_leading_whitespace",
        head(b"X-A:\t  value"),
        get(b"/", (b"x-a", b"value")),
        why="RFC 9112 §5.1",
    ),
    case(
        "empty_values",
        head(b"X-E:", b"X-F:  \t"),
        get(b"/", (b"x-e", b""), (b"x-f", b"")),
        why="RFC 9110 §5.5: field-value may be empty",
    ),
    case(
        "htab_inside_value",
        head(b"X-A: a\tb"),
        get(b"/", (b"x-a", b"a\tb")),
        why="RFC 9110 §5.5: HTAB is allowed inside a value",
    ),
    case(
        "obs_text_in_value",
        head(b"X-A: caf\xc3\xa9 \xff\x80"),
        get(b"/", (b"x-a", b"caf\xc3\xa9 \xff\x80")),
        why="RFC 9110 §5.5: obs-text",
    ),
    case(
        "every_tchar_in_name",
        head(b"!#$%&'*+-.^_`|~09AZaz: ok"),
        get(b"/", (b"!#$%&'*+-.^_`|~09azaz", b"ok")),
        why="RFC 9110 §5.1, §5.6.2: token",
    ),
    case(
        "field_order_and_repeats_kept",
        head(b"Accept: a", b"X-B: 1", b"Accept: b"),
        get(b"/", (b"accept", b"a"), (b"x-b", b"1"), (b"accept", b"b")),
        why="RFC 9110 §5.3",
    ),
    case(
        "content_length_body",
        length_post(b"11", b"hello world"),
        post(b"hello world", (b"content-length", b"11")),
        why="RFC 9112 §6.2",
    ),
    case("content_length_zero", head(b"Content-Length: 0"), get(b"/", (b"content-length", b"0"))),
    case(
        "content_length_leading_zeros",
        length_post(b"0005"),
        post(b"hello", (b"content-length", b"0005")),
        why="RFC 9110 §8.6: 1*DIGIT",
    ),
    case(
        "content_length_htab_ows",
        length_post(b"\t5\t"),
        post(b"hello", (b"content-length", b"5")),
        why="RFC 9112 §5.1",
    ),
    case(
        "chunked", chunked_post(HELLO_CHUNKED), post(b"hello world", CHUNKED), why="RFC 9112 §7.1"
    ),
    case(
        "chunk_size_uppercase_hex_leading_zeros",
        chunked_post(b"00A\r\n0123456789\r\n000\r\n\r\n"),
        post(b"0123456789", CHUNKED),
        why="RFC 9112 §7.1: chunk-size = 1*HEXDIG",
    ),
    case(
        "chunk_extensions",
        chunked_post(b'5;name=value;flag\r\nhello\r\n6;q="a b;c"\r\n world\r\n0;last\r\n\r\n'),
        post(b"hello world", CHUNKED),
        why="RFC 9112 §7.1.1: extensions are ignored",
    ),
    case(
        "transfer_coding_name_case_insensitive",
        chunked_post(HELLO_CHUNKED, b"Chunked"),
        post(b"hello world", (b"transfer-encoding", b"Chunked")),
        why="RFC 9112 §7: transfer-coding names are case-insensitive",
    ),
    case(
        "trailers_dropped",
        chunked_post(b"5\r\nhello\r\n0\r\nX-Trailer: t\r\nExpires: 0\r\n\r\n"),
        post(b"hello", CHUNKED),
        why="RFC 9110 §6.5.2: trailers may be discarded",
    ),
    case(
        "trailer_host_changes_nothing",
        chunked_post(b"5\r\nhello\r\n0\r\nHost: evil.example\r\n\r\n"),
        post(b"hello", CHUNKED),
        why="RFC 9110 §6.5.1: Host must not come in a trailer",
    ),
    case(
        "trailer_then_pipelined",
        chunked_post(b"5\r\nhello\r\n0\r\nX-Checksum: 1\r\n\r\n")
        + head(start=b"GET /next HTTP/1.1"),
        post(b"hello", CHUNKED),
        get(b"/next"),
        why="RFC 9112 §7.1.2: the trailer ends at its empty line",
    ),
    case(
        "body_that_looks_like_a_request",
        length_post(b"%d" % len(SMUGGLE), SMUGGLE),
        post(SMUGGLE, (b"content-length", b"%d" % len(SMUGGLE))),
        why="RFC 9112 §6.3: the body is the next Content-Length bytes, nothing more",
    ),
    case(
        "chunk_that_looks_like_a_request",
        chunked_post(b"%x\r\n%b\r\n0\r\n\r\n" % (len(SMUGGLE), SMUGGLE)),
        post(SMUGGLE, CHUNKED),
        why="RFC 9112 §7.1",
    ),
    case(
        "pipelined",
        head(start=b"GET /1 HTTP/1.1")
        + head(start=b"GET /2 HTTP/1.1")
        + head(start=b"GET /3 HTTP/1.1"),
        get(b"/1"),
        get(b"/2"),
        get(b"/3"),
        why="RFC 9112 §9.3.2",
    ),
    case(
        "pipelined_after_chunked",
        chunked_post(HELLO_CHUNKED) + head(start=b"GET /n HTTP/1.1"),
        post(b"hello world", CHUNKED),
        get(b"/n"),
        why="RFC 9112 §9.3.2",
    ),
    case(
        "http10_keep_alive_then_close",
        b"GET /a HTTP/1.0\r\nConnection: keep-alive\r\n\r\nGET /b HTTP/1.0\r\n\r\n"
        b"GET /c HTTP/1.0\r\n\r\n",
        get(b"/a", (b"connection", b"keep-alive"), version="1.0"),
        get(b"/b", version="1.0"),
        why="RFC 9112 §9.3: an HTTP/1.0 request without keep-alive ends the connection",
    ),
    case(
        "connection_close_ends_pipeline",
        head(b"Connection: close") + SMUGGLE,
        get(b"/", (b"connection", b"close")),
        why="RFC 9112 §9.6",
    ),
    case(
        "target_query_and_percent",
        head(start=b"GET /a%20b/c?x=1&y=%2F HTTP/1.1"),
        get(b"/a%20b/c?x=1&y=%2F"),
        why="RFC 9112 §3.2.1",
    ),
    case(
        "options_asterisk",
        head(start=b"OPTIONS * HTTP/1.1"),
        Parsed("OPTIONS", b"*", (HOST,)),
        why="RFC 9112 §3.2.4",
    ),
    case(
        "absolute_form",
        head(start=b"GET http://example.com/abs?q=1 HTTP/1.1"),
        get(b"http://example.com/abs?q=1"),
        why="RFC 9112 §3.2.2",
    ),
    case(
        "other_methods",
        b"".join(
            head(b"Content-Length: 0", start=m + b" /m HTTP/1.1")
            for m in (b"PUT", b"DELETE", b"PATCH", b"OPTIONS")
        ),
        *(
            Parsed(m, b"/m", (HOST, (b"content-length", b"0")))
            for m in ("PUT", "DELETE", "PATCH", "OPTIONS")
        ),
        why="RFC 9110 §9",
    ),
    case(
        "target_at_limit",
        head(start=b"GET /" + b"a" * 8189 + b" HTTP/1.1"),
        get(b"/" + b"a" * 8189),
        why="--limit-request-line 8190 (the request target)",
    ),
    case(
        "large_field_under_limit",
        head(b"X-Big: " + b"v" * 8100),
        get(b"/", (b"x-big", b"v" * 8100)),
        why="--limit-request-field-size 8190",
    ),
    case(
        "hundred_fields",
        head(*(b"X-%02d: %d" % (i, i) for i in range(99))),
        get(b"/", *((b"x-%02d" % i, b"%d" % i) for i in range(99))),
        why="--limit-request-fields 100",
    ),
    case(
        "body_at_limit",
        length_post(b"%d" % BODY_LIMIT, b"b" * BODY_LIMIT),
        post(b"b" * BODY_LIMIT, (b"content-length", b"%d" % BODY_LIMIT)),
        why="--limit-request-body",
    ),
    case(
        "chunked_body_at_limit",
        chunked_post(b"800\r\n%b\r\n800\r\n%b\r\n0\r\n\r\n" % (b"c" * 2048, b"d" * 2048)),
        post(b"c" * 2048 + b"d" * 2048, CHUNKED),
        why="--limit-request-body",
    ),
    case(
        "host_ipv6_with_port",
        b"GET / HTTP/1.1\r\nHost: [::1]:8080\r\n\r\n",
        Parsed("GET", b"/", ((b"host", b"[::1]:8080"),)),
        why="RFC 9110 §7.2",
    ),
]


# -- invalid requests: status, then close, and nothing smuggled gets an answer --------------------

RFC_CL_TE = "RFC 9112 §6.1, §6.3: both Content-Length and Transfer-Encoding"
RFC_CL = "RFC 9110 §8.6, RFC 9112 §6.3: Content-Length = 1*DIGIT, once"
RFC_TE = "RFC 9112 §6.1, §6.3: chunked must be the final coding, applied once"
RFC_TE_501 = "RFC 9112 §6.1: a transfer coding the server does not understand gets 501"
RFC_CHUNK = "RFC 9112 §7.1: chunk = chunk-size [ chunk-ext ] CRLF chunk-data CRLF"
RFC_LINES = "RFC 9112 §2.2: lines end in CRLF; bare CR is invalid"
RFC_FIELD = "RFC 9110 §5.1, §5.5, RFC 9112 §5: field-name is a token; no CTLs in values"


def bad_lengths() -> list[Case]:
    values = {
        "plus": b"+5",
        "minus": b"-5",
        "decimal_point": b"5.0",
        "hex": b"0x5",
        "two_numbers": b"5 5",
        "list": b"5, 5",
        "list_no_space": b"5,5",
        "letters": b"abc",
        "empty": b"",
        "exponent": b"5e0",
        "non_ascii_digit": b"\xd9\xa5",
    }
    return [
        case(f"content_length_{tag}", length_post(v) + SMUGGLE, 400, why=RFC_CL)
        for tag, v in values.items()
    ]


def bad_codings() -> list[Case]:
    body = b"5\r\nhello\r\n0\r\n\r\n" + SMUGGLE
    codings_400 = {
        "chunked_then_gzip": b"chunked, gzip",
        "gzip_only": b"gzip",
        "identity_only": b"identity",
        "chunked_twice": b"chunked, chunked",
        "empty": b"",
        "xchunked": b"xchunked",
    }
    codings_501 = {
        "gzip_then_chunked": b"gzip, chunked",
        "deflate_then_chunked": b"deflate,chunked",
        "identity_then_chunked": b"identity, chunked",
    }
    cases = [
        case(f"te_{tag}", chunked_post(body, v), 400, why=RFC_TE) for tag, v in codings_400.items()
    ]
    cases += [
        case(f"te_{tag}", chunked_post(body, v), 501, why=RFC_TE_501)
        for tag, v in codings_501.items()
    ]
    two_lines = (
        b"POST / HTTP/1.1\r\nHost: example.com\r\nTransfer-Encoding: %b\r\n"
        b"Transfer-Encoding: %b\r\n\r\n"
    )
    cases += [
        case(
            "te_chunked_on_two_lines", two_lines % (b"chunked", b"chunked") + body, 400, why=RFC_TE
        ),
        case("te_gzip_on_last_line", two_lines % (b"chunked", b"gzip") + body, 400, why=RFC_TE),
        case(
            "te_gzip_then_chunked_lines",
            two_lines % (b"gzip", b"chunked") + body,
            501,
            why=RFC_TE_501,
        ),
    ]
    return cases


def bad_chunks() -> list[Case]:
    bodies = {
        "size_0x": b"0x5\r\nhello\r\n0\r\n\r\n",
        "size_plus": b"+5\r\nhello\r\n0\r\n\r\n",
        "size_minus": b"-5\r\nhello\r\n0\r\n\r\n",
        "size_leading_space": b" 5\r\nhello\r\n0\r\n\r\n",
        "size_trailing_space": b"5 \r\nhello\r\n0\r\n\r\n",
        "size_empty": b"\r\nhello\r\n0\r\n\r\n",
        "size_not_hex": b"5g\r\nhello\r\n0\r\n\r\n",
        "size_underscore": b"5_0\r\nhello\r\n0\r\n\r\n",
        "size_overflow_64bit": b"10000000000000000\r\nhello\r\n0\r\n\r\n",
        "size_overflow_long": b"fffffffffffffffffffff\r\nhello\r\n0\r\n\r\n",
        "data_then_junk": b"5\r\nhelloXX\r\n0\r\n\r\n",
        "data_longer_than_size": b"3\r\nhello\r\n0\r\n\r\n",
        "data_then_bare_lf": b"5\r\nhello\n0\r\n\r\n",
        "size_line_bare_lf": b"5\nhello\r\n0\r\n\r\n",
        "last_chunk_bare_lf": b"5\r\nhello\r\n0\n\r\n",
        "extension_bare_cr": b"5;a=b\rc\r\nhello\r\n0\r\n\r\n",
    }
    cases = [
        case(f"chunk_{tag}", chunked_post(b + SMUGGLE), 400, why=RFC_CHUNK)
        for tag, b in bodies.items()
    ]
    over = b"%x\r\n%b\r\n0\r\n\r\n" % (BODY_LIMIT + 1, b"x" * (BODY_LIMIT + 1))
    cases += [
        case(
            "chunked_over_body_limit", chunked_post(over + SMUGGLE), 413, why="--limit-request-body"
        ),
        case(
            "chunk_size_over_body_limit",
            chunked_post(b"ffffffff\r\n" + b"x" * 5000),
            413,
            why="--limit-request-body",
        ),
    ]
    return cases


def bad_lines() -> list[Case]:
    te_cl = b"Content-Length: 3\r\n\r\nabc"
    lines = {
        "bare_lf_request_line": b"GET / HTTP/1.1\nHost: example.com\r\n\r\n",
        "bare_lf_field": b"GET / HTTP/1.1\r\nHost: example.com\nX: y\r\n\r\n",
        "bare_lf_end_of_head": b"GET / HTTP/1.1\r\nHost: example.com\r\n\n",
        "bare_lf_everywhere": b"GET / HTTP/1.1\nHost: example.com\n\n",
        "bare_cr_request_line": b"GET / HTTP/1.1\rHost: example.com\r\n\r\n",
        "bare_cr_in_value": b"GET / HTTP/1.1\r\nHost: example.com\r\nX: a\rb\r\n\r\n",
        "bare_cr_end_of_head": b"GET / HTTP/1.1\r\nHost: example.com\r\n\r\r\n",
        "obs_fold_space": b"GET / HTTP/1.1\r\nHost: example.com\r\nX: a\r\n b\r\n\r\n",
        "obs_fold_htab": b"GET / HTTP/1.1\r\nHost: example.com\r\nX: a\r\n\tb\r\n\r\n",
        "obs_fold_hides_te": b"POST / HTTP/1.1\r\nHost: example.com\r\nTransfer-Encoding:\r\n"
        b" chunked\r\n" + te_cl,
        "whitespace_before_first_field": b"GET / HTTP/1.1\r\n Host: example.com\r\n\r\n",
    }
    whys = {
        "obs_fold": "RFC 9112 §5.2: obs-fold outside message/http is rejected with 400",
        "whitespace_before_first_field": "RFC 9112 §2.2: whitespace before the first field",
    }
    return [
        case(
            tag,
            data + SMUGGLE,
            400,
            why=whys.get(tag, whys["obs_fold"] if "fold" in tag else RFC_LINES),
        )
        for tag, data in lines.items()
    ]


def bad_fields() -> list[Case]:
    fields = {
        "space_before_colon": b"X-A : v",
        "htab_before_colon": b"X-A\t: v",
        "empty_name": b": v",
        "no_colon": b"NoColon",
        "space_in_name": b"X A: v",
        "nul_in_name": b"X\x00A: v",
        "ctl_in_name": b"X\x01A: v",
        "del_in_name": b"X\x7fA: v",
        "non_ascii_name": b"X\xe9: v",
        "slash_in_name": b"X/A: v",
        "at_in_name": b"X@A: v",
        "quote_in_name": b'X"A: v',
        "nul_in_value": b"X: a\x00b",
        "ctl_01_in_value": b"X: a\x01b",
        "ctl_1f_in_value": b"X: a\x1fb",
        "del_in_value": b"X: a\x7fb",
        "vtab_in_value": b"X: a\x0bb",
        "formfeed_in_value": b"X: a\x0cb",
    }
    cases = [
        case(f"field_{tag}", head(line) + SMUGGLE, 400, why=RFC_FIELD)
        for tag, line in fields.items()
    ]
    cases += [
        case(
            "field_space_before_colon_content_length",
            head(b"Content-Length : 5", start=b"POST / HTTP/1.1") + b"hello" + SMUGGLE,
            400,
            why="RFC 9112 §5.1: whitespace before the colon MUST get 400",
        ),
        case(
            "te_vertical_tab",
            head(b"Transfer-Encoding:\x0bchunked", b"Content-Length: 3", start=b"POST / HTTP/1.1")
            + b"abc"
            + SMUGGLE,
            400,
            why=RFC_FIELD,
        ),
    ]
    return cases


RFC_HOST = "RFC 9112 §3.2: 400 without Host in HTTP/1.1, or with more than one"


def bad_framing_and_host() -> list[Case]:
    hello_chunked = b"5\r\nhello\r\n0\r\n\r\n"
    return [
        case(
            "content_length_and_chunked",
            head(b"Content-Length: 6", b"Transfer-Encoding: chunked", start=b"POST / HTTP/1.1")
            + b"0\r\n\r\n"
            + SMUGGLE,
            400,
            why=RFC_CL_TE,
        ),
        case(
            "chunked_and_content_length",
            head(b"Transfer-Encoding: chunked", b"Content-Length: 40", start=b"POST / HTTP/1.1")
            + hello_chunked
            + SMUGGLE,
            400,
            why=RFC_CL_TE,
        ),
        case(
            "te_in_http10",
            b"POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n" + hello_chunked + SMUGGLE,
            400,
            why="RFC 9112 §6.1: Transfer-Encoding in HTTP/1.0 means faulty framing",
        ),
        case(
            "content_length_repeated_equal",
            head(b"Content-Length: 5", b"Content-Length: 5", start=b"POST / HTTP/1.1")
            + b"hello"
            + SMUGGLE,
            400,
            why=RFC_CL,
        ),
        case(
            "content_length_repeated_different",
            head(b"Content-Length: 5", b"Content-Length: 50", start=b"POST / HTTP/1.1")
            + b"hello"
            + SMUGGLE,
            400,
            why=RFC_CL,
        ),
        case("content_length_overflow", length_post(b"9" * 30), {400, 413}, why=RFC_CL),
        case("host_missing", b"GET / HTTP/1.1\r\nX: y\r\n\r\n" + SMUGGLE, 400, why=RFC_HOST),
        case("host_twice", head(b"Host: evil.example") + SMUGGLE, 400, why=RFC_HOST),
        case("host_twice_same_value", head(b"Host: example.com") + SMUGGLE, 400, why=RFC_HOST),
        case(
            "host_twice_http10",
            b"GET / HTTP/1.0\r\nHost: a\r\nHost: b\r\n\r\n" + SMUGGLE,
            400,
            why=RFC_HOST,
        ),
        case(
            "host_invalid_value",
            b"GET / HTTP/1.1\r\nHost: exa mple.com\r\n\r\n" + SMUGGLE,
            400,
            why="RFC 9112 §3.2: a Host field with an invalid value MUST get 400",
        ),
    ]


RFC_LINE = "RFC 9112 §3: request-line = method SP request-target SP HTTP-version"


def bad_request_lines() -> list[Case]:
    lines_400 = {
        "no_target": b"GET HTTP/1.1",
        "trailing_space": b"GET / HTTP/1.1 ",
        "leading_space": b" GET / HTTP/1.1",
        "htab_separators": b"GET\t/\tHTTP/1.1",
        "space_in_target": b"GET /a b HTTP/1.1",
        "htab_in_target": b"GET /a\tb HTTP/1.1",
        "nul_in_target": b"GET /a\x00b HTTP/1.1",
        "ctl_in_target": b"GET /a\x01b HTTP/1.1",
        "del_in_target": b"GET /a\x7fb HTTP/1.1",
        "method_non_token": b"GE(T / HTTP/1.1",
        "method_non_ascii": b"G\xc9T / HTTP/1.1",
        "method_nul": b"GET\x00 / HTTP/1.1",
        "version_two_digit_minor": b"GET / HTTP/1.10",
        "version_no_minor": b"GET / HTTP/1",
        "version_no_dot": b"GET / HTTP/11",
        "version_no_slash": b"GET / HTTP1.1",
        "version_junk_after": b"GET / HTTP/1.1x",
    }
    cases = [
        case(f"line_{tag}", line + b"\r\nHost: example.com\r\n\r\n" + SMUGGLE, 400, why=RFC_LINE)
        for tag, line in lines_400.items()
    ]
    rest = b"\r\nHost: example.com\r\n\r\n" + SMUGGLE
    cases += [
        case(
            "line_no_version",
            b"GET /" + rest,
            505,
            why="an HTTP/0.9 request line (no version): 505, as for other versions",
        ),
        case(
            "line_double_space",
            b"GET  / HTTP/1.1\r\nHost: example.com\r\n\r\n",
            get(),
            why="RFC 9112 §3: recipients MAY parse on whitespace-delimited word boundaries; "
            "llhttp does, and the framing stays certain (see docs/security.md)",
        ),
    ]
    rfc_version = "RFC 9110 §6.2, §15.6.6: 505 for a major version the server does not support"
    cases += [
        case("method_unknown", b"FOO / HTTP/1.1" + rest, 501, why="RFC 9110 §9.1: 501"),
        case(
            "method_lowercase",
            b"get / HTTP/1.1" + rest,
            501,
            why="RFC 9110 §9.1: methods are case-sensitive; an unknown token gets 501",
        ),
        case(
            "connect",
            b"CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n" + SMUGGLE,
            501,
            why="corral is not a proxy: RFC 9110 §9.3.6",
        ),
        case("version_2_0", b"GET / HTTP/2.0" + rest, 505, why=rfc_version),
        case("version_3_0", b"GET / HTTP/3.0" + rest, 505, why=rfc_version),
        case("version_0_9", b"GET / HTTP/0.9" + rest, 505, why=rfc_version),
        case(
            "version_1_2",
            b"GET / HTTP/1.2" + rest,
            {400, 505},
            why="RFC 9110 §6.2: 400 (malformed to the parser) or 505 - reported, not pinned",
        ),
        case(
            "version_lowercase",
            b"GET / http/1.1" + rest,
            {400, 505},
            why="RFC 9112 §2.3: HTTP-name is case-sensitive; 400 or 505",
        ),
    ]
    return cases


def over_limits() -> list[Case]:
    return [
        case(
            "target_over_limit",
            head(start=b"GET /" + b"a" * 8190 + b" HTTP/1.1") + SMUGGLE,
            414,
            why="--limit-request-line 8190: RFC 9110 §15.5.15",
        ),
        case(
            "target_over_limit_unterminated",
            b"GET /" + b"a" * 9000,
            414,
            why="answered without waiting for the end of the line",
        ),
        case(
            "field_over_limit",
            head(b"X-Big: " + b"v" * 8200) + SMUGGLE,
            431,
            why="--limit-request-field-size 8190: RFC 6585 §5",
        ),
        case(
            "field_over_limit_unterminated",
            b"GET / HTTP/1.1\r\nX-Big: " + b"v" * 9000,
            431,
            why="answered without waiting for the end of the field",
        ),
        case(
            "too_many_fields",
            head(*(b"X-%03d: %d" % (i, i) for i in range(100))) + SMUGGLE,
            431,
            why="--limit-request-fields 100: RFC 6585 §5",
        ),
        case(
            "body_over_limit",
            length_post(b"%d" % (BODY_LIMIT + 1), b"b" * (BODY_LIMIT + 1)) + SMUGGLE,
            413,
            why="--limit-request-body: RFC 9110 §15.5.14",
        ),
        case(
            "declared_body_over_limit_no_body_sent",
            length_post(b"%d" % (BODY_LIMIT + 1), b""),
            413,
            why="refused from Content-Length alone, before the body",
        ),
    ]


def bad_trailers() -> list[Case]:
    why = (
        "RFC 9110 §6.5.1: framing fields must not come in a trailer; a framing doubt gets 400 "
        "(DESIGN §4), as in gunicorn's corpus"
    )
    return [
        case(
            "trailer_content_length",
            chunked_post(b"5\r\nhello\r\n0\r\nContent-Length: 50\r\n\r\n") + SMUGGLE,
            400,
            why=why,
        ),
        case(
            "trailer_transfer_encoding",
            chunked_post(b"5\r\nhello\r\n0\r\nTransfer-Encoding: chunked\r\n\r\n") + SMUGGLE,
            400,
            why=why,
        ),
    ]


def incomplete() -> list[Case]:
    why = "RFC 9112 §8: an incomplete message; closing without an answer or 400 are both fine"
    return [
        case(
            "head_then_eof",
            b"GET / HTTP/1.1\r\nHost: example.com\r\n",
            EOF_OR_400,
            why=why,
            half_close=True,
        ),
        case(
            "body_shorter_than_length_then_eof",
            length_post(b"10", b"abc"),
            EOF_OR_400,
            why=why,
            half_close=True,
        ),
        case(
            "chunked_without_last_chunk_then_eof",
            chunked_post(b"5\r\nhello\r\n"),
            EOF_OR_400,
            why=why,
            half_close=True,
        ),
    ]


INVALID = [
    *bad_framing_and_host(),
    *bad_lengths(),
    *bad_codings(),
    *bad_chunks(),
    *bad_lines(),
    *bad_fields(),
    *bad_trailers(),
    *bad_request_lines(),
    *over_limits(),
    *incomplete(),
]

CASES: list[Case] = VALID + INVALID
