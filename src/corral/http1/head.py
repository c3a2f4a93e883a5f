"""Response heads for HTTP/1.1: status lines and the Date cache."""

from __future__ import annotations

from http import HTTPStatus

from corral.dates import http_date
from corral.gateway.response import InvalidResponse

STATUS_LINES: dict[int, bytes] = {}


def status_line(status: int) -> bytes:
    """``HTTP/1.1 200 OK\\r\\n`` for a status code, cached."""
    line = STATUS_LINES.get(status)
    if line is None:
        if not 100 <= status <= 999:
            raise InvalidResponse(f"invalid status code {status!r}")
        try:
            reason = HTTPStatus(status).phrase
        except ValueError:
            reason = ""
        line = f"HTTP/1.1 {status} {reason}\r\n".encode("ascii")
        if len(STATUS_LINES) < 1000:
            STATUS_LINES[status] = line
    return line


class DateHeader:
    """The ``date`` and ``server`` header lines, formatted at most once a second
    (RFC 9110 §6.6.1). ``lines`` are both; ``tail`` ends a head with them."""

    __slots__ = ("enabled", "lines", "second", "server_line", "tail")

    def __init__(self, now: float, server_line: bytes = b"") -> None:
        self.second = -1
        self.server_line = server_line
        self.enabled = True
        self.lines = self.tail = b""
        self.refresh(now)

    def refresh(self, now: float) -> None:
        """Re-format the header when the wall-clock second has changed."""
        second = int(now)
        if second != self.second and self.enabled:
            self.second = second
            date = b"date: " + http_date(second).encode("ascii") + b"\r\n"
            self._set(date)

    def disable(self) -> None:
        """No Date header (--no-date-header)."""
        self.enabled = False
        self._set(b"")

    def _set(self, date: bytes) -> None:
        self.lines = date + self.server_line
        self.tail = self.lines + b"\r\n"


def error_response(status: int, extra_lines: bytes) -> bytes:
    """A complete, small error response that closes the connection.

    The body is the status and its reason only: nothing about the server, the
    request or the error that an attacker could learn from.
    """
    reason = (REASONS.get(status) or "Error").encode()
    body = b"%d %b\n" % (status, reason)
    return (
        b"HTTP/1.1 %d %b\r\ncontent-type: text/plain; charset=utf-8\r\n"
        b"content-length: %d\r\nconnection: close\r\n%b\r\n%b"
        % (status, reason, len(body), extra_lines, body)
    )


REASONS = {
    400: "Bad Request",
    408: "Request Timeout",
    413: "Content Too Large",
    414: "URI Too Long",
    431: "Request Header Fields Too Large",
    500: "Internal Server Error",
    501: "Not Implemented",
    503: "Service Unavailable",
    504: "Gateway Timeout",
    505: "HTTP Version Not Supported",
}
