"""The output side of an HTTP/1.1 connection: queued body pieces and flow control.

The first of three classes, ConnectionOutput -> ConnectionGuards (guards.py) ->
H1Connection (connection.py), one chain rather than mixins so that the compiled
build can declare every attribute once, here (output.pxd). Streamed body pieces are
queued during a loop turn and written together at its end; the transport's
pause/resume callbacks become ``write_paused`` and the busy-state write clock.

No method may be defined under ``if TYPE_CHECKING:`` in these classes: Cython
compiles such a stub into the class, where it would replace the inherited method
(tests/test_compiled.py checks this).
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from corral.http1.state import BUSY, CLOSED, State

if TYPE_CHECKING:
    from corral.http1.context import H1Context
    from corral.http1.exchange import H1Exchange
    from corral.http1.pacing import BusyTimers

OUT_LIMIT = 512 * 1024  # queued response bytes written at once, without waiting for the turn's end


class ConnectionOutput:
    """Methods of H1Connection for writing and flow control (no state of its own)."""

    if not TYPE_CHECKING:  # no instance dict; mypy checks the attributes below instead
        __slots__ = ()

    if TYPE_CHECKING:  # the attributes H1Connection gives these methods
        state: State
        ctx: H1Context
        loop: asyncio.AbstractEventLoop
        transport: Any
        current: H1Exchange | None
        timers: BusyTimers
        write_paused: bool
        _out: list[bytes] | None
        _out_size: int
        _drain_waiter: asyncio.Future[None] | None
        _reading_paused: bool
        deadline: float

    def exchange_finished(self, exchange: H1Exchange) -> None:
        """The response is complete: H1Connection's, declared here so that an exchange,
        which knows its connection by this class, calls it in C (compiled build)."""
        raise NotImplementedError

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

    def write_body(self, data: bytes) -> None:
        """Queue body bytes of a streamed response; what an app sends during one loop
        turn goes out in one writev at its end (or at OUT_LIMIT). On loopback this
        took 1 MiB streamed in 64 KiB chunks from ~1,700 to ~3,300 responses/s
        (bench/run.py stream-*): every send wakes the reader, and fewer, larger sends
        wake it less. Chunks are queued by reference, never copied."""
        out = self._out
        if out is None:
            self._out = [data]
            self._out_size = len(data)
            self.loop.call_soon(self.flush_out)
            return
        out.append(data)
        self._out_size += len(data)
        if self._out_size >= OUT_LIMIT:
            self.flush_out()

    def flush_out(self) -> None:
        """Hand the queued bytes to the transport (before anything else is written)."""
        out = self._out
        if out:
            self._out = None
            if not self.transport.is_closing():
                self.transport.writelines(out)

    def _close(self) -> None:
        if self._out:
            self.flush_out()
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

    def _arm(self) -> None:
        """Point the ticker at the earliest busy-state clock."""
        if self.state is BUSY:
            self.deadline = self.timers.next_deadline()

    async def drain(self) -> None:
        """Wait until the transport accepts more data (or the client is gone)."""
        while self.write_paused and self.state is not CLOSED:
            if self._drain_waiter is None or self._drain_waiter.done():
                self._drain_waiter = self.loop.create_future()
            await self._drain_waiter

    # -- httptools callbacks -------------------------------------------------------
