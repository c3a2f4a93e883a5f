"""The access log as a running server writes it: default format, custom atoms, off switch."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest

DEFAULT_LINE = re.compile(
    r"^127\.0\.0\.1 - - \[\d\d/\w{3}/\d{4}:\d\d:\d\d:\d\d [+-]\d{4}\] "
    r'"GET /hello\?x=1 HTTP/1\.1" 200 \d+ "https://ref\.example/" "probe/1\.0" \d+ms$'
)


def wait_lines(path: Path, count: int, server) -> list[str]:
    for _ in range(200):
        if path.exists():
            lines = path.read_text().splitlines()
            if len(lines) >= count:
                return lines
        httpx.get(server.url + "/flush-probe")  # lines reach the file within ~0.1 s
    raise AssertionError(f"access log {path} has fewer than {count} lines")


@pytest.mark.parametrize("app", ["wsgi_apps:hello", "asgi_apps:hello"])
def test_default_format_is_combined_plus_duration(start_server, tmp_path: Path, app: str):
    log = tmp_path / "access.log"
    server = start_server(app, "--access-logfile", str(log))
    httpx.get(
        server.url + "/hello?x=1",
        headers={"Referer": "https://ref.example/", "User-Agent": "probe/1.0"},
    )
    first = wait_lines(log, 1, server)[0]
    assert DEFAULT_LINE.match(first), first


def test_custom_atoms_and_client_values_are_escaped(start_server, tmp_path: Path):
    log = tmp_path / "access.log"
    fmt = "%(m)s %(U)s %(q)s %(s)s %(B)s %({x-trace}i)s %({content-type}o)s %(p)s"
    server = start_server(
        "wsgi_apps:hello", "--access-logfile", str(log), "--access-logformat", fmt
    )
    httpx.get(server.url + "/a?b=c", headers={"X-Trace": 'abc"\\def'})
    first = wait_lines(log, 1, server)[0]
    # %(p)s is the worker's pid (a child of the master), as in gunicorn.
    worker_pid = re.search(r"Worker (\d+) serving", server.output).group(1)
    assert first == f'GET /a b=c 200 5 abc\\"\\\\def text/plain <{worker_pid}>', first


def test_no_access_log_writes_nothing(start_server, tmp_path: Path):
    log = tmp_path / "access.log"
    server = start_server("wsgi_apps:hello", "--access-logfile", str(log), "--no-access-log")
    for _ in range(3):
        assert httpx.get(server.url + "/").status_code == 200
    server.stop()
    assert not log.exists() or log.read_text() == ""


def test_duration_has_microsecond_resolution(start_server, tmp_path: Path):
    # uvloop's loop.time() counts whole milliseconds: a duration measured with it is a
    # multiple of 1,000 us. The log must measure with a finer clock.
    log = tmp_path / "access.log"
    server = start_server(
        "wsgi_apps:path_app", "--access-logfile", str(log), "--access-logformat", "%(U)s %(D)s"
    )
    for _ in range(5):
        assert httpx.get(server.url + "/timed?sleep=0.0025").status_code == 200
    lines = [line for line in wait_lines(log, 5, server) if line.startswith("/timed ")]
    micros = [int(line.split()[1]) for line in lines]
    assert len(micros) == 5, lines
    assert all(2_500 <= value < 2_000_000 for value in micros), micros
    assert any(value % 1000 for value in micros), micros
