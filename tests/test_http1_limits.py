"""Request limits and timeouts: each answers its status, then closes; 0 disables a limit."""

from __future__ import annotations

import contextlib
import time

import pytest
from wire import Wire, chunked, get


def assert_rejected(server, request: bytes, status: int) -> None:
    """Send ``request``; expect ``status`` and the connection closed after it."""
    with server.connect() as sock:
        wire = Wire(sock)
        # The server may answer and close before it has read everything.
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            wire.send(request)
        resp = wire.response()
        assert resp.status == status, resp
        assert wire.closed(), "the connection stayed open after a limit response"


def assert_served(server, request: bytes) -> bytes:
    with server.connect() as sock:
        wire = Wire(sock)
        wire.send(request)
        resp = wire.response()
        assert resp.status == 200, resp
        return resp.body


def headers(count: int, size: int) -> str:
    """``count`` header fields whose name and value together are ``size`` bytes."""
    return "".join(f"X-H{i:04d}: {'v' * (size - 6)}\r\n" for i in range(count))


def test_request_line_too_long_gets_414(start_server):
    server = start_server("wsgi_apps:hello", "--limit-request-line", "100")
    assert_rejected(server, get("/" + "a" * 200), 414)
    assert_served(server, get("/" + "a" * 50))


def test_request_line_limit_zero_is_unlimited(start_server):
    server = start_server("wsgi_apps:hello", "--limit-request-line", "0")
    assert assert_served(server, get("/" + "a" * 30_000)) == b"hello"


def test_header_field_too_long_gets_431(start_server):
    server = start_server("wsgi_apps:hello", "--limit-request-field_size", "100")
    assert_rejected(server, get("/", extra=headers(1, 300)), 431)
    assert_served(server, get("/", extra=headers(1, 60)))


def test_header_field_limit_zero_is_unlimited(start_server):
    server = start_server("wsgi_apps:hello", "--limit-request-field_size", "0")
    assert_served(server, get("/", extra=headers(1, 20_000)))


def test_whole_head_too_big_gets_431(start_server):
    server = start_server("wsgi_apps:hello", "--limit-request-head", "1000")
    # 20 fields of 100 bytes: each field and their count are within their own limits.
    assert_rejected(server, get("/", extra=headers(20, 100)), 431)
    assert_served(server, get("/", extra=headers(5, 100)))


def test_head_limit_zero_is_unlimited(start_server):
    server = start_server("wsgi_apps:hello", "--limit-request-head", "0")
    assert_served(server, get("/", extra=headers(90, 1000)))


def test_too_many_header_fields_gets_431(start_server):
    server = start_server("wsgi_apps:hello", "--limit-request-fields", "10")
    assert_rejected(server, get("/", extra=headers(20, 20)), 431)
    assert_served(server, get("/", extra=headers(5, 20)))


def test_header_count_limit_zero_is_unlimited(start_server):
    server = start_server("wsgi_apps:hello", "--limit-request-fields", "0")
    assert_served(server, get("/", extra=headers(300, 20)))


def post(body: bytes, framing: str = "length") -> bytes:
    if framing == "length":
        return b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n%b" % (len(body), body)
    return b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" + chunked(
        body, 500
    )


@pytest.mark.parametrize("kind", ["wsgi", "asgi"])
def test_body_over_limit_with_content_length_gets_413(start_server, kind):
    server = start_server(f"{kind}_apps:echo", "--limit-request-body", "1000")
    assert_rejected(server, post(b"b" * 2000), 413)
    assert assert_served(server, post(b"b" * 1000)) == b"b" * 1000  # exactly at the limit


@pytest.mark.parametrize("kind", ["wsgi", "asgi"])
def test_content_length_over_limit_is_refused_before_the_body_arrives(start_server, kind):
    server = start_server(f"{kind}_apps:echo", "--limit-request-body", "1000")
    with server.connect() as sock:
        wire = Wire(sock)
        wire.send(b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5000000\r\n\r\n")
        resp = wire.response()
        assert resp.status == 413
        assert wire.closed()


@pytest.mark.parametrize("kind", ["wsgi", "asgi"])
def test_chunked_body_over_limit_gets_413_mid_stream(start_server, kind):
    server = start_server(f"{kind}_apps:echo", "--limit-request-body", "1000")
    assert_rejected(server, post(b"c" * 2000, framing="chunked"), 413)
    assert assert_served(server, post(b"c" * 1000, framing="chunked")) == b"c" * 1000


@pytest.mark.parametrize("kind", ["wsgi", "asgi"])
def test_body_limit_zero_is_unlimited(start_server, kind):
    server = start_server(f"{kind}_apps:echo", "--limit-request-body", "0")
    body = bytes(range(256)) * 8192  # 2 MiB
    assert assert_served(server, post(body)) == body
    assert assert_served(server, post(body, framing="chunked")) == body


def test_partial_head_then_silence_gets_408_and_close(start_server):
    server = start_server("wsgi_apps:hello", "--header-timeout", "0.5")
    with server.connect() as sock:
        wire = Wire(sock)
        started = time.monotonic()
        wire.send(b"GET / HTTP/1.1\r\nHost: x\r\n")  # the head never ends
        resp = wire.response()
        elapsed = time.monotonic() - started
        assert resp.status == 408
        assert wire.closed()
    assert 0.35 <= elapsed < 4, elapsed


def test_head_trickling_in_still_times_out(start_server):
    # The timeout counts from the first byte of the head, not from the last one received.
    server = start_server("wsgi_apps:hello", "--header-timeout", "0.5")
    with server.connect() as sock:
        wire = Wire(sock)
        wire.send(b"GET / HTTP/1.1\r\n")
        started = time.monotonic()
        resp_data = b""
        sock.settimeout(0.1)
        while time.monotonic() - started < 4 and not resp_data:
            try:
                sock.sendall(b"X-Slow: 1\r\n")
            except (BrokenPipeError, ConnectionResetError):
                break
            try:
                resp_data = sock.recv(65536)
            except TimeoutError:
                continue
        elapsed = time.monotonic() - started
    assert resp_data.startswith(b"HTTP/1.1 408"), resp_data[:100]
    assert elapsed < 3, elapsed


def test_silent_connection_is_closed_after_first_byte_timeout(start_server):
    server = start_server("wsgi_apps:hello", "--first-byte-timeout", "0.5")
    with server.connect() as sock:
        wire = Wire(sock)
        started = time.monotonic()
        assert wire.closed(timeout=5)  # a plain close: no 408 for a connection that said nothing
        elapsed = time.monotonic() - started
    assert 0.35 <= elapsed < 4, elapsed


def test_header_timeout_applies_to_the_next_request_on_a_kept_alive_connection(start_server):
    server = start_server("wsgi_apps:hello", "--header-timeout", "0.5", "--keep-alive", "30")
    with server.connect() as sock:
        wire = Wire(sock)
        wire.send(get("/"))
        assert wire.response().status == 200
        wire.send(b"GET / HTTP/1.1\r\n")
        resp = wire.response()
        assert resp.status == 408
        assert wire.closed()
