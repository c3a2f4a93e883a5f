"""Listeners beyond HOST:PORT: unix sockets (--uds / -b unix:) and inherited sockets (--fd)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import conftest


def http_get_unix(path: Path) -> bytes:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(5)
        sock.connect(str(path))
        sock.sendall(b"GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def test_unix_socket_serves_and_is_removed_on_exit(start_server, tmp_path: Path):
    path = tmp_path / "corral.sock"
    server = start_server("wsgi_apps:hello", "--uds", str(path), bind=False, wait=False)
    assert server.wait_output(f"Listening at: unix:{path}")
    response = http_get_unix(path)
    assert response.startswith(b"HTTP/1.1 200 ")
    assert response.endswith(b"hello")
    assert server.stop() == 0
    assert not path.exists()


def test_inherited_socket_is_served(tmp_path: Path):
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(conftest.APPS), str(conftest.ROOT / "src")])
    proc = subprocess.Popen(
        [sys.executable, "-m", "corral", "wsgi_apps:hello", "--fd", str(listener.fileno())],
        cwd=conftest.APPS,
        env=env,
        pass_fds=[listener.fileno()],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    listener.close()  # the server holds its own copy now
    try:
        # The socket was listening before the server started: connecting needs no wait.
        with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
            sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            data = b""
            while chunk := sock.recv(65536):
                data += chunk
        assert data.startswith(b"HTTP/1.1 200 ") and data.endswith(b"hello")
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(15) == 0
