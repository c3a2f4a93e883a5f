"""What every HTTP/1.1 connection of a worker shares: settings, clock, hooks."""

from __future__ import annotations

import asyncio
import logging
import sys
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

from corral.http1.head import DateHeader

if TYPE_CHECKING:
    from corral.http1.exchange import H1Exchange

error_log = logging.getLogger("corral.error")
# Far past any real size, with room for the slack added to it (a C Py_ssize_t when
# compiled: sys.maxsize plus anything would overflow).
UNLIMITED = sys.maxsize // 4
RAW_HEAD_SLACK = 256 * 1024  # one read's worth of body may share a chunk with the head


class Dispatcher(Protocol):
    """The gateway side: told when a request head has arrived and was accepted."""

    def start(self, exchange: H1Exchange) -> None: ...


class H1Limits:
    """Limits and timeouts; 0 disables a size limit."""

    __slots__ = (
        "big_head",
        "body_timeout",
        "drain_limit",
        "first_byte_timeout",
        "header_timeout",
        "keepalive",
        "keepalive_on",
        "min_body_rate",
        "raw_head",
        "request_body",
        "request_field_size",
        "request_fields",
        "request_head",
        "request_line",
        "request_timeout",
        "write_timeout",
    )

    def __init__(self, config: Any) -> None:
        # 0 means unlimited; stored as a huge bound so the hot path compares only.
        self.request_line: int = config.limit_request_line or UNLIMITED
        self.request_fields: int = config.limit_request_fields or UNLIMITED
        self.request_field_size: int = config.limit_request_field_size or UNLIMITED
        self.request_head: int = config.limit_request_head or UNLIMITED
        self.request_body: int = config.limit_request_body or UNLIMITED
        self.drain_limit: int = config.drain_limit
        # Raw bytes of a head still in progress (httptools buffers partial fields).
        self.raw_head = self.request_head + RAW_HEAD_SLACK
        # Past this many raw bytes a head gets the checks of _feed_long_head.
        self.big_head = min(self.raw_head, self.request_field_size)
        self.header_timeout: float = config.header_timeout
        self.first_byte_timeout: float = config.first_byte_timeout
        self.keepalive: float = config.keepalive
        self.keepalive_on = self.keepalive > 0  # --keep-alive 0: close after each response
        self.request_timeout: float = config.request_timeout
        self.min_body_rate: int = config.min_body_rate
        self.body_timeout: float = config.body_timeout
        self.write_timeout: float = config.write_timeout


class H1Context:
    """Shared by all connections of one worker; the worker keeps ``now`` and ``date`` fresh."""

    __slots__ = (
        "access_log",
        "checks_before_app",
        "conn_limit",
        "connections",
        "date",
        "dispatcher",
        "draining",
        "extras",
        "health_path",
        "healthy",
        "limits",
        "loop",
        "now",
        "on_idle",
        "on_request",
        "on_response",
        "proxy",
        "requests",
        "start_exchange",
    )

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        limits: H1Limits,
        dispatcher: Dispatcher,
        *,
        server_header: bool,
        access_log: Callable[[H1Exchange], None] | None,
    ) -> None:
        self.loop = loop
        self.limits = limits
        self.dispatcher = dispatcher
        # Bound once: a connection calls it for every request without a lookup by name.
        self.start_exchange = dispatcher.start
        self.now = loop.time()  # coarse clock, refreshed by the worker's ticker
        self.date = DateHeader(time.time(), b"server: corral\r\n" if server_header else b"")
        self.access_log = access_log
        self.connections: set[Any] = set()
        self.conn_limit: Any = None  # --max-connections: told when a connection ends
        self.proxy: Any = None  # a ProxyPolicy when any proxy setting is on
        self.draining = False
        # True when any optional per-request step is on (access log, request timeout,
        # request hooks, health path, request counting): see H1Connection._before_app.
        self.extras = False
        # True when the request timeout, pre_request hooks or the health path is on.
        self.checks_before_app = False
        self.health_path: bytes | None = None  # answered by corral itself, before the app
        self.requests = 0  # responses completed (for --max-requests)
        # pre_request/post_request hooks of a gunicorn-style config, when defined.
        self.on_request: Callable[[H1Exchange], None] | None = None
        self.on_response: Callable[[H1Exchange], None] | None = None
        self.healthy = True  # False from the start of a shutdown (the health path says 503)
        self.on_idle: Callable[[], None] | None = None  # worker: "a connection went idle"
