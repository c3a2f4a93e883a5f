"""glibc malloc tuning for a worker: keep freed heap memory for the next request.

Request and response bodies above a few kilobytes are allocated by glibc, not by
Python's small-object allocator. By default glibc hands freed memory at the top
of the heap back to the kernel as soon as 128 KiB are free, so a server that
receives a 100 KB body per request shrinks and regrows its heap every time: a
brk() call each way and a page fault for every fresh page. Measured with the
benchmark's 100 KB POST echo (WSGI, one worker): 5,300 -> 10,800 requests/s.

The worker keeps up to TRIM_THRESHOLD of free heap instead and grows it with some
slack (TOP_PAD). Users who set glibc's own MALLOC_TRIM_THRESHOLD_ or
MALLOC_TOP_PAD_ variables keep their values.
"""

from __future__ import annotations

import ctypes
import os
import sys

M_TRIM_THRESHOLD = -1  # mallopt parameters, from glibc's malloc.h
M_TOP_PAD = -2
TRIM_THRESHOLD = 16 * 1024 * 1024
TOP_PAD = 1024 * 1024


def tune_malloc() -> bool:
    """Apply the tuning when running on glibc; True when it was applied."""
    if sys.platform != "linux" or not _on_glibc():
        return False
    try:
        libc = ctypes.CDLL(None)
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    applied = False
    if "MALLOC_TRIM_THRESHOLD_" not in os.environ:
        applied = bool(mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD)) or applied
    if "MALLOC_TOP_PAD_" not in os.environ:
        applied = bool(mallopt(M_TOP_PAD, TOP_PAD)) or applied
    return applied


def _on_glibc() -> bool:
    # confstr asks the C library itself; platform.libc_ver() would import platform
    # and read through the interpreter's executable to guess.
    try:
        return (os.confstr("CS_GNU_LIBC_VERSION") or "").startswith("glibc")
    except (ValueError, OSError):
        return False
