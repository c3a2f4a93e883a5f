"""corral's own accept loop.

uvloop's create_server silently drops connections when accept() fails with
EMFILE/ENFILE; here such errors are logged, accepting pauses briefly, and the
worker keeps serving what it has.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import socket
from collections.abc import Callable
from typing import Any

error_log = logging.getLogger("corral.error")

ACCEPT_BATCH = 64  # connections taken per readiness event, so one listener can't hog the loop
RESOURCE_BACKOFF = 0.5  # seconds without accepting after running out of descriptors
_OUT_OF_RESOURCES = {errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM}


class Acceptor:
    """Accepts on one listening socket and hands each connection to the loop."""

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        sock: socket.socket,
        protocol_factory: Callable[[], asyncio.Protocol],
        limit: Any = None,
    ) -> None:
        self.loop = loop
        self.limit = limit  # a ConnectionLimit (--max-connections), or None
        self.sock = sock
        self.protocol_factory = protocol_factory
        self.tcp = sock.family in (socket.AF_INET, socket.AF_INET6)
        self.active = False
        self._pending: set[asyncio.Task[Any]] = set()
        # Told of each connection once it is set up (its protocol) or has failed (None):
        # a draining worker must not stop while connections it accepted are in setup.
        self.on_settled: Callable[[Any], None] | None = None

    def start(self) -> None:
        if not self.active:
            self.active = True
            self.loop.add_reader(self.sock.fileno(), self.accept_ready)

    def stop(self) -> None:
        if self.active:
            self.active = False
            self.loop.remove_reader(self.sock.fileno())

    def accept_ready(self) -> None:
        """Accept what is waiting (up to a batch)."""
        for _ in range(ACCEPT_BATCH):
            if self.limit is not None and not self.limit.room():
                self.stop()
                self.limit.stopped(self)
                return
            try:
                conn, _addr = self.sock.accept()
            except (BlockingIOError, InterruptedError):
                return
            except ConnectionAbortedError:
                continue  # the client gave up while queued
            except OSError as exc:
                if exc.errno in _OUT_OF_RESOURCES:
                    error_log.error(
                        "accept() failed: %s; pausing accepts for %.1f s", exc, RESOURCE_BACKOFF
                    )
                    self.stop()
                    self.loop.call_later(RESOURCE_BACKOFF, self.start)
                    return
                raise
            self._hand_over(conn)

    @property
    def pending(self) -> int:
        """Connections accepted and still being set up by the loop."""
        return len(self._pending)

    def _hand_over(self, conn: socket.socket) -> None:
        conn.setblocking(False)
        if self.tcp:
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        task = self.loop.create_task(self.loop.connect_accepted_socket(self.protocol_factory, conn))
        self._pending.add(task)
        task.add_done_callback(self._connected)

    def _connected(self, task: asyncio.Task[Any]) -> None:
        self._pending.discard(task)
        protocol = None
        if not task.cancelled():
            if task.exception() is not None:
                error_log.warning("could not set up a connection: %s", task.exception())
            else:
                protocol = task.result()[1]
        if self.on_settled is not None:
            self.on_settled(protocol)
