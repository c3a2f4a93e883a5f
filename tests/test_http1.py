"""HTTP/1.1 behaviour of a real corral subprocess, checked on the wire.

Protocol edge cases use raw sockets (``Wire`` below reads responses byte-exactly,
so a stray or missing byte shows up as a parse failure); ordinary requests use httpx.
The raw-socket reader and request builders live in ``wire.py``.
"""

from __future__ import annotations

import contextlib
import socket
import time
from email.utils import parsedate_to_datetime
from pathlib import Path

import httpx
import pytest
from conftest import http_exchange
from wire import Wire, chunked, get, wait_for_record

WSGI_AND_ASGI = pytest.mark.parametrize("kind", ["wsgi", "asgi"])


def app(kind: str, name: str) -> str:
    return f"{kind}_apps:{name}"


@pytest.fixture
def record_file(tmp_path: Path) -> Path:
    return tmp_path / "record.txt"


# -- keep-alive and connection management ------------------------------------------------------


@WSGI_AND_ASGI
def test_keep_alive_serves_several_requests_on_one_socket(start_server, kind):
    server = start_server(app(kind, "path_app"))
    with server.connect() as sock:
        wire = Wire(sock)
        for i in range(3):
            wire.send(get(f"/req{i}"))
            resp = wire.response()
            assert resp.status == 200
            assert resp.body == f"/req{i}".encode()
            assert (resp.get("connection") or "").lower() != "close"


def test_idle_keep_alive_connection_is_closed_after_timeout(start_server):
    server = start_server(app("wsgi", "hello"), "--keep-alive", "0.3")
    with server.connect() as sock:
        wire = Wire(sock)
        wire.send(get("/"))
        assert wire.response().status == 200
        started = time.monotonic()
        assert wire.closed(timeout=5)
        elapsed = time.monotonic() - started
    assert 0.15 <= elapsed < 3, elapsed  # the server clock ticks every 0.1 s


@WSGI_AND_ASGI
def test_pipelined_requests_are_answered_in_order(start_server, kind):
    server = start_server(app(kind, "path_app"))
    with server.connect() as sock:
        wire = Wire(sock)
        # The first request is the slowest: order must come from the server, not luck.
        wire.send(get("/first?sleep=0.3") + get("/second") + get("/third"))
        bodies = [wire.response().body for _ in range(3)]
    assert bodies == [b"/first", b"/second", b"/third"]


@WSGI_AND_ASGI
def test_a_long_pipeline_is_answered_in_order_in_chunks(start_server, kind):
    # 3,000 requests in one burst: more than one read's worth, more than the
    # recursion limit if the server nested one call per pipelined request.
    server = start_server(app(kind, "path_app"))
    count = 3000
    with server.connect(timeout=30) as sock:
        wire = Wire(sock, timeout=30)
        wire.send(b"".join(get(f"/r{i}") for i in range(count)))
        bodies = [wire.response().body for _ in range(count)]
    assert bodies == [f"/r{i}".encode() for i in range(count)]


@WSGI_AND_ASGI
def test_chunked_request_body_is_echoed(start_server, kind):
    server = start_server(app(kind, "echo"))
    body = bytes(range(256)) * 300
    with server.connect() as sock:
        wire = Wire(sock)
        wire.send(
            b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
            + chunked(body, 1000)
        )
        resp = wire.response()
        assert resp.status == 200
        assert resp.body == body
        # The connection is still usable: the chunked framing was consumed exactly.
        wire.send(get("/again"))
        assert wire.response().status == 200


def test_wsgi_response_without_length_is_chunked_on_http11(start_server):
    server = start_server(app("wsgi", "no_length"))
    with server.connect() as sock:
        wire = Wire(sock)
        wire.send(get("/"))
        resp = wire.response()
        assert resp.status == 200
        assert resp.get("transfer-encoding") == "chunked"
        assert resp.get("content-length") is None
        assert resp.body == b"part0;part1;part2;part3;part4;"
        wire.send(get("/"))
        assert wire.response().body == b"part0;part1;part2;part3;part4;"


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("wsgi_apps:no_length", b"part0;part1;part2;part3;part4;"),
        ("asgi_apps:streaming", b"first;second;third;"),
    ],
)
def test_streamed_response_is_close_delimited_on_http10(start_server, spec, expected):
    server = start_server(spec)
    with server.connect() as sock:
        wire = Wire(sock)
        wire.send(get("/", version="1.0", extra="Connection: keep-alive\r\n"))
        resp = wire.response()
    assert resp.status == 200
    assert resp.get("transfer-encoding") is None
    assert resp.get("content-length") is None
    assert resp.body == expected  # read until the server closed


@WSGI_AND_ASGI
def test_expect_100_continue_is_answered_before_the_body_is_sent(start_server, kind):
    server = start_server(app(kind, "echo"))
    body = b"z" * 5000
    with server.connect() as sock:
        wire = Wire(sock)
        wire.send(
            b"POST /echo HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n"
            b"Content-Length: %d\r\n\r\n" % len(body)
        )
        interim_status, _ = wire.head()  # times out if the server waits for the body
        assert interim_status == 100
        wire.send(body)
        resp = wire.response()
    assert resp.status == 200
    assert resp.body == body


@WSGI_AND_ASGI
def test_head_response_has_same_headers_and_no_body(start_server, kind):
    server = start_server(app(kind, "path_app"))
    with server.connect() as sock:
        wire = Wire(sock)
        wire.send(get("/same"))
        get_resp = wire.response()
        # HEAD then GET pipelined: any body bytes after HEAD would corrupt the next response.
        wire.send(b"HEAD /same HTTP/1.1\r\nHost: x\r\n\r\n" + get("/after"))
        head_resp = wire.response(method="HEAD")
        after = wire.response()
    assert head_resp.status == get_resp.status == 200
    assert head_resp.get("content-length") == get_resp.get("content-length") == "5"
    assert head_resp.get("content-type") == get_resp.get("content-type")
    assert after.body == b"/after"


def test_http10_without_keep_alive_closes(start_server):
    server = start_server(app("wsgi", "hello"))
    with server.connect() as sock:
        wire = Wire(sock)
        wire.send(b"GET / HTTP/1.0\r\n\r\n")
        resp = wire.response()
        assert resp.status == 200
        assert resp.body == b"hello"
        assert wire.closed()


def test_http10_with_keep_alive_stays_open(start_server):
    server = start_server(app("wsgi", "hello"))
    with server.connect() as sock:
        wire = Wire(sock)
        for _ in range(2):
            wire.send(b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
            resp = wire.response()
            assert resp.status == 200
            assert (resp.get("connection") or "").lower() == "keep-alive"
            assert resp.body == b"hello"
        assert not wire.closed(timeout=0.3)


@WSGI_AND_ASGI
def test_connection_close_is_honoured(start_server, kind):
    server = start_server(app(kind, "path_app"))
    with server.connect() as sock:
        wire = Wire(sock)
        wire.send(get("/bye", extra="Connection: close\r\n"))
        resp = wire.response()
        assert resp.status == 200
        assert (resp.get("connection") or "").lower() == "close"
        assert wire.closed()


def test_date_and_server_headers_are_present(start_server):
    server = start_server(app("wsgi", "hello"))
    resp = httpx.get(server.url + "/")
    assert resp.headers["server"] == "corral"
    date = parsedate_to_datetime(resp.headers["date"])
    assert abs(date.timestamp() - time.time()) < 5


def test_no_server_header_removes_server(start_server):
    server = start_server(app("wsgi", "hello"), "--no-server-header")
    resp = httpx.get(server.url + "/")
    assert resp.status_code == 200
    assert "server" not in resp.headers
    assert "date" in resp.headers


# -- unread bodies, smuggling, upgrades --------------------------------------------------------

SMUGGLED = b"GET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n"


def body_with_smuggled_request(size: int) -> bytes:
    filler = b"a" * ((size - len(SMUGGLED) * 3) // 2)
    body = SMUGGLED + filler + SMUGGLED + filler + SMUGGLED
    return body + b"b" * (size - len(body))


@WSGI_AND_ASGI
def test_unread_body_is_drained_and_next_request_answered(start_server, kind):
    server = start_server(app(kind, "ignore_body"), "--drain-limit", "1048576")
    body = body_with_smuggled_request(100_000)
    with server.connect() as sock:
        wire = Wire(sock)
        wire.send(
            b"POST /ignored HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" % len(body)
            + body
            + get("/after")
        )
        first = wire.response()
        second = wire.response()
        assert (first.status, first.body) == (200, b"/ignored")
        assert (second.status, second.body) == (200, b"/after")
        assert not wire.closed(timeout=0.3)  # nothing more: /smuggled was never answered


@WSGI_AND_ASGI
def test_chunked_unread_body_is_drained_and_next_request_answered(start_server, kind):
    server = start_server(app(kind, "ignore_body"), "--drain-limit", "1048576")
    body = body_with_smuggled_request(100_000)
    with server.connect() as sock:
        wire = Wire(sock)
        wire.send(
            b"POST /ignored HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
            + chunked(body, 7000)
            + get("/after")
        )
        assert wire.response().body == b"/ignored"
        assert wire.response().body == b"/after"
        assert not wire.closed(timeout=0.3)


@pytest.mark.parametrize(
    "args",
    [["asgi_apps:ignore_body"], ["wsgi_apps:ignore_body", "--threads", "2"]],
    ids=["asgi", "wsgi-threads"],
)
def test_body_beyond_drain_limit_closes_connection(start_server, args):
    # These apps answer at once, before the body has arrived, so draining is needed.
    server = start_server(*args, "--drain-limit", "1000")
    total = 1_000_000
    body = body_with_smuggled_request(total)
    with server.connect() as sock:
        wire = Wire(sock)
        wire.send(
            b"POST /ignored HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" % total
            + body[:50_000]
        )
        first = wire.response()
        assert (first.status, first.body) == (200, b"/ignored")
        # The server may close while we are still sending: that is the point.
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            wire.send(body[50_000:] + get("/after"))
        rest = wire.rest()
    assert b"HTTP/1.1" not in rest, rest[:300]  # neither /smuggled nor /after was answered


@WSGI_AND_ASGI
def test_upgrade_request_is_not_switched_and_later_bytes_not_parsed(start_server, kind):
    server = start_server(app(kind, "path_app"))
    upgrade = (
        b"GET /ws HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
        b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
    )
    with server.connect() as sock:
        data = http_exchange(sock, upgrade + SMUGGLED)
    assert data.startswith(b"HTTP/1.1 "), data[:200]
    assert not data.startswith(b"HTTP/1.1 101"), data[:200]
    assert data.count(b"HTTP/1.1 ") == 1, data  # the smuggled request got no answer
    assert b"/smuggled" not in data
    head = data.split(b"\r\n\r\n")[0].lower()
    assert b"\r\nupgrade:" not in head


def test_connect_request_is_refused_and_later_bytes_not_parsed(start_server):
    server = start_server(app("wsgi", "path_app"))
    connect = b"CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n"
    with server.connect() as sock:
        data = http_exchange(sock, connect + SMUGGLED)
    assert data.startswith(b"HTTP/1.1 "), data[:200]
    status = int(data.split(b" ", 2)[1])
    assert 400 <= status < 600, data[:200]
    assert data.count(b"HTTP/1.1 ") == 1, data
    assert b"/smuggled" not in data


@pytest.mark.parametrize("method", [b"FOO", b"BREW", b"X-CUSTOM"])
def test_unknown_method_gets_501(start_server, method):
    server = start_server(app("wsgi", "hello"))
    with server.connect() as sock:
        wire = Wire(sock)
        wire.send(method + b" / HTTP/1.1\r\nHost: x\r\n\r\n")
        resp = wire.response()
    assert resp.status == 501


# -- client disconnects and flow control ---------------------------------------------------------


def test_asgi_app_gets_http_disconnect_when_client_leaves_mid_response(start_server, record_file):
    server = start_server(app("asgi", "forever"), env={"TEST_RECORD_FILE": str(record_file)})
    with server.connect() as sock:
        wire = Wire(sock)
        wire.send(get("/forever"))
        status, _ = wire.head()
        assert status == 200
        wire.read_exact(10_000)  # the stream is flowing
    text = wait_for_record(record_file, lambda t: "http.disconnect" in t)
    assert "http.disconnect" in text


@pytest.mark.parametrize("threads", ["1", "4"])
def test_wsgi_iteration_stops_and_close_is_called_when_client_leaves(
    start_server, record_file, threads
):
    server = start_server(
        app("wsgi", "endless"), "--threads", threads, env={"TEST_RECORD_FILE": str(record_file)}
    )
    with server.connect() as sock:
        wire = Wire(sock)
        wire.send(get("/endless"))
        status, _ = wire.head()
        assert status == 200
        wire.read_exact(10_000)
    text = wait_for_record(record_file, lambda t: "closed" in t)
    assert "closed" in text
    count = text.count("chunk ")
    time.sleep(0.3)  # the generator must stay stopped: no chunk recorded after close()
    assert record_file.read_text().count("chunk ") == count
    with server.connect() as sock:  # the worker is free again
        wire = Wire(sock)
        wire.send(get("/endless"))
        assert wire.head()[0] == 200


def test_slow_reader_makes_asgi_send_wait_instead_of_buffering(start_server, record_file):
    server = start_server(app("asgi", "flood"), env={"TEST_RECORD_FILE": str(record_file)})
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
    sock.settimeout(5)
    with sock:
        sock.connect((server.host, server.port))
        sock.sendall(get("/flood"))
        assert wait_for_record(record_file, lambda t: "sent 1\n" in t)
        time.sleep(1.0)  # the client reads nothing for a second
        sent = record_file.read_text().count("sent ")
    # 1000 x 64 KiB = 64 MiB; kernel buffers plus a bounded transport buffer hold a few MiB.
    assert sent < 300, f"the app got {sent} of 1000 chunks out to a client reading nothing"
