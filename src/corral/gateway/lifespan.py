"""ASGI lifespan protocol: startup before serving, shutdown on exit.

Modes: ``on`` (failure stops the server), ``off``, ``auto`` (an app that raises
before sending any lifespan message does not support lifespan; Django's
ASGIHandler raises so for the lifespan scope).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from corral.errors import BootError
from corral.gateway.asgi import ASGI_INFO

error_log = logging.getLogger("corral.error")


class Lifespan:
    """Runs the app's lifespan task and relays startup/shutdown."""

    def __init__(self, app: Callable[..., Any], mode: str) -> None:
        self.app = app
        self.mode = mode
        self.state: dict[str, Any] = {}
        self.supported = mode != "off"
        self._inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._outbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.task: asyncio.Task[None] | None = None
        self._sent_any = False

    async def startup(self) -> None:
        """Run lifespan startup; raise BootError when it fails and failure matters."""
        if self.mode == "off":
            return
        self.task = asyncio.get_running_loop().create_task(self._run())
        await self._inbox.put({"type": "lifespan.startup"})
        reply = await self._outbox.get()
        kind = reply.get("type")
        if kind == "lifespan.startup.complete":
            return
        if kind == "lifespan.startup.failed":
            raise BootError(f"lifespan startup failed: {reply.get('message') or 'no message'}")
        if kind == "app-error" and self.mode == "auto" and not self._sent_any:
            self.supported = False
            error_log.info("ASGI lifespan not supported by the app; continuing without it")
            return
        raise BootError(f"lifespan startup failed: {reply.get('message')}")

    async def shutdown(self) -> None:
        """Run lifespan shutdown, logging (not raising) failures."""
        if not self.supported or self.task is None or self.task.done():
            return
        await self._inbox.put({"type": "lifespan.shutdown"})
        reply = await self._outbox.get()
        if reply.get("type") == "lifespan.shutdown.failed" or reply.get("type") == "app-error":
            error_log.error("lifespan shutdown failed: %s", reply.get("message", ""))

    async def _run(self) -> None:
        scope = {"type": "lifespan", "asgi": ASGI_INFO, "state": self.state}
        try:
            await self.app(scope, self._receive, self._send)
        except Exception as exc:
            if self.mode == "on" or self._sent_any:
                error_log.exception("exception in ASGI lifespan")
            await self._outbox.put({"type": "app-error", "message": f"{type(exc).__name__}: {exc}"})
        else:
            await self._outbox.put({"type": "app-error", "message": "the lifespan task returned"})

    async def _receive(self) -> dict[str, Any]:
        return await self._inbox.get()

    async def _send(self, message: dict[str, Any]) -> None:
        self._sent_any = True
        await self._outbox.put(message)
