"""Access logging for the worker: one line per response, written in batches.

The line is formatted straight from the exchange (no intermediate entry
object): the format is compiled once into a function that reads the
exchange's own fields.
"""

from __future__ import annotations

import os
import time
from typing import Any

from corral.observe.accesslog import AccessLogWriter, apache_date, compile_format

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
    "start_time": "(_wall() - e.duration)",
    # gunicorn logs the time the line is written; the worker's ticker keeps it formatted.
    "date_text": "_CLOCK.text",
    "duration": "e.duration",
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
        self.format = compile_format(fmt, fields=EXCHANGE_FIELDS)
        # The compiled code looks these names up in its own namespace.
        namespace = self.format.__globals__
        self.clock = LogClock()
        namespace.update(
            _response_headers=response_headers,
            _wall=time.time,
            _PID=os.getpid(),
            _ENVIRON=os.environ,
            _CLOCK=self.clock,
        )
        self.writer = AccessLogWriter.open(path)

    def log(self, exchange: Any) -> None:
        """Called by the connection when a response is complete (or broke off)."""
        exchange.duration = exchange.conn.loop.time() - exchange.start_time
        self.writer.write(self.format(exchange))

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
