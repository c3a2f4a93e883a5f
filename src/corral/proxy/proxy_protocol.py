"""PROXY protocol v1 (text) and v2 (binary) header parser, sans-IO.

A load balancer speaking the PROXY protocol sends one header before the first
byte of HTTP, telling the real client and server addresses. Sections cited are
those of HAProxy's "The PROXY protocol" specification (proxy-protocol.txt).

:func:`parse_proxy_header` is fed everything received so far and answers
"need more" (None), a :class:`ProxyResult`, or raises :class:`ProxyProtocolError`;
the connection then answers 400 and closes.
"""

from __future__ import annotations

import ipaddress
import struct
from dataclasses import dataclass
from typing import Final

from corral.errors import BadRequest

__all__ = [
    "V1_MAX_LENGTH",
    "V2_MAX_LENGTH",
    "V2_SIGNATURE",
    "ProxyProtocolError",
    "ProxyResult",
    "parse_proxy_header",
]

Address = tuple[str, int]

V1_PREFIX: Final = b"PROXY "
#: §2.1: a v1 line is at most 107 bytes, CRLF included.
V1_MAX_LENGTH: Final = 107
#: §2.2: the 12-byte v2 signature.
V2_SIGNATURE: Final = b"\r\n\r\n\x00\r\nQUIT\n"
_V2_HEADER = struct.Struct("!12sBBH")  # signature, ver_cmd, fam, len
#: Largest v2 address block plus TLVs accepted (the 16-byte header not counted).
V2_MAX_LENGTH: Final = 4096

_LOCAL, _PROXY = 0x0, 0x1
# §2.2 byte 14: family (high nibble) and transport (low nibble); the seven
# combinations the specification defines, with their address block's length.
_BLOCK_LENGTHS: Final = {0x00: 0, 0x11: 12, 0x12: 12, 0x21: 36, 0x22: 36, 0x31: 216, 0x32: 216}
_INET4 = struct.Struct("!4s4sHH")
_INET6 = struct.Struct("!16s16sHH")
_V1_FAMILIES: Final = {b"TCP4": 4, b"TCP6": 6}
_V1_ADDRESS_CHARS: Final = frozenset(b"0123456789abcdefABCDEF.:")


class ProxyProtocolError(BadRequest, ValueError):
    """The PROXY protocol header is missing or malformed (answered with 400)."""


@dataclass(frozen=True, slots=True)
class ProxyResult:
    """A complete PROXY header: its length and the addresses it announced.

    ``client`` and ``server`` are None when the header gives none (v1
    ``UNKNOWN``, v2 ``LOCAL``, or the UNSPEC and UNIX families): the
    connection's own addresses then stand.
    """

    consumed: int
    client: Address | None
    server: Address | None


def parse_proxy_header(data: bytes) -> ProxyResult | None:
    """Parse the PROXY header at the start of ``data`` (v1 or v2).

    Returns None while ``data`` is a strict prefix of a header, a
    :class:`ProxyResult` once it is complete (bytes after ``consumed`` are the
    client's HTTP), and raises :class:`ProxyProtocolError` as soon as ``data``
    cannot be a PROXY header.
    """
    if data.startswith(V2_SIGNATURE):
        return _parse_v2(data)
    if data.startswith(V1_PREFIX):
        return _parse_v1(data)
    head = data[: len(V2_SIGNATURE)]
    if V2_SIGNATURE.startswith(head) or V1_PREFIX.startswith(head):
        return None
    raise ProxyProtocolError("expected a PROXY protocol header")


def _parse_v1(data: bytes) -> ProxyResult | None:
    """§2.1: "PROXY" SP protocol SP src SP dst SP sport SP dport CRLF."""
    newline = data.find(b"\n", 0, V1_MAX_LENGTH)
    if newline < 0:
        if len(data) >= V1_MAX_LENGTH:
            raise ProxyProtocolError("PROXY v1 line longer than 107 bytes")
        return None
    if data[newline - 1 : newline] != b"\r":
        raise ProxyProtocolError("PROXY v1 line not ended by CRLF")
    line = data[: newline - 1]
    consumed = newline + 1
    # §2.1: with UNKNOWN, the receiver ignores everything up to the CRLF.
    if line == b"PROXY UNKNOWN" or line.startswith(b"PROXY UNKNOWN "):
        return ProxyResult(consumed, None, None)
    fields = line.split(b" ")
    if len(fields) != 6 or fields[1] not in _V1_FAMILIES:
        raise ProxyProtocolError("malformed PROXY v1 line")
    version = _V1_FAMILIES[fields[1]]
    client = (_v1_address(fields[2], version), _v1_port(fields[4]))
    server = (_v1_address(fields[3], version), _v1_port(fields[5]))
    return ProxyResult(consumed, client, server)


def _v1_address(text: bytes, version: int) -> str:
    """A v1 address of the announced family, canonicalised."""
    if not text or not _V1_ADDRESS_CHARS.issuperset(text):
        raise ProxyProtocolError("bad address in PROXY v1 line")
    try:
        address = ipaddress.ip_address(text.decode("ascii"))
    except ValueError:
        raise ProxyProtocolError("bad address in PROXY v1 line") from None
    if address.version != version:
        raise ProxyProtocolError("PROXY v1 address does not match its family")
    return str(address)


def _v1_port(text: bytes) -> int:
    """A v1 port: 0-65535 in decimal, no sign, no leading zero (§2.1)."""
    if (
        not 1 <= len(text) <= 5
        or not text.isdigit()
        or (text[0:1] == b"0" and len(text) > 1)
        or int(text) > 65535
    ):
        raise ProxyProtocolError("bad port in PROXY v1 line")
    return int(text)


def _parse_v2(data: bytes) -> ProxyResult | None:
    """§2.2: 16-byte header (signature, version/command, family, length), then the rest."""
    if len(data) < _V2_HEADER.size:
        return None
    _, ver_cmd, family, length = _V2_HEADER.unpack_from(data)
    if ver_cmd >> 4 != 2:
        raise ProxyProtocolError("unsupported PROXY protocol version")
    command = ver_cmd & 0x0F
    if command not in (_LOCAL, _PROXY):
        raise ProxyProtocolError("unknown PROXY v2 command")
    if length > V2_MAX_LENGTH:
        raise ProxyProtocolError("PROXY v2 header too long")
    consumed = _V2_HEADER.size + length
    block_length = _BLOCK_LENGTHS.get(family)
    if command == _PROXY:
        # §2.2: other family/transport values must be dropped; a block too short
        # for its family cannot be read.
        if block_length is None:
            raise ProxyProtocolError("unknown PROXY v2 address family")
        if length < block_length:
            raise ProxyProtocolError("PROXY v2 address block too short")
    if len(data) < consumed:
        return None
    if command == _LOCAL:
        # §2.2: LOCAL (health checks) keeps the real endpoints, whatever follows.
        return ProxyResult(consumed, None, None)
    client, server = _v2_addresses(data, family)
    return ProxyResult(consumed, client, server)


def _v2_addresses(data: bytes, family: int) -> tuple[Address | None, Address | None]:
    """Client and server of a v2 address block; None for UNSPEC and UNIX (§2.2)."""
    high = family >> 4
    if high == 0x1:
        source, dest, sport, dport = _INET4.unpack_from(data, _V2_HEADER.size)
        return (
            (str(ipaddress.IPv4Address(source)), sport),
            (str(ipaddress.IPv4Address(dest)), dport),
        )
    if high == 0x2:
        source, dest, sport, dport = _INET6.unpack_from(data, _V2_HEADER.size)
        return (
            (str(ipaddress.IPv6Address(source)), sport),
            (str(ipaddress.IPv6Address(dest)), dport),
        )
    return None, None
