"""Dates as HTTP and access logs write them: English names, whatever the locale (pure)."""

from __future__ import annotations

import time

DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def http_date(second: int) -> str:
    """The IMF-fixdate of an epoch second (RFC 9110 §5.6.7): ``Sun, 06 Nov 1994 08:49:37 GMT``.

    Not email.utils.formatdate: the email package costs every worker about 1.5 MiB of
    private memory.
    """
    t = time.gmtime(second)
    return (
        f"{DAYS[t.tm_wday]}, {t.tm_mday:02d} {MONTHS[t.tm_mon - 1]} {t.tm_year:04d} "
        f"{t.tm_hour:02d}:{t.tm_min:02d}:{t.tm_sec:02d} GMT"
    )
