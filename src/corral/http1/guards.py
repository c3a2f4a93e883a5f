"""The guarding half of an HTTP/1.1 connection: what it refuses and when it gives up.

``H1Connection`` (connection.py) is the plain path: parser callbacks, pipelining,
keep-alive. This base class of it holds what only runs when something is unusual: a PROXY
protocol header, chunk extensions and trailers, heads past a field's size, parse
errors and their answers, and the deadlines of every state (docs/security.md).
"""

from __future__ import annotations

import contextlib
import socket
import struct
from collections import deque
from typing import TYPE_CHECKING, Any

import httptools

from corral.errors import (
    BadRequest,
    HeadersTooLarge,
    ProtocolError,
    RequestTimeout,
    VersionNotSupported,
)
from corral.http1.context import error_log
from corral.http1.head import error_response
from corral.http1.output import ConnectionOutput
from corral.http1.pacing import Expiry
from corral.http1.request_head import method_error
from corral.http1.state import BUSY, CLOSED, HEAD, IDLE, State
from corral.http1.timeouts import abandon
from corral.proxy import ProxyProtocolError, parse_proxy_header

if TYPE_CHECKING:
    from corral.http1.context import H1Context, H1Limits
    from corral.http1.exchange import H1Exchange
    from corral.http1.pacing import BusyTimers

REQUEST_LINE_EXTRA = 64  # method, spaces, version and CRLF of a request line, at most
ZERO_LINGER = struct.pack("ii", 1, 0)  # SO_LINGER on, 0 s: close sends RST
# Bytes a chunk may spend on framing without extensions: a 16-digit size and two CRLFs.
CHUNK_FRAMING = 24


class ConnectionGuards(ConnectionOutput):
    """Methods of H1Connection for the unusual cases (no state of its own)."""

    if not TYPE_CHECKING:  # no instance dict; mypy checks the attributes below instead
        __slots__ = ()

    if TYPE_CHECKING:  # the attributes H1Connection gives these methods
        state: State
        ctx: H1Context
        limits: H1Limits
        parser: Any
        transport: Any
        client: tuple[str, int] | None
        server: tuple[str, int] | None
        current: H1Exchange | None
        receiving: H1Exchange | None
        pipeline: deque[H1Exchange] | None
        timers: BusyTimers
        forwarding: bool
        deadline: float
        idle_since: float
        _proxy_buffer: bytes | None
        _body_bytes: int
        _body_start: int
        _chunk_meta: int
        _chunks: int
        _trailers: int
        _headers: list[tuple[bytes, bytes]]
        _head_size: int
        _field_mark: int
        _url: bytes
        _upgrade: bool
        _method_start: bytes | None
        _start: bytes | None
        _kept: bool
        _error_due: ProtocolError | None
        _reading_paused: bool
        _out: list[bytes] | None

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

    def _feed_long_head(self, data: bytes, size: int) -> None:
        """Feed a head that has grown past one field's limit. httptools checks no
        size and reports a field only once it ends, so one never-ending field would
        otherwise be read up to the whole-head limit."""
        if size > self.limits.raw_head:
            self.reject(HeadersTooLarge("request head too large"))
            return
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
            if not self._start:  # a pipelined request: where its method began is unknown
                self.reject(BadRequest("malformed request method"))
                return
            self._method_start = b""
            self._upgrade = True  # parse nothing more
            self._more_method(self._start)
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
        if b" " in start or b"\n" in start or len(start) >= 64:
            self._method_start = None
            self.reject(method_error(start))

    def _trailer(self, name: bytes, value: bytes) -> None:
        """Trailer fields are dropped: neither ASGI nor WSGI can carry them, and the
        ones that matter (framing, Host, credentials) must never come late (RFC 9110
        §6.5.1). They still count against the head limits."""
        self._trailers += 1
        if self._trailers > self.limits.request_fields:
            raise HeadersTooLarge("too many trailer fields")
        if len(name) + len(value) > self.limits.request_field_size:
            raise HeadersTooLarge("trailer field too large")

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
                if self.pipeline is not None:
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
            self.flush_out()  # what earlier responses queued goes first
            self.transport.write(error_response(error.status, self.ctx.date.lines))
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

    def _reset(self) -> None:
        """Drop a client that reads nothing. close() would wait for the buffer to
        drain, and a plain abort leaves the kernel sending the socket's queued bytes
        (megabytes) at the client's pace; a zero linger makes it send a reset."""
        self.state = CLOSED
        self._out = None
        sock = self.transport.get_extra_info("socket")
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, ZERO_LINGER)
        self.transport.abort()

    @property
    def kept_alive_idle(self) -> bool:
        """Idle between two requests (not a new connection yet to send its first)."""
        return self.state is IDLE and self._kept

    def evict(self) -> None:
        """Close to make room for a new connection (--max-connections)."""
        self._close()
