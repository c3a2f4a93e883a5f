"""WSGI (PEP 3333) adapter.

With ``--threads 1`` the app runs inline on the event loop, but only once its
whole request body is in hand (memory, then a temporary file), so a slow client
never blocks the worker. With more threads it runs in a bounded pool and
``wsgi.input`` reads from the connection as the app asks.
"""

from __future__ import annotations

import asyncio
import io
import logging
import threading
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import TYPE_CHECKING, Any

from corral.gateway.hidden_loop import HiddenLoop
from corral.gateway.response import (
    EncodedHeaders,
    InvalidResponse,
    encode_headers,
    parse_wsgi_status,
    wsgi_header_pairs,
)
from corral.gateway.wsgi_environ import base_environ, build_environ, connection_environ
from corral.gateway.wsgi_io import EMPTY_INPUT, FileWrapper, StreamInput

if TYPE_CHECKING:
    from corral.http1.exchange import H1Exchange

error_log = logging.getLogger("corral.error")

# Validated, encoded response heads by (status, *headers): most apps send the same
# few heads again and again. Bounded, since heads can vary without limit.
_HEAD_CACHE: dict[Any, tuple[int, EncodedHeaders]] = {}
_HEAD_CACHE_SIZE = 512


class StartResponse:
    """``start_response`` and the legacy ``write()`` callable for one request."""

    __slots__ = ("called", "exchange", "writer")

    def __init__(self, exchange: Any, writer: Callable[[bytes, bool], None] | None = None) -> None:
        self.exchange = exchange
        self.called = False
        self.writer = writer  # None: the exchange's own write (the app runs on the loop)

    def __call__(
        self, status: str, headers: list[tuple[str, str]], exc_info: Any = None
    ) -> Callable[[bytes], None]:
        if exc_info is not None:
            try:
                if self.exchange.response_started:
                    raise exc_info[1].with_traceback(exc_info[2])
            finally:
                exc_info = None
        elif self.called:
            raise AssertionError("start_response() called twice without exc_info (PEP 3333)")
        try:
            key: Any = (status, *headers)
            cached = _HEAD_CACHE.get(key)
        except TypeError:  # unhashable items: validation below says what is wrong
            key = cached = None
        if cached is None:
            cached = (
                parse_wsgi_status(status),
                encode_headers(wsgi_header_pairs(headers), allow_hop_by_hop=False),
            )
            if key is not None and len(_HEAD_CACHE) < _HEAD_CACHE_SIZE:
                _HEAD_CACHE[key] = cached
        self.called = True
        code, encoded = cached
        self.exchange.start_response(code, encoded)
        return self.write

    def write(self, data: bytes) -> None:
        if not self.called:
            raise AssertionError("write() called before start_response()")
        if type(data) is not bytes:
            raise InvalidResponse(f"write() takes bytes, got {type(data).__name__}")
        if data:
            if self.writer is not None:
                self.writer(data, True)
            else:
                # A call, not `(self.writer or self.exchange.write)(...)`: the compiled
                # build cannot take a typed object's C method as a value.
                self.exchange.write(data, True)


class WSGIGateway:
    """Runs a WSGI app for each exchange, inline or in a thread pool."""

    def __init__(
        self, app: Callable[..., Any], loop: asyncio.AbstractEventLoop, config: Any
    ) -> None:
        self.app = app
        self.loop = loop
        self.hidden = HiddenLoop(loop)
        self.root_path = config.root_path.rstrip("/").encode("latin-1")
        self.spool_over = max(1, config.body_spool_threshold)
        self.chunked_buffer = config.wsgi_chunked_buffer
        threads = config.threads
        self.pool = (
            ThreadPoolExecutor(threads, thread_name_prefix="corral-wsgi") if threads > 1 else None
        )
        self.base = base_environ(threads > 1, FileWrapper)
        self.busy = 0  # requests running or queued in the pool
        # Called when a pool request ends (set by --limit-concurrency's gate).
        self.on_done: Callable[[], None] | None = None

    def start(self, exchange: H1Exchange) -> None:
        if self.pool is None:
            # Inline: the app runs once the whole body is in hand.
            if exchange.has_body:
                exchange.body.spool_over = self.spool_over
                exchange.send_continue()
            if exchange.request_complete:
                self._run_inline(exchange)
            else:
                exchange.on_request_complete = self._run_inline
        elif exchange.chunked_request and self.chunked_buffer:
            # Threads: gather a chunked body up to a bound so CONTENT_LENGTH can be set.
            exchange.body.spool_over = self.spool_over
            exchange.send_continue()
            if exchange.request_complete:
                self._submit(exchange)
            else:
                exchange.on_request_complete = self._submit
                exchange.on_body_over = (self.chunked_buffer, partial(self._submit, exchange))
        else:
            self._submit(exchange)

    def shutdown(self) -> int:
        """Stop the pool (queued requests are dropped); returns how many still run."""
        if self.pool is None:
            return 0
        self.pool.shutdown(wait=False, cancel_futures=True)
        return self.busy

    def _environ(self, exchange: H1Exchange, body: Any, length: int | None) -> dict[str, Any]:
        conn = exchange.conn
        if exchange.forwarded:  # client, scheme or host differ from the connection's
            base = connection_environ(self.base, exchange)
            root = exchange.root_path or self.root_path
            return build_environ(base, exchange, root, body, length)
        conn_environ = conn.scratch
        if conn_environ is None:
            conn_environ = conn.scratch = connection_environ(self.base, exchange)
        return build_environ(conn_environ, exchange, self.root_path, body, length)

    # -- inline --------------------------------------------------------------------

    def _run_inline(self, exchange: H1Exchange) -> None:
        # A WSGI app is synchronous code; if it could see a running loop, frameworks
        # would take it for async code (Django then refuses every database query
        # with SynchronousOnlyOperation). See hidden_loop.py for what this costs.
        hidden = self.hidden
        hidden.hide()
        try:
            self._call_inline(exchange)
        finally:
            hidden.show()

    def _call_inline(self, exchange: H1Exchange) -> None:
        if exchange.has_body:
            body = exchange.body
            stream: Any = body.as_file() or io.BytesIO(body.take())
            environ = self._environ(exchange, stream, body.received)
        else:
            environ = self._environ(exchange, EMPTY_INPUT, None)
        start_response = StartResponse(exchange)
        try:
            result = self.app(environ, start_response)
            if type(result) is list and start_response.called:
                # The usual answer: a list of bytes (it has no close() to call).
                exchange.write(_join(result), False)
                return
        except Exception:
            error_log.exception("exception in WSGI application")
            exchange.fail(500)
            return
        self._send_inline(exchange, start_response, result)

    def _send_inline(self, exchange: Any, start_response: StartResponse, result: Any) -> None:
        try:
            if isinstance(result, FileWrapper) and result.fileno() is not None:
                task = self.loop.create_task(_send_file(exchange, result, start_response))
                task.add_done_callback(lambda _: self.hidden.call(_close, result))
                return
            self._pump(exchange, start_response, result, iter(result))
            return
        except Exception:
            error_log.exception("exception in WSGI application")
            exchange.fail(500)
        _close(result)

    def _pump(
        self, exchange: Any, start_response: StartResponse, result: Any, chunks: Iterator[bytes]
    ) -> None:
        """Send chunks until the iterable ends or the transport is full (then resume later)."""
        exchange.on_writable = None
        try:
            if not exchange.disconnected:
                for chunk in chunks:
                    if type(chunk) is not bytes:
                        raise InvalidResponse(f"app yielded {type(chunk).__name__}, not bytes")
                    if chunk:
                        _check_started(start_response)
                        exchange.write(chunk, True)
                    if exchange.disconnected:
                        break
                    if not exchange.writable:
                        exchange.on_writable = partial(
                            self.hidden.call,
                            self._pump,
                            exchange,
                            start_response,
                            result,
                            chunks,
                        )
                        return
                else:
                    _check_started(start_response)
                    exchange.write(b"", False)
        except Exception:
            error_log.exception("exception in WSGI application")
            exchange.fail(500)
        _close(result)

    # -- threaded ------------------------------------------------------------------

    def _submit(self, exchange: Any) -> None:
        assert self.pool is not None
        exchange.on_body_over = None
        exchange.on_request_complete = None
        body = exchange.body
        if exchange.request_complete:
            stream: Any = body.as_file() or io.BytesIO(body.take())
            length = body.received if exchange.has_body else None
        else:
            prefix = body.detach()
            stream = StreamInput(exchange, self.loop, prefix)
            length = exchange.content_length
        self.busy += 1
        future = self.pool.submit(self._run_threaded, exchange, stream, length)
        future.add_done_callback(self._done)

    def _done(self, _: Any) -> None:
        self.loop.call_soon_threadsafe(self._decrement)

    def _decrement(self) -> None:
        self.busy -= 1
        if self.on_done is not None:
            self.on_done()

    def _run_threaded(self, exchange: Any, stream: Any, length: int | None) -> None:
        exchange.job = threading.get_ident()  # for --request-timeout's stack dump
        call = partial(_call_in_loop, self.loop)
        writer = partial(call, _write_and_drain, exchange)
        start_response = StartResponse(exchange, writer)
        environ = self._environ(exchange, stream, length)
        result: Any = None
        try:
            result = self.app(environ, start_response)
            if type(result) is list and start_response.called:
                writer(_join(result), False)
            elif isinstance(result, FileWrapper) and result.fileno() is not None:
                call(_send_file, exchange, result, start_response)
            else:
                for chunk in result:
                    if type(chunk) is not bytes:
                        raise InvalidResponse(f"app yielded {type(chunk).__name__}, not bytes")
                    if chunk:
                        _check_started(start_response)
                        writer(chunk, True)
                    if exchange.disconnected:
                        break
                else:
                    _check_started(start_response)
                    writer(b"", False)
        except Exception:
            error_log.exception("exception in WSGI application")
            self.loop.call_soon_threadsafe(exchange.fail, 500)
        finally:
            _close(result)


def _call_in_loop(loop: asyncio.AbstractEventLoop, func: Callable[..., Any], *args: Any) -> Any:
    """From a worker thread: run a coroutine function on the loop and wait for it."""
    return asyncio.run_coroutine_threadsafe(func(*args), loop).result()


async def _write_and_drain(exchange: Any, data: bytes, more: bool) -> None:
    exchange.write(data, more)
    if more and not exchange.writable:
        await exchange.drain()


async def _send_file(exchange: Any, wrapper: FileWrapper, start_response: StartResponse) -> None:
    """Send a file_wrapper response with sendfile, framed by Content-Length."""
    _check_started(start_response)
    fd = wrapper.fileno()
    assert fd is not None
    offset = wrapper.filelike.tell()
    import os

    size = max(0, os.fstat(fd).st_size - offset)
    headers: EncodedHeaders = exchange.response_headers
    if headers.content_length is None:
        headers = EncodedHeaders(
            headers.data + b"content-length: %d\r\n" % size, size, headers.close
        )
        exchange.response_headers = headers
    count = min(size, headers.content_length or 0)
    exchange.write(b"", True)
    await exchange.sendfile(fd, offset, count)
    exchange.write(b"", False)


def _join(result: list[Any]) -> bytes:
    for chunk in result:
        if type(chunk) is not bytes:
            raise InvalidResponse(f"app returned {type(chunk).__name__} in its body, not bytes")
    return result[0] if len(result) == 1 else b"".join(result)


def _check_started(start_response: StartResponse) -> None:
    if not start_response.called:
        raise InvalidResponse("the app sent a body before calling start_response()")


def _close(result: Iterable[bytes] | None) -> None:
    close = getattr(result, "close", None)
    if close is not None:
        try:
            close()
        except Exception:
            error_log.exception("exception in the WSGI response's close()")
