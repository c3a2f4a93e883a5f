"""--request-timeout: 504 when nothing was sent, an abort otherwise, the app's stack logged."""

from __future__ import annotations

import time

import httpx
import pytest
from wire import Wire, get, wait_for_record


@pytest.mark.parametrize(
    ("app", "extra"),
    [("asgi_apps:path_app", []), ("wsgi_apps:path_app", ["--threads", "2"])],
)
def test_a_slow_request_gets_504_and_the_worker_keeps_serving(start_server, app, extra):
    server = start_server(app, "--request-timeout", "0.5", *extra)
    started = time.monotonic()
    resp = httpx.get(server.url + "/slow?sleep=10", timeout=10)
    assert resp.status_code == 504
    assert time.monotonic() - started < 3
    assert resp.headers["connection"] == "close"
    assert server.wait_output("Request timeout (0.5 s): GET /slow abandoned")
    assert server.wait_output("path_app")  # the stack shows where the app was
    assert httpx.get(server.url + "/fast").text == "/fast"


def test_a_started_response_that_stalls_is_aborted(start_server, tmp_path):
    server = start_server(
        "asgi_apps:forever",
        "--request-timeout",
        "0.5",
        env={"TEST_RECORD_FILE": str(tmp_path / "record.txt")},
    )
    with server.connect() as sock:
        wire = Wire(sock, timeout=10)
        wire.send(get("/forever"))
        status, _ = wire.head()
        assert status == 200
        started = time.monotonic()
        sock.settimeout(10)
        while sock.recv(65536):  # the stream flows until the timeout aborts it
            pass
        assert time.monotonic() - started < 5
    assert server.wait_output("Request timeout")
    # The app's own receive() learns that the client is gone.
    assert wait_for_record(tmp_path / "record.txt", lambda text: "http.disconnect" in text)
