"""Server hooks from a gunicorn-style Python config file, with gunicorn's names.

The objects handed to hooks offer the attributes real gunicorn configs use:
``server.log``, ``server.cfg``, ``worker.pid``, ``worker.age`` (the worker's
spawn number, as in gunicorn), ``worker.log``, ``req.method``, ``req.path``,
``req.query``, ``req.headers`` (upper-cased names, as gunicorn), ``resp.status``
("200 OK") and ``resp.status_code``. A hook that raises is logged; serving goes on.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Mapping
from http import HTTPStatus
from typing import Any

#: The hooks corral calls (gunicorn's worker_abort is not: the stack dump on a
#: heartbeat timeout is written by faulthandler, which runs no Python code).
HOOK_NAMES = frozenset(
    {
        "on_starting",
        "when_ready",
        "pre_fork",
        "post_fork",
        "post_worker_init",
        "worker_int",
        "child_exit",
        "worker_exit",
        "on_reload",
        "on_exit",
        "pre_request",
        "post_request",
    }
)
error_log = logging.getLogger("corral.error")


class HookServer:
    """``server`` in hooks: the master."""

    def __init__(self, config: Any) -> None:
        self.cfg = config
        self.log = error_log
        self.pid = os.getpid()

    @property
    def num_workers(self) -> int:
        return int(self.cfg.workers)


class HookWorker:
    """``worker`` in hooks."""

    def __init__(self, age: int, pid: int, config: Any) -> None:
        self.age = age
        self.pid = pid
        self.cfg = config
        self.log = error_log


class HookRequest:
    """``req`` in pre_request/post_request, built from an exchange."""

    def __init__(self, exchange: Any) -> None:
        self.method = exchange.method
        self.path = exchange.path.decode("latin-1")
        self.query = exchange.query.decode("latin-1")
        self.uri = self.path + ("?" + self.query if self.query else "")
        self.version = tuple(int(n) for n in exchange.http_version.split("."))
        self.headers = [
            (name.decode("latin-1").upper(), value.decode("latin-1"))
            for name, value in exchange.headers
        ]


class HookResponse:
    """``resp`` in post_request."""

    def __init__(self, status_code: int) -> None:
        self.status_code = status_code
        try:
            self.status = f"{status_code} {HTTPStatus(status_code).phrase}"
        except ValueError:
            self.status = str(status_code)


def call(hooks: Mapping[str, Callable[..., Any]], name: str, *args: Any) -> None:
    """Call hook ``name`` if the config defines it; log (never raise) its errors."""
    hook = hooks.get(name)
    if hook is None:
        return
    try:
        hook(*args)
    except Exception:
        error_log.exception("exception in the %s hook", name)
