"""The worker: load the app, run lifespan, accept and serve until told to stop.

Shutdown phases (graceful stop on SIGTERM/SIGINT):
    SERVING --signal--> DRAINING: stop accepting (take what is already queued),
        close idle connections, let in-flight requests finish with
        ``Connection: close`` --all closed or graceful_timeout--> STOPPED:
        close what is left, run lifespan shutdown, flush logs.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import importlib
import logging
import os
import random
import signal
import socket
import sys
import time
from typing import TYPE_CHECKING, Any

from corral.apps import LoadedApp, load_app
from corral.compiled import summary
from corral.hooks import HookRequest, HookResponse, HookServer, HookWorker
from corral.hooks import call as call_hook
from corral.http1.connection import H1Connection
from corral.http1.context import H1Context, H1Limits
from corral.http1.forwarding import ProxyPolicy
from corral.observe.logsetup import keep_error_logger_enabled, reopen_error_log
from corral.worker.accept import Acceptor
from corral.worker.access import AccessLog
from corral.worker.heartbeat import Heartbeat
from corral.worker.overload import ConcurrencyGate, ConnectionLimit

if TYPE_CHECKING:
    from corral.gateway.lifespan import Lifespan

error_log = logging.getLogger("corral.error")
TICK = 0.1  # seconds between clock refreshes, deadline sweeps and access-log flushes
DRAIN_IDLE_GRACE = 1.0  # on a graceful stop, idle connections get this long to send a request


class Phase(enum.Enum):
    STARTING = "starting"
    SERVING = "serving"
    DRAINING = "draining"
    STOPPED = "stopped"


def import_gateways(interface: str) -> None:
    """Import the gateway an app of ``interface`` needs; both while it is not known.

    A worker imports its gateway only when it starts serving, so that the other
    one never takes memory; a worker that switches to another user (--user)
    calls this first, since that user may not be able to read corral's files.
    """
    names = []
    if interface != "wsgi":
        names += ["corral.gateway.asgi", "corral.gateway.lifespan"]
    if interface != "asgi":
        names.append("corral.gateway.wsgi")
    for name in names:
        importlib.import_module(name)


def serve(
    config: Any,
    sockets: list[socket.socket],
    heartbeat: Heartbeat | None = None,
    preloaded: LoadedApp | None = None,
    hook_worker: HookWorker | None = None,
) -> int:
    """Run one worker on ``sockets`` until it is stopped; returns the exit code."""
    loop = _new_loop()
    asyncio.set_event_loop(loop)
    worker = Worker(config, sockets, loop, heartbeat, preloaded)
    if hook_worker is not None:
        worker.hook_worker = hook_worker
    try:
        code = loop.run_until_complete(worker.run())
    finally:
        loop.close()
    if worker.stuck_threads:
        # Python would wait for the pool's threads at exit, for as long as the app
        # keeps them busy: the graceful timeout is over, so leave without them.
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    return code


def _new_loop() -> asyncio.AbstractEventLoop:
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvloop is a dependency on Linux and macOS
        return asyncio.new_event_loop()
    loop: asyncio.AbstractEventLoop = uvloop.new_event_loop()
    return loop


class Worker:
    """One event loop serving every listener."""

    def __init__(
        self,
        config: Any,
        sockets: list[socket.socket],
        loop: asyncio.AbstractEventLoop,
        heartbeat: Heartbeat | None = None,
        preloaded: LoadedApp | None = None,
    ) -> None:
        self.config = config
        self.heartbeat = heartbeat
        self.preloaded = preloaded
        # --max-requests, with this worker's share of the jitter (as gunicorn does).
        self.request_limit = (
            config.max_requests + random.randint(0, config.max_requests_jitter)
            if config.max_requests
            else 0
        )
        self.recycle_asked = False
        self.master_pid = os.getppid()
        self.hooks = getattr(config, "hooks", {})
        self.hook_worker = HookWorker(0, os.getpid(), config)
        self.sockets = sockets
        self.loop = loop
        self.phase = Phase.STARTING
        self.stop_requested = loop.create_future()
        self.all_closed = loop.create_future()
        self.acceptors: list[Acceptor] = []
        self.access: AccessLog | None = None
        self.ctx: H1Context | None = None
        self.gateway: Any = None
        self.wsgi = False  # the app is WSGI (its gateway has a thread pool to stop)
        self.gate: ConcurrencyGate | None = None
        self.lifespan: Lifespan | None = None
        self.stuck_threads = 0  # WSGI app threads still busy when the worker stopped
        self.quick = False  # INT/QUIT: no shutdown delay, no graceful wait

    async def run(self) -> int:
        config = self.config
        loaded = self.preloaded or load_app(
            config.app, factory=config.factory, interface=config.interface
        )
        keep_error_logger_enabled()
        call_hook(self.hooks, "post_worker_init", self.hook_worker)
        self.loop.add_signal_handler(signal.SIGTERM, self.request_stop, signal.SIGTERM)
        for sig in (signal.SIGINT, signal.SIGQUIT):  # gunicorn's quick shutdown
            self.loop.add_signal_handler(sig, self.quick_stop, sig)
        self.loop.add_signal_handler(signal.SIGUSR1, self.reopen_logs)
        # Only the app's own gateway is imported: the other one (compiled, ~0.3 MiB
        # of code and data) would sit in every worker's memory unused.
        if loaded.interface == "asgi":
            from corral.gateway.asgi import ASGIGateway
            from corral.gateway.lifespan import Lifespan

            self.lifespan = Lifespan(loaded.app, config.lifespan)
            await self.lifespan.startup()
            state = self.lifespan.state if self.lifespan.supported else None
            self.gateway = ASGIGateway(loaded.app, self.loop, config.root_path, state)
        else:
            from corral.gateway.wsgi import WSGIGateway

            self.wsgi = True
            self.gateway = WSGIGateway(loaded.app, self.loop, config)
        if config.access_log:
            self.access = AccessLog(config.access_log_format, config.accesslog)
        dispatcher = self._dispatcher()
        self.ctx = H1Context(
            self.loop,
            H1Limits(config),
            dispatcher,
            server_header=config.server_header,
            access_log=self.access.log if self.access else None,
        )
        if "pre_request" in self.hooks:
            self.ctx.on_request = self._pre_request
        if "post_request" in self.hooks:
            self.ctx.on_response = self._post_request
        self.ctx.proxy = ProxyPolicy.from_config(config)
        if config.health_path:
            self.ctx.health_path = config.health_path.encode("latin-1")
        self.ctx.checks_before_app = bool(
            config.request_timeout or self.ctx.on_request or self.ctx.health_path
        )
        self.ctx.extras = bool(
            self.access
            or self.ctx.checks_before_app
            or self.ctx.on_response
            or self.request_limit
            or self.gate
        )
        if not config.date_header:
            self.ctx.date.disable()
        ctx = self.ctx
        if config.max_connections:
            ctx.conn_limit = ConnectionLimit(ctx.connections, config.max_connections)
        for sock in self.sockets:
            acceptor = Acceptor(self.loop, sock, lambda: H1Connection(ctx), ctx.conn_limit)
            acceptor.start()
            self.acceptors.append(acceptor)
        if ctx.conn_limit is not None:
            ctx.conn_limit.acceptors = self.acceptors
        self.phase = Phase.SERVING
        error_log.info(
            "Worker %d serving %s (%s, %s)", os.getpid(), config.app, loaded.interface, summary()
        )
        if self.heartbeat is not None:
            self.heartbeat.ready()
        self._tick()
        await self.stop_requested
        await self._shutdown_delay()
        await self._drain()
        call_hook(self.hooks, "worker_exit", HookServer(config), self.hook_worker)
        return 0

    def _dispatcher(self) -> Any:
        """The gateway, behind a --limit-concurrency gate when one is set."""
        config = self.config
        if not config.limit_concurrency:
            return self.gateway
        if self.wsgi and self.gateway.pool is None:
            error_log.warning(
                "--limit-concurrency has no effect with --threads 1: a WSGI worker "
                "without threads runs one request at a time"
            )
            return self.gateway
        self.gate = ConcurrencyGate(
            self.gateway, config.limit_concurrency, config.queue_size, config.queue_timeout
        )
        return self.gate

    def _pre_request(self, exchange: Any) -> None:
        call_hook(self.hooks, "pre_request", self.hook_worker, HookRequest(exchange))

    def _post_request(self, exchange: Any) -> None:
        request, response = HookRequest(exchange), HookResponse(exchange.status)
        call_hook(self.hooks, "post_request", self.hook_worker, request, None, response)

    async def _shutdown_delay(self) -> None:
        """Phase (a): keep serving while the health path says 503, so load balancers
        and Kubernetes take this server out of rotation before it stops accepting."""
        assert self.ctx is not None
        self.ctx.healthy = False
        delay = self.config.shutdown_delay
        if delay and not self.quick:
            error_log.info("Shutdown phase 1: serving for %.1f s more, health path says 503", delay)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(self.all_closed), delay)

    def _ask_for_recycling(self, served: int) -> None:
        if not self.recycle_asked and self.heartbeat is not None:
            self.recycle_asked = True
            error_log.info(
                "Worker %d served %d requests: asking to be replaced", os.getpid(), served
            )
            self.heartbeat.recycle()

    def reopen_logs(self) -> None:
        """USR1 (after log rotation): reopen the error log and the access log."""
        reopen_error_log()
        if self.access is not None:
            self.access.writer.reopen()

    def quick_stop(self, sig: int) -> None:
        """INT/QUIT: close every connection now and exit (in-flight requests are cut)."""
        error_log.info("Received %s: quick stop", signal.Signals(sig).name)
        self.quick = True
        call_hook(self.hooks, "worker_int", self.hook_worker)
        if not self.stop_requested.done():
            self.stop_requested.set_result(None)
        self._close_all()

    def request_stop(self, sig: int) -> None:
        if not self.stop_requested.done():
            error_log.info("Received %s: graceful stop", signal.Signals(sig).name)
            self.stop_requested.set_result(None)
        elif self.phase is Phase.DRAINING:
            error_log.info("Received %s again: stopping now", signal.Signals(sig).name)
            self._close_all()

    def _tick(self) -> None:
        """Refresh the coarse clock and Date header, expire deadlines, flush the access log."""
        ctx = self.ctx
        if ctx is None or self.phase is Phase.STOPPED:
            return
        now = self.loop.time()
        ctx.now = now
        if self.heartbeat is not None:
            self.heartbeat.beat(now)
            if os.getppid() != self.master_pid and not self.stop_requested.done():
                # The master is gone (killed): nobody would stop or replace this worker.
                error_log.warning("Worker %d: the master has gone; stopping", os.getpid())
                self.stop_requested.set_result(None)
            if self.request_limit and ctx.requests >= self.request_limit:
                self._ask_for_recycling(ctx.requests)
        wall = time.time()
        ctx.date.refresh(wall)
        for conn in list(ctx.connections):
            deadline = conn.deadline
            if deadline and deadline <= now:
                conn.on_deadline()
        if self.gate is not None and self.gate.queue:
            self.gate.expire(now)
        if self.access is not None:
            self.access.tick(wall)
        self.loop.call_later(TICK, self._tick)

    async def _drain(self) -> None:
        assert self.ctx is not None
        self.phase = Phase.DRAINING
        error_log.info("Shutdown phase 2: no new connections; finishing requests in flight")
        for acceptor in self.acceptors:
            acceptor.on_settled = self._settled_while_draining
            acceptor.accept_ready()  # answer what already waits in the backlog
            acceptor.stop()
        ctx = self.ctx
        if ctx.conn_limit is not None:
            ctx.conn_limit.paused.clear()  # not to be restarted when connections end
        ctx.draining = True
        ctx.on_idle = self._check_all_closed
        for conn in list(ctx.connections):
            conn.close_when_idle(ctx.now, DRAIN_IDLE_GRACE)
        self._check_all_closed()
        timeout = self.config.graceful_timeout
        try:
            await asyncio.wait_for(asyncio.shield(self.all_closed), timeout or None)
        except TimeoutError:
            error_log.warning(
                "Shutdown phase 3: graceful timeout (%ss): closing %d connection(s)",
                timeout,
                len(ctx.connections),
            )
            self._close_all()
        await self._finish()

    def _settled_while_draining(self, conn: Any) -> None:
        """A connection accepted before the stop is set up (or failed to be): it gets
        the same grace to send its request as the connections that were idle."""
        if conn is not None and self.ctx is not None:
            conn.close_when_idle(self.ctx.now, DRAIN_IDLE_GRACE)
        self._check_all_closed()

    def _check_all_closed(self) -> None:
        # Connections still being set up count: stopping now would drop them, and
        # with them requests their clients have already sent.
        if self.ctx is None or self.ctx.connections or self.all_closed.done():
            return
        if not any(acceptor.pending for acceptor in self.acceptors):
            self.all_closed.set_result(None)

    def _close_all(self) -> None:
        if self.ctx is not None:
            for conn in list(self.ctx.connections):
                conn.transport.abort()
        if not self.all_closed.done():
            self.all_closed.set_result(None)

    async def _finish(self) -> None:
        # Request tasks still running after the graceful timeout (ASGI), not the
        # lifespan task, which gets its shutdown message below.
        keep = {asyncio.current_task(), self.lifespan.task if self.lifespan else None}
        tasks = [task for task in asyncio.all_tasks() if task not in keep]
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks, timeout=1.0)
        if self.lifespan is not None:
            await self.lifespan.shutdown()
        if self.wsgi:
            self.stuck_threads = self.gateway.shutdown()
            if self.stuck_threads:
                error_log.warning(
                    "%d request thread(s) still running after the graceful timeout; "
                    "exiting without them",
                    self.stuck_threads,
                )
        self.phase = Phase.STOPPED
        if self.access is not None:
            self.access.close()
        error_log.info("Worker %d stopped", os.getpid())
