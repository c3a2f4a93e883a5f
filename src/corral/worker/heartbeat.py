"""The worker's side of the liveness pipe to the master.

The worker's event loop writes a byte at most once a second from its ticker, so
a worker whose loop is blocked (a stuck app, an endless loop) stops beating and
the master notices. Nothing touches the filesystem (a temporary directory may
sit on a slow overlay filesystem in containers).
"""

from __future__ import annotations

import os

BEAT = b"."
READY = b"R"  # the app is loaded, lifespan startup is done, accepting has begun
RECYCLE = b"M"  # max requests reached: please start my replacement, then stop me
INTERVAL = 1.0  # seconds between beats


class Heartbeat:
    """Writes beats into the pipe the master reads; never blocks the loop."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.last = -INTERVAL
        os.set_blocking(fd, False)

    def ready(self) -> None:
        self._write(READY)

    def recycle(self) -> None:
        self._write(RECYCLE)

    def beat(self, now: float) -> None:
        if now - self.last >= INTERVAL:
            self.last = now
            self._write(BEAT)

    def _write(self, data: bytes) -> None:
        try:
            os.write(self.fd, data)
        except BlockingIOError:
            pass  # the master is behind on reading: it has beats enough
        except OSError:
            pass  # the master is gone; the worker will be told to stop or orphaned
