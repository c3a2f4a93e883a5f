"""Hiding the running event loop from synchronous app code, without system calls.

A WSGI app that runs on the event loop's thread must not see the loop: frameworks
would take it for async code (Django refuses every database query with
SynchronousOnlyOperation, ``asyncio.run()`` refuses to start). asyncio's
``_set_running_loop()`` hides and shows it, but in CPython 3.11 each call makes a new
holder object stamped with ``getpid()``, a system call: two per request, 3-6% of a
hello-world request's whole cost under load (docs/performance.md).

The compiled build instead keeps the holder that showing the loop made, checks once
that it is the object this code expects (type, size, and that clearing and restoring
it hides and shows the loop), and then only swaps the loop it points to. Anything
unexpected (another Python version's layout, a holder that app code replaced, for
example by running ``asyncio.run()``) falls back to ``_set_running_loop()``.
"""

from __future__ import annotations

import asyncio
import sys
from asyncio.events import _get_running_loop, _set_running_loop
from collections.abc import Callable
from typing import Any


def _is_compiled() -> bool:
    # Cython makes its own function type; the interpreter's is called "function".
    return type(_is_compiled).__name__ != "function"


# The holder's layout (object head, loop, pid) as Modules/_asynciomodule.c has it in
# 3.11; later versions keep the running loop elsewhere and need no getpid() per call.
_HOLDER_LAYOUT = ("_RunningLoopHolder", 32)
FAST = _is_compiled() and sys.version_info[:2] == (3, 11) and sys.maxsize > 2**32


class HiddenLoop:
    """Hides and shows one loop on its own thread (``hide()`` then ``show()``)."""

    __slots__ = ("fast", "holder", "loop")

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.fast = FAST
        self.holder: object = None  # the running-loop holder known to work

    def hide(self) -> None:
        if self.holder is not None and _c_holder() is self.holder:  # type: ignore[name-defined]  # noqa: F821
            _c_set_loop(self.holder, None)  # type: ignore[name-defined]  # noqa: F821
        else:
            _set_running_loop(None)

    def show(self) -> None:
        if self.holder is not None and _c_holder() is self.holder:  # type: ignore[name-defined]  # noqa: F821
            _c_set_loop(self.holder, self.loop)  # type: ignore[name-defined]  # noqa: F821
            return
        _set_running_loop(self.loop)
        if self.fast:
            self._adopt()

    def call(self, func: Callable[..., None], *args: Any) -> None:
        """Call app code (a resumed iteration, ``close()``) with the loop hidden."""
        self.hide()
        try:
            func(*args)
        finally:
            self.show()

    def _adopt(self) -> None:
        """Keep the holder that now shows the loop, if it behaves as expected."""
        holder = _c_holder()  # type: ignore[name-defined]  # noqa: F821
        kind = type(holder)
        if (kind.__name__, kind.__basicsize__) != _HOLDER_LAYOUT or (
            _c_holder_loop(holder) is not self.loop  # type: ignore[name-defined]  # noqa: F821
        ):
            self.fast = False
            self.holder = None
            return
        _c_set_loop(holder, None)  # type: ignore[name-defined]  # noqa: F821
        hidden = _get_running_loop() is None and _raises_no_running_loop()
        _c_set_loop(holder, self.loop)  # type: ignore[name-defined]  # noqa: F821
        if hidden and _get_running_loop() is self.loop:
            self.holder = holder
        else:
            self.fast = False
            self.holder = None
            _set_running_loop(self.loop)


def _raises_no_running_loop() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return True
    return False
