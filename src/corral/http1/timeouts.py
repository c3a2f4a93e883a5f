"""--request-timeout: answer 504 (or abort) and abandon the app's work, with its stack logged."""

from __future__ import annotations

import asyncio
import logging
import sys
import traceback
from typing import Any

error_log = logging.getLogger("corral.error")


def abandon(exchange: Any, timeout: float) -> None:
    """The app has had ``timeout`` seconds: answer for it and stop waiting.

    504 if no response has started (the connection then closes), otherwise the
    connection is aborted, since a half-sent response cannot be finished. An
    ASGI task is cancelled; a WSGI thread cannot be stopped from outside, so its
    result is discarded when it comes. An app running inline on the event loop
    blocks the ticker that calls this: the master's heartbeat timeout covers it.
    """
    target = exchange.path.decode("latin-1")
    error_log.error(
        "Request timeout (%.1f s): %s %s abandoned; the app was at:\n%s",
        timeout,
        exchange.method,
        target,
        _stack(exchange.job),
    )
    exchange.keep_alive = False
    exchange.fail(504)
    if isinstance(exchange.job, asyncio.Task):
        exchange.job.cancel()


def _stack(job: Any) -> str:
    if isinstance(job, asyncio.Task):
        return "".join(traceback.format_list(_task_frames(job))) or "  (no stack)\n"
    if isinstance(job, int):
        frame = sys._current_frames().get(job)
        if frame is not None:
            return "".join(traceback.format_stack(frame))
    return "  (no stack available)\n"


def _task_frames(task: asyncio.Task[Any]) -> traceback.StackSummary:
    frames = [(frame, frame.f_lineno) for frame in task.get_stack()]
    return traceback.StackSummary.extract(iter(frames))
