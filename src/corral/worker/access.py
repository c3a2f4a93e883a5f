"""Access logging for the worker: one entry per response, formatted and written in batches."""

from __future__ import annotations

import os
import time
from typing import Any

from corral.observe.accesslog import AccessEntry, AccessLogWriter, compile_format


class AccessLog:
    """Turns finished exchanges into log lines (only built when logging is on)."""

    def __init__(self, fmt: str, path: str) -> None:
        self.format = compile_format(fmt)
        self.wants_response_headers = "}o" in fmt
        self.writer = AccessLogWriter.open(path)
        self.pid = os.getpid()

    def log(self, exchange: Any) -> None:
        """Called by the connection when a response is complete (or broke off)."""
        duration = exchange.conn.loop.time() - exchange.start_time
        target = exchange.path + b"?" + exchange.query if exchange.query else exchange.path
        client = exchange.client
        entry = AccessEntry(
            client[0] if client else "-",
            exchange.method,
            target.decode("latin-1"),
            exchange.http_version,
            exchange.status,
            exchange.bytes_sent,
            exchange.headers,
            self._response_headers(exchange) if self.wants_response_headers else [],
            time.time() - duration,
            duration,
            self.pid,
        )
        self.writer.write(self.format(entry))

    @staticmethod
    def _response_headers(exchange: Any) -> list[tuple[bytes, bytes]]:
        headers = exchange.response_headers
        if headers is None:
            return []
        pairs = []
        for line in headers.data.split(b"\r\n"):
            name, sep, value = line.partition(b": ")
            if sep:
                pairs.append((name, value))
        return pairs

    def flush(self) -> None:
        self.writer.flush()

    def close(self) -> None:
        self.writer.close()
