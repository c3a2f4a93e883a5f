"""Access logging for the worker: one line per response, written in batches.

When a response ends, the worker only records a row: a tuple of the values its
line needs, taken from the exchange. The rows are formatted when the batch is
written (every 0.1 s or 256 lines), by a function compiled once from the format
that reads the row directly (see corral.observe.accesslog.ENTRY_FIELDS).
"""

from __future__ import annotations

import os
import time
from typing import Any

from corral.gateway.response import EncodedHeaders
from corral.http1.exchange import request_clock
from corral.observe.accesslog import AccessLogWriter, apache_date, compile_format

#: What a row holds, in order (see AccessLog.log, which builds it).
ROW = (
    "headers",
    "client",
    "method",
    "path",
    "query",
    "http_version",
    "status",
    "bytes_sent",
    "response_headers",
    "date_text",
    "duration",
)


def _slot(name: str) -> str:
    return f"e[{ROW.index(name)}]"


_TARGET = f"({_slot('path')} + b'?' + {_slot('query')} if {_slot('query')} else {_slot('path')})"
_CLIENT = f"({_slot('client')}[0] if {_slot('client')} else '-')"

# How the compiled format reads a row.
ROW_FIELDS = {
    "remote_addr": _CLIENT,
    "method": _slot("method"),
    "target": f"{_TARGET}.decode('latin-1')",
    "http_version": _slot("http_version"),
    "status": _slot("status"),
    "response_bytes": _slot("bytes_sent"),
    "request_headers": _slot("headers"),
    "response_headers": f"_response_headers({_slot('response_headers')})",
    # gunicorn logs the time the line is written; the worker's ticker keeps it formatted.
    "date_text": _slot("date_text"),
    "duration": _slot("duration"),
    # __trunc__ is the cheapest float-to-int on Python 3.11 (~370 instructions, round()
    # ~1,100).
    "micros": f"({_slot('duration')} * 1e6).__trunc__()",
    # Statuses are 0 or 100-599 (corral checks the app's), so a table lookup
    # replaces formatting an int; sizes come from a small memo.
    "status_text": f"_CODES[{_slot('status')}]",
    "bytes_text": (
        f"((_SIZES.get(_b) or _size_text(_b)) if (_b := {_slot('bytes_sent')}) else '-')"
    ),
    "pid": "_PID",
    "environ": "_ENVIRON",
    # Safe as they are: the address is one the socket, or a proxy header parsed as an
    # IP address, gave; the method is a token the parser accepted.
    "remote_addr_text": _CLIENT,
    "method_text": _slot("method"),
    # llhttp lets only printable ASCII into a target, so only a quote or a backslash
    # calls for escaping; the check runs on the bytes, before any decoding, with the
    # bytes as ints (34 '"', 92 '\\'): see corral.gateway.paths.PERCENT for why.
    "target_text": (
        f"(_t.decode('latin-1') if 34 not in (_t := {_TARGET}) and 92 not in _t "
        "else escape(_t.decode('latin-1')))"
    ),
    "headers_lowercase": "yes",  # the HTTP/1.1 driver lowercases names as it parses
}


class AccessLog:
    """Turns finished exchanges into log lines (only when logging is on)."""

    def __init__(self, fmt: str, path: str) -> None:
        self.clock = LogClock()
        self.format = compile_format(fmt, fields=ROW_FIELDS)
        # The compiled code looks these names up in its own namespace.
        self.format.__globals__.update(
            _response_headers=response_headers,
            _PID=os.getpid(),
            _ENVIRON=os.environ,
            _CODES=STATUS_TEXT,
            _SIZES=_SIZE_TEXT,
            _size_text=size_text,
        )
        self.writer = AccessLogWriter.open(path, formatter=self.format)
        self.log = self._row_recorder()

    def _row_recorder(self) -> Any:
        queue, flush, limit, log_clock = (
            self.writer.queue, self.writer.flush, self.writer.max_lines, self.clock
        )  # fmt: skip
        append = queue.append

        def log(e: Any) -> None:
            """Called by the connection when a response is complete (or broke off).

            Only values that stay as they are go into the row: the request's
            (parsed once), the response's final status and size, the time."""
            append((
                e.headers, e.client, e.method, e.path, e.query, e.http_version,
                e.status, e.bytes_sent, e.response_headers, log_clock.text,
                request_clock() - e.start_time,
            ))  # fmt: skip
            if len(queue) >= limit:
                flush()

        return log

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


def response_headers(headers: EncodedHeaders | None) -> list[tuple[bytes, bytes]]:
    """The response's header pairs, recovered from their encoded form (for %({x})o)."""
    if headers is None:
        return []
    pairs = []
    for line in headers.data.split(b"\r\n"):
        name, sep, value = line.partition(b": ")
        if sep:
            pairs.append((name, value))
    return pairs
