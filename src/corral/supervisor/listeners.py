"""Listening sockets from canonical listener strings (``HOST:PORT``, ``[V6]:PORT``,
``unix:PATH``, ``fd://N``). The supervisor binds; workers only accept."""

from __future__ import annotations

import contextlib
import os
import socket
import stat

from corral.errors import BootError


class Listener:
    """A bound, listening socket and how to describe and clean it up."""

    def __init__(
        self,
        sock: socket.socket,
        spec: str,
        unix_path: str | None = None,
        reuse_port: bool = False,
    ) -> None:
        self.sock = sock
        self.spec = spec
        self.unix_path = unix_path
        # With --reuse-port the master's socket only holds the address (bound, not
        # listening): each worker listens on a socket of its own (worker_socket).
        self.reuse_port = reuse_port

    def worker_socket(self, backlog: int) -> socket.socket:
        """The socket a worker accepts on: the shared one, or its own SO_REUSEPORT one."""
        if not self.reuse_port:
            return self.sock
        own = socket.socket(self.sock.family, socket.SOCK_STREAM)
        own.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        own.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        if self.sock.family == socket.AF_INET6:
            own.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        own.bind(self.sock.getsockname())
        own.listen(backlog)
        own.setblocking(False)
        return own

    @property
    def url(self) -> str:
        """``http://HOST:PORT`` with the port actually bound (for port 0)."""
        if self.sock.family == socket.AF_UNIX:
            return f"unix:{self.unix_path or self.sock.getsockname()}"
        host, port = self.sock.getsockname()[:2]
        return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"

    def close(self) -> None:
        self.sock.close()
        if self.unix_path:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self.unix_path)


def bind_all(
    specs: list[str], backlog: int, umask: int = 0, reuse_port: bool = False
) -> list[Listener]:
    """Bind every listener or none: on failure, close the ones bound and raise BootError."""
    listeners: list[Listener] = []
    try:
        for spec in specs:
            listeners.append(bind(spec, backlog, umask, reuse_port))
    except BootError:
        for listener in listeners:
            listener.close()
        raise
    return listeners


def bind(spec: str, backlog: int, umask: int = 0, reuse_port: bool = False) -> Listener:
    """Create, bind and listen on one socket."""
    try:
        if spec.startswith("fd://"):
            return _from_fd(int(spec[5:]), spec)
        if spec.startswith("unix:"):
            return _bind_unix(spec[5:], spec, backlog, umask)
        return _bind_tcp(spec, backlog, reuse_port)
    except OSError as exc:
        raise BootError(f"cannot listen on {spec}: {exc.strerror or exc}") from None


def _bind_tcp(spec: str, backlog: int, reuse_port: bool) -> Listener:
    host, _, port = spec.rpartition(":")
    host = host.strip("[]")
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if reuse_port:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        if family == socket.AF_INET6:
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        sock.bind((host, int(port)))
        if not reuse_port:
            sock.listen(backlog)
    except OSError:
        sock.close()
        raise
    sock.setblocking(False)
    return Listener(sock, spec, reuse_port=reuse_port)


def _bind_unix(path: str, spec: str, backlog: int, umask: int) -> Listener:
    with contextlib.suppress(FileNotFoundError):
        if stat.S_ISSOCK(os.stat(path).st_mode):
            os.unlink(path)  # a stale socket from an earlier run
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    old_umask = os.umask(umask)  # the socket file's mode, as gunicorn's --umask
    try:
        sock.bind(path)
        sock.listen(backlog)
    except OSError:
        sock.close()
        raise
    finally:
        os.umask(old_umask)
    sock.setblocking(False)
    return Listener(sock, spec, unix_path=path)


def inherited_listeners(fds: list[int]) -> dict[str, Listener]:
    """Listeners for passed descriptors, by the canonical address each one holds."""
    found: dict[str, Listener] = {}
    for fd in fds:
        listener = _from_fd(fd, f"fd://{fd}")
        found[_address_of(listener.sock)] = listener
    return found


def _address_of(sock: socket.socket) -> str:
    if sock.family == socket.AF_UNIX:
        return f"unix:{sock.getsockname()}"
    host, port = sock.getsockname()[:2]
    return f"[{host}]:{port}" if sock.family == socket.AF_INET6 else f"{host}:{port}"


def _from_fd(fd: int, spec: str) -> Listener:
    sock = socket.socket(fileno=fd)
    if sock.type != socket.SOCK_STREAM:
        raise BootError(f"{spec} is not a stream socket")
    sock.setblocking(False)
    return Listener(sock, spec)
