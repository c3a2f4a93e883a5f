"""The app can never put an invalid response on the wire: status codes, 204/304/HEAD
bodies and framing, and error pages that say nothing about the server."""

from __future__ import annotations

import pytest
from wire import Wire, get

from corral.gateway.response import InvalidResponse, final_status, parse_wsgi_status

APP = "asgi_apps:late_reader"


@pytest.mark.parametrize("status", [0, 99, 100, 101, 103, 600, 999])
def test_statuses_that_cannot_end_a_response_are_refused(status):
    with pytest.raises(InvalidResponse):
        final_status(status)


def test_wsgi_status_strings():
    assert parse_wsgi_status("204 No Content") == 204
    for bad in ("101 Switching Protocols", "600 Nope", "20 OK", "200OK", "abc"):
        with pytest.raises(InvalidResponse):
            parse_wsgi_status(bad)


@pytest.mark.parametrize("status", [101, 103, 600])
def test_asgi_app_sending_an_invalid_status_gets_500(start_server, status):
    server = start_server(APP)
    wire = Wire(server.connect())
    wire.send(get(f"/?status={status}"))
    response = wire.response()
    assert response.status == 500
    wire.send(get("/?status=200"))  # the connection is still in order
    assert wire.response().status == 200


def test_204_never_carries_content_length_or_a_body(start_server):
    server = start_server(APP)  # the app says content-length: 0 on it, as Django does
    wire = Wire(server.connect())
    wire.send(get("/?status=204") + get("/?status=200"))
    status, headers = wire.head()
    assert status == 204
    assert "content-length" not in dict(headers)
    assert wire.response().status == 200  # nothing stray between the two


def test_304_and_head_keep_the_length_but_send_no_body(start_server):
    server = start_server("asgi_apps:hello")
    wire = Wire(server.connect())
    wire.send(b"HEAD / HTTP/1.1\r\nHost: x\r\n\r\n" + get("/"))
    head = wire.response("HEAD")
    full = wire.response()
    assert head.status == full.status == 200
    assert head.get("content-length") == str(len(full.body))


def test_error_pages_are_small_and_say_nothing_of_the_server(start_server):
    server = start_server("asgi_apps:boom")
    wire = Wire(server.connect())
    wire.send(get("/"))
    response = wire.response()
    assert (response.status, response.body) == (500, b"500 Internal Server Error\n")
    wire = Wire(server.connect())
    wire.send(b"GET / HTTP/1.1\r\nHost: a\r\nX: \x01\r\n\r\n")
    response = wire.response()
    assert (response.status, response.body) == (400, b"400 Bad Request\n")
    assert response.get("server") == "corral"  # no version, ever


def test_streamed_and_whole_responses_stay_in_order_when_pipelined(start_server):
    # Streamed pieces are queued and written at the end of a loop turn; a whole
    # response that follows on the same connection must still come after them.
    server = start_server("wsgi_apps:path_pieces")
    paths = [f"/stream/{n}" if n % 2 else f"/whole/{n}" for n in range(30)]
    wire = Wire(server.connect())
    wire.send(b"".join(get(path) for path in paths))
    assert [wire.response().body.decode() for _ in paths] == paths


def test_a_big_streamed_response_arrives_whole(start_server):
    server = start_server("asgi_apps:attack_target")  # /big: 8 MiB in 64 KiB chunks
    wire = Wire(server.connect(), timeout=20)
    wire.send(get("/big?mib=8") + get("/big?mib=1"))
    first, second = wire.response(), wire.response()
    assert (len(first.body), len(second.body)) == (8 << 20, 1 << 20)
    assert first.body[: 1 << 20] == second.body
