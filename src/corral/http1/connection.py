"""The HTTP/1.1 connection: parser callbacks, limits, pipelining, keep-alive.

Lifecycle (one place, as DESIGN.md rule 5 asks):

    IDLE --first byte--> HEAD --head accepted--> BUSY --response done--> IDLE
      |                    |                       |  (keep-alive; or the next
      |                    |                       |   pipelined request: BUSY)
      +--timeout--> CLOSED +--limit/timeout/bad--> CLOSED (error answered first)

While BUSY the parser keeps running over the request body; a complete second
request that arrives meanwhile waits in ``pipeline`` (reading paused), so
responses go out in order. Bytes after an Upgrade/CONNECT point are never parsed.
"""

from __future__ import annotations

import asyncio
from collections import deque
from typing import Any

import httptools

from corral.errors import (
    BadRequest,
    HeadersTooLarge,
    PayloadTooLarge,
    ProtocolError,
    URITooLong,
    VersionNotSupported,
)
from corral.http1.admission import before_app, refuse_upgrade
from corral.http1.context import H1Context, error_log
from corral.http1.exchange import H1Exchange, request_clock
from corral.http1.forwarding import apply_forwarding
from corral.http1.guards import ConnectionGuards
from corral.http1.pacing import BusyTimers
from corral.http1.request_head import (
    FRAMING_NAME_SIZES,
    LINE_METHODS,
    METHODS,
    VALID_HOSTS,
    head_size,
    lowered_names,
    other_target_form,
    read_framing,
)
from corral.http1.state import BUSY, CLOSED, HEAD, IDLE
from corral.proxy import FORWARDING_HEADERS

HIGH_WATER = 256 * 1024  # unread request body held before reading pauses
# The compiled build takes lowered names from a table and tests a value's last byte
# before calling rstrip; in CPython's interpreter both take more bytecode than the
# method calls they avoid (docs/performance.md, round three), so the source keeps them.
_COMPILED = not __file__.endswith(".py")
_LOWERED = lowered_names() if _COMPILED else {}

# The parser's methods, called unbound: a call through these skips the lookup by name
# that ``parser.method()`` costs the compiled build for every request (the parser's
# type is unknown to Cython). The same speed in the pure-Python build.
_feed_data = httptools.HttpRequestParser.feed_data
_http_version = httptools.HttpRequestParser.get_http_version
_raw_method = httptools.HttpRequestParser.get_method
_should_keep_alive = httptools.HttpRequestParser.should_keep_alive
_should_upgrade = httptools.HttpRequestParser.should_upgrade


class H1Connection(ConnectionGuards, asyncio.Protocol):
    """One client connection speaking HTTP/1.1 (and 1.0)."""

    __slots__ = (
        "_body_bytes",
        "_body_start",
        "_chunk_meta",
        "_chunks",
        "_drain_waiter",
        "_drained",
        "_error_due",
        "_field_mark",
        "_framing",
        "_head_size",
        "_headers",
        "_in_trailers",
        "_kept",
        "_method_start",
        "_out",
        "_out_size",
        "_proxy_buffer",
        "_reading_paused",
        "_start",
        "_trailers",
        "_upgrade",
        "_url",
        "client",
        "ctx",
        "current",
        "deadline",
        "forwarding",
        "idle_since",
        "limits",
        "loop",
        "parser",
        "pipeline",
        "receiving",
        "scratch",
        "server",
        "state",
        "timers",
        "transport",
        "write_paused",
    )

    def __init__(self, ctx: H1Context) -> None:
        self.ctx = ctx
        self.loop = ctx.loop
        self.limits = ctx.limits
        self.parser = httptools.HttpRequestParser(self)
        self.state = IDLE
        self.transport: Any = None
        self.client: tuple[str, int] | None = None
        self.server: tuple[str, int] | None = None
        self.deadline = 0.0
        self.idle_since = 0.0  # coarse clock when the connection last went idle
        self.current: H1Exchange | None = None  # being answered
        self.receiving: H1Exchange | None = None  # whose body the parser is reading
        # Made on the first pipelined request: an empty deque is 760 bytes, ~0.7 MiB
        # over 1,000 idle keep-alive connections (bench/run.py idle-asgi).
        self.pipeline: deque[H1Exchange] | None = None
        self.scratch: Any = None  # per-connection data a gateway caches (WSGI: base environ)
        self.write_paused = False
        self._drain_waiter: asyncio.Future[None] | None = None
        self._reading_paused = False
        self._drained = 0
        self._url = b""
        self._headers: list[tuple[bytes, bytes]] = []
        self._head_size = 0
        self._framing: list[tuple[bytes, bytes]] = []  # framing-related fields of the head
        self._in_trailers = False
        self._trailers = self._chunks = self._chunk_meta = 0
        self._body_bytes = 0  # body bytes received on this connection, for rate checks
        self._body_start = 0  # _body_bytes when the body being received began
        limits = self.limits
        self.timers = BusyTimers(
            min_body_rate=limits.min_body_rate,
            body_timeout=limits.body_timeout,
            write_timeout=limits.write_timeout,
            request_timeout=limits.request_timeout,
        )
        # The first bytes of the request being received when it began a packet (its
        # method is read from them, and 501 or 400 is told from them); None when the
        # request began inside a packet after another one.
        self._start: bytes | None = b""
        self._method_start: bytes | None = None  # a refused method, until its end is seen
        self._error_due: ProtocolError | None = None  # answered after earlier requests
        self._field_mark = 0  # _head_size when a header field last completed
        self._upgrade = False
        self._out: list[bytes] | None = None
        self._out_size = 0
        self._kept = False  # has answered a request (so an idle spell is keep-alive)
        self.forwarding = False  # requests need a proxy-header step (see forwarding.py)
        self._proxy_buffer: bytes | None = None  # a PROXY protocol header is due

    # -- asyncio.Protocol ----------------------------------------------------------

    def connection_made(self, transport: Any) -> None:  # type: ignore[override]
        self.transport = transport
        self.client = _address(transport.get_extra_info("peername"))
        self.server = _address(transport.get_extra_info("sockname"))
        self.ctx.connections.add(self)
        policy = self.ctx.proxy
        if policy is not None:
            self.forwarding = policy.per_request(self.client)
            if policy.expects_proxy_header(self.client):
                self._proxy_buffer = b""
        self.idle_since = self.ctx.now
        timeout = self.limits.first_byte_timeout
        self.deadline = self.ctx.now + timeout if timeout else 0.0

    def connection_lost(self, exc: Exception | None) -> None:
        self.state = CLOSED
        self._out = None
        self.ctx.connections.discard(self)
        if self.ctx.conn_limit is not None:
            self.ctx.conn_limit.lost(self)
        for exchange in (self.current, self.receiving, *(self.pipeline or ())):
            if exchange is not None:
                exchange.disconnected = True
                exchange.wake()
                if exchange.on_writable is not None:
                    exchange.on_writable()  # lets a paused WSGI iteration stop and close()
        self.pipeline = None
        if self._drain_waiter is not None and not self._drain_waiter.done():
            self._drain_waiter.set_result(None)
        if self.ctx.draining and self.ctx.on_idle is not None:
            self.ctx.on_idle()

    def data_received(self, data: bytes) -> None:
        state = self.state
        if state is IDLE:
            if self._proxy_buffer is not None:
                data = self._take_proxy_header(data)
                if not data:
                    return
            self.state = state = HEAD
            self._start = data
            timeout = self.limits.header_timeout
            self.deadline = self.ctx.now + timeout if timeout else 0.0
        elif state is CLOSED or self._upgrade:
            # Never parse past an upgrade point, nor after an error.
            if self._method_start is not None and state is not CLOSED:
                self._more_method(data)
            return
        if self.receiving is None:
            # These bytes start or continue a request head (also a pipelined one
            # behind a busy request). httptools buffers a partial field itself,
            # so its memory is bounded here, by the bytes it has been given.
            size = self._head_size + len(data)
            self._head_size = size
            start = self._start
            if start is not None and start is not data and len(start) < 64:
                self._start = start + data[:64]
            if size > self.limits.big_head:  # one test on the plain path for two limits
                self._feed_long_head(data, size)
                return
        elif self.receiving.chunked_request:
            self._feed_chunked(data)
            return
        try:  # inline rather than a call to _feed: this runs for every request
            _feed_data(self.parser, data)
        except (httptools.HttpParserError, httptools.HttpParserUpgrade) as exc:
            self._parse_stopped(exc, data)

    def on_url(self, url: bytes) -> None:
        if self._url:
            url = self._url + url
        self._url = url
        if len(url) > self.limits.request_line:
            raise URITooLong("request line too long")

    def on_header(self, name: bytes, value: bytes) -> None:
        if self._in_trailers:
            self._trailer(name, value)
            return
        if len(name) + len(value) > self.limits.request_field_size:
            raise HeadersTooLarge("request header field too large")
        # llhttp drops the whitespace before a value but keeps what follows it,
        # which RFC 9112 §5 says is not part of the value.
        if _COMPILED:
            lowered = _LOWERED.get(name)
            name = name.lower() if lowered is None else lowered
            if value:
                last = value[-1]
                if last == 32 or last == 9:
                    value = value.rstrip(b" \t")
        else:
            name = name.lower()
            value = value.rstrip(b" \t")
        if len(name) in FRAMING_NAME_SIZES:
            # host, expect, content-length or transfer-encoding perhaps: a length
            # test first skips nearly every other field without a comparison.
            self._framing.append((name, value))
        self._headers.append((name, value))

    def on_chunk_header(self) -> None:
        self._chunks += 1

    def on_headers_complete(self) -> None:
        self._in_trailers = True
        parser = self.parser
        method, version = self._request_line()
        if version != "1.1" and version != "1.0":
            raise VersionNotSupported(f"HTTP/{version} is not supported")
        headers = self._headers
        limits = self.limits
        if len(headers) > limits.request_fields:
            raise HeadersTooLarge("too many request header fields")
        # The raw byte count is an upper bound of the head's size: only when it
        # passes the limit is the exact size worth computing.
        if self._head_size > limits.request_head and head_size(self._url, headers) > (
            limits.request_head
        ):
            raise HeadersTooLarge("request head too large")
        url = self._url
        if url[:1] != b"/":
            url, headers = other_target_form(url, method, headers)
        exchange = H1Exchange(
            self, method, url, version, headers, limits.keepalive_on and _should_keep_alive(parser)
        )
        self._url = b""
        self._headers = []
        self._head_size = self._field_mark = 0
        self._start = None  # where a request that follows in this packet begins is unknown
        if _should_upgrade(parser):  # Upgrade or CONNECT
            exchange.upgrade = True
        framing = self._framing
        if len(framing) == 1 and framing[0][0] == b"host" and framing[0][1] in VALID_HOSTS:
            framing.clear()  # the usual head: one known Host, no body
        elif framing:
            read_framing(exchange, version, framing)
            framing.clear()
        elif version == "1.1":
            raise BadRequest("an HTTP/1.1 request needs exactly one Host header")
        self.receiving = exchange
        if exchange.has_body:
            self._expect_body(exchange)

    def _request_line(self) -> tuple[str, str]:
        """The method and the HTTP version as text, read from the request's first
        bytes when they began a packet and hold the whole request line: the parser's
        get_method() and get_http_version() cost ~2,500 and ~2,300 instructions (the
        version is formatted anew each time), this a few hundred.

        Those bytes can hold a method's tail only if its head ended the previous
        packet, and no method llhttp knows ends with one of LINE_METHODS
        (GET_PARAMETER begins with GET), so a match is the method llhttp parsed. The
        version then follows the target llhttp reported, one space on: a target holds
        no space and no CRLF, so " HTTP/1.1\r\n" found there ends the request line."""
        start = self._start
        if start:
            # startswith, not slices: Cython compiles it to a memcmp for bytes.
            method: str | None = "GET"
            if not start.startswith(b"GET "):  # most requests: no search, no table
                method = LINE_METHODS.get(start[: start.find(b" ") + 1])
            if method is not None:
                at = len(method) + 1 + len(self._url)
                if start.startswith(b" HTTP/1.1\r\n", at):
                    return method, "1.1"
                if start.startswith(b" HTTP/1.0\r\n", at):
                    return method, "1.0"
                return method, _http_version(self.parser)
        raw = _raw_method(self.parser)
        return METHODS.get(raw) or raw.decode("ascii"), _http_version(self.parser)

    def _expect_body(self, exchange: H1Exchange) -> None:
        """A request with a body: checked, clocked and dispatched now (the app may read
        the body as it arrives); one without waits for on_message_complete."""
        if (exchange.content_length or 0) > self.limits.request_body:
            raise PayloadTooLarge("request body too large")
        if exchange.chunked_request:
            self._trailers = self._chunks = self._chunk_meta = 0
        self._body_start = self._body_bytes
        if not exchange.expect_continue:
            self.open_body_window()
        self._take(exchange)

    def _take(self, exchange: H1Exchange) -> None:
        """Begin an exchange now, or queue it behind the one being answered."""
        if self.current is None:
            self._begin(exchange)
        else:
            if self.pipeline is None:
                self.pipeline = deque()
            self.pipeline.append(exchange)
            self._pause_reading()

    def on_body(self, body: bytes) -> None:
        self._body_bytes += len(body)
        exchange = self.receiving
        if exchange is None:
            return
        buffer = exchange.body
        if buffer.received + len(body) > self.limits.request_body:
            raise PayloadTooLarge("request body too large")
        if exchange.finished:
            self._drained += len(body)
            if self._drained > self.limits.drain_limit:
                self._close()
            return
        buffer.append(body)
        exchange.wake()
        over = exchange.on_body_over
        if over is not None and buffer.received > over[0]:
            exchange.on_body_over = None
            over[1]()
        if buffer.buffered > HIGH_WATER and not buffer.spool_over:
            self._pause_reading()

    def on_message_complete(self) -> None:
        exchange = self.receiving
        self.receiving = None
        self._in_trailers = False
        if exchange is None:
            return
        exchange.request_complete = True
        if not exchange.has_body:
            self._take(exchange)  # llhttp calls this right after on_headers_complete
            return
        if self.timers.body:
            self.timers.stop_body_window()
            self._arm()
        if exchange._waiter is not None:
            exchange.wake()
        callback = exchange.on_request_complete
        if callback is not None:
            exchange.on_request_complete = None
            callback(exchange)
        if exchange.finished and self.current is exchange:
            self._next()

    # -- exchange lifecycle --------------------------------------------------------

    def _begin(self, exchange: H1Exchange) -> None:
        self.state = BUSY
        self.current = exchange
        timers = self.timers
        # Usually no clock runs (no body, no request timeout): skip the call then.
        self.deadline = timers.next_deadline() if timers.body or timers.request else 0.0
        if self.forwarding:
            # The scan for forwarding headers is inlined: on a trusted connection it
            # runs for every request, and most carry none.
            for name, _ in exchange.headers:
                if name in FORWARDING_HEADERS:
                    apply_forwarding(self.ctx.proxy, exchange)
                    break
        ctx = self.ctx
        if ctx.extras:  # any optional step is on; the access log's is inlined
            exchange.start_time = request_clock()
            if ctx.checks_before_app and before_app(self, exchange):
                return
        if exchange.upgrade and refuse_upgrade(exchange):
            return
        ctx.start_exchange(exchange)

    def _begin_queued(self, exchange: H1Exchange) -> None:
        if self.state is not CLOSED:
            self._begin(exchange)

    def exchange_finished(self, exchange: H1Exchange) -> None:
        """The response is complete: log it, then go on to the next request or close."""
        ctx = self.ctx
        if ctx.extras:
            ctx.requests += 1
            if ctx.access_log is not None:
                ctx.access_log(exchange)
            if ctx.on_response is not None:
                ctx.on_response(exchange)
        if exchange is not self.current:
            return
        if not exchange.keep_alive or (
            self._upgrade and self._error_due is None and not self.pipeline
        ):
            self._close()  # (a queued Upgrade/CONNECT request is still answered: 501)
        elif exchange.request_complete:
            self._next()
        else:
            exchange.body.discard()  # drain the rest, up to drain_limit, then go on
            self._drained = 0
            self._resume_reading()

    def abort_after(self, exchange: H1Exchange) -> None:
        """The response broke off mid-way: the client can only tell if we close."""
        if self.ctx.access_log is not None:
            self.ctx.access_log(exchange)
        self._close()

    def _next(self) -> None:
        self.current = None
        if self.state is CLOSED:
            return
        timers = self.timers
        if timers.request:
            timers.request = 0.0
        if self.pipeline:
            # The next request becomes current now (so one arriving meanwhile
            # queues behind it) but is dispatched through the loop: a long
            # pipeline of inline WSGI requests would otherwise nest a call each.
            exchange = self.current = self.pipeline.popleft()
            self.loop.call_soon(self._begin_queued, exchange)
            if not self.pipeline:
                self._resume_reading()
            return
        if self._error_due is not None:
            self.reject(self._error_due)  # the requests before it are answered
            return
        if timers.body or timers.write:
            timers.clear()
        if self._url or self._headers:
            self._enter_head()  # the next request's head has begun arriving
        else:
            self.state = IDLE
            self._kept = True
            if self.ctx.draining:
                self._close()
                return
            self.idle_since = self.ctx.now
            timeout = self.limits.keepalive
            self.deadline = self.ctx.now + timeout if timeout else 0.0
        if self._reading_paused:
            self._resume_reading()

    def _enter_head(self) -> None:
        self.state = HEAD
        timeout = self.limits.header_timeout
        self.deadline = self.ctx.now + timeout if timeout else 0.0

    def body_consumed(self) -> None:
        """The app took buffered body bytes: reading may resume."""
        if self._reading_paused and not self.pipeline:
            self._resume_reading()

    # -- errors, timeouts, closing -------------------------------------------------

    def _resume_reading(self) -> None:
        if self._reading_paused and self.state is not CLOSED and not self._upgrade:
            self._reading_paused = False
            self.transport.resume_reading()
            if self.receiving is not None and self.receiving.has_body:
                self.open_body_window()

    def log_app_error(self, message: str) -> None:
        error_log.error("%s", message)


def _address(value: Any) -> tuple[str, int] | None:
    if isinstance(value, tuple) and len(value) >= 2:
        return (str(value[0]), int(value[1]))
    return None
