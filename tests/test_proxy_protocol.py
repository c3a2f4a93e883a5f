"""PROXY protocol v1/v2 header parsing, fed whole, split and with arbitrary bytes."""

from __future__ import annotations

import struct

import pytest
from hypothesis import given
from hypothesis import strategies as st

from corral.errors import BadRequest
from corral.proxy import ProxyProtocolError, ProxyResult, parse_proxy_header
from corral.proxy.proxy_protocol import V2_SIGNATURE

HTTP = b"GET / HTTP/1.1\r\nHost: a\r\n\r\n"


def v2(command: int = 1, family: int = 0x11, body: bytes = b"", length: int | None = None) -> bytes:
    """A v2 header: signature, version 2 + command, family, length, body."""
    size = len(body) if length is None else length
    return V2_SIGNATURE + struct.pack("!BBH", 0x20 | command, family, size) + body


def inet4(src: str, dst: str, sport: int, dport: int) -> bytes:
    return (
        bytes(map(int, src.split(".")))
        + bytes(map(int, dst.split(".")))
        + struct.pack("!HH", sport, dport)
    )


def inet6(src: bytes, dst: bytes, sport: int, dport: int) -> bytes:
    return src + dst + struct.pack("!HH", sport, dport)


# -- v1 ---------------------------------------------------------------------------------


def test_v1_tcp4_then_http() -> None:
    line = b"PROXY TCP4 192.168.0.1 192.168.0.11 56324 443\r\n"
    result = parse_proxy_header(line + HTTP)
    assert result == ProxyResult(len(line), ("192.168.0.1", 56324), ("192.168.0.11", 443))


def test_v1_tcp6_addresses_are_canonical() -> None:
    line = b"PROXY TCP6 2001:DB8:0:0::1 ::ffff:192.0.2.1 0 65535\r\n"
    result = parse_proxy_header(line)
    assert result is not None
    assert result.client == ("2001:db8::1", 0)
    assert result.server is not None and result.server[1] == 65535


@pytest.mark.parametrize(
    "line",
    [b"PROXY UNKNOWN\r\n", b"PROXY UNKNOWN ffff:f::1 ffff:f::2 1 2\r\n", b"PROXY UNKNOWN x y\r\n"],
)
def test_v1_unknown_keeps_real_endpoints(line: bytes) -> None:
    assert parse_proxy_header(line + HTTP) == ProxyResult(len(line), None, None)


def test_v1_line_of_exactly_107_bytes_is_accepted() -> None:
    line = b"PROXY UNKNOWN " + b"x" * (107 - 16) + b"\r\n"
    assert len(line) == 107
    assert parse_proxy_header(line) == ProxyResult(107, None, None)


def test_v1_line_over_107_bytes_is_an_error() -> None:
    line = b"PROXY UNKNOWN " + b"x" * (108 - 16) + b"\r\n"
    with pytest.raises(ProxyProtocolError):
        parse_proxy_header(line)
    with pytest.raises(ProxyProtocolError):
        parse_proxy_header(line[:107])  # 107 bytes and no CRLF: cannot become valid


def test_v1_106_bytes_without_crlf_needs_more() -> None:
    assert parse_proxy_header(b"PROXY UNKNOWN " + b"x" * 92) is None


@pytest.mark.parametrize(
    "line",
    [
        b"PROXY TCP4 ::1 ::1 1 2\r\n",  # family mismatch
        b"PROXY TCP6 1.2.3.4 1.2.3.4 1 2\r\n",
        b"PROXY TCP4 1.2.3.4  1.2.3.4 1 2\r\n",  # double space
        b"PROXY TCP4 1.2.3.4 1.2.3.4 1 2 \r\n",  # trailing space
        b"PROXY TCP4 1.2.3.4 1.2.3.4 1\r\n",  # missing field
        b"PROXY TCP4 1.2.3.4 1.2.3.4 1 2 3\r\n",  # extra field
        b"PROXY TCP4 1.2.3.4 1.2.3.4 +1 2\r\n",
        b"PROXY TCP4 1.2.3.4 1.2.3.4 01 2\r\n",
        b"PROXY TCP4 1.2.3.4 1.2.3.4 1 65536\r\n",
        b"PROXY TCP4 1.2.3.4 1.2.3.4 1 -2\r\n",
        b"PROXY TCP4 1.2.3 1.2.3.4 1 2\r\n",
        b"PROXY TCP4 01.2.3.4 1.2.3.4 1 2\r\n",
        b"PROXY TCP6 fe80::1%eth0 ::1 1 2\r\n",  # zone ids are not addresses on the wire
        b"PROXY TCP5 1.2.3.4 1.2.3.4 1 2\r\n",
        b"PROXY tcp4 1.2.3.4 1.2.3.4 1 2\r\n",
        b"PROXY TCP4 1.2.3.4 1.2.3.4 1 2\n",  # bare LF
        b"PROXY \n",
        b"PROXY UNKNOWN\n",
        b"PROXY \r\n",
        b"PROXY TCP4 1.2.3.4 1.2.3.4 \xd9\xa1 2\r\n",  # non-ASCII digit
    ],
)
def test_v1_malformed_lines(line: bytes) -> None:
    with pytest.raises(ProxyProtocolError):
        parse_proxy_header(line + HTTP)


# -- v2 ---------------------------------------------------------------------------------


def test_v2_tcp4_then_http() -> None:
    header = v2(body=inet4("203.0.113.7", "10.0.0.1", 40000, 443))
    result = parse_proxy_header(header + HTTP)
    assert result == ProxyResult(28, ("203.0.113.7", 40000), ("10.0.0.1", 443))


def test_v2_tcp6() -> None:
    src = bytes.fromhex("20010db8000000000000000000000001")
    dst = bytes.fromhex("20010db8000000000000000000000002")
    result = parse_proxy_header(v2(family=0x21, body=inet6(src, dst, 1, 2)))
    assert result == ProxyResult(16 + 36, ("2001:db8::1", 1), ("2001:db8::2", 2))


def test_v2_udp4_is_accepted() -> None:
    result = parse_proxy_header(v2(family=0x12, body=inet4("1.2.3.4", "5.6.7.8", 1, 2)))
    assert result is not None and result.client == ("1.2.3.4", 1)


def test_v2_tlvs_after_the_addresses_are_skipped() -> None:
    tlvs = b"\x01\x00\x02h2" + b"\x04\x00\x00"  # ALPN, NOOP
    header = v2(body=inet4("1.2.3.4", "5.6.7.8", 1, 2) + tlvs)
    result = parse_proxy_header(header + HTTP)
    assert result is not None
    assert result.consumed == len(header)
    assert (header + HTTP)[result.consumed :] == HTTP


@pytest.mark.parametrize(
    ("family", "body"),
    [(0x31, b"/a".ljust(108, b"\0") + b"/b".ljust(108, b"\0")), (0x32, bytes(216)), (0x00, b"")],
)
def test_v2_unix_and_unspec_give_no_addresses(family: int, body: bytes) -> None:
    header = v2(family=family, body=body)
    assert parse_proxy_header(header + HTTP) == ProxyResult(len(header), None, None)


@pytest.mark.parametrize("family", [0x00, 0x11, 0x21, 0x99])
def test_v2_local_ignores_the_block(family: int) -> None:
    header = v2(command=0, family=family, body=b"\x07" * 5)
    assert parse_proxy_header(header + HTTP) == ProxyResult(len(header), None, None)


@pytest.mark.parametrize(
    "header",
    [
        V2_SIGNATURE + b"\x11\x11\x00\x0c" + bytes(12),  # version 1
        V2_SIGNATURE + b"\x31\x11\x00\x0c" + bytes(12),  # version 3
        v2(command=2, body=bytes(12)),
        v2(family=0x13, body=bytes(12)),  # unknown transport
        v2(family=0x41, body=bytes(12)),  # unknown family
        v2(family=0x01, body=bytes(12)),
        v2(family=0x11, body=bytes(11)),  # too short for AF_INET
        v2(family=0x21, body=bytes(35)),  # too short for AF_INET6
        v2(family=0x31, body=bytes(215)),  # too short for AF_UNIX
        v2(length=4097),  # over the cap: no need to wait for the body
        v2(length=0xFFFF),
    ],
)
def test_v2_malformed_headers(header: bytes) -> None:
    with pytest.raises(ProxyProtocolError):
        parse_proxy_header(header)


def test_v2_length_at_the_cap_is_accepted() -> None:
    header = v2(body=inet4("1.2.3.4", "5.6.7.8", 1, 2) + bytes(4096 - 12))
    result = parse_proxy_header(header)
    assert result is not None and result.consumed == 16 + 4096


# -- the start of the stream ------------------------------------------------------------


@pytest.mark.parametrize(
    "data", [b"", b"P", b"PRO", b"PROXY", b"PROXY ", b"\r", b"\r\n\r", V2_SIGNATURE[:11]]
)
def test_prefix_of_a_signature_needs_more(data: bytes) -> None:
    assert parse_proxy_header(data) is None


@pytest.mark.parametrize(
    "data",
    [HTTP, b"G", b"PROXYX", b"proxy ", b"\r\n\r\n\x00\r\nQUIX", b"\r\n\r\n\r\n", b"\x16\x03"],
)
def test_anything_else_is_an_error_at_once(data: bytes) -> None:
    with pytest.raises(ProxyProtocolError):
        parse_proxy_header(data)


def test_error_is_a_400_value_error() -> None:
    with pytest.raises(ProxyProtocolError) as caught:
        parse_proxy_header(HTTP)
    assert isinstance(caught.value, ValueError)
    assert isinstance(caught.value, BadRequest)
    assert caught.value.status == 400


# -- split feeding ----------------------------------------------------------------------

VALID_HEADERS = [
    b"PROXY TCP4 192.168.0.1 192.168.0.11 56324 443\r\n",
    b"PROXY TCP6 2001:db8::1 2001:db8::2 1 2\r\n",
    b"PROXY UNKNOWN\r\n",
    v2(body=inet4("1.2.3.4", "5.6.7.8", 1, 2) + b"\x04\x00\x01z"),
    v2(family=0x21, body=bytes(36)),
    v2(command=0, family=0x00),
]


@pytest.mark.parametrize("header", VALID_HEADERS)
def test_every_prefix_needs_more_until_complete(header: bytes) -> None:
    for end in range(len(header)):
        assert parse_proxy_header(header[:end]) is None, end
    result = parse_proxy_header(header)
    assert result is not None and result.consumed == len(header)
    assert parse_proxy_header(header + HTTP) == result


@given(st.sampled_from(VALID_HEADERS), st.binary(max_size=64))
def test_bytes_after_the_header_do_not_change_the_result(header: bytes, rest: bytes) -> None:
    assert parse_proxy_header(header + rest) == parse_proxy_header(header)


# -- arbitrary input --------------------------------------------------------------------


def _parse_or_error(data: bytes) -> ProxyResult | None:
    try:
        result = parse_proxy_header(data)
    except ProxyProtocolError:
        return None
    if result is not None:
        assert 0 < result.consumed <= len(data)
    return result


@given(st.binary(max_size=300))
def test_arbitrary_bytes_only_raise_proxy_protocol_error(data: bytes) -> None:
    _parse_or_error(data)


@given(
    st.sampled_from(
        [b"PROXY ", b"PROXY TCP4 ", b"PROXY TCP6 ", V2_SIGNATURE, V2_SIGNATURE + b"\x21"]
    ),
    st.binary(max_size=300),
)
def test_arbitrary_bytes_after_a_signature_only_raise_proxy_protocol_error(
    prefix: bytes, data: bytes
) -> None:
    _parse_or_error(prefix + data)


@given(st.text(alphabet="PROXYTCP46UNKW 0123456789abcdef.:\r\n", max_size=120))
def test_v1_like_text_only_raises_proxy_protocol_error(text: str) -> None:
    _parse_or_error(b"PROXY " + text.encode())
