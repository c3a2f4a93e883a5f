"""Entry point of a forked worker process (imported only in the child).

The master never imports this module: protocol and gateway code are loaded in
the worker only, after the fork.
"""

from __future__ import annotations

import faulthandler
import signal
import socket
import sys
from typing import Any

from corral.apps import LoadedApp
from corral.errors import CorralError, report_error
from corral.worker.heartbeat import Heartbeat
from corral.worker.malloc import tune_malloc
from corral.worker.server import import_gateways, serve

# Signals the master handles; the child starts from the default behaviour.
MASTER_SIGNALS = (
    signal.SIGHUP,
    signal.SIGTERM,
    signal.SIGINT,
    signal.SIGQUIT,
    signal.SIGCHLD,
    signal.SIGTTIN,
    signal.SIGTTOU,
    signal.SIGUSR1,
    signal.SIGUSR2,
)


WORKER_IGNORES = (signal.SIGHUP, signal.SIGTTIN, signal.SIGTTOU, signal.SIGUSR2)


def prepare_to_drop_privileges(config: Any, preloaded: LoadedApp | None) -> None:
    """Import now what the worker would import later, once it may no longer read it."""
    import_gateways(preloaded.interface if preloaded is not None else config.interface)


def run_worker(
    config: Any,
    sockets: list[socket.socket],
    heartbeat_fd: int,
    preloaded: LoadedApp | None = None,
    hook_worker: Any = None,
) -> int:
    """Serve until stopped; returns the process exit code (3: app load, 4: boot)."""
    signal.set_wakeup_fd(-1)
    for sig in MASTER_SIGNALS:
        signal.signal(sig, signal.SIG_DFL)
    # Signals for the master only: a HUP or TTIN sent to the whole process group (a
    # closed terminal, a careless kill) must not kill or stop the workers.
    for sig in WORKER_IGNORES:
        signal.signal(sig, signal.SIG_IGN)
    # The master held these across the fork; one sent meanwhile is delivered now,
    # with its default action.
    signal.pthread_sigmask(signal.SIG_UNBLOCK, MASTER_SIGNALS)
    # On a heartbeat timeout the master sends SIGABRT: faulthandler writes the stack
    # of every thread to stderr (the error log) before the process dies.
    faulthandler.enable(file=sys.stderr, all_threads=True)
    tune_malloc()
    try:
        return serve(config, sockets, Heartbeat(heartbeat_fd), preloaded, hook_worker)
    except CorralError as err:  # the app cannot be loaded or started: say so once
        return report_error(err)
