"""Overload protection of one worker: --max-connections and --limit-concurrency.

Both bound what a flood can make a worker hold. At the connection limit the
worker closes its longest-idle keep-alive connection to make room (a client
retries a request on a closed idle connection), and when none is idle it stops
accepting, leaving new connections in the kernel's backlog. Beyond the
concurrency limit requests wait in a bounded queue for a bounded time, then get
503 with Retry-After, instead of piling up in memory.
"""

from __future__ import annotations

import logging
from collections import deque
from typing import Any

error_log = logging.getLogger("corral.error")
RETRY_AFTER = b"retry-after: 1\r\n"


class ConnectionLimit:
    """Keeps the worker's open connections at or under ``maximum``."""

    def __init__(self, connections: set[Any], maximum: int) -> None:
        self.connections = connections
        self.maximum = maximum
        self.acceptors: list[Any] = []
        self.evicting: set[Any] = set()  # closed for room, connection_lost not yet seen
        self.paused: list[Any] = []
        self._warned = False

    def room(self) -> bool:
        """True when one more connection may be accepted (perhaps after closing an
        idle keep-alive one); False when the acceptor should stop for now."""
        pending = sum(acceptor.pending for acceptor in self.acceptors)
        if len(self.connections) - len(self.evicting) + pending < self.maximum:
            return True
        victim = self._longest_idle()
        if victim is None:
            if not self._warned:
                self._warned = True
                error_log.warning(
                    "--max-connections (%d) reached and none idle: new connections wait",
                    self.maximum,
                )
            return False
        self.evicting.add(victim)
        victim.evict()
        return True

    def _longest_idle(self) -> Any:
        victim = None
        for conn in self.connections:
            if (
                conn.kept_alive_idle
                and conn not in self.evicting
                and (victim is None or conn.idle_since < victim.idle_since)
            ):
                victim = conn
        return victim

    def stopped(self, acceptor: Any) -> None:
        """An acceptor stopped for want of room: restart it when a connection ends."""
        self.paused.append(acceptor)

    def lost(self, conn: Any) -> None:
        """A connection ended (called from its connection_lost)."""
        self.evicting.discard(conn)
        if self.paused:
            self._warned = False
            paused, self.paused = self.paused, []
            for acceptor in paused:
                acceptor.start()


class ConcurrencyGate:
    """A dispatcher in front of the gateway that admits at most ``limit`` requests
    at once; the gateway counts what is in flight (``busy``) and calls ``on_done``."""

    def __init__(self, gateway: Any, limit: int, queue_size: int, queue_timeout: float) -> None:
        self.gateway = gateway
        self.limit = limit
        self.queue_size = queue_size
        self.queue_timeout = queue_timeout
        self.queue: deque[tuple[float, Any]] = deque()
        gateway.on_done = self.pump

    def start(self, exchange: Any) -> None:
        """Run the request now, queue it, or refuse it when the queue is full."""
        if not self.queue and self.gateway.busy < self.limit:
            self.gateway.start(exchange)
        elif len(self.queue) < self.queue_size:
            self.queue.append((exchange.conn.ctx.now, exchange))
        else:
            exchange.fail(503, RETRY_AFTER)

    def pump(self) -> None:
        """A request ended: start queued ones while there is room."""
        queue = self.queue
        while queue and self.gateway.busy < self.limit:
            _, exchange = queue.popleft()
            if not (exchange.finished or exchange.disconnected):
                self.gateway.start(exchange)

    def expire(self, now: float) -> None:
        """Answer 503 to requests that waited longer than the queue timeout."""
        queue = self.queue
        while queue and (queue[0][0] + self.queue_timeout <= now or queue[0][1].disconnected):
            _, exchange = queue.popleft()
            if not (exchange.finished or exchange.disconnected):
                exchange.fail(503, RETRY_AFTER)
