"""One request/response exchange on an HTTP/1.1 connection.

The gateways (WSGI, ASGI) see only this interface: request facts, body access,
``start_response`` / ``write`` and flow control. Framing (Content-Length,
chunked, close-delimited), ``100 Continue`` and keep-alive decisions are made
here, in one place for every interface.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from corral.gateway.response import EncodedHeaders, without_content_length
from corral.http1.body import NO_BODY
from corral.http1.head import REASONS, STATUS_LINES, status_line
from corral.http1.sendfile import send_file

#: The clock of ``H1Exchange.start_time`` and of the access log's request time:
#: monotonic to the microsecond (uvloop's loop.time() counts whole milliseconds).
request_clock = time.monotonic

if TYPE_CHECKING:
    from corral.http1.connection import H1Connection

CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"
LAST_CHUNK = b"0\r\n\r\n"
CRLF = b"\r\n"
BIG_BODY = 32 * 1024  # a whole body this big is written by reference, not joined


class H1Exchange:
    """A request's facts and the means to answer it."""

    __slots__ = (
        "_continue_sent",
        "_framing",
        "_remaining",
        "_waiter",
        "body",
        "body_started",
        "bytes_sent",
        "chunked_request",
        "client",
        "conn",
        "content_length",
        "disconnected",
        "expect_continue",
        "finished",
        "forwarded",
        "has_body",
        "headers",
        "http_version",
        "job",
        "keep_alive",
        "method",
        "on_body_over",
        "on_request_complete",
        "on_writable",
        "path",
        "plain",
        "query",
        "request_complete",
        "response_headers",
        "response_started",
        "root_path",
        "scheme",
        "server",
        "start_time",
        "status",
        "upgrade",
    )

    def __init__(
        self,
        conn: H1Connection,
        method: str,
        target: bytes,
        http_version: str,
        headers: list[tuple[bytes, bytes]],
        keep_alive: bool,
    ) -> None:
        self.conn = conn
        self.method = method
        # (partition: `b"?" in target` costs 4 times as much in the compiled build)
        path, _, query = target.partition(b"?")
        self.path = path
        self.query = query
        self.http_version = http_version
        self.headers = headers
        self.keep_alive = keep_alive
        # HTTP/1.1 and not HEAD: a whole response then takes the short path of write().
        self.plain = http_version == "1.1" and method != "HEAD"
        self.client = self.conn.client  # (self.conn is typed once compiled: C field reads)
        self.server = self.conn.server
        self.scheme = "http"
        # True when a trusted proxy's headers changed client, scheme, host or path;
        # then root_path (bytes or None) holds a forwarded prefix.
        self.forwarded = False
        self.root_path: bytes | None  # set with forwarded; unread otherwise
        self.upgrade = False
        self.body = NO_BODY  # replaced by a BodyBuffer when the request has a body
        self.has_body = False
        self.content_length: int | None = None
        self.chunked_request = False
        self.expect_continue = False
        self.request_complete = False
        self.disconnected = False
        self.response_started = False  # head written to the transport
        self.body_started = False
        self.finished = False  # the response is complete
        self.status = 0
        self.bytes_sent = 0
        self.response_headers: EncodedHeaders | None = None
        self.start_time = 0.0  # request_clock() when the request began (set when logging)
        self.on_request_complete: Callable[[H1Exchange], None] | None = None
        # (threshold, callback): called once when the received body passes the threshold.
        self.on_body_over: tuple[int, Callable[[], None]] | None = None
        self.on_writable: Callable[[], None] | None = None
        # What runs the app for this request, set by the gateway (an asyncio task,
        # or a thread id): for --request-timeout to cancel it and log its stack.
        self.job: Any = None
        self._continue_sent = False
        self._framing = 0  # 0: content-length, 1: chunked, 2: close-delimited, 3: no body
        self._remaining = 0
        self._waiter: asyncio.Future[None] | None = None

    # -- request side -------------------------------------------------------------

    def send_continue(self) -> None:
        """Send ``100 Continue`` once, if the client asked and no final response went out.

        RFC 9110 §10.1.1: after a final response no 100 is sent; a body that still
        comes is drained or the connection closed.
        """
        if self.expect_continue and not self._continue_sent and not self.response_started:
            self._continue_sent = True
            self.conn.flush_out()
            self.conn.transport.write(CONTINUE)
            self.conn.open_body_window()  # the client was waiting for this to send

    def take_body(self) -> bytes:
        """The request body received so far and not yet taken."""
        data = self.body.take()
        self.conn.body_consumed()
        return data

    async def wait_body(self) -> None:
        """Wait until body bytes are buffered, the body is complete, or the client left."""
        self.send_continue()
        while not (self.body.buffered or self.request_complete or self.disconnected):
            await self._wait()

    async def wait_disconnect_or_finish(self) -> None:
        """Wait until the client goes away or the response is complete."""
        while not (self.disconnected or self.finished):
            await self._wait()

    def _wait(self) -> asyncio.Future[None]:
        if self._waiter is None or self._waiter.done():
            self._waiter = self.conn.loop.create_future()
        return self._waiter

    def wake(self) -> None:
        """Called by the connection when body, completion or disconnection happened."""
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    # -- response side ------------------------------------------------------------

    def start_response(self, status: int, headers: EncodedHeaders) -> None:
        """Record the head; it is written together with the first body bytes."""
        self.status = status
        self.response_headers = headers

    def write(self, data: bytes, more: bool) -> None:
        """Send body bytes; ``more=False`` completes the response."""
        if self.finished or self.disconnected:
            return
        conn = self.conn
        if conn.transport.is_closing():
            # The peer is gone (a failed send closes the transport before
            # connection_lost runs): stop a synchronous WSGI iteration now.
            self.disconnected = True
            return
        if not self.body_started:
            headers = self.response_headers
            assert headers is not None, "write() before start_response()"
            status = self.status
            if (
                more
                or not self.plain
                or not self.keep_alive
                or headers.close
                or status == 204
                or status == 304
                or len(data) >= BIG_BODY
                or conn.ctx.draining
            ):
                self._emit_head(data, more)
                return
            # The usual response: whole and small, on a kept-alive HTTP/1.1
            # connection; one write of head and body, framed by Content-Length.
            length = headers.content_length
            if length is None:
                extra = b"content-length: %d\r\n" % len(data)
            elif length == len(data):
                extra = b""
            else:
                self._emit_head(data, more)  # the length is wrong: logged, then closed
                return
            self.body_started = self.response_started = True
            if conn._out:
                conn.flush_out()  # the last pieces of an earlier response go first
            conn.transport.write(
                b"".join(
                    (
                        STATUS_LINES.get(status) or status_line(status),
                        headers.data,
                        extra,
                        conn.ctx.date.tail,
                        data,
                    )
                )
            )
            self.bytes_sent = len(data)
            self.finished = True
            if self._waiter is not None:
                self.wake()
            conn.exchange_finished(self)
            return
        framing = self._framing
        if framing == 0:
            data = self._clip(data)
            if data:
                conn.write_body(data)
        elif framing == 1:
            if data:
                conn.write_body(b"%x\r\n" % len(data))
                conn.write_body(data)
                conn.write_body(CRLF if more else CRLF + LAST_CHUNK)
            elif not more:
                conn.write_body(LAST_CHUNK)
        elif framing == 2 and data:
            conn.write_body(data)
        self.bytes_sent += len(data) if framing != 3 else 0
        if not more:
            self._finish()

    def _emit_head(self, data: bytes, more: bool) -> None:
        """Write the head with the first body bytes, choosing the framing (RFC 9112 §6)."""
        headers = self.response_headers
        assert headers is not None, "write() before start_response()"
        self.body_started = self.response_started = True
        conn = self.conn
        ctx = conn.ctx
        status = self.status
        length = headers.content_length
        extra = b""
        if status < 200 or status == 204 or status == 304:
            framing = 3
            if status == 204 and length is not None:
                headers = without_content_length(headers)
        elif length is not None:
            framing = 0
        elif not more:
            framing = 0  # the whole body is in hand: frame it with a Content-Length
            length = len(data)
            extra = b"content-length: %d\r\n" % length
        elif self.http_version == "1.1":
            framing = 1
            extra = b"transfer-encoding: chunked\r\n"
        else:
            framing = 2  # HTTP/1.0 without a length: the close delimits the body
            self.keep_alive = False
        if self.method == "HEAD":
            framing = 3
        if framing == 0:
            self._remaining = length  # type: ignore[assignment]
            body = data = self._clip(data)
        elif framing == 1:
            body = data  # framed below, by reference
        elif framing == 2:
            body = data
        else:
            body = data = b""
        self._framing = framing
        keep_alive = self.keep_alive and not headers.close and not ctx.draining
        self.keep_alive = keep_alive
        if not keep_alive:
            connection = b"connection: close\r\n"
        elif self.http_version == "1.0":
            connection = b"connection: keep-alive\r\n"
        else:
            connection = b""
        status_text = STATUS_LINES.get(status) or status_line(status)
        if (more or len(body) >= BIG_BODY) and framing != 3:
            # Streamed (or big): the head joins the body pieces queued this loop turn,
            # by reference, rather than the body being copied into the head's bytes.
            head = (status_text, headers.data, extra, connection, ctx.date.lines)
            self._queue_first(b"".join(head), body)
        else:
            if conn._out:
                conn.flush_out()  # the last pieces of an earlier response go first
            conn.transport.write(
                b"".join(
                    (
                        status_text,
                        headers.data,
                        extra,
                        connection,
                        ctx.date.tail,
                        body,
                    )
                )
            )
        self.bytes_sent += len(data)
        if not more:
            self._finish()

    def _queue_first(self, head: bytes, body: bytes) -> None:
        """The head and first piece of a streamed response, queued by reference."""
        conn = self.conn  # (not a bound write_body: the compiled build calls it in C)
        if not body:
            conn.write_body(head + CRLF)
        elif self._framing == 1:
            conn.write_body(head + b"\r\n%x\r\n" % len(body))
            conn.write_body(body)
            conn.write_body(CRLF)
        else:
            conn.write_body(head + CRLF)
            conn.write_body(body)

    def _clip(self, data: bytes) -> bytes:
        """Never send more than the declared Content-Length (the rest would be a new response)."""
        remaining = self._remaining
        if len(data) > remaining:
            self.conn.log_app_error(
                f"response body longer than its Content-Length ({self._remaining} left, "
                f"{len(data)} given); connection will be closed"
            )
            self.keep_alive = False
            data = data[:remaining]
        self._remaining = remaining - len(data)
        return data

    def _finish(self) -> None:
        if self._framing == 0 and self._remaining:
            self.conn.log_app_error(
                f"response body shorter than its Content-Length by {self._remaining} bytes; "
                "closing the connection"
            )
            self.keep_alive = False
        self.finished = True
        if self._waiter is not None:
            self.wake()
        self.conn.exchange_finished(self)

    def fail(self, status: int = 500, headers: bytes = b"") -> None:
        """Answer with a bare error if nothing was sent yet, else abort the connection."""
        if self.finished:
            return
        if self.disconnected:
            self.finished = True
            self.wake()
            return
        if self.response_started:
            self.keep_alive = False
            self.finished = True
            self.conn.abort_after(self)
            return
        # A small page that says nothing of the app, the error or the server.
        body = b"%d %b\n" % (status, (REASONS.get(status) or "Error").encode())
        self.response_headers = EncodedHeaders(
            b"content-type: text/plain; charset=utf-8\r\n" + headers, None, False
        )
        self.status = status
        self.body_started = False
        self._emit_head(body, False)

    async def sendfile(self, fd: int, offset: int, count: int) -> None:
        """Send ``count`` bytes of a file after the head, with os.sendfile."""
        if self._framing == 3 or count <= 0 or self.disconnected:
            return
        sent = await send_file(self.conn, fd, offset, count)
        self._remaining -= sent
        self.bytes_sent += sent

    @property
    def writable(self) -> bool:
        return not self.conn.write_paused

    async def drain(self) -> None:
        """Wait while the transport's buffer is over its high-water mark."""
        await self.conn.drain()
