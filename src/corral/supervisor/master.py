"""The pre-fork master: forks workers, watches their heartbeats, reaps, respawns.

It never parses HTTP and never imports protocol or gateway code: the worker
entry point is imported inside the forked child. Signal handlers only record
the signal (and wake the loop through the wakeup pipe); the loop acts on it.

Master phases: STARTING (until every first worker is ready; a worker failing
to boot now stops the server with its exit code) -> RUNNING -> STOPPING (on
TERM/INT/QUIT or giving up; ends when the last worker is reaped).
"""

from __future__ import annotations

import collections
import contextlib
import enum
import logging
import os
import random
import select
import signal
import sys
import time
import traceback
from collections.abc import Callable
from typing import Any

from corral.errors import CorralError
from corral.hooks import HookServer, HookWorker
from corral.hooks import call as call_hook
from corral.observe.logsetup import reopen_error_log
from corral.supervisor.children import (
    CRASH_WINDOW,
    MAX_CRASHES,
    Child,
    Life,
    backoff,
    describe_exit,
    exit_code_of,
    unique_memory,
)
from corral.supervisor.listeners import Listener
from corral.supervisor.process import drop_privileges, set_title
from corral.supervisor.systemd import Notifier
from corral.supervisor.upgrade import Upgrade

error_log = logging.getLogger("corral.error")

HANDLED = (
    signal.SIGTERM,
    signal.SIGINT,
    signal.SIGQUIT,
    signal.SIGHUP,
    signal.SIGCHLD,
    signal.SIGTTIN,
    signal.SIGTTOU,
    signal.SIGUSR1,
    signal.SIGUSR2,
)
KILL_GRACE = 5.0  # after the graceful timeout, before SIGKILL
ABORT_GRACE = 2.0  # after SIGABRT (stack dump), before SIGKILL
MEMORY_CHECK_EVERY = 5.0  # seconds between reads of the workers' memory use
POLL = 0.25  # the loop wakes at least this often to check heartbeats and deadlines


class Phase(enum.Enum):
    STARTING = "starting"
    RUNNING = "running"
    STOPPING = "stopping"


class Master:
    """Supervises ``config.workers`` worker processes on shared listening sockets."""

    def __init__(
        self,
        config: Any,
        listeners: list[Listener],
        reload_config: Callable[[], Any] | None = None,
        preloaded: Any = None,
        *,
        ids: tuple[int | None, int | None] = (None, None),
        notifier: Notifier | None = None,
        upgrade: Upgrade | None = None,
    ) -> None:
        self.upgrade = upgrade
        self.hooks = getattr(config, "hooks", {})
        self.hook_server = HookServer(config)
        self.spawned = 0  # workers forked so far: gunicorn's worker.age
        self.config = config
        self.ids = ids  # (uid, gid) the workers switch to, from --user/--group
        self.notifier = notifier or Notifier({})
        self.preloaded = preloaded  # the app imported by the master (--preload)
        self.memory_checked = 0.0
        self.listeners = listeners
        self.reload_config = reload_config
        self.children: dict[int, Child] = {}
        self.target = config.workers
        self.phase = Phase.STARTING
        self.generation = 0
        self.crashes = 0
        self.respawn_at = 0.0
        self.exit_code = 0
        self.signals: collections.deque[int] = collections.deque()
        self.wakeup_r, self.wakeup_w = os.pipe()
        os.set_blocking(self.wakeup_r, False)
        os.set_blocking(self.wakeup_w, False)

    # -- main loop -----------------------------------------------------------------

    def run(self) -> int:
        """Supervise until stopped; returns the exit code for the process."""
        previous = {sig: signal.signal(sig, self._record_signal) for sig in HANDLED}
        old_wakeup = signal.set_wakeup_fd(self.wakeup_w)
        error_log.info("Master %d starting %d worker(s)", os.getpid(), self.target)
        try:
            while self.phase is not Phase.STOPPING or self.children:
                self._maintain()
                self._wait(POLL)
                self._handle_signals()
                self._reap()
                self._watch()
        finally:
            signal.set_wakeup_fd(old_wakeup)
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            os.close(self.wakeup_r)
            os.close(self.wakeup_w)
        call_hook(self.hooks, "on_exit", self.hook_server)
        error_log.info("Master %d stopped", os.getpid())
        return self.exit_code

    def _record_signal(self, sig: int, frame: Any) -> None:
        self.signals.append(sig)  # acted on by the loop (DESIGN.md rule 4)

    def _wait(self, timeout: float) -> None:
        pipes = {child.pipe: child for child in self.children.values() if child.pipe >= 0}
        try:
            readable, _, _ = select.select([self.wakeup_r, *pipes], [], [], timeout)
        except InterruptedError:
            return
        now = time.monotonic()
        for fd in readable:
            if fd == self.wakeup_r:
                _drain(fd)
            else:
                self._on_beats(pipes[fd], fd, now)

    def _on_beats(self, child: Child, fd: int, now: float) -> None:
        data = _drain(fd)
        if not data:  # the worker closed its end: it is exiting
            os.close(fd)
            child.pipe = -1
            return
        child.last_beat = now
        if b"M" in data and not child.recycle:
            child.recycle = "max requests reached"
            error_log.info("Worker %d: %s; replacing it (new before old)", child.pid, child.recycle)
        if b"R" in data and child.life is Life.BOOTING:
            child.life = Life.READY
            child.ready_at = now
            error_log.info("Worker %d ready", child.pid)
            if self.phase is Phase.STARTING and self._ready_count() >= self.target:
                self.phase = Phase.RUNNING
                self.notifier.send(f"READY=1\nSTATUS=serving with {self.target} worker(s)")
                call_hook(self.hooks, "when_ready", self.hook_server)

    # -- workers ---------------------------------------------------------------------

    def _serving(self) -> list[Child]:
        return [c for c in self.children.values() if not c.stop_reason]

    def _ready_count(self) -> int:
        return sum(1 for c in self._serving() if c.life is Life.READY)

    def _maintain(self) -> None:
        """Bring the workers to the target: spawn, roll a reload forward, retire extras."""
        if self.phase is Phase.STOPPING:
            return
        serving = self._serving()
        old = [c for c in serving if c.generation < self.generation or c.recycle]
        new = [c for c in serving if c.generation == self.generation]
        if old:
            # Rolling replacement, new before old, one at a time: capacity never drops.
            if any(c.life is Life.BOOTING for c in new):
                return
            if len(new) + len(old) > self.target:
                oldest = min(old, key=lambda c: c.started)
                self._stop(oldest, signal.SIGTERM, oldest.recycle or "replaced")
            elif time.monotonic() >= self.respawn_at:
                self._spawn()
            return
        if len(serving) < self.target and time.monotonic() >= self.respawn_at:
            # One first at start-up (a broken app then fails once, with one error
            # message, instead of in every worker at once); one at a time while
            # workers keep crashing; otherwise all that are missing at once.
            if self.phase is Phase.STARTING and not self._ready_count():
                count = 0 if serving else 1
            else:
                count = 1 if self.crashes else self.target - len(serving)
            for _ in range(count):
                self._spawn()
        elif len(serving) > self.target:
            self._stop(min(serving, key=lambda c: c.started), signal.SIGTERM, "fewer workers")

    def _spawn(self) -> None:
        read_end, write_end = os.pipe()
        self.spawned += 1
        hook_worker = HookWorker(self.spawned, 0, self.config)
        call_hook(self.hooks, "pre_fork", self.hook_server, hook_worker)
        # Signals are held across the fork: one reaching the child before it has put
        # back the default handlers would land in this master's handler, in the
        # child, and be lost (a TERM ignored that way left workers running).
        signal.pthread_sigmask(signal.SIG_BLOCK, HANDLED)
        pid = os.fork()
        if pid == 0:
            hook_worker.pid = os.getpid()
            self._become_worker(read_end, write_end, hook_worker)
        signal.pthread_sigmask(signal.SIG_UNBLOCK, HANDLED)
        os.close(write_end)
        os.set_blocking(read_end, False)
        now = time.monotonic()
        child = Child(pid, read_end, now, self.generation, last_beat=now, number=self.spawned)
        if self.config.max_worker_lifetime:
            jitter = random.uniform(0, self.config.max_worker_lifetime_jitter)
            child.lifetime = self.config.max_worker_lifetime + jitter
        self.children[pid] = child
        error_log.info("Booting worker %d", pid)

    def _become_worker(self, read_end: int, write_end: int, hook_worker: HookWorker) -> None:
        """In the forked child: drop the master's descriptors and run the worker."""
        code = 1
        try:
            os.close(read_end)
            for child in self.children.values():
                if child.pipe >= 0:
                    os.close(child.pipe)
            # Only ever imported in a worker.
            from corral.worker.entry import prepare_to_drop_privileges, run_worker

            # Own SO_REUSEPORT sockets are made before dropping privileges: every
            # socket of a reuse-port group must belong to the same user.
            sockets = [lst.worker_socket(self.config.backlog) for lst in self.listeners]
            if self.ids != (None, None):
                prepare_to_drop_privileges(self.config, self.preloaded)
            drop_privileges(*self.ids)
            set_title("worker", self.config)
            call_hook(self.hooks, "post_fork", self.hook_server, hook_worker)
            code = run_worker(self.config, sockets, write_end, self.preloaded, hook_worker)
        except BaseException:
            traceback.print_exc()
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(code)

    def _stop(self, child: Child, sig: int, reason: str, grace: float | None = None) -> None:
        if grace is None:
            grace = self.config.shutdown_delay + self.config.graceful_timeout + KILL_GRACE
        child.stop_reason = child.stop_reason or reason
        child.life = Life.STOPPING
        child.kill_deadline = time.monotonic() + grace
        self._kill(child, sig)

    def _kill(self, child: Child, sig: int) -> None:
        child.signals_sent.add(sig)
        with contextlib.suppress(ProcessLookupError):  # it has exited already
            os.kill(child.pid, sig)

    # -- reaping and watching ----------------------------------------------------------

    def _reap(self) -> None:
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            child = self.children.pop(pid, None)
            if child is not None:
                if child.pipe >= 0:
                    os.close(child.pipe)
                self._on_exit(child, status)

    def _on_exit(self, child: Child, status: int) -> None:
        how = describe_exit(status, child)
        worker = HookWorker(child.number, child.pid, self.config)
        call_hook(self.hooks, "child_exit", self.hook_server, worker)
        now = time.monotonic()
        if (child.stop_reason and child.stop_reason != "heartbeat timeout") or child.recycle:
            error_log.info("Worker %d %s", child.pid, how)
            return
        if child.life is Life.BOOTING and self.phase is Phase.STARTING:
            error_log.error("Worker %d failed to boot (%s); stopping", child.pid, how)
            self.exit_code = exit_code_of(status)
            self._shutdown(signal.SIGTERM, "another worker failed to boot")
            return
        if self.phase is Phase.STOPPING:
            error_log.info("Worker %d %s", child.pid, how)
            return
        crashed = child.life is Life.BOOTING or now - child.ready_at < CRASH_WINDOW
        self.crashes = self.crashes + 1 if crashed else 0
        if self.crashes > MAX_CRASHES:
            error_log.critical(
                "Worker %d %s; workers keep crashing (%d times in a row), giving up",
                child.pid,
                how,
                self.crashes,
            )
            self.exit_code = 1
            self._shutdown(signal.SIGTERM, "the master gave up")
            return
        self.respawn_at = now + backoff(self.crashes)
        delay = f" in {backoff(self.crashes):.1f} s" if self.crashes else ""
        error_log.error("Worker %d %s; starting a replacement%s", child.pid, how, delay)

    def _watch(self) -> None:
        """Heartbeat timeouts, and SIGKILL for workers that outstay their stop."""
        now = time.monotonic()
        timeout = self.config.timeout
        for child in list(self.children.values()):
            if child.stop_reason:
                if now >= child.kill_deadline and signal.SIGKILL not in child.signals_sent:
                    error_log.warning("Worker %d did not stop in time: SIGKILL", child.pid)
                    self._kill(child, signal.SIGKILL)
            elif child.life is Life.READY:
                if timeout and now - child.last_beat > timeout:
                    error_log.error(
                        "WORKER TIMEOUT (pid %d): no heartbeat for %.1f s (its event loop is "
                        "blocked); its stack follows, then it is replaced",
                        child.pid,
                        now - child.last_beat,
                    )
                    self._stop(child, signal.SIGABRT, "heartbeat timeout", ABORT_GRACE)
                elif self.crashes and now - child.ready_at > CRASH_WINDOW:
                    self.crashes = 0  # a worker has stayed up: the crash loop is over
                if child.lifetime and child.age > child.lifetime and not child.recycle:
                    child.recycle = f"max lifetime reached ({child.lifetime:.0f} s)"
                    error_log.info("Worker %d: %s; replacing it", child.pid, child.recycle)
        self._check_memory(now)

    def _check_memory(self, now: float) -> None:
        """--max-worker-memory: unique memory (USS) read every few seconds."""
        limit = self.config.max_worker_memory * 1024 * 1024
        if not limit or now - self.memory_checked < MEMORY_CHECK_EVERY:
            return
        self.memory_checked = now
        for child in self._serving():
            if child.life is not Life.READY or child.recycle:
                continue
            try:
                with open(f"/proc/{child.pid}/smaps_rollup") as f:
                    used = unique_memory(f.read())
            except OSError:
                continue  # not Linux, or the worker just exited
            if used > limit:
                child.recycle = f"unique memory {used >> 20} MiB over {limit >> 20} MiB"
                error_log.info("Worker %d: %s; replacing it", child.pid, child.recycle)

    # -- signals -------------------------------------------------------------------------

    def _handle_signals(self) -> None:
        while self.signals:
            sig = self.signals.popleft()
            if sig == signal.SIGCHLD:
                continue  # reaping happens every turn of the loop
            name = signal.Signals(sig).name
            if sig == signal.SIGTERM:
                error_log.info("Received %s: graceful shutdown", name)
                self._shutdown(signal.SIGTERM, "shutdown")
            elif sig in (signal.SIGINT, signal.SIGQUIT):
                error_log.info("Received %s: quick shutdown", name)
                self._shutdown(signal.SIGQUIT, "quick shutdown", KILL_GRACE)
            elif sig == signal.SIGHUP:
                self._reload()
            elif sig == signal.SIGTTIN:
                self.target += 1
                error_log.info("Received SIGTTIN: %d worker(s)", self.target)
            elif sig == signal.SIGTTOU:
                self.target = max(1, self.target - 1)
                error_log.info("Received SIGTTOU: %d worker(s)", self.target)
            elif sig == signal.SIGUSR2:
                self._start_new_master()
            elif sig == signal.SIGUSR1:
                reopen_error_log()
                for child in self._serving():
                    self._kill(child, signal.SIGUSR1)

    def _start_new_master(self) -> None:
        if self.upgrade is None:
            error_log.error("Received SIGUSR2: no command line to start a new master from")
        elif self.phase is not Phase.STOPPING and not self.upgrade.pid:
            pid = self.upgrade.start()
            error_log.info(
                "Received SIGUSR2: started a new master (%d) on the same sockets; send TERM "
                "to this one (%d) once it serves",
                pid,
                os.getpid(),
            )

    def _shutdown(self, sig: int, reason: str, grace: float | None = None) -> None:
        if self.phase is not Phase.STOPPING:
            self.notifier.send(f"STOPPING=1\nSTATUS={reason}")
        self.phase = Phase.STOPPING
        for child in list(self.children.values()):
            if not child.stop_reason or sig != signal.SIGTERM:
                self._stop(child, sig, reason, grace)

    def _reload(self) -> None:
        """HUP: re-read the settings, then replace every worker, new before old."""
        if self.phase is Phase.STOPPING:
            return
        if self.reload_config is not None:
            try:
                self.config = self.reload_config()
            except CorralError as err:
                error_log.error("Received SIGHUP: configuration not reloaded: %s", err)
                return
            self.target = self.config.workers
        self.generation += 1
        self.hooks = getattr(self.config, "hooks", {})
        self.hook_server.cfg = self.config
        call_hook(self.hooks, "on_reload", self.hook_server)
        error_log.info("Received SIGHUP: replacing %d worker(s) one at a time", self.target)
        self.notifier.send("STATUS=reloading: replacing workers one at a time")


def _drain(fd: int) -> bytes:
    """Everything readable on a non-blocking pipe now (b"" at end of file)."""
    chunks: list[bytes] = []
    while True:
        try:
            data = os.read(fd, 4096)
        except BlockingIOError:
            break
        if not data:
            return b"".join(chunks)
        chunks.append(data)
    return b"".join(chunks) or b"?"
