"""Raw-socket HTTP/1.1 helpers shared by the integration tests.

``Wire`` reads responses byte-exactly, so a stray or missing byte shows up as a
parse failure; the request builders write exactly the bytes a test means.
"""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

# -- a strict raw-socket HTTP/1.1 response reader --------------------------------------------


class Response:
    """One parsed response: status, header pairs (names lowercased), decoded body."""

    def __init__(
        self,
        status: int,
        headers: list[tuple[str, str]],
        body: bytes,
        chunked_complete: bool = True,
    ) -> None:
        self.status = status
        self.headers = headers
        self.body = body
        self.chunked_complete = chunked_complete

    def get(self, name: str) -> str | None:
        values = self.get_all(name)
        return values[0] if values else None

    def get_all(self, name: str) -> list[str]:
        return [v for n, v in self.headers if n == name.lower()]

    def __repr__(self) -> str:
        return f"<Response {self.status} {self.headers} {self.body[:200]!r}>"


class Wire:
    """Reads HTTP/1.1 responses from a raw socket, keeping unread bytes for the next one."""

    def __init__(self, sock: socket.socket, timeout: float = 5.0) -> None:
        self.sock = sock
        self.buf = b""
        sock.settimeout(timeout)

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def _fill(self) -> bool:
        try:
            data = self.sock.recv(262144)
        except ConnectionResetError:
            data = b""
        if data:
            self.buf += data
        return bool(data)

    def read_until(self, sep: bytes) -> bytes:
        while sep not in self.buf:
            if not self._fill():
                raise EOFError(f"connection closed while waiting for {sep!r}: {self.buf[:300]!r}")
        out, _, self.buf = self.buf.partition(sep)
        return out

    def read_exact(self, n: int) -> bytes:
        while len(self.buf) < n:
            if not self._fill():
                raise EOFError(f"connection closed with {len(self.buf)} of {n} bytes")
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def head(self) -> tuple[int, list[tuple[str, str]]]:
        """Read a status line and headers (an interim 1xx response counts as one)."""
        raw = self.read_until(b"\r\n\r\n").decode("latin-1")
        status_line, *lines = raw.split("\r\n")
        version, code, *_ = status_line.split(" ", 2)
        assert version == "HTTP/1.1", f"bad status line {status_line!r}"
        headers = []
        for line in lines:
            name, sep, value = line.partition(":")
            assert sep and name == name.strip(), f"bad header line {line!r}"
            headers.append((name.lower(), value.strip()))
        return int(code), headers

    def response(self, method: str = "GET", allow_incomplete: bool = False) -> Response:
        """Read one final response, its body framed as its headers say."""
        status, headers = self.head()
        resp = Response(status, headers, b"")
        length = resp.get("content-length")
        if method == "HEAD" or status in (204, 304) or 100 <= status < 200:
            return resp
        if (resp.get("transfer-encoding") or "").lower() == "chunked":
            resp.body, resp.chunked_complete = self.read_chunked(allow_incomplete)
        elif length is not None:
            resp.body = self.read_exact(int(length))
        else:
            resp.body = self.rest()
        return resp

    def read_chunked(self, allow_incomplete: bool) -> tuple[bytes, bool]:
        parts = []
        try:
            while True:
                size = int(self.read_until(b"\r\n").split(b";")[0], 16)
                if size == 0:
                    self.read_until(b"\r\n")
                    return b"".join(parts), True
                parts.append(self.read_exact(size))
                assert self.read_exact(2) == b"\r\n", "chunk not followed by CRLF"
        except EOFError:
            if not allow_incomplete:
                raise
            return b"".join(parts) + self.buf, False

    def rest(self) -> bytes:
        """Everything until the server closes the connection (which it must do in time)."""
        try:
            while self._fill():
                pass
        except TimeoutError:
            raise AssertionError(f"the server did not close; got {self.buf[:300]!r}") from None
        out, self.buf = self.buf, b""
        return out

    def closed(self, timeout: float = 3.0) -> bool:
        """True when the server closes the connection (having sent nothing more) in time."""
        self.sock.settimeout(timeout)
        try:
            more = self._fill()
        except TimeoutError:
            return False
        assert not more, f"unexpected bytes after the response: {self.buf[:300]!r}"
        return True


def get(path: str, host: str = "localhost", extra: str = "", version: str = "1.1") -> bytes:
    return f"GET {path} HTTP/{version}\r\nHost: {host}\r\n{extra}\r\n".encode()


def chunked(body: bytes, size: int) -> bytes:
    """``body`` in the chunked transfer coding, ``size`` bytes per chunk."""
    out = [
        b"%x\r\n%b\r\n" % (len(body[i : i + size]), body[i : i + size])
        for i in range(0, len(body), size)
    ]
    return b"".join(out) + b"0\r\n\r\n"


def wait_for_record(path: Path, predicate: Callable[[str], bool], timeout: float = 5.0) -> str:
    """Poll the app's record file until ``predicate(text)`` holds; return the text."""
    deadline = time.monotonic() + timeout
    text = ""
    while time.monotonic() < deadline:
        text = path.read_text() if path.exists() else ""
        if predicate(text):
            return text
        time.sleep(0.02)
    return text


def wait_new_output(server: Any, before: int, needle: str, timeout: float = 5.0) -> str:
    """Server output written after offset ``before``, once it contains ``needle``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and needle not in server.output[before:]:
        time.sleep(0.02)
    return server.output[before:]


def json_seen_by_app(server: Any, request: bytes) -> tuple[dict[str, Any], tuple[str, int]]:
    """The JSON an app answered a raw request with (its environ or scope), and the
    client's (host, port)."""
    with server.connect() as sock:
        client = sock.getsockname()
        wire = Wire(sock)
        wire.send(request)
        resp = wire.response()
    assert resp.status == 200, resp
    return json.loads(resp.body), client
