"""The WSGI gateway (PEP 3333) served by a real corral subprocess."""

from __future__ import annotations

import hashlib
import json
import signal
import threading
import time
from pathlib import Path

import httpx
import pytest
from wire import Wire, chunked, get, json_seen_by_app, wait_for_record, wait_new_output


@pytest.fixture
def record_file(tmp_path: Path) -> Path:
    return tmp_path / "record.txt"


def pattern(size: int) -> bytes:
    """The bytes ``wsgi_apps.file_app`` serves for ``?size=``."""
    return (bytes(range(251)) * (size // 251 + 1))[:size]


# -- environ -------------------------------------------------------------------------------------


def test_environ_has_the_pep3333_keys(start_server):
    server = start_server("wsgi_apps:environ_app", "--root-path", "/app")
    body = b"k=v&x=y"
    request = (
        b"POST /app/x?a=1&b=two HTTP/1.1\r\nHost: example.test:8080\r\n"
        b"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 7\r\n"
        b"X-Custom: custom-value\r\nX-Dup: first\r\nX-Dup: second\r\nX_Foo: underscored\r\n"
        b"\r\n" + body
    )
    env, client = json_seen_by_app(server, request)
    assert env["REQUEST_METHOD"] == "POST"
    assert env["SCRIPT_NAME"] == "/app"
    assert env["PATH_INFO"] == "/x"
    assert env["QUERY_STRING"] == "a=1&b=two"
    assert env["SERVER_PROTOCOL"] == "HTTP/1.1"
    assert env["CONTENT_TYPE"] == "application/x-www-form-urlencoded"
    assert env["CONTENT_LENGTH"] == "7"
    assert "HTTP_CONTENT_TYPE" not in env and "HTTP_CONTENT_LENGTH" not in env
    assert env["HTTP_HOST"] == "example.test:8080"
    assert env["HTTP_X_CUSTOM"] == "custom-value"
    assert env["HTTP_X_DUP"] == "first, second"
    assert "HTTP_X_FOO" not in env  # X_Foo could be spoofing X-Foo: dropped
    assert env["REMOTE_ADDR"] == client[0]
    assert env["REMOTE_PORT"] == str(client[1])
    assert isinstance(env["SERVER_NAME"], str) and env["SERVER_NAME"]
    assert env["SERVER_PORT"].isdigit()
    assert env["wsgi.version"] == [1, 0]
    assert env["wsgi.url_scheme"] == "http"
    assert env["wsgi.input_terminated"] is True
    assert env["wsgi.multithread"] is False  # --threads 1 (default)
    assert isinstance(env["wsgi.multiprocess"], bool)
    assert env["wsgi.run_once"] is False
    assert env["wsgi.input"].startswith("<") and env["wsgi.errors"].startswith("<")
    for key, value in env.items():
        if "." not in key and not key.startswith("_"):
            assert isinstance(value, str), f"{key} is {value!r}, not a str"
    # wsgi.errors is writable and goes to the server's error log.
    assert server.wait_output("wsgi-errors-marker")


def test_server_port_and_protocol_of_an_http10_request(start_server):
    server = start_server("wsgi_apps:environ_app")
    env, _ = json_seen_by_app(server, b"GET /p HTTP/1.0\r\n\r\n")
    assert env["SERVER_PROTOCOL"] == "HTTP/1.0"
    assert env["SERVER_PORT"] == str(server.port)
    assert env["SCRIPT_NAME"] == ""
    assert env["PATH_INFO"] == "/p"
    assert env["QUERY_STRING"] == ""
    assert "CONTENT_LENGTH" not in env or env["CONTENT_LENGTH"] in ("", "0")


def test_multithread_is_true_with_threads(start_server):
    server = start_server("wsgi_apps:environ_app", "--threads", "4")
    env = httpx.get(server.url + "/").json()
    assert env["wsgi.multithread"] is True
    assert env["_thread"] != "MainThread"


@pytest.mark.parametrize(
    ("path", "script_name", "path_info"),
    [
        ("/app/x", "/app", "/x"),
        ("/app", "/app", ""),
        ("/app/", "/app", "/"),
        # Outside the root path: a proxy already stripped the prefix (docs/http.md),
        # so the app is still mounted at /app. The prefix counts only at a segment
        # boundary: /application is not under /app.
        ("/other", "/app", "/other"),
        ("/application", "/app", "/application"),
    ],
)
def test_root_path_splits_script_name_and_path_info(start_server, path, script_name, path_info):
    server = start_server("wsgi_apps:environ_app", "--root-path", "/app")
    env = httpx.get(server.url + path).json()
    assert (env["SCRIPT_NAME"], env["PATH_INFO"]) == (script_name, path_info)


def test_path_info_is_percent_decoded_as_latin1(start_server):
    server = start_server("wsgi_apps:environ_app")
    env, _ = json_seen_by_app(server, get("/caf%C3%A9/a%20b?q=%C3%A9"))
    assert env["PATH_INFO"] == "/caf\xc3\xa9/a b"  # PEP 3333: bytes decoded as latin-1
    assert env["QUERY_STRING"] == "q=%C3%A9"  # the query string stays as sent


# -- wsgi.input ---------------------------------------------------------------------------------

INPUT = b"line one\nline two\n\nlast line without newline"


@pytest.mark.parametrize(
    ("mode", "expected"),
    [
        ("read", [INPUT]),
        ("read_n", [INPUT[i : i + 4] for i in range(0, len(INPUT), 4)]),
        ("readline", [b"line one\n", b"line two\n", b"\n", b"last line without newline"]),
        (
            "readline_n",
            [
                INPUT[:3],
                INPUT[3:6],
                INPUT[6:9],
                INPUT[9:12],
                INPUT[12:15],
                INPUT[15:18],
                b"\n",
                b"las",
                b"t l",
                b"ine",
                b" wi",
                b"tho",
                b"ut ",
                b"new",
                b"lin",
                b"e",
            ],
        ),
        ("readlines", [b"line one\n", b"line two\n", b"\n", b"last line without newline"]),
        ("iter", [b"line one\n", b"line two\n", b"\n", b"last line without newline"]),
    ],
)
@pytest.mark.parametrize("threads", ["1", "4"])
def test_wsgi_input_read_methods(start_server, mode, expected, threads):
    server = start_server("wsgi_apps:input_methods", "--threads", threads)
    resp = httpx.post(server.url + f"/?mode={mode}", content=INPUT)
    assert resp.status_code == 200
    assert [p.encode("latin-1") for p in resp.json()] == expected


def test_chunked_request_body_gets_content_length(start_server):
    server = start_server("wsgi_apps:body_digest")
    body = bytes(range(256)) * 1200  # 300 KiB
    with server.connect() as sock:
        wire = Wire(sock)
        wire.send(
            b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
            + chunked(body, 10_000)
        )
        info = json.loads(wire.response().body)
    assert info["content_length"] == str(len(body))
    assert info["size"] == len(body)
    assert info["sha256"] == hashlib.sha256(body).hexdigest()
    assert info["input_terminated"] is True


def test_chunked_body_over_the_buffer_is_streamed_intact(start_server):
    server = start_server(
        "wsgi_apps:body_digest", "--threads", "2", "--wsgi-chunked-buffer", "1000"
    )
    body = bytes(range(256)) * 400
    with server.connect() as sock:
        wire = Wire(sock)
        wire.send(
            b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
            + chunked(body, 3000)
        )
        info = json.loads(wire.response().body)
    assert info["size"] == len(body)
    assert info["sha256"] == hashlib.sha256(body).hexdigest()
    assert info["input_terminated"] is True


@pytest.mark.parametrize("threads", ["1", "4"])
@pytest.mark.parametrize("framing", ["length", "chunked"])
def test_body_over_spool_threshold_arrives_intact(start_server, threads, framing):
    server = start_server(
        "wsgi_apps:body_digest", "--body-spool-threshold", "65536", "--threads", threads
    )
    body = hashlib.sha256(b"seed").digest() * (3 * 1024 * 1024 // 32)  # 3 MiB
    if framing == "length":
        content: bytes | object = body
    else:
        content = (body[i : i + 100_000] for i in range(0, len(body), 100_000))
    resp = httpx.post(server.url + "/", content=content, timeout=20)
    info = resp.json()
    assert info["size"] == len(body)
    assert info["sha256"] == hashlib.sha256(body).hexdigest()


# -- responses ------------------------------------------------------------------------------------


@pytest.mark.parametrize("threads", ["1", "4"])
@pytest.mark.parametrize("size", [10_000, 1_500_003])
@pytest.mark.parametrize("with_length", ["1", "0"])
def test_file_wrapper_serves_the_file(start_server, threads, size, with_length):
    server = start_server("wsgi_apps:file_app", "--threads", threads)
    with server.connect() as sock:
        wire = Wire(sock)
        for _ in range(2):  # twice: the connection stays usable after a file response
            wire.send(get(f"/?size={size}&cl={with_length}"))
            resp = wire.response()
            assert resp.status == 200
            assert len(resp.body) == size
            assert resp.body == pattern(size)


def test_start_response_twice_without_exc_info_raises_in_the_app(start_server):
    server = start_server("wsgi_apps:start_response_twice")
    resp = httpx.get(server.url + "/")
    assert resp.status_code == 200
    assert resp.text.startswith("second call raised ")


def test_exc_info_before_headers_sent_replaces_the_response(start_server):
    server = start_server("wsgi_apps:exc_info_before_headers")
    resp = httpx.get(server.url + "/")
    assert resp.status_code == 503
    assert resp.text == "replaced"


@pytest.mark.parametrize("threads", ["1", "4"])
def test_exc_info_after_headers_sent_reraises_and_aborts(start_server, record_file, threads):
    server = start_server(
        "wsgi_apps:exc_info_after_headers",
        "--threads",
        threads,
        env={"TEST_RECORD_FILE": str(record_file)},
    )
    with server.connect() as sock:
        wire = Wire(sock)
        wire.send(get("/"))
        resp = wire.response(allow_incomplete=True)
    assert resp.status == 200
    assert resp.body.startswith(b"partial;")
    assert b"should never be sent" not in resp.body
    assert not resp.chunked_complete  # the client can tell the response broke off
    assert "re-raised" in wait_for_record(record_file, lambda t: "raised" in t)
    with server.connect() as sock:  # the worker is still serving
        wire = Wire(sock)
        wire.send(get("/"))
        assert wire.response(allow_incomplete=True).status == 200


def test_write_callable_output_comes_before_the_iterable(start_server):
    server = start_server("wsgi_apps:write_callable")
    resp = httpx.get(server.url + "/")
    assert resp.status_code == 200
    assert resp.content == b"written-1;written-2;iterated-1;iterated-2;"


def test_close_is_called_after_a_normal_response(start_server, record_file):
    server = start_server("wsgi_apps:closes_normally", env={"TEST_RECORD_FILE": str(record_file)})
    assert httpx.get(server.url + "/").content == b"done"
    assert "closed" in wait_for_record(record_file, lambda t: "closed" in t)


@pytest.mark.parametrize("threads", ["1", "4"])
def test_close_is_called_when_iteration_raises(start_server, record_file, threads):
    server = start_server(
        "wsgi_apps:raise_mid_iteration",
        "--threads",
        threads,
        env={"TEST_RECORD_FILE": str(record_file)},
    )
    with server.connect() as sock:
        wire = Wire(sock)
        wire.send(get("/?first=1"))
        resp = wire.response(allow_incomplete=True)
        assert resp.status == 200  # the head went out with the first chunk
        assert not resp.chunked_complete
    assert wait_for_record(record_file, lambda t: t.count("closed") >= 1).count("closed") == 1
    resp = httpx.get(server.url + "/?first=0")
    assert resp.status_code == 500  # nothing sent yet: a clean 500
    assert wait_for_record(record_file, lambda t: t.count("closed") >= 2).count("closed") == 2
    assert server.wait_output("iteration failed")


def test_threads_run_slow_requests_concurrently(start_server):
    server = start_server("wsgi_apps:slow", "--threads", "4")
    results: list[int] = []

    def call() -> None:
        results.append(httpx.get(server.url + "/?sleep=0.5", timeout=10).status_code)

    clients = [threading.Thread(target=call) for _ in range(4)]
    started = time.monotonic()
    for t in clients:
        t.start()
    for t in clients:
        t.join()
    elapsed = time.monotonic() - started
    assert results == [200] * 4
    assert elapsed < 1.5, f"4 requests of 0.5 s took {elapsed:.2f} s with --threads 4"


def test_threads_send_100_continue_when_the_app_reads(start_server):
    server = start_server("wsgi_apps:echo", "--threads", "4")
    body = b"q" * 20_000
    with server.connect() as sock:
        wire = Wire(sock)
        wire.send(
            b"POST / HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n"
            b"Content-Length: %d\r\n\r\n" % len(body)
        )
        assert wire.head()[0] == 100
        wire.send(body)
        resp = wire.response()
    assert resp.status == 200
    assert resp.body == body


def test_validator_wrapped_app_sees_no_pep3333_violation(start_server):
    server = start_server("wsgi_apps:validated", "--no-access-log")
    with httpx.Client(base_url=server.url, timeout=10) as client:
        assert client.get("/").content == b"validated"
        resp = client.post("/echo", content=b"posted body")
        assert (resp.status_code, resp.content) == (200, b"posted body")
        resp = client.head("/")
        assert (resp.status_code, resp.content) == (200, b"")
        resp = client.get("/chunked")
        assert (resp.status_code, resp.content) == (200, b"one;two;three;")
        resp = client.get("/file")
        assert (resp.status_code, resp.content) == (200, pattern(300_000))
    server.stop()  # the validator complains about unclosed iterables when they are collected
    assert "AssertionError" not in server.output, server.output
    assert "WSGIWarning" not in server.output, server.output
    assert "Traceback" not in server.output, server.output


@pytest.mark.parametrize("header", ["Connection", "Transfer-Encoding", "Keep-Alive", "Upgrade"])
def test_hop_by_hop_header_from_app_gets_500_and_is_logged(start_server, header):
    server = start_server("wsgi_apps:hop_by_hop", "--no-access-log")
    before = len(server.output)
    resp = httpx.get(server.url + "/", params={"h": header})
    assert resp.status_code == 500
    assert "upgrade" not in resp.headers and "keep-alive" not in resp.headers
    assert "chunked" not in resp.headers.get("transfer-encoding", "")
    logged = wait_new_output(server, before, "[ERROR]")
    assert header.lower() in logged.lower()


@pytest.mark.parametrize("where", ["value", "value_lf", "name"])
def test_cr_lf_in_response_header_gets_500_and_never_reaches_the_wire(start_server, where):
    server = start_server("wsgi_apps:bad_header", "--no-access-log")
    before = len(server.output)
    with server.connect() as sock:
        wire = Wire(sock)
        wire.send(get(f"/?where={where}"))
        resp = wire.response()
        raw = resp.headers
    assert resp.status == 500
    assert "x-injected" not in {name for name, _ in raw}
    assert all("X-Injected" not in v for _, v in raw)
    assert b"X-Injected" not in resp.body
    assert "[ERROR]" in wait_new_output(server, before, "[ERROR]")


@pytest.mark.parametrize("threads", ["1", "4"])
def test_app_exception_gets_500_without_traceback_and_worker_keeps_serving(start_server, threads):
    server = start_server("wsgi_apps:boom", "--threads", threads)
    with server.connect() as sock:
        wire = Wire(sock)
        wire.send(get("/"))
        resp = wire.response()
        assert resp.status == 500
        assert b"Traceback" not in resp.body
        assert b"kaboom" not in resp.body
        wire.send(get("/again"))  # same connection: still served
        assert wire.response().status == 500
    assert server.wait_output("kaboom-secret-detail")
    assert "Traceback" in server.output
    resp = httpx.get(server.url + "/")
    assert resp.status_code == 500


def test_a_stuck_app_thread_does_not_keep_the_server_alive_after_graceful_timeout(
    start_server, tmp_path: Path
):
    record_file = tmp_path / "record.txt"
    server = start_server(
        "wsgi_apps:stuck",
        "--threads",
        "2",
        "--graceful-timeout",
        "0.5",
        env={"TEST_RECORD_FILE": str(record_file)},
    )
    with server.connect() as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        assert wait_for_record(record_file, lambda text: "started" in text)
        started = time.monotonic()
        server.signal(signal.SIGTERM)
        assert server.wait(15) == 0
    assert time.monotonic() - started < 10
    assert "still running after the graceful timeout" in server.output
