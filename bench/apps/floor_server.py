"""The floor: the least a Python server on uvloop + httptools does per request.

    python floor_server.py wsgi|asgi MODULE:ATTR HOST PORT APP_DIR

NOT a server to use. It has no limits, no checks, no error handling, no flow control,
no timeouts, no Date header and no logging; it assumes every request is a small GET
on a kept-alive HTTP/1.1 connection. What it does is what no server on this stack can
skip: httptools parses the request, the app is called (WSGI: an environ and
start_response; ASGI: a scope, receive and send, run as an asyncio task, as every
asyncio ASGI server does), and the response goes out in one transport write.

The benchmark runs it beside the real servers in the hello scenarios, so the report
shows how much of this machine's ceiling *for this stack* each server keeps: a server
can only beat it by moving work out of Python (bjoern, granian) or by skipping steps.
"""

from __future__ import annotations

import asyncio
import importlib
import socket
import sys
from typing import Any

import httptools
import uvloop

STATUS_LINE = b"HTTP/1.1 %s\r\n"


class FloorProtocol(asyncio.Protocol):
    def __init__(self, call: Any) -> None:
        self.call = call
        self.parser = httptools.HttpRequestParser(self)
        self.headers: list[tuple[bytes, bytes]] = []
        self.url = b""
        self.transport: Any = None

    def connection_made(self, transport: Any) -> None:
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.parser.feed_data(data)

    def on_url(self, url: bytes) -> None:
        self.url = url

    def on_header(self, name: bytes, value: bytes) -> None:
        self.headers.append((name, value))

    def on_message_complete(self) -> None:
        headers, self.headers = self.headers, []
        self.call(self, headers)


def wsgi_caller(app: Any, host: str, port: int) -> Any:
    base = {
        "wsgi.version": (1, 0), "wsgi.url_scheme": "http", "wsgi.multithread": False,
        "wsgi.multiprocess": False, "wsgi.run_once": False, "wsgi.errors": sys.stderr,
        "SERVER_NAME": host, "SERVER_PORT": str(port), "SCRIPT_NAME": "",
        "SERVER_PROTOCOL": "HTTP/1.1",
    }  # fmt: skip

    def call(proto: FloorProtocol, headers: list[tuple[bytes, bytes]]) -> None:
        environ = base.copy()
        path, _, query = proto.url.partition(b"?")
        environ["REQUEST_METHOD"] = proto.parser.get_method().decode()
        environ["PATH_INFO"] = path.decode("latin-1")
        environ["QUERY_STRING"] = query.decode("latin-1")
        for name, value in headers:
            environ["HTTP_" + name.decode().upper().replace("-", "_")] = value.decode("latin-1")
        started: list[Any] = []
        body = app(environ, lambda status, hdrs, exc_info=None: started.extend((status, hdrs)))
        out = [STATUS_LINE % started[0].encode()]
        out += [f"{k}: {v}\r\n".encode("latin-1") for k, v in started[1]]
        out.append(b"\r\n")
        out += body
        proto.transport.write(b"".join(out))

    return call


def asgi_caller(app: Any, host: str, port: int) -> Any:
    loop = asyncio.get_event_loop()
    request = {"type": "http.request", "body": b"", "more_body": False}

    async def receive() -> dict[str, Any]:
        return request

    def call(proto: FloorProtocol, headers: list[tuple[bytes, bytes]]) -> None:
        path, _, query = proto.url.partition(b"?")
        scope = {
            "type": "http", "asgi": {"version": "3.0", "spec_version": "2.4"},
            "http_version": "1.1", "method": proto.parser.get_method().decode(),
            "scheme": "http", "path": path.decode("latin-1"), "raw_path": path,
            "query_string": query, "root_path": "", "server": (host, port),
            "headers": [(n.lower(), v) for n, v in headers],
        }  # fmt: skip
        out: list[bytes] = []

        async def send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                out.append(b"HTTP/1.1 %d \r\n" % message["status"])  # reason phrase optional
                out.extend(b"%s: %s\r\n" % pair for pair in message.get("headers", ()))
                out.append(b"\r\n")
            else:
                out.append(message.get("body", b""))
                if not message.get("more_body"):
                    proto.transport.write(b"".join(out))

        # Not kept: the loop holds a scheduled or waiting task, as in corral's own gateway.
        loop.create_task(app(scope, receive, send))  # noqa: RUF006

    return call


async def serve(interface: str, spec: str, host: str, port: int) -> None:
    module, _, attr = spec.partition(":")
    app = getattr(importlib.import_module(module), attr or "app")
    caller = wsgi_caller if interface == "wsgi" else asgi_caller
    call = caller(app, host, port)
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(1024)
    server = await asyncio.get_running_loop().create_server(lambda: FloorProtocol(call), sock=sock)
    print(f"floor listening on {host}:{port}", flush=True)  # what a caller waits for
    await server.serve_forever()


if __name__ == "__main__":
    interface, spec, host, port, app_dir = sys.argv[1:6]
    sys.path.insert(0, app_dir)
    uvloop.run(serve(interface, spec, host, int(port)))
