"""systemd integration: socket activation (LISTEN_FDS) and readiness (NOTIFY_SOCKET)."""

from __future__ import annotations

import contextlib
import socket
from collections.abc import MutableMapping

SD_LISTEN_FDS_START = 3  # sd_listen_fds(3): passed sockets start at descriptor 3


def activation_fds(environ: MutableMapping[str, str], pid: int) -> list[int]:
    """Descriptors systemd passed to this process, removed from the environment so
    that child processes do not take them for their own (sd_listen_fds semantics)."""
    if environ.get("LISTEN_PID") != str(pid):
        return []
    try:
        count = int(environ.get("LISTEN_FDS", "0"))
    except ValueError:
        return []
    for name in ("LISTEN_PID", "LISTEN_FDS", "LISTEN_FDNAMES"):
        environ.pop(name, None)
    return list(range(SD_LISTEN_FDS_START, SD_LISTEN_FDS_START + count))


class Notifier:
    """Sends sd_notify(3) messages when NOTIFY_SOCKET is set (Type=notify units)."""

    def __init__(self, environ: MutableMapping[str, str]) -> None:
        path = environ.pop("NOTIFY_SOCKET", "")  # workers must not talk to systemd
        if path.startswith("@"):
            path = "\0" + path[1:]  # an abstract socket
        self.address = path or None

    def send(self, message: str) -> None:
        """Send e.g. ``READY=1``, ``STOPPING=1``, ``STATUS=...``; errors are ignored."""
        if self.address is None:
            return
        with (
            contextlib.suppress(OSError),
            socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock,
        ):
            sock.connect(self.address)
            sock.sendall(message.encode())
