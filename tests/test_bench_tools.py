"""The benchmark harness's apps and tools work: bench/apps/*, bench/idle_conns.py and
bench/django_ceiling.py.

The apps are called directly (WSGI) or driven with a fake receive/send (ASGI); the
tools run as the harness runs them, as subprocesses, against a real corral server
where they need one. Short runs only: the whole module takes a few seconds.
"""

from __future__ import annotations

import asyncio
import functools
import importlib.util
import io
import json
import os
import socket
import subprocess
import sys
import urllib.request
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from conftest import ROOT, Server

BENCH = ROOT / "bench"
StartServer = Callable[..., Server]
BODY = bytes(range(256)) * 400  # 100 KB, every byte value
CHUNK = 64 * 1024


@functools.cache
def load(relative: str) -> ModuleType:
    """Import a file of bench/ under a private name (bench/ is not a package)."""
    path = BENCH / relative
    spec = importlib.util.spec_from_file_location(f"bench_{path.stem}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def call_wsgi(app: Any, environ: dict[str, Any]) -> tuple[str, dict[str, str], list[bytes]]:
    seen: list[tuple[str, list[tuple[str, str]]]] = []

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        seen.append((status, headers))

    result = app(environ, start_response)
    chunks = list(result)
    getattr(result, "close", lambda: None)()
    status, headers = seen[0]
    return status, {name.lower(): value for name, value in headers}, chunks


def wsgi_environ(method: str, body: bytes = b"", length: str | None = None) -> dict[str, Any]:
    environ: dict[str, Any] = {
        "REQUEST_METHOD": method,
        "PATH_INFO": "/",
        "wsgi.input": io.BytesIO(body),
    }
    if length is not None:
        environ["CONTENT_LENGTH"] = length
    return environ


def call_asgi(
    app: Any, scope: dict[str, Any], incoming: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Run ``app`` with ``incoming`` as its receive messages; return what it sent."""
    sent: list[dict[str, Any]] = []
    queue = list(incoming)

    async def receive() -> dict[str, Any]:
        return queue.pop(0) if queue else {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    asyncio.run(app(scope, receive, send))
    return sent


HTTP_SCOPE = {"type": "http", "method": "POST", "path": "/", "headers": []}


def test_echo_wsgi_echoes_the_body_up_to_content_length() -> None:
    app = load("apps/echo_wsgi.py").app
    status, headers, chunks = call_wsgi(app, wsgi_environ("POST", BODY + b"beyond", str(len(BODY))))
    assert status == "200 OK"
    assert headers["content-type"] == "application/octet-stream"
    assert headers["content-length"] == str(len(BODY))
    assert b"".join(chunks) == BODY


def test_echo_wsgi_answers_get_with_an_empty_200() -> None:
    app = load("apps/echo_wsgi.py").app
    status, headers, chunks = call_wsgi(app, wsgi_environ("GET"))
    assert (status, headers["content-length"], b"".join(chunks)) == ("200 OK", "0", b"")


def test_echo_asgi_joins_every_request_message() -> None:
    app = load("apps/echo_asgi.py").app
    parts = [BODY[:1000], BODY[1000:60000], BODY[60000:]]
    incoming = [
        {"type": "http.request", "body": part, "more_body": i < 2} for i, part in enumerate(parts)
    ]
    start, body = call_asgi(app, HTTP_SCOPE, incoming)
    assert start["status"] == 200
    headers = dict(start["headers"])
    assert headers[b"content-type"] == b"application/octet-stream"
    assert headers[b"content-length"] == str(len(BODY)).encode()
    assert body["body"] == BODY and not body.get("more_body", False)


def test_echo_asgi_answers_get_and_completes_the_lifespan() -> None:
    app = load("apps/echo_asgi.py").app
    get_scope = {**HTTP_SCOPE, "method": "GET"}
    start, body = call_asgi(app, get_scope, [{"type": "http.request", "body": b""}])
    assert start["status"] == 200 and body["body"] == b""
    lifespan = [{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}]
    sent = call_asgi(app, {"type": "lifespan"}, lifespan)
    assert [m["type"] for m in sent] == ["lifespan.startup.complete", "lifespan.shutdown.complete"]


def test_stream_wsgi_yields_16_chunks_of_64k_without_length() -> None:
    app = load("apps/stream_wsgi.py").app
    status, headers, chunks = call_wsgi(app, wsgi_environ("GET"))
    assert status == "200 OK" and "content-length" not in headers
    assert [len(chunk) for chunk in chunks] == [CHUNK] * 16


def test_stream_asgi_sends_16_body_messages_of_64k() -> None:
    app = load("apps/stream_asgi.py").app
    sent = call_asgi(app, {**HTTP_SCOPE, "method": "GET"}, [{"type": "http.request"}])
    start, bodies = sent[0], sent[1:]
    assert start["status"] == 200
    assert b"content-length" not in dict(start["headers"])
    assert [len(m["body"]) for m in bodies] == [CHUNK] * 16
    assert [m["more_body"] for m in bodies] == [True] * 15 + [False]
    lifespan = [{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}]
    assert len(call_asgi(app, {"type": "lifespan"}, lifespan)) == 2


# -- the Django site and the in-process ceiling ----------------------------------------------


@pytest.fixture(scope="module")
def django_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    workdir = tmp_path_factory.mktemp("djangobench")
    (workdir / "djangosite").mkdir()
    (workdir / "djangosite" / "stale.txt").write_text("from an earlier run")
    site: Path = load("apps/djangobench.py").prepare(workdir)
    return site


def test_prepare_makes_a_fresh_migrated_site(django_site: Path) -> None:
    assert (django_site / "mysite" / "wsgi.py").is_file()
    assert (django_site / "db.sqlite3").is_file()
    assert not (django_site / "stale.txt").exists()


def test_the_prepared_site_serves_ten_notes(django_site: Path, start_server: StartServer) -> None:
    env = {"DJANGO_DEBUG": "0", "DJANGO_SETTINGS_MODULE": "mysite.settings"}
    server = start_server("--chdir", str(django_site), "mysite.wsgi", cwd=django_site, env=env)
    with urllib.request.urlopen(server.url + "/", timeout=10) as response:
        page = response.read().decode()
    assert all(f"Sample note {i}<" in page for i in range(1, 11)), page


def test_ceiling_prints_sane_json(django_site: Path) -> None:
    script = str(BENCH / "django_ceiling.py")
    done = subprocess.run(
        [sys.executable, script, "--site", str(django_site), "--seconds", "0.5", "--warmup", "0.2"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["status"] == 200
    assert result["requests"] >= 5 and result["rps"] > 0
    assert 0.5 <= result["seconds"] < 2
    assert result["body_bytes"] > 500  # the page with its 10 notes


# -- idle connections ------------------------------------------------------------------------


def run_idle(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(BENCH / "idle_conns.py"), *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PYTHONPATH": ""},
    )


def test_idle_conns_against_corral(start_server: StartServer, tmp_path: Path) -> None:
    server = start_server("wsgi_apps:hello")
    hold = tmp_path / "hold"
    done = run_idle(
        *("--host", server.host, "--port", str(server.port), "--connections", "50"),
        *("--rate", "50", "--duration", "1", "--hold-file", str(hold)),
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["connections_open"] == 50 and result["connections_end"] == 50
    assert result["errors"] == 0 and result["reconnects"] == 0
    assert 45 <= result["requests"] <= 55
    assert 0 < result["p50_ms"] <= result["p99_ms"] <= result["max_ms"]
    assert hold.exists()


def test_idle_conns_fails_clearly_without_a_server(unused_port: int) -> None:
    done = run_idle("--port", str(unused_port), "--connections", "5", "--duration", "0")
    assert done.returncode == 1 and done.stdout == ""
    assert "could open only 0 of 5 connections" in done.stderr


def test_idle_conns_refuses_other_hosts() -> None:
    done = run_idle("--host", "192.0.2.1", "--port", "80")
    assert done.returncode == 1 and "loopback" in done.stderr


@pytest.fixture
def unused_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def read_response_of(raw: bytes) -> tuple[int, bool, bytes]:
    """Feed ``raw`` to idle_conns.read_response; (status, close, bytes left over)."""
    read_response = load("idle_conns.py").read_response

    async def go() -> tuple[int, bool, bytes]:
        reader = asyncio.StreamReader()
        reader.feed_data(raw)
        reader.feed_eof()
        status, close = await read_response(reader)
        return status, close, await reader.read()

    result: tuple[int, bool, bytes] = asyncio.run(go())
    return result


def test_idle_conns_reads_whole_responses() -> None:
    length = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhelloNEXT"
    assert read_response_of(length) == (200, False, b"NEXT")
    chunked = (
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"5;x=y\r\nhello\r\n10\r\n" + b"z" * 16 + b"\r\n0\r\nTrailer: t\r\n\r\nNEXT"
    )
    assert read_response_of(chunked) == (200, False, b"NEXT")
    close = b"HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"
    assert read_response_of(close) == (404, True, b"")
    until_eof = b"HTTP/1.0 200 OK\r\n\r\nall of it"
    assert read_response_of(until_eof) == (200, True, b"")
    interim = b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\n\r\nNEXT"
    assert read_response_of(interim) == (204, False, b"NEXT")


@pytest.mark.parametrize("interface", ["wsgi", "asgi"])
def test_floor_server_answers_hello_on_one_kept_alive_connection(
    interface: str, unused_port: int
) -> None:
    script = str(BENCH / "apps" / "floor_server.py")
    argv = [sys.executable, script, interface, f"hello_{interface}:app", "127.0.0.1"]
    proc = subprocess.Popen(
        [*argv, str(unused_port), str(BENCH / "apps")], stdout=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout is not None
        # It says so once it listens (an empty line: it exited first).
        assert proc.stdout.readline().startswith("floor listening on")
        sock = socket.create_connection(("127.0.0.1", unused_port), timeout=5)
        with sock:
            for _ in range(3):  # keep-alive: the same connection three times
                sock.sendall(b"GET /?q=1 HTTP/1.1\r\nHost: x\r\n\r\n")
                data = b""
                while not data.endswith(b"Hello, world!"):
                    chunk = sock.recv(4096)
                    assert chunk, f"closed after {data!r}"
                    data += chunk
                assert data.startswith(b"HTTP/1.1 200 ")
                assert b"\r\ncontent-length: 13\r\n" in data.lower()
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_a_run_of_corral_alone_leaves_latest_md_alone(tmp_path: Path) -> None:
    sys.path.insert(0, str(BENCH))
    # bench/ is not a package of the project: its harness is imported from its folder
    from harness import report
    from harness.cli import measures_peers

    saved = BENCH / "results" / "run-2026-12-07-accesslog2.json"  # corral and corral-log
    result = json.loads(saved.read_text())
    assert not measures_peers(result["runs"])
    assert measures_peers([*result["runs"], {"server": "uvicorn"}])
    summary = report.write(result, tmp_path, update_latest=False)
    assert summary.exists() and not (tmp_path / "latest.md").exists()
    report.write(result, tmp_path)
    assert (tmp_path / "latest.md").read_text() == summary.read_text()
