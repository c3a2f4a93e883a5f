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
import contextlib
import enum
import socket
import struct
from collections import deque
from typing import Any

import httptools

from corral.errors import (
    BadRequest,
    HeadersTooLarge,
    PayloadTooLarge,
    ProtocolError,
    RequestTimeout,
    URITooLong,
    VersionNotSupported,
)
from corral.http1.admission import before_app, refuse_upgrade
from corral.http1.context import H1Context, error_log
from corral.http1.exchange import H1Exchange
from corral.http1.forwarding import apply_forwarding
from corral.http1.head import error_response
from corral.http1.pacing import BusyTimers, Expiry
from corral.http1.request_head import (
    FRAMING_NAME_SIZES,
    METHODS,
    head_size,
    method_error,
    other_target_form,
    read_framing,
)
from corral.http1.timeouts import abandon
from corral.proxy import ProxyProtocolError, parse_proxy_header

HIGH_WATER = 256 * 1024  # unread request body held before reading pauses
REQUEST_LINE_EXTRA = 64  # method, spaces, version and CRLF of a request line, at most
ZERO_LINGER = struct.pack("ii", 1, 0)  # SO_LINGER on, 0 s: close sends RST
# Bytes a chunk may spend on framing without extensions: a 16-digit size and two CRLFs.
CHUNK_FRAMING = 24


class State(enum.Enum):
    IDLE = "idle"  # waiting for the first byte of a request
    HEAD = "head"  # receiving a request head
    BUSY = "busy"  # a request is being answered
    CLOSED = "closed"


IDLE, HEAD, BUSY, CLOSED = State.IDLE, State.HEAD, State.BUSY, State.CLOSED


class H1Connection(asyncio.Protocol):
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
        "dispatcher",
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
        self.dispatcher = ctx.dispatcher
        self.parser = httptools.HttpRequestParser(self)
        self.state = IDLE
        self.transport: Any = None
        self.client: tuple[str, int] | None = None
        self.server: tuple[str, int] | None = None
        self.deadline = 0.0
        self.idle_since = 0.0  # coarse clock when the connection last went idle
        self.current: H1Exchange | None = None  # being answered
        self.receiving: H1Exchange | None = None  # whose body the parser is reading
        self.pipeline: deque[H1Exchange] = deque()
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
        self._start = b""  # first bytes of the request line, to tell 501 from 400
        self._method_start: bytes | None = None  # a refused method, until its end is seen
        self._error_due: ProtocolError | None = None  # answered after earlier requests
        self._field_mark = 0  # _head_size when a header field last completed
        self._upgrade = False
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
        self.ctx.connections.discard(self)
        if self.ctx.conn_limit is not None:
            self.ctx.conn_limit.lost(self)
        for exchange in (self.current, self.receiving, *self.pipeline):
            if exchange is not None:
                exchange.disconnected = True
                exchange.wake()
                if exchange.on_writable is not None:
                    exchange.on_writable()  # lets a paused WSGI iteration stop and close()
        self.pipeline.clear()
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
            if size > self.limits.raw_head:
                self.reject(HeadersTooLarge("request head too large"))
                return
            if len(self._start) < 64 and self._start is not data:
                self._start += data[:64]
            if size > self.limits.request_field_size:
                self._feed_long_head(data)
                return
        elif self.receiving.chunked_request:
            self._feed_chunked(data)
            return
        try:  # inline rather than a call to _feed: this runs for every request
            self.parser.feed_data(data)
        except (httptools.HttpParserError, httptools.HttpParserUpgrade) as exc:
            self._parse_stopped(exc, data)

    def _take_proxy_header(self, data: bytes) -> bytes:
        """Consume the PROXY protocol header; the bytes after it are HTTP."""
        buffer = (self._proxy_buffer or b"") + data
        try:
            result = parse_proxy_header(buffer)
        except ProxyProtocolError as exc:
            self._proxy_buffer = None
            self.reject(exc)
            return b""
        if result is None:
            self._proxy_buffer = buffer
            return b""
        self._proxy_buffer = None
        if result.client is not None:
            self.client, self.server = result.client, result.server
            # The HTTP headers now come from that client, not from the balancer.
            assert self.ctx.proxy is not None
            self.forwarding = self.ctx.proxy.per_request(self.client)
        return buffer[result.consumed :]

    def _feed_chunked(self, data: bytes) -> None:
        """Feed chunked body bytes, counting what is not body (chunk sizes, extensions,
        trailers) against the head limit: httptools skips extensions without a bound."""
        before = self._body_bytes
        self._feed(data)
        self._chunk_meta += len(data) - (self._body_bytes - before)
        if self.state is CLOSED:
            return
        if self._chunk_meta > self.limits.raw_head + CHUNK_FRAMING * self._chunks:
            self.reject(HeadersTooLarge("chunk extensions or trailers too large"))

    def _feed_long_head(self, data: bytes) -> None:
        """Feed a head that has grown past one field's limit. httptools checks no
        size and reports a field only once it ends, so one never-ending field would
        otherwise be read up to the whole-head limit."""
        fields = len(self._headers)
        self._feed(data)
        if self.state is CLOSED or self.receiving is not None or not self._head_size:
            return  # answered, or the head is complete
        if len(self._headers) != fields:
            self._field_mark = self._head_size
        # Before the first field, the request line (method, target, version) counts too.
        line = 0 if self._field_mark else len(self._url) + REQUEST_LINE_EXTRA
        if self._head_size - self._field_mark > self.limits.request_field_size + line:
            self.reject(HeadersTooLarge("request header field too large"))

    def _feed(self, data: bytes) -> None:
        try:
            self.parser.feed_data(data)
        except (httptools.HttpParserError, httptools.HttpParserUpgrade) as exc:
            self._parse_stopped(exc, data)

    def _parse_stopped(self, exc: Exception, data: bytes) -> None:
        """httptools stopped: at an upgrade point, or on an error to answer."""
        if isinstance(exc, httptools.HttpParserUpgrade):
            self._upgrade = True
            self.transport.pause_reading()
        elif isinstance(exc, httptools.HttpParserCallbackError):
            cause = exc.__context__
            if isinstance(cause, ProtocolError):
                self.reject(cause)
            else:
                error_log.exception("internal error while parsing a request", exc_info=cause)
                self.reject(ProtocolError("internal error", 500))
        elif isinstance(exc, httptools.HttpParserInvalidMethodError):
            self._method_start = b""
            self._upgrade = True  # parse nothing more
            self._more_method(b"" if self._kept else self._start)
        elif "Invalid HTTP version" in str(exc):  # llhttp's words for HTTP/1.2, HTTP/3.0
            self.reject(VersionNotSupported(f"malformed request: {exc}"))
        else:
            self.reject(BadRequest(f"malformed request: {exc}"))

    def _more_method(self, data: bytes) -> None:
        """llhttp refuses an unknown method at its first odd byte; whether it is a
        well-formed method (501) or garbage (400) shows once the space after it
        has arrived, so bytes are gathered until then (bounded: 64)."""
        start = (self._method_start or b"") + data[:64]
        self._method_start = start
        if b" " in start or b"\n" in start or len(start) >= 64 or self._kept:
            self._method_start = None
            self.reject(method_error(start))

    def pause_writing(self) -> None:
        self.write_paused = True
        self.timers.write_blocked(self.ctx.now)
        self._arm()

    def resume_writing(self) -> None:
        self.write_paused = False
        self.timers.write_unblocked()
        self._arm()
        waiter = self._drain_waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)
        current = self.current
        if current is not None and current.on_writable is not None:
            current.on_writable()

    async def drain(self) -> None:
        """Wait until the transport accepts more data (or the client is gone)."""
        while self.write_paused and self.state is not CLOSED:
            if self._drain_waiter is None or self._drain_waiter.done():
                self._drain_waiter = self.loop.create_future()
            await self._drain_waiter

    # -- httptools callbacks -------------------------------------------------------

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
        name = name.lower()
        # llhttp drops the whitespace before a value but keeps what follows it,
        # which RFC 9112 §5 says is not part of the value.
        value = value.rstrip(b" \t")
        if len(name) in FRAMING_NAME_SIZES:
            # host, expect, content-length or transfer-encoding perhaps: a length
            # test first skips nearly every other field without a comparison.
            self._framing.append((name, value))
        self._headers.append((name, value))

    def _trailer(self, name: bytes, value: bytes) -> None:
        """Trailer fields are dropped: neither ASGI nor WSGI can carry them, and the
        ones that matter (framing, Host, credentials) must never come late (RFC 9110
        §6.5.1). They still count against the head limits."""
        self._trailers += 1
        if self._trailers > self.limits.request_fields:
            raise HeadersTooLarge("too many trailer fields")
        if len(name) + len(value) > self.limits.request_field_size:
            raise HeadersTooLarge("trailer field too large")

    def on_chunk_header(self) -> None:
        self._chunks += 1

    def on_headers_complete(self) -> None:
        self._in_trailers = True
        self._trailers = self._chunks = self._chunk_meta = 0
        parser = self.parser
        version = parser.get_http_version()
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
        method = parser.get_method()
        url = self._url
        if not url.startswith(b"/"):
            url, headers = other_target_form(url, method, headers)
        exchange = H1Exchange(
            self,
            METHODS.get(method) or method.decode("ascii"),
            url,
            version,
            headers,
            parser.should_keep_alive() and limits.keepalive > 0,
        )
        self._url = b""
        self._headers = []
        self._head_size = self._field_mark = 0
        if parser.should_upgrade():
            exchange.upgrade = True
        framing = self._framing
        if framing:
            read_framing(exchange, version, framing)
            framing.clear()
        elif version == "1.1":
            raise BadRequest("an HTTP/1.1 request needs exactly one Host header")
        if (exchange.content_length or 0) > self.limits.request_body:
            raise PayloadTooLarge("request body too large")
        self.receiving = exchange
        if exchange.has_body:
            self._body_start = self._body_bytes
            if not exchange.expect_continue:
                self.open_body_window()
        if self.current is None:
            self._begin(exchange)
        else:
            self.pipeline.append(exchange)
            self._pause_reading()

    def on_body(self, body: bytes) -> None:
        self._body_bytes += len(body)
        exchange = self.receiving
        if exchange is None:
            return
        if exchange.body.received + len(body) > self.limits.request_body:
            raise PayloadTooLarge("request body too large")
        if exchange.finished:
            self._drained += len(body)
            if self._drained > self.limits.drain_limit:
                self._close()
            return
        exchange.body.append(body)
        exchange.wake()
        over = exchange.on_body_over
        if over is not None and exchange.body.received > over[0]:
            exchange.on_body_over = None
            over[1]()
        if exchange.body.buffered > HIGH_WATER and not exchange.body.spool_over:
            self._pause_reading()

    def on_message_complete(self) -> None:
        exchange = self.receiving
        self.receiving = None
        self._in_trailers = False
        if self.timers.body:
            self.timers.stop_body_window()
            self._arm()
        if exchange is None:
            return
        exchange.request_complete = True
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
        self.deadline = self.timers.next_deadline()
        self.current = exchange
        self._dispatch(exchange)

    def _dispatch(self, exchange: H1Exchange) -> None:
        if self.state is CLOSED:
            return
        if self.forwarding:
            apply_forwarding(self.ctx.proxy, exchange)
        if self.ctx.extras and before_app(self, exchange):
            return
        if (exchange.upgrade or exchange.method == "CONNECT") and refuse_upgrade(exchange):
            return
        self.dispatcher.start(exchange)

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
        self.timers.request = 0.0
        if self.pipeline:
            # The next request becomes current now (so one arriving meanwhile
            # queues behind it) but is dispatched through the loop: a long
            # pipeline of inline WSGI requests would otherwise nest a call each.
            exchange = self.current = self.pipeline.popleft()
            self.loop.call_soon(self._dispatch, exchange)
            if not self.pipeline:
                self._resume_reading()
            return
        if self._error_due is not None:
            self.reject(self._error_due)  # the requests before it are answered
            return
        self.timers.clear()
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

    def reject(self, error: ProtocolError) -> None:
        """Answer a protocol error (if no response is under way) and close.

        An error in a pipelined request waits until the requests before it have
        been answered (RFC 9112 §9.3.2: responses in order); nothing after it is
        parsed, and the connection closes after its error response.
        """
        exchange = self.current
        bad = self.receiving
        if exchange is not None and bad is not exchange and self.state is not CLOSED:
            if bad is not None:
                self.receiving = None
                with contextlib.suppress(ValueError):
                    self.pipeline.remove(bad)
            self._error_due = error
            self._upgrade = True  # parse nothing more
            self._pause_reading()
            return
        if exchange is not None and exchange.response_started:
            self._close()
            return
        if exchange is not None and not exchange.finished:
            exchange.disconnected = True
            exchange.wake()
        if self.transport is not None and not self.transport.is_closing():
            ctx = self.ctx
            self.transport.write(error_response(error.status, ctx.date.line + ctx.server_line))
        self._close()

    def on_deadline(self) -> None:
        """Called by the worker's ticker when ``deadline`` has passed."""
        if self.state is HEAD:
            self.reject(RequestTimeout("request head not received in time"))
        elif self.state is IDLE:
            self._close()  # first-byte or keep-alive timeout: a plain close
        elif self.state is BUSY:
            self._busy_deadline()

    def _busy_deadline(self) -> None:
        expiry = self.timers.expired(self.ctx.now, self._body_bytes, self._body_remaining())
        if expiry is Expiry.WRITE_STALL:
            self._reset()
            return
        if expiry is Expiry.BODY_TOO_SLOW:
            self.reject(RequestTimeout("request body arrived too slowly"))
            return
        if expiry is Expiry.REQUEST_TIMEOUT and self.current is not None:
            abandon(self.current, self.limits.request_timeout)
        self._arm()

    def start_request_clock(self) -> None:
        """--request-timeout: the app's clock starts now."""
        self.timers.start_request(self.ctx.now)
        self._arm()

    def _arm(self) -> None:
        """Point the ticker at the earliest busy-state clock."""
        if self.state is BUSY:
            self.deadline = self.timers.next_deadline()

    def open_body_window(self) -> None:
        """corral reads the request body now (again): the client's upload clock runs."""
        if self.receiving is not None and not self._reading_paused:
            self.timers.start_body_window(self.ctx.now, self._body_bytes, self._body_remaining())
            self._arm()

    def _body_remaining(self) -> int | None:
        exchange = self.receiving
        if exchange is None or exchange.content_length is None:
            return None
        return exchange.content_length - (self._body_bytes - self._body_start)

    def close_when_idle(self, now: float, grace: float) -> None:
        """Graceful stop: close the connection once it has been idle for ``grace``.

        Closing at the instant a client sends its next request (or, on a connection
        just accepted, its first) would lose that request, so an idle connection
        gets ``grace`` seconds from when it went idle; one that is busy is closed
        after its response (which says ``Connection: close``).
        """
        if self.state is not IDLE:
            return
        closes_at = self.idle_since + grace
        if now >= closes_at:
            self._close()
        elif not self.deadline or closes_at < self.deadline:
            self.deadline = closes_at

    @property
    def kept_alive_idle(self) -> bool:
        """Idle between two requests (not a new connection yet to send its first)."""
        return self.state is IDLE and self._kept

    def evict(self) -> None:
        """Close to make room for a new connection (--max-connections)."""
        self._close()

    def _reset(self) -> None:
        """Drop a client that reads nothing. close() would wait for the buffer to
        drain, and a plain abort leaves the kernel sending the socket's queued bytes
        (megabytes) at the client's pace; a zero linger makes it send a reset."""
        self.state = CLOSED
        sock = self.transport.get_extra_info("socket")
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, ZERO_LINGER)
        self.transport.abort()

    def _close(self) -> None:
        if self.state is not CLOSED:
            self.state = CLOSED
            self.deadline = 0.0
            if self.transport is not None:
                self.transport.close()

    def _pause_reading(self) -> None:
        if not self._reading_paused and self.state is not CLOSED:
            self._reading_paused = True
            self.transport.pause_reading()
            if self.timers.body:
                self.timers.stop_body_window()
                self._arm()

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
