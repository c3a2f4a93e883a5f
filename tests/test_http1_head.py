"""The Date header (corral.dates, corral.http1.head) and what the worker imports."""

from __future__ import annotations

import email.utils
import subprocess
import sys

import pytest

from corral.dates import http_date
from corral.http1.head import DateHeader

# Leap day, year ends and starts, the epoch, a far date: every weekday and month name.
SECONDS = [0, 784111777, 951782400, 1_709_164_799, 1_735_689_599, 1_735_689_600, 4_102_444_800]
SECONDS += [1_700_000_000 + day * 86_400 * 31 + day * 3_607 for day in range(14)]


@pytest.mark.parametrize("second", SECONDS)
def test_http_date_is_the_imf_fixdate_of_rfc_9110(second: int) -> None:
    assert http_date(second) == email.utils.formatdate(second, usegmt=True)


def test_date_header_lines_change_with_the_second_only() -> None:
    date = DateHeader(784111777.2, b"server: corral\r\n")
    assert date.lines == b"date: Sun, 06 Nov 1994 08:49:37 GMT\r\nserver: corral\r\n"
    assert date.tail == date.lines + b"\r\n"
    date.refresh(784111777.9)
    assert date.lines.startswith(b"date: Sun, 06 Nov 1994 08:49:37 GMT")
    date.refresh(784111778.0)
    assert date.lines.startswith(b"date: Sun, 06 Nov 1994 08:49:38 GMT")
    date.disable()
    assert date.lines == b"server: corral\r\n"


def test_the_worker_code_does_not_import_email_or_tempfile() -> None:
    # Each costs every worker ~1-1.5 MiB of private memory (the idle-connections
    # benchmark counts it); tempfile is imported when a body first spills to disk.
    code = (
        "import sys, corral.worker.entry, corral.worker.server, corral.gateway.wsgi, "
        "corral.gateway.asgi; print(sorted(m for m in ('email', 'tempfile') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
