"""Shared fixtures: start a real corral server on an OS-chosen port.

The server is started as a subprocess with ``--bind 127.0.0.1:0``; it logs
``Listening at: http://HOST:PORT`` on stderr once its socket is bound, and the
fixture reads that line back instead of sleeping or assuming a port.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
APPS = Path(__file__).resolve().parent / "apps"
LISTEN_RE = re.compile(r"Listening at: http://(\[[^\]]+\]|[^:\s]+):(\d+)")


class Server:
    """A running corral subprocess and the lines it has written."""

    def __init__(self, args: list[str], cwd: Path | None, env: dict[str, str] | None) -> None:
        full_env = dict(os.environ)
        full_env["PYTHONPATH"] = os.pathsep.join(
            [str(APPS), str(ROOT / "src"), full_env.get("PYTHONPATH", "")]
        )
        full_env["PYTHONUNBUFFERED"] = "1"
        if env:
            full_env.update(env)
        self.args = args
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "corral", *args],
            cwd=cwd or APPS,
            env=full_env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.stdout_lines: list[str] = []
        self.stderr_lines: list[str] = []
        self._listening = threading.Event()
        self.host = ""
        self.port = 0
        threading.Thread(
            target=self._pump, args=(self.proc.stdout, self.stdout_lines), daemon=True
        ).start()
        threading.Thread(
            target=self._pump, args=(self.proc.stderr, self.stderr_lines), daemon=True
        ).start()

    def _pump(self, stream: Any, sink: list[str]) -> None:
        for line in stream:
            sink.append(line)
            match = LISTEN_RE.search(line)
            if match and not self._listening.is_set():
                self.host = match.group(1).strip("[]")
                self.port = int(match.group(2))
                self._listening.set()
        self._listening.set()  # process ended: unblock waiters

    def wait_listening(self, timeout: float = 20.0) -> Server:
        if not self._listening.wait(timeout) or not self.port:
            self.stop()
            raise RuntimeError("corral did not start:\n" + self.output)
        return self

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def output(self) -> str:
        return "".join(self.stderr_lines) + "".join(self.stdout_lines)

    def connect(self, timeout: float = 10.0) -> socket.socket:
        sock = socket.create_connection((self.host, self.port), timeout=timeout)
        return sock

    def wait_output(self, needle: str, timeout: float = 10.0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if needle in self.output:
                return True
            time.sleep(0.02)
        return needle in self.output

    def signal(self, sig: int) -> None:
        self.proc.send_signal(sig)

    def wait(self, timeout: float = 20.0) -> int:
        return self.proc.wait(timeout)

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        return self.proc.returncode


@pytest.fixture
def start_server() -> Iterator[Any]:
    """Factory: ``start_server("app:wsgi_app", "--threads", "2")`` -> running Server."""
    started: list[Server] = []

    def start(
        *args: str,
        cwd: Path | None = None,
        env: dict[str, str] | None = None,
        wait: bool = True,
        bind: bool = True,
    ) -> Server:
        argv = list(args)
        if bind and "--bind" not in argv and "-b" not in argv:
            argv += ["--bind", "127.0.0.1:0"]
        server = Server(argv, cwd, env)
        started.append(server)
        return server.wait_listening() if wait else server

    yield start
    for server in started:
        server.stop()


def run_corral(
    *args: str, cwd: Path | None = None, env: dict[str, str] | None = None, timeout: float = 30.0
) -> subprocess.CompletedProcess[str]:
    """Run corral to completion (for config checks and start-up errors)."""
    full_env = dict(os.environ)
    full_env["PYTHONPATH"] = os.pathsep.join([str(APPS), str(ROOT / "src")])
    if env:
        full_env.update(env)
    return subprocess.run(
        [sys.executable, "-m", "corral", *args],
        cwd=cwd or APPS,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def http_exchange(sock: socket.socket, data: bytes, timeout: float = 5.0) -> bytes:
    """Send raw bytes and read until the server closes or goes quiet."""
    sock.settimeout(timeout)
    sock.sendall(data)
    chunks = []
    try:
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                break
            chunks.append(chunk)
    except TimeoutError:
        pass
    return b"".join(chunks)
