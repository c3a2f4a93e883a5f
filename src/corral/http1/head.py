"""Response heads for HTTP/1.1: status lines and the Date cache."""

from __future__ import annotations

from email.utils import formatdate
from http import HTTPStatus

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
    """The ``date`` header line, formatted at most once a second (RFC 9110 §6.6.1)."""

    __slots__ = ("line", "second")

    def __init__(self, now: float) -> None:
        self.second = -1
        self.line = b""
        self.refresh(now)

    def refresh(self, now: float) -> None:
        """Re-format the header when the wall-clock second has changed."""
        second = int(now)
        if second != self.second:
            self.second = second
            self.line = b"date: " + formatdate(second, usegmt=True).encode("ascii") + b"\r\n"
