"""Proxy trust against a real server: forwarding headers are believed from trusted
peers only, stripped on request, and the PROXY protocol is read from trusted peers."""

from __future__ import annotations

import json
import socket
import struct

from conftest import run_corral
from wire import Wire, json_seen_by_app

ASGI = "asgi_apps:scope_app"
WSGI = "wsgi_apps:environ_app"


def request(*headers: str, path: str = "/x") -> bytes:
    lines = "".join(f"{h}\r\n" for h in headers)
    return f"GET {path} HTTP/1.1\r\nHost: app.example\r\n{lines}\r\n".encode()


def header(scope: dict, name: str) -> list[str]:
    return [v["b"] for n, v in scope["headers"] if n["b"] == name]


def test_trusted_local_proxy_sets_client_and_scheme_by_default(start_server):
    server = start_server(ASGI)
    scope, _ = json_seen_by_app(
        server, request("X-Forwarded-For: 203.0.113.7", "X-Forwarded-Proto: https")
    )
    assert (scope["client"], scope["scheme"]) == (["203.0.113.7", 0], "https")


def test_wsgi_sees_the_forwarded_client_and_scheme(start_server):
    server = start_server(WSGI)
    environ, _ = json_seen_by_app(
        server,
        request(
            "X-Forwarded-For: 198.51.100.9",
            "X-Forwarded-Proto: https",
            "X-Forwarded-Host: shop.example",
            "X-Forwarded-Port: 443",
        ),
    )
    assert environ["REMOTE_ADDR"] == "198.51.100.9"
    assert environ["wsgi.url_scheme"] == "https"
    assert environ["HTTP_HOST"] == "shop.example"
    assert environ["SERVER_PORT"] == "443"


def test_forwarded_values_do_not_leak_into_the_next_request(start_server):
    server = start_server(WSGI)
    with server.connect() as sock:
        wire = Wire(sock)
        wire.send(request("X-Forwarded-For: 198.51.100.9"))
        assert wire.response().status == 200
        wire.send(request())
        environ = json.loads(wire.response().body)
    assert environ["REMOTE_ADDR"] == "127.0.0.1"


def test_a_spoofed_entry_left_of_the_real_client_is_ignored(start_server):
    server = start_server(ASGI)
    scope, _ = json_seen_by_app(server, request("X-Forwarded-For: 6.6.6.6, 203.0.113.7"))
    assert scope["client"] == ["203.0.113.7", 0]


def test_rfc7239_forwarded_header(start_server):
    server = start_server(ASGI)
    scope, _ = json_seen_by_app(server, request('Forwarded: for="[2001:db8::1]:4711";proto=https'))
    assert (scope["client"], scope["scheme"]) == (["2001:db8::1", 4711], "https")


def test_untrusted_peer_headers_are_ignored(start_server):
    server = start_server(ASGI, "--forwarded-allow-ips", "10.0.0.0/8")
    scope, client = json_seen_by_app(
        server, request("X-Forwarded-For: 203.0.113.7", "X-Forwarded-Proto: https")
    )
    assert (scope["client"], scope["scheme"]) == (list(client), "http")
    assert header(scope, "x-forwarded-for") == ["203.0.113.7"]  # seen, not believed


def test_untrusted_peer_headers_are_stripped_when_asked(start_server):
    server = start_server(ASGI, "--forwarded-allow-ips", "10.0.0.0/8", "--strip-forwarded-headers")
    scope, _ = json_seen_by_app(
        server, request("X-Forwarded-For: 203.0.113.7", "Forwarded: for=1.2.3.4", "X-Other: 1")
    )
    assert header(scope, "x-forwarded-for") == header(scope, "forwarded") == []
    assert header(scope, "x-other") == ["1"]


def test_no_proxy_headers_turns_it_off(start_server):
    server = start_server(ASGI, "--no-proxy-headers")
    scope, client = json_seen_by_app(server, request("X-Forwarded-For: 203.0.113.7"))
    assert scope["client"] == list(client)


def test_forwarded_prefix_mounts_the_app(start_server):
    server = start_server(WSGI, "--forwarded-prefix")
    environ, _ = json_seen_by_app(server, request("X-Forwarded-Prefix: /api", path="/items"))
    assert (environ["SCRIPT_NAME"], environ["PATH_INFO"]) == ("/api", "/items")
    asgi = start_server(ASGI, "--forwarded-prefix")
    scope, _ = json_seen_by_app(asgi, request("X-Forwarded-Prefix: /api", path="/items"))
    assert (scope["root_path"], scope["path"]) == ("/api", "/api/items")


def test_prefix_is_ignored_unless_enabled(start_server):
    server = start_server(WSGI)
    environ, _ = json_seen_by_app(server, request("X-Forwarded-Prefix: /api", path="/items"))
    assert (environ["SCRIPT_NAME"], environ["PATH_INFO"]) == ("", "/items")


def test_proxy_protocol_v1_gives_the_client_address(start_server):
    server = start_server(ASGI, "--proxy-protocol")
    line = b"PROXY TCP4 198.51.100.1 198.51.100.2 5000 80\r\n"
    scope, _ = json_seen_by_app(server, line + request())
    assert (scope["client"], scope["server"]) == (["198.51.100.1", 5000], ["198.51.100.2", 80])


def test_proxy_protocol_v2_byte_by_byte(start_server):
    server = start_server(ASGI, "--proxy-protocol")
    addresses = socket.inet_aton("192.0.2.10") + socket.inet_aton("192.0.2.20")
    block = addresses + struct.pack("!HH", 40000, 8080)
    header_v2 = b"\r\n\r\n\x00\r\nQUIT\n" + bytes([0x21, 0x11]) + struct.pack("!H", len(block))
    with server.connect() as sock:
        for byte in header_v2 + block + request():
            sock.send(bytes([byte]))
        response = Wire(sock).response()
    scope = json.loads(response.body)
    assert scope["client"] == ["192.0.2.10", 40000]


def test_the_real_client_behind_proxy_protocol_is_not_trusted_for_headers(start_server):
    server = start_server(ASGI, "--proxy-protocol")
    line = b"PROXY TCP4 198.51.100.1 198.51.100.2 5000 80\r\n"
    scope, _ = json_seen_by_app(server, line + request("X-Forwarded-For: 6.6.6.6"))
    assert scope["client"] == ["198.51.100.1", 5000]


def test_a_missing_or_bad_proxy_header_gets_400(start_server):
    server = start_server(ASGI, "--proxy-protocol")
    for data in (request(), b"PROXY TCP4 1.2.3.4 nope 1 2\r\n" + request()):
        with server.connect() as sock:
            wire = Wire(sock)
            wire.send(data)
            assert wire.response().status == 400
            assert wire.closed()


def test_proxy_protocol_is_not_read_from_untrusted_peers(start_server):
    server = start_server(ASGI, "--proxy-protocol", "--forwarded-allow-ips", "10.0.0.0/8")
    with server.connect() as sock:
        wire = Wire(sock)
        wire.send(b"PROXY TCP4 198.51.100.1 198.51.100.2 5000 80\r\n" + request())
        # Read as HTTP: "PROXY" is a well-formed method corral does not implement.
        assert wire.response().status == 501
        assert wire.closed()


def test_bad_allow_list_is_a_one_line_config_error(start_server):
    result = run_corral(ASGI, "--forwarded-allow-ips", "10.0.0.1/8", "--check-config")
    assert result.returncode == 2
    assert "has host bits set" in result.stderr and "Traceback" not in result.stderr
