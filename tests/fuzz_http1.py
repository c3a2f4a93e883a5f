"""Fuzzing harness for corral's HTTP/1.1 request parsing (not a test module itself).

``run_one`` feeds raw bytes, in given splits, to an ``H1Connection`` over a fake
transport, a fake event loop (callbacks run synchronously, in order) and a fake
app that answers ``200 ok`` at once, later, or once the body is in. It returns an
``Outcome`` whose ``problems`` list every broken rule of the parsing property:

    any input gives a dispatched request, a need-more-data state (nothing
    written, connection open) or an error answered with one of
    ``ERROR_STATUSES`` and the connection closed -- never an exception, an
    "internal error" on the ``corral.error`` logger, a hang or a crash.

plus these invariants: nothing is written after an error response, nor after the
close; at most one error response; every response starts with ``HTTP/1.1 ``; no
request is dispatched after the close; no more requests are dispatched than the
input has request lines. ``notes`` record doubtful-but-allowed behaviour (a
connection closed without a word after a keep-alive response).

Used by ``tests/test_http1_fuzz.py`` (hypothesis, in CI) and ``bench/fuzz_http1.py``
(the long run by hand).
"""

from __future__ import annotations

import asyncio
import logging
import re
import traceback
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from itertools import pairwise
from pathlib import Path
from typing import Any

from corral.config.loader import load_config
from corral.gateway.response import EncodedHeaders
from corral.http1.connection import H1Connection
from corral.http1.context import H1Context, H1Limits
from corral.http1.exchange import H1Exchange

ERROR_STATUSES = frozenset({400, 408, 413, 414, 431, 501, 505})
APP_STATUS = 200  # what the fake app answers

# Small enough that short fuzz inputs reach 413, 414 and 431.
SMALL_LIMITS: Mapping[str, int] = {
    "limit_request_line": 64,
    "limit_request_field_size": 64,
    "limit_request_fields": 8,
    "limit_request_head": 512,
    "limit_request_body": 256,
    "drain_limit": 128,
}

# How the fake app answers the n-th dispatched request (cycling through the string):
#   i  at once, inside dispatcher.start() (like inline WSGI)
#   d  later: when the input stalls (reading paused) or is used up, so pipelined
#      requests queue behind it
#   c  once the request body is complete (from the parser's message-complete callback)
ANSWER_MODES = "idc"

# A dispatched request has a version token in its request line ("HTTP/1.1"); counting
# them bounds how many requests an input may yield.
_VERSION = re.compile(rb"/[0-9]\.[0-9]")
_STATUS_LINE = re.compile(rb"HTTP/1\.1 ([0-9]{3}) ")

error_records: list[logging.LogRecord] = []


class _Recorder(logging.Handler):
    def emit(self, record: logging.LogRecord) -> None:
        error_records.append(record)


_ERROR_LOG = logging.getLogger("corral.error")
_RECORDER = _Recorder(logging.DEBUG)


@contextmanager
def capture_error_log() -> Iterator[list[logging.LogRecord]]:
    """Record everything the ``corral.error`` logger emits (at any level) meanwhile."""
    saved = (_ERROR_LOG.level, _ERROR_LOG.disabled)
    _ERROR_LOG.setLevel(logging.DEBUG)
    _ERROR_LOG.disabled = False
    _ERROR_LOG.addHandler(_RECORDER)
    try:
        yield error_records
    finally:
        _ERROR_LOG.removeHandler(_RECORDER)
        _ERROR_LOG.setLevel(saved[0])
        _ERROR_LOG.disabled = saved[1]


_future_loop: asyncio.AbstractEventLoop | None = None


def _futures() -> asyncio.AbstractEventLoop:
    """A real loop, never run: only a factory of futures."""
    global _future_loop
    if _future_loop is None:
        _future_loop = asyncio.new_event_loop()
    return _future_loop


class FakeLoop:
    """Just what H1Connection uses of a loop: ``call_soon`` queues, ``run_ready`` runs."""

    def __init__(self) -> None:
        self.clock = 1000.0
        self.ready: deque[tuple[Callable[..., Any], tuple[Any, ...]]] = deque()

    def time(self) -> float:
        return self.clock

    def create_future(self) -> asyncio.Future[Any]:
        return _futures().create_future()

    def call_soon(self, callback: Callable[..., Any], *args: Any, context: Any = None) -> None:
        self.ready.append((callback, args))

    def run_ready(self, budget: int) -> int:
        """Run queued callbacks (and those they queue) in order; returns the budget left."""
        ready = self.ready
        while ready:
            if budget <= 0:
                raise _Hang("call_soon callbacks keep coming")
            budget -= 1
            callback, args = ready.popleft()
            callback(*args)
        return budget


class _Hang(Exception):
    pass


class FakeTransport:
    """Records writes, close and reading pauses; close() schedules connection_lost
    through the loop, as asyncio's transports do."""

    def __init__(self, loop: FakeLoop) -> None:
        self.loop = loop
        self.protocol: H1Connection | None = None
        self.writes: list[bytes] = []
        self.late_writes = 0  # writes after close()
        self.closed = False
        self.paused = False
        self.pauses = 0

    def write(self, data: bytes) -> None:
        if self.closed:
            self.late_writes += 1
        self.writes.append(bytes(data))

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            if self.protocol is not None:
                self.loop.call_soon(self.protocol.connection_lost, None)

    def abort(self) -> None:
        self.close()

    def is_closing(self) -> bool:
        return self.closed

    def get_write_buffer_size(self) -> int:
        return 0  # the fake client reads everything at once

    def pause_reading(self) -> None:
        self.paused = True
        self.pauses += 1

    def resume_reading(self) -> None:
        self.paused = False

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return {"peername": ("127.0.0.1", 40000), "sockname": ("127.0.0.1", 8000)}.get(
            name, default
        )


class FakeApp:
    """The dispatcher: records each request and answers it as ``answers`` says."""

    def __init__(self, answers: str, transport: FakeTransport) -> None:
        self.answers = answers or "i"
        self.transport = transport
        self.dispatched: list[H1Exchange] = []
        self.deferred: deque[H1Exchange] = deque()
        self.problems: list[str] = []

    def start(self, exchange: H1Exchange) -> None:
        conn = exchange.conn
        if self.transport.closed or conn.state.value == "closed":
            self.problems.append("a request was dispatched after the connection closed")
        if exchange.http_version not in ("1.0", "1.1"):
            self.problems.append(f"dispatched with version {exchange.http_version!r}")
        mode = self.answers[len(self.dispatched) % len(self.answers)]
        self.dispatched.append(exchange)
        if mode == "d":
            self.deferred.append(exchange)
        elif mode == "c" and not exchange.request_complete:
            exchange.on_request_complete = answer
        else:
            answer(exchange)


def answer(exchange: H1Exchange) -> None:
    """The fake app's whole response."""
    exchange.start_response(APP_STATUS, EncodedHeaders(b"", None, False))
    exchange.write(b"ok", False)


@dataclass
class Outcome:
    """What one input did. ``kind``: "error", "served", "waiting" or "closed"."""

    kind: str
    status: int | None  # the error status answered, if any
    dispatched: int
    statuses: list[int]
    closed: bool
    state: str
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def label(self) -> str:
        """A short class for counting: "error 400", "served", "waiting", "closed"."""
        return f"error {self.status}" if self.kind == "error" else self.kind


# -- configuration ---------------------------------------------------------------------------

_limits_cache: dict[tuple[tuple[str, Any], ...], H1Limits] = {}


def limits_for(overrides: Mapping[str, Any] | None = None) -> H1Limits:
    """H1Limits from corral's own settings defaults, with some settings replaced."""
    key = tuple(sorted((overrides or {}).items()))
    limits = _limits_cache.get(key)
    if limits is None:
        argv = ["fuzz:app"]
        for name, value in key:
            argv += ["--" + name.replace("_", "-"), str(value)]
        config = load_config(argv, {}, Path.cwd())
        limits = _limits_cache[key] = H1Limits(config)
    return limits


def chunks_of(data: bytes, splits: list[int]) -> list[bytes]:
    """``data`` cut at the given offsets (out-of-range and repeated ones ignored)."""
    cuts = sorted({s for s in splits if 0 < s < len(data)})
    bounds = [0, *cuts, len(data)]
    return [data[a:b] for a, b in pairwise(bounds) if b > a]


def describe(
    data: bytes, splits: list[int], limits: Mapping[str, Any] | None, **kwargs: Any
) -> str:
    """A ``run_one(...)`` call that repeats a run (to paste into a report or a test)."""
    if len(data) > 2 and splits == list(range(1, len(data))):
        cuts = f"list(range(1, {len(data)}))"  # byte by byte
    else:
        cuts = repr(splits)
    named = "".join(f", {name}={value!r}" for name, value in kwargs.items())
    profile = "SMALL_LIMITS" if limits == SMALL_LIMITS else repr(limits)
    return f"run_one({data!r}, {cuts}, {profile}{named})"


# -- one run ---------------------------------------------------------------------------------


def run_one(
    data: bytes,
    splits: list[int] | None = None,
    limits: Mapping[str, Any] | None = None,
    *,
    answers: str = "i",
    timeout: bool = False,
    hangup: bool = True,
) -> Outcome:
    """Feed ``data`` (cut at ``splits``) to a fresh connection and judge what it did.

    ``limits``: settings to override (names as in the config, e.g. SMALL_LIMITS).
    ``answers``: the fake app's answer modes, cycled per request (see ANSWER_MODES).
    ``timeout``: afterwards, move the clock past the connection's deadline and call
    ``on_deadline`` as the worker's ticker would. ``hangup``: last, the client goes
    away (``connection_lost``), which must not raise either.
    """
    loop = FakeLoop()
    transport = FakeTransport(loop)
    app = FakeApp(answers, transport)
    problems = app.problems
    ctx = H1Context(
        loop,  # type: ignore[arg-type]
        limits_for(limits),
        app,
        server_header=True,
        access_log=None,
    )
    conn = H1Connection(ctx)
    transport.protocol = conn
    chunks = chunks_of(data, splits or [])
    timed_out_state = ""
    with capture_error_log() as records:
        del records[:]
        try:
            conn.connection_made(transport)
            _feed(conn, loop, transport, app, chunks)
            if timeout:
                timed_out_state = conn.state.value
                _expire(conn, loop, ctx)
        except _Hang as exc:
            problems.append(f"hang: {exc}")
        except Exception:
            problems.append("exception: " + traceback.format_exc(limit=-4))
        outcome = _judge(data, conn, transport, app, timed_out_state)
        if hangup and not transport.closed:
            try:
                conn.connection_lost(None)
                loop.run_ready(100)
            except Exception:
                outcome.problems.append("exception on hangup: " + traceback.format_exc(limit=-4))
        for record in records:
            outcome.problems.append(
                f"corral.error logged {record.levelname}: {record.getMessage()}"
                + (f" ({record.exc_info[1]!r})" if record.exc_info else "")
            )
        del records[:]
    return outcome


def _feed(
    conn: H1Connection,
    loop: FakeLoop,
    transport: FakeTransport,
    app: FakeApp,
    chunks: list[bytes],
) -> None:
    """Deliver the chunks as a transport would: not while reading is paused nor after
    the close. When delivery stalls, the app answers a deferred request or reads the
    body of the current one; at the end every deferred request is answered."""
    pending = deque(chunks)
    budget = 20 * len(chunks) + 10_000
    while True:
        while pending and not transport.paused and not transport.closed:
            conn.data_received(pending.popleft())
            budget = loop.run_ready(budget)
        budget -= 1
        if budget <= 0:
            raise _Hang("no progress feeding the input")
        if app.deferred:
            answer(app.deferred.popleft())
            budget = loop.run_ready(budget)
        elif pending and transport.paused and not transport.closed and conn.current is not None:
            # The app reads what is buffered (an unread body pauses reading at its
            # high-water mark); if that does not resume reading, nothing will.
            conn.current.take_body()
            budget = loop.run_ready(budget)
            if transport.paused:
                return
        else:
            return


def _expire(conn: H1Connection, loop: FakeLoop, ctx: H1Context) -> None:
    """The ticker's turn after the deadline has passed."""
    if conn.deadline:
        loop.clock = ctx.now = conn.deadline + 0.5
        conn.on_deadline()
        loop.run_ready(1000)


def _judge(
    data: bytes,
    conn: H1Connection,
    transport: FakeTransport,
    app: FakeApp,
    timed_out_state: str,
) -> Outcome:
    problems = app.problems
    notes: list[str] = []
    statuses: list[int] = []
    for index, write in enumerate(transport.writes):
        match = _STATUS_LINE.match(write)
        if match is None:
            problems.append(f"write #{index} is not a response: {write[:40]!r}")
            continue
        statuses.append(int(match.group(1)))
    errors = [(i, s) for i, s in enumerate(statuses) if s != APP_STATUS]
    status = errors[0][1] if errors else None
    if transport.late_writes:
        problems.append(f"{transport.late_writes} write(s) after the connection closed")
    if len(errors) > 1:
        problems.append(f"{len(errors)} error responses: {statuses}")
    if errors:
        index, status = errors[0]
        if status not in ERROR_STATUSES:
            problems.append(f"error status {status} is not one of {sorted(ERROR_STATUSES)}")
        if index != len(transport.writes) - 1:
            problems.append(f"written after the {status} response: {statuses[index + 1 :]}")
        if not transport.closed:
            problems.append(f"connection left open after the {status} response")
        elif b"\r\nconnection: close\r\n" not in transport.writes[index]:
            problems.append(f"the {status} response does not say connection: close")
    answered = statuses.count(APP_STATUS)
    if answered > len(app.dispatched):
        problems.append(f"{answered} responses for {len(app.dispatched)} requests")
    lines = len(_VERSION.findall(data))
    if len(app.dispatched) > lines:
        problems.append(f"{len(app.dispatched)} requests dispatched from {lines} request lines")
    if errors:
        kind = "error"
    elif app.dispatched:
        kind = "served"
    elif not transport.closed:
        kind = "waiting"
    else:
        kind = "closed"
        if timed_out_state != "idle":
            problems.append("closed without a response, and not by an idle timeout")
    finished = [exchange for exchange in app.dispatched if exchange.finished]
    last = finished[-1] if finished else None
    if (
        not errors
        and last is not None
        and last.keep_alive
        and last.request_complete
        and transport.closed
        and timed_out_state != "idle"
    ):
        # The last response promised keep-alive and its request was read whole, yet
        # the connection closed with nothing said: a request behind it may be lost.
        notes.append("closed without a word after a complete keep-alive exchange")
    return Outcome(
        kind=kind,
        status=status,
        dispatched=len(app.dispatched),
        statuses=statuses,
        closed=transport.closed,
        state=conn.state.value,
        problems=problems,
        notes=notes,
    )
