"""Deadlines of a busy connection, as pure logic over times passed in.

While a request is being answered three clocks may run at once: the app's
(--request-timeout), the client's body upload (--min-body-rate over windows of
--body-timeout) and the client's reading of the response (--write-timeout). The
connection asks ``next_deadline`` for the ticker and ``expired`` when it fires.
"""

from __future__ import annotations

import enum


class Expiry(enum.Enum):
    NONE = "none"
    WRITE_STALL = "write stall"  # the client read nothing for write_timeout
    BODY_TOO_SLOW = "body too slow"  # a body window brought less than the minimum
    REQUEST_TIMEOUT = "request timeout"  # the app took too long


class BusyTimers:
    """The clocks of one connection while it is busy; 0.0 means "not running"."""

    __slots__ = (
        "_mark",
        "_need",
        "body",
        "body_timeout",
        "min_body_rate",
        "request",
        "request_timeout",
        "write",
        "write_timeout",
    )

    def __init__(
        self,
        *,
        min_body_rate: int,
        body_timeout: float,
        write_timeout: float,
        request_timeout: float,
    ) -> None:
        self.min_body_rate = min_body_rate
        self.body_timeout = body_timeout
        self.write_timeout = write_timeout
        self.request_timeout = request_timeout
        self.request = self.body = self.write = 0.0
        self._mark = 0  # body bytes received when the current window began
        self._need = 0  # body bytes the current window must bring

    def start_request(self, now: float) -> None:
        """The app starts on a request."""
        self.request = now + self.request_timeout if self.request_timeout else 0.0

    def start_body_window(self, now: float, received: int, remaining: int | None) -> None:
        """corral reads a body (again): a window opens. ``remaining`` is what the body
        still lacks when its length is known, so a short body is not asked for more."""
        if not self.body_timeout:
            return
        need = int(self.min_body_rate * self.body_timeout)
        if remaining is not None:
            need = min(need, remaining)
        self._need = max(1, need)  # a window without a single byte always fails
        self._mark = received
        self.body = now + self.body_timeout

    def stop_body_window(self) -> None:
        """corral stopped reading (its own back-pressure) or the body is complete:
        that time is not the client's fault, so it does not count."""
        self.body = 0.0

    def write_blocked(self, now: float) -> None:
        """The transport's buffer is full: the client must read within write_timeout."""
        if self.write_timeout and not self.write:
            self.write = now + self.write_timeout

    def write_unblocked(self) -> None:
        self.write = 0.0

    def clear(self) -> None:
        """The connection leaves the busy state."""
        self.request = self.body = self.write = 0.0

    def next_deadline(self) -> float:
        """The earliest running clock, or 0.0."""
        deadline = 0.0
        for clock in (self.request, self.body, self.write):
            if clock and (not deadline or clock < deadline):
                deadline = clock
        return deadline

    def expired(self, now: float, received: int, remaining: int | None) -> Expiry:
        """What has run out at ``now``; a body window that brought enough opens the next."""
        if self.write and now >= self.write:
            return Expiry.WRITE_STALL
        if self.body and now >= self.body:
            if received - self._mark < self._need:
                return Expiry.BODY_TOO_SLOW
            self.start_body_window(now, received, remaining)
        if self.request and now >= self.request:
            self.request = 0.0
            return Expiry.REQUEST_TIMEOUT
        return Expiry.NONE
