"""Slow clients and overload, against a real server: the minimum body rate (with
corral's own pauses not counted), response write stalls, --max-connections and
--limit-concurrency with its bounded queue."""

from __future__ import annotations

import socket
import threading
import time

from wire import Wire, get, wait_for_record

APP = "asgi_apps:late_reader"


def post_head(length: int, path: str = "/", extra: str = "") -> bytes:
    return (f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Length: {length}\r\n{extra}\r\n").encode()


def test_stalled_body_gets_408_after_one_window(start_server):
    server = start_server(APP, "--min-body-rate", "1000", "--body-timeout", "0.5")
    wire = Wire(server.connect())
    wire.send(post_head(100_000) + b"x" * 10)
    started = time.monotonic()
    response = wire.response()
    assert response.status == 408
    assert 0.4 < time.monotonic() - started < 2.0
    assert wire.closed()


def test_trickling_body_below_the_rate_gets_408(start_server):
    server = start_server(APP, "--min-body-rate", "1000", "--body-timeout", "0.5")
    wire = Wire(server.connect())
    wire.send(post_head(100_000))
    try:
        for _ in range(10):  # 10 bytes every 0.1 s: 100 B/s, a tenth of the minimum
            wire.send(b"x" * 10)
            time.sleep(0.1)
    except BrokenPipeError:
        pass  # closed after its 408, which is still there to read
    assert wire.response().status == 408


def test_body_at_the_rate_is_served(start_server):
    server = start_server(APP, "--min-body-rate", "1000", "--body-timeout", "0.5")
    wire = Wire(server.connect())
    wire.send(post_head(3000))
    for _ in range(6):  # 500 bytes every 0.2 s: 2,500 B/s
        wire.send(b"x" * 500)
        time.sleep(0.2)
    response = wire.response()
    assert (response.status, response.body) == (200, b"read 3000")


def test_time_corral_paused_reading_does_not_count(start_server):
    # The app reads nothing for 1.5 s (three body windows): corral stops reading at
    # its buffer's high-water mark, so the client cannot send; that is not its fault.
    server = start_server(APP, "--min-body-rate", "100000", "--body-timeout", "0.5")
    size = 4 * 1024 * 1024
    wire = Wire(server.connect(), timeout=10)
    sender = threading.Thread(
        target=wire.send, args=(post_head(size, "/?sleep=1.5") + b"x" * size,)
    )
    sender.start()
    response = wire.response()
    sender.join(10)
    assert (response.status, response.body) == (200, f"read {size}".encode())


def test_expect_continue_body_clock_starts_with_the_100(start_server):
    server = start_server(APP, "--min-body-rate", "1000", "--body-timeout", "0.3")
    wire = Wire(server.connect())
    wire.send(post_head(5, "/?sleep=1", "Expect: 100-continue\r\n"))
    status, _ = wire.head()  # sent only when the app reads, a second later
    assert status == 100
    wire.send(b"hello")
    response = wire.response()
    assert (response.status, response.body) == (200, b"read 5")


def test_client_that_stops_reading_is_dropped_after_the_write_timeout(start_server):
    server = start_server("asgi_apps:attack_target", "--write-timeout", "0.5")
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect((server.host, server.port))
    sock.sendall(get("/big?mib=64"))
    time.sleep(2.0)  # read nothing: the server's buffers fill, then the clock runs
    sock.settimeout(5)
    received = 0
    try:
        while chunk := sock.recv(1 << 20):
            received += len(chunk)
    except ConnectionResetError:
        pass
    assert received < 64 * 1024 * 1024  # aborted, not completed
    # Meanwhile and after, other clients are served.
    wire = Wire(server.connect())
    wire.send(get("/small"))
    assert wire.response().status == 200


def test_max_connections_closes_the_longest_idle_keep_alive_connection(start_server):
    server = start_server(APP, "--max-connections", "3")
    wires = []
    for _ in range(3):
        wire = Wire(server.connect())
        wire.send(get("/", extra="Content-Length: 0\r\n"))
        assert wire.response().status == 200
        wires.append(wire)
        time.sleep(0.25)  # more than the worker's 0.1 s clock: distinct idle times
    newcomer = Wire(server.connect())
    newcomer.send(get("/"))
    assert newcomer.response().status == 200
    assert wires[0].closed(timeout=2)  # the longest idle made room
    wires[2].send(get("/"))
    assert wires[2].response().status == 200


def test_max_connections_without_idle_ones_makes_newcomers_wait(start_server):
    server = start_server(APP, "--max-connections", "2")
    busy = [server.connect() for _ in range(2)]  # connected, no request yet: not idle
    time.sleep(0.2)
    waiting = Wire(server.connect(), timeout=0.5)
    waiting.send(get("/"))
    try:
        waiting.response()
        raise AssertionError("answered beyond --max-connections")
    except TimeoutError:
        pass
    busy[0].close()
    waiting.sock.settimeout(5)
    assert waiting.response().status == 200


def slow_app(start_server, tmp_path, *args: str):
    record = {"TEST_RECORD_FILE": str(tmp_path / "record")}
    return start_server("asgi_apps:slow", *args, env=record)


def wait_started(tmp_path, count: int) -> None:
    """Until the slow app has recorded ``count`` requests as running."""
    text = wait_for_record(tmp_path / "record", lambda t: t.count("started") >= count)
    assert text.count("started") >= count


def test_limit_concurrency_queues_then_503_with_retry_after(start_server, tmp_path):
    server = slow_app(
        start_server, tmp_path,
        "--limit-concurrency", "2", "--queue-size", "1", "--queue-timeout", "0.5",
    )  # fmt: skip
    running = [Wire(server.connect(), timeout=10) for _ in range(2)]
    for wire in running:
        wire.send(get("/?sleep=2"))
    wait_started(tmp_path, 2)
    queued = Wire(server.connect())
    queued.send(get("/?sleep=0"))
    time.sleep(0.1)
    refused = Wire(server.connect())
    refused.send(get("/?sleep=0"))
    started = time.monotonic()
    response = refused.response()  # the queue (size 1) is full: at once
    assert (response.status, response.get("retry-after")) == (503, "1")
    assert time.monotonic() - started < 0.3
    response = queued.response()  # waited 0.5 s for a slot that never came
    assert (response.status, response.get("retry-after")) == (503, "1")
    for wire in running:
        assert wire.response().status == 200


def test_queued_request_runs_when_a_slot_frees(start_server, tmp_path):
    server = slow_app(start_server, tmp_path, "--limit-concurrency", "1", "--queue-timeout", "5")
    first = Wire(server.connect())
    first.send(get("/?sleep=0.5"))
    wait_started(tmp_path, 1)
    second = Wire(server.connect())
    second.send(get("/?sleep=0"))
    assert first.response().status == 200
    response = second.response()
    assert (response.status, response.body) == (200, b"slow response done")


def test_health_path_bypasses_the_concurrency_limit(start_server, tmp_path):
    server = slow_app(
        start_server, tmp_path,
        "--limit-concurrency", "1", "--queue-size", "0", "--health-path", "/healthz",
    )  # fmt: skip
    busy = Wire(server.connect())
    busy.send(get("/?sleep=1"))
    wait_started(tmp_path, 1)
    probe = Wire(server.connect())
    probe.send(get("/healthz"))
    assert probe.response().status == 200
    other = Wire(server.connect())
    other.send(get("/?sleep=0"))
    assert other.response().status == 503
