"""Access log formatting and batching, and the error log set-up.

Formatting cost is measured by ``PYTHONPATH=src python bench/accesslog_fmt.py``
(a benchmark, not a timed test): about 3 us per line for a browser-like request
through DEFAULT_FORMAT, under 5 us with four more atoms.
"""

from __future__ import annotations

import base64
import calendar
import io
import logging
import logging.config
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from corral.errors import ConfigError
from corral.observe import logsetup
from corral.observe.accesslog import (
    DEFAULT_FORMAT,
    ENTRY_FIELDS,
    AccessEntry,
    AccessLogWriter,
    compile_format,
    escape,
)
from corral.worker.access import STATUS_TEXT, size_text

# 2000-10-10 13:55:36 at -0700, Apache's documentation example.
APACHE_EXAMPLE = calendar.timegm((2000, 10, 10, 20, 55, 36, 0, 0, 0))


def entry(**changes: Any) -> AccessEntry:
    values: dict[str, Any] = {
        "remote_addr": "192.0.2.7",
        "method": "GET",
        "target": "/items/1?color=red&size=2",
        "http_version": "1.1",
        "status": 200,
        "response_bytes": 512,
        "request_headers": [
            (b"Host", b"example.com"),
            (b"User-Agent", b"curl/8.5.0"),
            (b"Referer", b"https://example.com/start"),
            (b"X-Request-ID", b"abc-123"),
        ],
        "response_headers": [(b"Content-Type", b"text/plain"), (b"ETag", b'"v1"')],
        "start_time": APACHE_EXAMPLE + 0.75,
        "duration": 1.234567,
        "pid": 4242,
        "environ": {"DEPLOY": "blue"},
    }
    values.update(changes)
    return AccessEntry(**values)


def fmt(format_string: str, e: AccessEntry | None = None, offset: int | None = 0) -> str:
    return compile_format(format_string, utc_offset_seconds=offset)(e or entry())


# --- atoms ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("atom", "expected"),
    [
        ("h", "192.0.2.7"),
        ("l", "-"),
        ("u", "-"),
        ("t", "[10/Oct/2000:13:55:36 -0700]"),
        ("r", "GET /items/1?color=red&size=2 HTTP/1.1"),
        ("m", "GET"),
        ("U", "/items/1"),
        ("q", "color=red&size=2"),
        ("H", "HTTP/1.1"),
        ("s", "200"),
        ("B", "512"),
        ("b", "512"),
        ("f", "https://example.com/start"),
        ("a", "curl/8.5.0"),
        ("T", "1"),
        ("D", "1234567"),
        ("M", "1234"),
        ("L", "1.234567"),
        ("p", "<4242>"),
        ("{x-request-id}i", "abc-123"),
        ("{content-type}o", "text/plain"),
        ("{DEPLOY}e", "blue"),
    ],
)
def test_each_atom(atom: str, expected: str) -> None:
    assert fmt(f"%({atom})s", offset=-7 * 3600) == expected


def test_default_format_is_combined_plus_microseconds() -> None:
    line = fmt(DEFAULT_FORMAT, offset=-7 * 3600)
    assert line == (
        '192.0.2.7 - - [10/Oct/2000:13:55:36 -0700] "GET /items/1?color=red&size=2 HTTP/1.1" '
        '200 512 "https://example.com/start" "curl/8.5.0" 1234567'
    )


def test_empty_body_and_missing_values() -> None:
    e = entry(response_bytes=0, target="/", request_headers=[], environ=None)
    assert fmt("%(B)s %(b)s", e) == "0 -"
    assert fmt("[%(q)s] %(U)s", e) == "[] /"
    assert fmt("%(f)s %(a)s %(u)s %({x-request-id}i)s %({etag}i)s", e) == "- - - - -"
    assert fmt("%({DEPLOY}e)s", e) == "-"
    assert fmt("%({MISSING}e)s") == "-"
    assert fmt("%({x-missing}o)s") == "-"


def test_durations_round_and_truncate_consistently() -> None:
    e = entry(duration=0.001234)  # 1234.0000000000002 us as a float product
    assert fmt("%(T)s %(M)s %(D)s %(L)s", e) == "0 1 1234 0.001234"
    e = entry(duration=61.9999996)
    assert fmt("%(T)s %(M)s %(D)s %(L)s", e) == "62 62000 62000000 62.000000"


def test_other_http_versions() -> None:
    e = entry(http_version="1.0", method="HEAD", target="/")
    assert fmt('"%(r)s" %(H)s %(m)s', e) == '"HEAD / HTTP/1.0" HTTP/1.0 HEAD'


def test_header_lookup_is_case_insensitive() -> None:
    e = entry(
        request_headers=[(b"x-REQUEST-id", b"r1"), (b"USER-AGENT", b"ua"), (b"rEFERER", b"ref")],
        response_headers=[(b"cOnTeNt-TyPe", b"text/html")],
    )
    assert fmt("%({X-Request-ID}i)s %({x-request-id}i)s %(a)s %(f)s", e) == "r1 r1 ua ref"
    assert fmt("%({Content-Type}o)s %({CONTENT-TYPE}o)s", e) == "text/html text/html"


def test_request_and_response_headers_are_not_mixed_up() -> None:
    e = entry(request_headers=[(b"X-Id", b"req")], response_headers=[(b"X-Id", b"resp")])
    assert fmt("%({x-id}i)s %({x-id}o)s", e) == "req resp"


def test_repeated_header_values_are_joined() -> None:
    e = entry(
        request_headers=[(b"X-Forwarded-For", b"10.0.0.1"), (b"x-forwarded-for", b"10.0.0.2")]
    )
    assert fmt("%({x-forwarded-for}i)s", e) == "10.0.0.1, 10.0.0.2"


def test_unknown_atoms_give_dash() -> None:
    assert fmt("%(zz)s|%(Z)s|%({x}z)s|%({x}i)s|%()s") == "-|-|-|-|-"


def test_format_features_of_percent_formatting() -> None:
    assert fmt("100%% %(s)d %(s)5s|%(m)-5s|") == "100% 200   200|GET  |"
    assert fmt("no atoms at all") == "no atoms at all"
    assert fmt("%(s)s %(s)s") == "200 200"


@pytest.mark.parametrize("bad", ["%(h", "%(h)", "%d", "%(b)d", "50% off %(h)s"])
def test_invalid_format_is_rejected_when_compiled(bad: str) -> None:
    with pytest.raises(ValueError, match="invalid access log format"):
        compile_format(bad)


# --- Basic auth user --------------------------------------------------------


def basic(credentials: bytes, scheme: bytes = b"Basic") -> AccessEntry:
    value = scheme + b" " + base64.b64encode(credentials)
    return entry(request_headers=[(b"Authorization", value)])


def test_basic_auth_user() -> None:
    assert fmt("%(u)s", basic(b"alice:s3cret")) == "alice"
    assert fmt("%(u)s", basic(b"bob:pa:ss:word")) == "bob"
    assert fmt("%(u)s", basic(b"carol:x", scheme=b"basic")) == "carol"
    e = entry(request_headers=[(b"AUTHORIZATION", b"Basic " + base64.b64encode(b"dan:x"))])
    assert fmt("%(u)s", e) == "dan"


def test_basic_auth_user_is_escaped() -> None:
    assert fmt("%(u)s", basic(b'ev"il\nuser:x')) == 'ev\\"il\\x0auser'
    assert fmt("%(u)s", basic("jos\u00e9:x".encode())) == "jos\\xc3\\xa9"


@pytest.mark.parametrize(
    "value",
    [b"Bearer abc.def", b"Basic !!!notbase64", b"Basic " + base64.b64encode(b":nouser"), b"Basic"],
)
def test_no_user_for_other_or_broken_credentials(value: bytes) -> None:
    assert fmt("%(u)s", entry(request_headers=[(b"Authorization", value)])) == "-"


# --- the date ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("offset", "expected"),
    [
        (-7 * 3600, "[10/Oct/2000:13:55:36 -0700]"),
        (0, "[10/Oct/2000:20:55:36 +0000]"),
        (5 * 3600 + 1800, "[11/Oct/2000:02:25:36 +0530]"),
        (-(9 * 3600 + 1800), "[10/Oct/2000:11:25:36 -0930]"),
    ],
)
def test_date_with_fixed_offset(offset: int, expected: str) -> None:
    assert fmt("%(t)s", offset=offset) == expected


def test_date_months_are_english_and_zero_padded() -> None:
    start = calendar.timegm((2026, 3, 5, 4, 3, 2, 0, 0, 0))
    assert fmt("%(t)s", entry(start_time=start)) == "[05/Mar/2026:04:03:02 +0000]"


def test_date_cache_follows_the_second() -> None:
    formatter = compile_format("%(t)s", utc_offset_seconds=0)
    first = formatter(entry(start_time=APACHE_EXAMPLE + 0.1))
    assert formatter(entry(start_time=APACHE_EXAMPLE + 0.9)) == first
    assert formatter(entry(start_time=APACHE_EXAMPLE + 1.0)) == "[10/Oct/2000:20:55:37 +0000]"
    assert formatter(entry(start_time=APACHE_EXAMPLE - 60)) == "[10/Oct/2000:20:54:36 +0000]"


def test_date_defaults_to_the_local_zone() -> None:
    local = time.localtime(APACHE_EXAMPLE)
    offset = local.tm_gmtoff
    sign = "-" if offset < 0 else "+"
    zone = f"{sign}{abs(offset) // 3600:02d}{abs(offset) // 60 % 60:02d}"
    assert fmt("%(t)s", offset=None).endswith(f":{local.tm_min:02d}:{local.tm_sec:02d} {zone}]")
    assert fmt("%(t)s", offset=None).startswith(f"[{local.tm_mday:02d}/")


# --- escaping ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "escaped"),
    [
        ("/plain/path?a=1&b=~", "/plain/path?a=1&b=~"),
        ('/q"uote', '/q\\"uote'),
        ("/back\\slash", "/back\\\\slash"),
        ("/nul\x00tab\tnl\ncr\resc\x1bdel\x7f", "/nul\\x00tab\\x09nl\\x0acr\\x0desc\\x1bdel\\x7f"),
        ("/latin1-\xe9\xff", "/latin1-\\xe9\\xff"),
        ("/snow\u2603", "/snow\\xe2\\x98\\x83"),
        ("/space ok", "/space ok"),
    ],
)
def test_escape(raw: str, escaped: str) -> None:
    assert escape(raw) == escaped


def test_client_values_are_escaped_in_every_atom() -> None:
    nasty = b'x"\n1.2.3.4 - - [01/Jan/2000:00:00:00 +0000] "GET /forged HTTP/1.1" 200 0\\'
    e = entry(
        method="GE\x01T",
        target='/p"a\nth?q="\x00',
        request_headers=[(b"User-Agent", nasty), (b"Referer", nasty), (b"X-A", nasty)],
        response_headers=[(b"X-B", b"a\x7fb")],
        environ={"E": "v\nw"},
        remote_addr="1.2.3.4\n",
    )
    line = fmt('%(h)s "%(r)s" %(m)s %(U)s %(q)s "%(f)s" "%(a)s" %({x-a}i)s %({x-b}o)s %({E}e)s', e)
    assert "\n" not in line and "\x00" not in line and "\x01" not in line and "\x7f" not in line
    # The only bare quotes left are the six the format itself writes.
    assert len(re.findall(r'(?<!\\)"', line.replace("\\\\", ""))) == 6
    assert '\\"GET /forged HTTP/1.1\\"' in line
    assert "%(r)s" not in line and '"GE\\x01T /p\\"a\\x0ath?q=\\"\\x00 HTTP/1.1"' in line
    assert line.startswith("1.2.3.4\\x0a ")
    assert "a\\x7fb v\\x0aw" in line


# --- the writer -------------------------------------------------------------


class CountingStream(io.StringIO):
    """A text stream that counts write and flush calls."""

    def __init__(self) -> None:
        super().__init__()
        self.writes = 0
        self.flushes = 0

    def write(self, s: str) -> int:
        self.writes += 1
        return super().write(s)

    def flush(self) -> None:
        self.flushes += 1
        super().flush()


def test_writer_batches_until_flush() -> None:
    stream = CountingStream()
    writer = AccessLogWriter(stream)
    for i in range(10):
        writer.write(f"line {i}")
    assert stream.getvalue() == "" and writer.pending == 10
    writer.flush()
    assert stream.getvalue() == "".join(f"line {i}\n" for i in range(10))
    assert (stream.writes, stream.flushes, writer.pending) == (1, 1, 0)
    writer.flush()  # nothing queued: no write at all
    assert stream.writes == 1


def test_writer_flushes_itself_at_max_lines() -> None:
    stream = CountingStream()
    writer = AccessLogWriter(stream, max_lines=3)
    writer.write("a")
    writer.write("b")
    assert stream.writes == 0
    writer.write("c")
    assert stream.getvalue() == "a\nb\nc\n" and writer.pending == 0
    writer.write("d")
    assert stream.writes == 1 and writer.pending == 1


def test_writer_with_a_formatter_formats_its_rows_when_it_writes() -> None:
    stream = CountingStream()
    formatted = compile_format(DEFAULT_FORMAT, fields={**ENTRY_FIELDS, "date_text": "'[d]'"})
    writer = AccessLogWriter(stream, max_lines=3, formatter=formatted)
    rows = [entry(status=status) for status in (200, 404, 503, 204)]
    for row in rows:
        writer.write(row)
    lines = [formatted(row) for row in rows]
    assert stream.getvalue() == "".join(line + "\n" for line in lines[:3])
    assert writer.queue == rows[3:] and stream.writes == 1
    writer.flush()
    assert writer.queue == [] and stream.getvalue().endswith(lines[3] + "\n")


def test_a_row_that_cannot_be_formatted_costs_only_its_own_line(
    caplog: pytest.LogCaptureFixture,
) -> None:
    stream = CountingStream()
    writer = AccessLogWriter(stream, formatter=lambda row: f"ok {1 // row}")
    for row in (1, 0, 1):
        writer.write(row)
    with caplog.at_level(logging.ERROR, logger="corral.error"):
        writer.flush()
    lines = stream.getvalue().splitlines()
    assert lines[0] == lines[2] == "ok 1" and "could not be formatted" in lines[1]
    assert "could not be formatted" in caplog.text


def test_status_and_size_text_stand_in_only_for_plain_conversions() -> None:
    fields = {**ENTRY_FIELDS, "status_text": "'S'", "bytes_text": "'B'"}
    assert compile_format("%(s)s %(b)s %(B)s", fields=fields)(entry()) == "S B 512"
    # %(s)d needs the int: the text lookups are not used for such a format.
    assert compile_format("%(s)d %(b)s", fields=fields)(entry()) == "200 512"


def test_worker_status_table_and_size_memo() -> None:
    assert STATUS_TEXT[0] == "0" and STATUS_TEXT[200] == "200" and len(STATUS_TEXT) == 1000
    assert [size_text(n) for n in (13, 13, 10**12)] == ["13", "13", "1000000000000"]


def test_writer_default_thresholds() -> None:
    stream = CountingStream()
    writer = AccessLogWriter(stream)
    for _ in range(255):
        writer.write("x")
    assert stream.writes == 0
    writer.write("x")
    assert stream.writes == 1
    big = "y" * 1000
    for _ in range(65):
        writer.write(big)
    assert stream.writes == 1  # 65 * 1001 characters: still under 64 KiB
    writer.write(big)
    assert stream.writes == 2 and writer.pending == 0


def test_writer_flushes_itself_at_max_chars() -> None:
    stream = CountingStream()
    writer = AccessLogWriter(stream, max_chars=20)
    writer.write("123456789")  # 10 with its newline
    assert stream.writes == 0
    writer.write("123456789")
    assert stream.writes == 1 and writer.pending == 0
    writer.write("z")
    assert writer.pending == 1


def test_writer_encodes_for_binary_streams() -> None:
    stream = io.BytesIO()
    writer = AccessLogWriter(stream)
    writer.write("caf\u00e9 \\x00")
    writer.write("second")
    writer.flush()
    assert stream.getvalue() == "caf\u00e9 \\x00\nsecond\n".encode()


class BrokenStream(io.StringIO):
    def __init__(self) -> None:
        super().__init__()
        self.broken = True

    def write(self, s: str) -> int:
        if self.broken:
            raise OSError(28, "No space left on device")
        return super().write(s)


def test_write_errors_drop_the_batch_and_are_logged_once(caplog: pytest.LogCaptureFixture) -> None:
    stream = BrokenStream()
    writer = AccessLogWriter(stream)
    with caplog.at_level(logging.ERROR, logger="corral.error"):
        for _ in range(3):
            writer.write("lost")
            writer.flush()
        assert writer.pending == 0
        assert len([r for r in caplog.records if "access log write failed" in r.message]) == 1
        stream.broken = False
        writer.write("kept")
        writer.flush()
    assert stream.getvalue() == "kept\n"


def test_writer_on_stdout_uses_its_binary_buffer(monkeypatch: pytest.MonkeyPatch) -> None:
    raw = io.BytesIO()
    fake_stdout = io.TextIOWrapper(raw, encoding="ascii")
    monkeypatch.setattr(sys, "stdout", fake_stdout)
    writer = AccessLogWriter.open("-")
    writer.write("to stdout \u00e9")
    writer.flush()
    assert raw.getvalue() == "to stdout \u00e9\n".encode()
    writer.close()
    assert not raw.closed  # stdout is not ours to close


def test_writer_appends_to_a_file_and_reopens(tmp_path: Path) -> None:
    path = tmp_path / "access.log"
    path.write_text("old line\n")
    writer = AccessLogWriter.open(str(path))
    writer.write("one")
    writer.flush()
    assert path.read_text() == "old line\none\n"

    rotated = tmp_path / "access.log.1"
    path.rename(rotated)
    writer.write("two")  # still queued when the rotation signal comes
    before = writer.stream
    writer.reopen()
    assert before.closed  # the rotated file's descriptor is released
    writer.write("three")
    writer.close()
    assert rotated.read_text() == "old line\none\ntwo\n"
    assert path.read_text() == "three\n"
    assert writer.stream.closed


def test_reopen_failure_keeps_the_old_file(tmp_path: Path) -> None:
    path = tmp_path / "logs" / "access.log"
    path.parent.mkdir()
    writer = AccessLogWriter.open(str(path))
    path.parent.rename(tmp_path / "gone")  # the directory disappears
    writer.reopen()
    writer.write("still written")
    writer.close()
    assert (tmp_path / "gone" / "access.log").read_text() == "still written\n"


def test_opening_an_unwritable_access_log_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot open access log"):
        AccessLogWriter.open(str(tmp_path / "missing-dir" / "access.log"))


# --- error log set-up -------------------------------------------------------

LINE_RE = re.compile(r"\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d [+-]\d{4}\] \[(\d+)\] \[([A-Z]+)\] (.*)")


@pytest.fixture
def clean_logging() -> Iterator[None]:
    """Undo what configure_logging does to the root and corral.error loggers."""
    root = logging.getLogger()
    error = logging.getLogger(logsetup.ERROR_LOGGER)
    saved_root_level = root.level
    saved_error = (error.handlers[:], error.level, error.propagate, error.disabled)
    yield
    for logger in (root, error):
        for handler in [h for h in logger.handlers if type(h).__module__ == logsetup.__name__]:
            logger.removeHandler(handler)
            handler.close()
    root.setLevel(saved_root_level)
    error.handlers[:], error.level, error.propagate, error.disabled = saved_error


def bare_root() -> None:
    """Take pytest's capture handlers off the root logger, as in a fresh process.

    pytest adds them for each test phase and removes them afterwards (a no-op once gone).
    """
    logging.getLogger().handlers.clear()


def read_lines(path: Path) -> list[tuple[str, str]]:
    """(LEVEL, message) for each line, checking the line layout on the way."""
    result = []
    for line in path.read_text().splitlines():
        match = LINE_RE.fullmatch(line)
        assert match, line
        assert int(match.group(1)) > 0
        result.append((match.group(2), match.group(3)))
    return result


@pytest.mark.usefixtures("clean_logging")
def test_error_log_level_filtering_and_format(tmp_path: Path) -> None:
    bare_root()
    path = tmp_path / "error.log"
    logsetup.configure_logging(str(path), "WARNING")
    server, app = logging.getLogger("corral.error"), logging.getLogger("myapp.views")
    server.info("hidden")
    server.warning("Listening at: http://127.0.0.1:%d", 8000)
    app.info("app hidden")
    app.error("app shown")
    server.critical("down")
    assert read_lines(path) == [
        ("WARNING", "Listening at: http://127.0.0.1:8000"),
        ("ERROR", "app shown"),
        ("CRITICAL", "down"),
    ]
    assert f"[{os.getpid()}]" in path.read_text()


@pytest.mark.usefixtures("clean_logging")
@pytest.mark.parametrize("name", ["debug", "DEBUG", "Debug", " debug "])
def test_level_names_are_case_insensitive(tmp_path: Path, name: str) -> None:
    path = tmp_path / "error.log"
    logsetup.configure_logging(str(path), name)
    logging.getLogger("corral.error").debug("details")
    assert read_lines(path) == [("DEBUG", "details")]


@pytest.mark.usefixtures("clean_logging")
def test_unknown_level_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="unknown log level 'verbose'") as info:
        logsetup.configure_logging(str(tmp_path / "e.log"), "verbose")
    assert info.value.exit_code == 2
    assert not (tmp_path / "e.log").exists()


@pytest.mark.usefixtures("clean_logging")
def test_unwritable_error_log_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot open error log"):
        logsetup.configure_logging(str(tmp_path / "no" / "e.log"), "info")


@pytest.mark.usefixtures("clean_logging")
def test_dash_means_stderr(capsys: pytest.CaptureFixture[str]) -> None:
    logsetup.configure_logging("-", "info")
    logging.getLogger("corral.error").info("Booting worker")
    err = capsys.readouterr().err
    assert LINE_RE.fullmatch(err.strip()) and err.rstrip().endswith("[INFO] Booting worker")


@pytest.mark.usefixtures("clean_logging")
def test_configuring_twice_does_not_duplicate_lines(tmp_path: Path) -> None:
    bare_root()
    first, second = tmp_path / "a.log", tmp_path / "b.log"
    logsetup.configure_logging(str(first), "info")
    logsetup.configure_logging(str(second), "info")
    logging.getLogger("corral.error").info("server")
    logging.getLogger("app").info("app")
    assert read_lines(first) == []
    assert read_lines(second) == [("INFO", "server"), ("INFO", "app")]


@pytest.mark.usefixtures("clean_logging")
def test_root_configured_by_someone_else_is_left_alone(tmp_path: Path) -> None:
    bare_root()
    theirs = io.StringIO()
    their_handler = logging.StreamHandler(theirs)
    logging.getLogger().addHandler(their_handler)
    path = tmp_path / "e.log"
    try:
        logsetup.configure_logging(str(path), "info")
        logging.getLogger("corral.error").info("server")
        assert logging.getLogger().handlers == [their_handler]
    finally:
        logging.getLogger().removeHandler(their_handler)
    assert read_lines(path) == [("INFO", "server")]
    assert theirs.getvalue() == ""  # corral.error does not propagate


def test_error_logger_survives_an_app_dictconfig(tmp_path: Path) -> None:
    # In a subprocess: dictConfig disables and closes loggers process-wide.
    path = tmp_path / "e.log"
    script = f"""
import logging, logging.config
from corral.observe import logsetup
logsetup.configure_logging({str(path)!r}, "info")
logging.config.dictConfig({{"version": 1, "disable_existing_loggers": True}})
logging.getLogger("corral.error").info("silenced")
logsetup.keep_error_logger_enabled()
logging.getLogger("corral.error").info("still here")
"""
    src = Path(logsetup.__file__).resolve().parents[2]
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(src), os.environ.get("PYTHONPATH", "")]),
    }
    subprocess.run([sys.executable, "-c", script], env=env, check=True, timeout=30)
    assert read_lines(path) == [("INFO", "still here")]


@pytest.mark.usefixtures("clean_logging")
def test_reopen_error_log_after_rotation(tmp_path: Path) -> None:
    path = tmp_path / "e.log"
    logsetup.configure_logging(str(path), "info")
    log = logging.getLogger("corral.error")
    log.info("before")
    path.rename(tmp_path / "e.log.1")
    logsetup.reopen_error_log()
    log.info("after")
    assert read_lines(tmp_path / "e.log.1") == [("INFO", "before")]
    assert read_lines(path) == [("INFO", "after")]
