"""The ASGI 3 gateway (HTTP and lifespan) served by a real corral subprocess."""

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


def env_for(record_file: Path) -> dict[str, str]:
    return {"TEST_RECORD_FILE": str(record_file)}


# -- scope ---------------------------------------------------------------------------------------


def test_http_scope_has_the_spec_keys(start_server):
    server = start_server("asgi_apps:scope_app")
    request = (
        b"GET /caf%C3%A9/a%20b?x=1&y=%20 HTTP/1.1\r\nHost: example.test\r\n"
        b"X-First: 1\r\nX-Dup: a\r\nAccept: */*\r\nX-Dup: b\r\n\r\n"
    )
    scope, client = json_seen_by_app(server, request)
    assert scope["type"] == "http"
    assert scope["asgi"]["version"] == "3.0"
    assert scope["asgi"]["spec_version"] in ("2.3", "2.4", "2.5")
    assert scope["http_version"] == "1.1"
    assert scope["method"] == "GET"
    assert scope["scheme"] == "http"
    assert scope["path"] == "/café/a b"  # percent-decoded, UTF-8
    assert scope["raw_path"] == {"b": "/caf%C3%A9/a%20b"}  # as sent, without the query
    assert scope["query_string"] == {"b": "x=1&y=%20"}
    assert scope["root_path"] == ""
    assert scope["headers"] == [
        [{"b": "host"}, {"b": "example.test"}],
        [{"b": "x-first"}, {"b": "1"}],
        [{"b": "x-dup"}, {"b": "a"}],
        [{"b": "accept"}, {"b": "*/*"}],
        [{"b": "x-dup"}, {"b": "b"}],
    ]
    assert scope["_header_types"] == ["bytes"]
    assert scope["client"] == [client[0], client[1]]
    assert scope["server"] == [server.host, server.port]
    types = scope["_types"]
    assert (types["path"], types["raw_path"], types["query_string"]) == ("str", "bytes", "bytes")


def test_http10_request_has_http_version_10(start_server):
    server = start_server("asgi_apps:scope_app")
    scope, _ = json_seen_by_app(server, b"POST /p HTTP/1.0\r\nContent-Length: 0\r\n\r\n")
    assert scope["http_version"] == "1.0"
    assert scope["method"] == "POST"


@pytest.mark.parametrize(
    ("path", "scope_path"),
    [("/app/x", "/app/x"), ("/app", "/app")],
)
def test_root_path_is_reported_and_path_keeps_it(start_server, path, scope_path):
    server = start_server("asgi_apps:scope_app", "--root-path", "/app")
    scope = httpx.get(server.url + path).json()
    assert scope["root_path"] == "/app"
    assert scope["path"] == scope_path


def test_lifespan_state_is_visible_to_each_request_as_a_copy(start_server):
    server = start_server("asgi_apps:lifespan_state")
    with httpx.Client(base_url=server.url) as client:
        first = client.get("/").json()
        second = client.get("/").json()
    assert first == {"greeting": "set-at-startup"}
    assert second == {"greeting": "set-at-startup"}  # the first request's change did not leak


# -- request and response bodies ------------------------------------------------------------------


def test_chunked_upload_of_1_mib_arrives_whole_in_several_messages(start_server):
    server = start_server("asgi_apps:body_digest")
    body = hashlib.sha256(b"x").digest() * (1024 * 1024 // 32)
    with server.connect() as sock:
        wire = Wire(sock, timeout=10)
        wire.send(
            b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
            + chunked(body, 16384)
        )
        info = json.loads(wire.response().body)
    assert info["size"] == len(body)
    assert info["sha256"] == hashlib.sha256(body).hexdigest()
    flags = info["flags"]
    assert flags[-1] is False and all(flags[:-1])


def test_content_length_body_arrives_whole(start_server):
    server = start_server("asgi_apps:body_digest")
    body = bytes(range(256)) * 4096
    info = httpx.post(server.url + "/", content=body).json()
    assert info["size"] == len(body)
    assert info["sha256"] == hashlib.sha256(body).hexdigest()
    assert info["flags"][-1] is False


def test_empty_body_is_one_message_without_more_body(start_server):
    server = start_server("asgi_apps:body_digest")
    info = httpx.get(server.url + "/").json()
    assert info == {"size": 0, "sha256": hashlib.sha256(b"").hexdigest(), "flags": [False]}


def test_streaming_response_is_sent_as_it_is_produced(start_server):
    server = start_server("asgi_apps:streaming")
    with server.connect() as sock:
        wire = Wire(sock)
        started = time.monotonic()
        wire.send(get("/"))
        status, headers = wire.head()
        assert status == 200
        assert ("transfer-encoding", "chunked") in headers
        assert wire.read_until(b"\r\n") == b"6"
        assert wire.read_exact(8) == b"first;\r\n"
        first_at = time.monotonic() - started
        body, complete = wire.read_chunked(allow_incomplete=False)
    assert (body, complete) == (b"second;third;", True)
    assert first_at < 0.4, "the first body message was held back until the response ended"


def test_http_disconnect_is_received_after_the_response(start_server, record_file):
    server = start_server("asgi_apps:disconnect_after_response", env=env_for(record_file))
    with server.connect() as sock:
        wire = Wire(sock)
        wire.send(get("/"))
        assert wire.response().body == b"done"
        # The connection is still open, but the response is complete: receive() says so.
        text = wait_for_record(record_file, lambda t: bool(t))
    assert text.strip() == "http.disconnect"


# -- app errors ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kind", ["body_before_start", "start_twice", "wrong_type", "non_bytes", "no_response"]
)
def test_protocol_violation_gets_500_and_is_logged(start_server, kind):
    server = start_server("asgi_apps:violation", "--no-access-log")
    before = len(server.output)
    with server.connect() as sock:
        wire = Wire(sock)
        wire.send(get(f"/?kind={kind}"))
        resp = wire.response()
        assert resp.status == 500, resp
        assert b"after the violation" not in resp.body
    assert "[ERROR]" in wait_new_output(server, before, "[ERROR]")
    assert httpx.get(server.url + "/?kind=no_response").status_code == 500  # still serving


def test_app_exception_gets_500_and_worker_keeps_serving(start_server):
    server = start_server("asgi_apps:boom")
    with server.connect() as sock:
        wire = Wire(sock)
        wire.send(get("/"))
        resp = wire.response()
        assert resp.status == 500
        assert b"kaboom" not in resp.body and b"Traceback" not in resp.body
        wire.send(get("/again"))
        assert wire.response().status == 500
    assert server.wait_output("kaboom-secret-detail")
    assert "Traceback" in server.output


# -- lifespan ------------------------------------------------------------------------------------


def test_lifespan_auto_serves_an_app_that_raises_on_lifespan(start_server):
    server = start_server("asgi_apps:lifespan_raises", "--lifespan", "auto")
    resp = httpx.get(server.url + "/")
    assert (resp.status_code, resp.text) == (200, "served without lifespan")


def test_lifespan_off_never_calls_the_app_with_lifespan(start_server):
    server = start_server("asgi_apps:lifespan_raises", "--lifespan", "off")
    assert httpx.get(server.url + "/").status_code == 200
    assert "not supported" not in server.output


def test_lifespan_startup_failed_stops_the_server(start_server):
    server = start_server("asgi_apps:lifespan_fails", wait=False)
    code = server.wait(15)
    assert code != 0
    assert "database unreachable (lf-42)" in server.output


def test_lifespan_on_with_an_app_that_raises_stops_the_server(start_server):
    server = start_server("asgi_apps:lifespan_raises", "--lifespan", "on", wait=False)
    code = server.wait(15)
    assert code != 0
    assert "is not supported" in server.output  # the app's own message is shown


def test_lifespan_shutdown_runs_on_sigterm(start_server, record_file):
    server = start_server("asgi_apps:lifespan_marker", env=env_for(record_file))
    assert wait_for_record(record_file, lambda t: "startup" in t) == "startup\n"
    assert httpx.get(server.url + "/").status_code == 200
    server.signal(signal.SIGTERM)
    assert server.wait(10) == 0
    assert record_file.read_text() == "startup\nshutdown\n"


def test_sigterm_lets_the_request_in_flight_finish_with_connection_close(start_server, record_file):
    server = start_server("asgi_apps:slow", env=env_for(record_file))
    with server.connect() as sock:
        wire = Wire(sock)
        wire.send(get("/slow?sleep=1"))
        assert "started /slow" in wait_for_record(record_file, lambda t: "started" in t)
        server.signal(signal.SIGTERM)
        resp = wire.response()
        assert resp.status == 200
        assert resp.body == b"slow response done"
        assert (resp.get("connection") or "").lower() == "close"
        assert wire.closed()
    assert server.wait(10) == 0


def test_sigterm_with_requests_in_flight_on_several_connections(start_server, record_file):
    server = start_server("asgi_apps:slow", env=env_for(record_file))
    results: list[int] = []

    def call(i: int) -> None:
        resp = httpx.get(server.url + f"/slow{i}?sleep=0.5", timeout=10)
        results.append(resp.status_code)

    clients = [threading.Thread(target=call, args=(i,)) for i in range(3)]
    for t in clients:
        t.start()
    wait_for_record(record_file, lambda t: t.count("started") == 3)
    server.signal(signal.SIGTERM)
    for t in clients:
        t.join()
    assert results == [200, 200, 200]
    assert server.wait(10) == 0


def test_each_request_runs_in_a_registered_task_and_an_apps_task_factory_is_used(start_server):
    # corral makes request tasks itself (named, without loop.create_task()'s wrapper)
    # only while no task factory is set; once the app sets one, that factory decides.
    server = start_server("asgi_apps:task_facts")
    with httpx.Client(base_url=server.url) as client:  # one connection, one worker
        first = client.get("/").json()
        client.get("/?factory=1")
        later = client.get("/").json()
    assert first == {"is_task": True, "name": "corral-asgi-request", "in_all_tasks": True}
    assert later == {"is_task": True, "name": "made-by-the-app-factory", "in_all_tasks": True}


@pytest.mark.parametrize("style", ["await", "task", "gather", "anyio", "abc"])
def test_send_works_however_the_app_awaits_it(start_server, style):
    # send() hands the message over at the call and returns an awaitable that is
    # already complete (a registered Coroutine): tasks, gather and anyio accept it.
    server = start_server("asgi_apps:send_styles")
    response = httpx.get(server.url + f"/?style={style}")
    assert response.status_code == 200
    expected = f"sent:{style}"
    if style == "abc":
        expected += " [true, true, true, true]"
    assert response.text == expected
