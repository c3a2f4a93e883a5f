"""ASGI 3 HTTP adapter: one task per request, scope/receive/send over an exchange.

Implements the ASGI HTTP spec version stated in ``SPEC_VERSION``. The exchange
(HTTP/1.1 today) does framing; this module only speaks ASGI messages.
"""

from __future__ import annotations

import asyncio
import logging
from asyncio import Task
from collections.abc import Awaitable, Callable, Coroutine, Generator, Iterable
from typing import TYPE_CHECKING, Any

from corral.gateway.paths import PERCENT, decode_path, split_root_path
from corral.gateway.response import EncodedHeaders, InvalidResponse, encode_headers

if TYPE_CHECKING:
    from corral.http1.exchange import H1Exchange

error_log = logging.getLogger("corral.error")

SPEC_VERSION = "2.4"
# Every request task's name. Without one, each task would format a new "Task-N"
# (CPython 3.11: ~1,450 instructions of 40,000 a hello-world request).
TASK_NAME = "corral-asgi-request"
ASGI_INFO = {"version": "3.0", "spec_version": SPEC_VERSION}
_DISCONNECT = {"type": "http.disconnect"}


class ClientDisconnected(OSError):
    """Raised by ``send()`` once the client has gone (ASGI HTTP spec 2.4)."""


class ASGIGateway:
    """Starts one ASGI task per request."""

    __slots__ = ("_get_task_factory", "app", "busy", "loop", "on_done", "root_path", "state")

    def __init__(
        self,
        app: Callable[..., Any],
        loop: asyncio.AbstractEventLoop,
        root_path: str,
        state: dict[str, Any] | None,
    ) -> None:
        self.app = app
        self.loop = loop
        self._get_task_factory = loop.get_task_factory  # bound once: no lookup per request
        self.root_path = root_path.rstrip("/").encode("utf-8")
        self.state = state
        self.busy = 0  # running request tasks, counted only when on_done is set
        # Called when a request task ends (set by --limit-concurrency's gate).
        self.on_done: Callable[[], None] | None = None

    def start(self, exchange: H1Exchange) -> None:
        # The worker cancels what is left at shutdown via asyncio.all_tasks(),
        # so tasks are not tracked here (that cost a set and a callback each).
        coro = HTTPCycle(exchange).run(self.app, self.scope(exchange))
        if self._get_task_factory() is None:
            # What loop.create_task() does, minus its wrapper and the task's
            # generated name (~1,680 instructions a request, measured with callgrind).
            task = Task(coro, loop=self.loop, name=TASK_NAME)
        else:  # an app's factory (set at any time, in lifespan for example) decides
            task = self.loop.create_task(coro)
        exchange.job = task
        if self.on_done is not None:
            self.busy += 1
            task.add_done_callback(self._done)

    def _done(self, _: Any) -> None:
        self.busy -= 1
        if self.on_done is not None:
            self.on_done()

    def scope(self, exchange: H1Exchange) -> dict[str, Any]:
        """The ``http`` connection scope for an exchange."""
        raw_path = exchange.path
        mount = self.root_path
        if exchange.forwarded and exchange.root_path:
            mount = exchange.root_path  # X-Forwarded-Prefix from a trusted proxy
        if mount or PERCENT in raw_path:
            root, rest = split_root_path(decode_path(raw_path), mount)
            root_path = root.decode("utf-8", "replace")
            # ASGI: path is the full path, root_path included.
            path = (root + rest).decode("utf-8", "replace")
        else:
            root_path = ""
            path = raw_path.decode("utf-8", "replace")
        scope: dict[str, Any] = {
            "type": "http",
            "asgi": ASGI_INFO,
            "http_version": exchange.http_version,
            "server": exchange.server,
            "client": exchange.client,
            "scheme": exchange.scheme,
            "method": exchange.method,
            "root_path": root_path,
            "path": path,
            "raw_path": raw_path,
            "query_string": exchange.query,
            "headers": exchange.headers,
        }
        if self.state is not None:
            scope["state"] = self.state.copy()
        return scope


class HTTPCycle:
    """receive() and send() for one request."""

    __slots__ = ("body_done", "exchange", "started")

    def __init__(self, exchange: Any) -> None:
        self.exchange = exchange
        self.started = False
        self.body_done = False

    async def run(self, app: Callable[..., Any], scope: dict[str, Any]) -> None:
        exchange = self.exchange
        try:
            await app(scope, self.receive, self.send)
        except ClientDisconnected:
            pass
        except asyncio.CancelledError:
            exchange.fail(500)
            raise
        except Exception:
            error_log.exception("exception in ASGI application")
            exchange.fail(500)
        else:
            if not exchange.finished and not exchange.disconnected:
                error_log.error("ASGI application returned without completing its response")
                exchange.fail(500)

    async def receive(self) -> dict[str, Any]:
        exchange = self.exchange
        if self.body_done or exchange.disconnected:
            await exchange.wait_disconnect_or_finish()
            return _DISCONNECT
        if not exchange.request_complete and not exchange.body.buffered:
            await exchange.wait_body()
            if exchange.disconnected:
                return _DISCONNECT
        body = exchange.take_body()
        more = not exchange.request_complete
        if not more:
            self.body_done = True
        return {"type": "http.request", "body": body, "more_body": more}

    def send(self, message: dict[str, Any]) -> Awaitable[None]:
        """ASGI ``send``: an awaitable callable (the spec asks no more than that).

        The message is handled at the call; what it returns is SENT, already complete,
        unless the app must wait for the transport to drain. A coroutine per call cost
        ~1,500 instructions a message in the compiled build (docs/performance.md)."""
        exchange = self.exchange
        kind = message.get("type") if type(message) is dict else None
        if kind == "http.response.body":
            if not self.started:
                raise _violation(exchange, "http.response.body sent before http.response.start")
            body = message.get("body", b"")
            if type(body) is not bytes:
                if not isinstance(body, bytes | bytearray | memoryview):
                    raise _violation(exchange, f"body must be bytes, got {type(body).__name__}")
                body = bytes(body)
            if exchange.disconnected:
                raise ClientDisconnected("client disconnected")
            more = bool(message.get("more_body", False))
            exchange.write(body, more)
            if more and not exchange.writable:
                return exchange.drain()  # type: ignore[no-any-return]
        elif kind == "http.response.start":
            if self.started:
                raise _violation(exchange, "http.response.start sent twice")
            self.started = True
            try:
                status = message["status"]
                # A final status (RFC 9110 §15): 1xx are interim, 101 would switch protocols.
                if type(status) is not int or not 200 <= status <= 599:
                    raise InvalidResponse(f"status must be an int from 200 to 599: {status!r}")
                headers = _encode(message.get("headers", ()))
            except (InvalidResponse, KeyError) as exc:
                raise _violation(exchange, f"invalid http.response.start: {exc}") from None
            exchange.start_response(status, headers)
        else:
            raise _violation(exchange, f"unexpected ASGI message {kind!r} for an http scope")
        return SENT


class Sent:
    """An awaitable that is already complete: what ``send()`` returns once the message
    is with the transport. Registered as a Coroutine (the ABC), so that
    ``asyncio.create_task()``, ``gather()`` and anyio's task groups accept it as they
    accept a coroutine; an extension type in the compiled build, so that awaiting it
    is a C call."""

    __slots__ = ()

    def __await__(self) -> Generator[Any, None, None]:
        return _EXHAUSTED  # type: ignore[return-value]

    def send(self, value: Any) -> Any:
        raise StopIteration

    def throw(self, typ: Any, val: Any = None, tb: Any = None) -> Any:
        raise typ if val is None else val

    def close(self) -> None:
        pass


Coroutine.register(Sent)
# An iterator with nothing left: awaiting SENT ends at once, and nothing is allocated.
_EXHAUSTED = iter(())
SENT = Sent()


# Validated, encoded heads by their header tuples: apps repeat the same few heads.
_HEAD_CACHE: dict[Any, EncodedHeaders] = {}
_HEAD_CACHE_SIZE = 512


def _encode(headers: Iterable[Any]) -> EncodedHeaders:
    try:
        key: Any = tuple(headers)
        cached = _HEAD_CACHE.get(key)
    except TypeError:  # lists as pairs are allowed but unhashable
        key = cached = None
    if cached is None:
        cached = _validate(headers)
        if key is not None and len(_HEAD_CACHE) < _HEAD_CACHE_SIZE:
            _HEAD_CACHE[key] = cached
    return cached


def _validate(headers: Iterable[Any]) -> EncodedHeaders:
    pairs = []
    for item in headers:
        name, value = item
        if type(name) is not bytes or type(value) is not bytes:
            raise InvalidResponse(f"header {item!r} must be a pair of bytes")
        pairs.append((name, value))
    return encode_headers(pairs, allow_hop_by_hop=True)


def _violation(exchange: Any, message: str) -> RuntimeError:
    """Log an app's ASGI protocol violation; the app gets the error raised in send()."""
    error_log.error("ASGI protocol violation: %s", message)
    exchange.fail(500)
    return RuntimeError(message)
