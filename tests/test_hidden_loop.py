"""Synchronous app code never sees the worker's running loop (gateway/hidden_loop.py).

Both builds are covered: the pure one hides the loop with asyncio's
``_set_running_loop()``; the compiled one on CPython 3.11 swaps the loop inside the
running-loop holder, and must fall back when app code replaces that holder.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable
from typing import Any

import pytest
import uvloop
from wire import Wire

from corral.gateway import hidden_loop
from corral.gateway.hidden_loop import HiddenLoop

COMPILED = not hidden_loop.__file__.endswith(".py")
FAST_EXPECTED = COMPILED and sys.version_info[:2] == (3, 11)


def loop_seen() -> Any:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


def run_in(kind: str, check: Callable[[asyncio.AbstractEventLoop], None]) -> None:
    async def main() -> None:
        check(asyncio.get_running_loop())
        await asyncio.sleep(0)  # the loop still schedules this task afterwards

    if kind == "uvloop":
        uvloop.run(main())
    else:
        asyncio.run(main())


@pytest.fixture(params=["uvloop", "asyncio"])
def loop_kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def test_the_loop_is_hidden_between_hide_and_show(loop_kind: str) -> None:
    def check(loop: asyncio.AbstractEventLoop) -> None:
        hidden = HiddenLoop(loop)
        for _ in range(3):
            hidden.hide()
            assert loop_seen() is None
            assert asyncio.events._get_running_loop() is None
            hidden.show()
            assert loop_seen() is loop
        assert hidden.fast is FAST_EXPECTED
        assert (hidden.holder is not None) is FAST_EXPECTED

    run_in(loop_kind, check)


def test_app_code_that_runs_its_own_loop_leaves_the_worker_loop_shown(loop_kind: str) -> None:
    async def answer() -> int:
        await asyncio.sleep(0)
        return 42

    def check(loop: asyncio.AbstractEventLoop) -> None:
        hidden = HiddenLoop(loop)
        hidden.hide()
        hidden.show()  # the compiled build adopts the holder here
        for _ in range(2):
            hidden.hide()
            assert asyncio.run(answer()) == 42  # replaces the thread's holder twice
            assert loop_seen() is None
            hidden.show()
            assert loop_seen() is loop
            hidden.hide()
            assert loop_seen() is None
            hidden.show()
            assert loop_seen() is loop
        assert (hidden.holder is not None) is FAST_EXPECTED

    run_in(loop_kind, check)


def test_call_shows_the_loop_again_when_the_app_raises(loop_kind: str) -> None:
    seen: list[Any] = []

    def app_code() -> None:
        seen.append(loop_seen())
        raise ValueError("app error")

    def check(loop: asyncio.AbstractEventLoop) -> None:
        hidden = HiddenLoop(loop)
        for _ in range(2):
            with pytest.raises(ValueError, match="app error"):
                hidden.call(app_code)
            assert loop_seen() is loop
        assert seen == [None, None]

    run_in(loop_kind, check)


def test_a_wsgi_app_on_the_loop_thread_sees_no_loop_and_can_run_one(start_server):
    server = start_server("wsgi_apps:loop_visibility")
    with server.connect() as sock:
        wire = Wire(sock)
        for run in ("0", "1", "0", "1", "0"):  # one connection: the worker's loop goes on
            wire.send(f"GET /?run={run} HTTP/1.1\r\nHost: t\r\n\r\n".encode())
            response = wire.response()
            assert response.status == 200
            assert response.body == (b"no-running-loop 42" if run == "1" else b"no-running-loop 0")
