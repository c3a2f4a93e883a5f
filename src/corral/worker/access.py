"""Access logging for the worker: one line per response, written in batches.

The line is formatted straight from the exchange (no intermediate entry
object): the format is compiled once into a function that reads the
exchange's own fields.
"""

from __future__ import annotations

import os
import time
from typing import Any

from corral.observe.accesslog import AccessLogWriter, apache_date, compile_logger

# The clock that the connection reads when a request begins (start_time).
clock = time.monotonic

# How the compiled format reads an exchange (see corral.observe.accesslog.ENTRY_FIELDS).
EXCHANGE_FIELDS = {
    "remote_addr": "(e.client[0] if e.client else '-')",
    "method": "e.method",
    "target": "(e.path + b'?' + e.query if e.query else e.path).decode('latin-1')",
    "http_version": "e.http_version",
    "status": "e.status",
    "response_bytes": "e.bytes_sent",
    "request_headers": "e.headers",
    "response_headers": "_response_headers(e)",
    "start_time": "(_wall() - (_clock() - e.start_time))",
    # gunicorn logs the time the line is written; the worker's ticker keeps it formatted.
    "date_text": "_CLOCK.text",
    "duration": "(_clock() - e.start_time)",
    # time.monotonic, not the loop's clock: uvloop's loop.time() counts whole
    # milliseconds. __trunc__ is the cheapest float-to-int on Python 3.11 (~370
    # instructions, round() ~1,100).
    "micros": "((_clock() - e.start_time) * 1e6).__trunc__()",
    # Statuses are 0 or 100-599 (corral checks the app's), so a table lookup
    # replaces formatting an int; sizes come from a small memo.
    "status_text": "_CODES[e.status]",
    "bytes_text": "((_SIZES.get(_b) or _size_text(_b)) if (_b := e.bytes_sent) else '-')",
    "pid": "_PID",
    "environ": "_ENVIRON",
    # Safe as they are: the address is one the socket, or a proxy header parsed as an
    # IP address, gave; the method is a token the parser accepted.
    "remote_addr_text": "(e.client[0] if e.client else '-')",
    "method_text": "e.method",
    # llhttp lets only printable ASCII into a target, so only a quote or a backslash
    # calls for escaping; the check runs on the bytes, before any decoding, with the
    # bytes as ints (34 '"', 92 '\\'): see corral.gateway.paths.PERCENT for why.
    "target_text": (
        "(_t.decode('latin-1') if 34 not in "
        "(_t := (e.path + b'?' + e.query if e.query else e.path)) and 92 not in _t "
        "else escape(_t.decode('latin-1')))"
    ),
    "headers_lowercase": "yes",  # the HTTP/1.1 driver lowercases names as it parses
}


class AccessLog:
    """Turns finished exchanges into log lines (only when logging is on)."""

    def __init__(self, fmt: str, path: str) -> None:
        self.clock = LogClock()
        self.writer = AccessLogWriter.open(path)
        # Called by the connection when a response is complete (or broke off).
        self.log = compile_logger(
            fmt,
            self.writer,
            fields=EXCHANGE_FIELDS,
            names={
                "_response_headers": response_headers,
                "_wall": time.time,
                "_clock": clock,
                "_PID": os.getpid(),
                "_ENVIRON": os.environ,
                "_CLOCK": self.clock,
                "_CODES": STATUS_TEXT,
                "_SIZES": _SIZE_TEXT,
                "_size_text": size_text,
            },
        )

    def tick(self, wall: float) -> None:
        """From the worker's ticker: refresh the date text and write pending lines."""
        self.clock.refresh(wall)
        self.writer.flush()

    def close(self) -> None:
        self.writer.close()


class LogClock:
    """The ``%(t)s`` text, formatted once per second instead of once per line."""

    __slots__ = ("second", "text")

    def __init__(self) -> None:
        self.second = -1
        self.text = ""
        self.refresh(time.time())

    def refresh(self, wall: float) -> None:
        second = int(wall)
        if second != self.second:
            self.second = second
            self.text = apache_date(second)


#: The text of every status code (0 for a response that never started).
STATUS_TEXT = tuple(str(code) for code in range(1000))
_SIZE_TEXT: dict[int, str] = {}
_SIZE_MEMO_LIMIT = 1024


def size_text(size: int) -> str:
    """``str(size)``, remembered for the first sizes seen (most sites send few distinct
    sizes often: error pages, redirects, API answers of fixed shape)."""
    text = str(size)
    if len(_SIZE_TEXT) < _SIZE_MEMO_LIMIT:
        _SIZE_TEXT[size] = text
    return text


def response_headers(exchange: Any) -> list[tuple[bytes, bytes]]:
    """The response's header pairs, recovered from their encoded form (for %({x})o)."""
    headers = exchange.response_headers
    if headers is None:
        return []
    pairs = []
    for line in headers.data.split(b"\r\n"):
        name, sep, value = line.partition(b": ")
        if sep:
            pairs.append((name, value))
    return pairs
