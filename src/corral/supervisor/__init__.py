"""The supervisor: binds the listeners, then runs the pre-fork master.

The master never imports protocol or gateway code: the worker entry point is
imported inside each forked child (see ``master.py``).
"""

from __future__ import annotations

import gc
import logging
import os
from collections.abc import Callable
from typing import Any

from corral.apps import load_app
from corral.config import apply_process_settings
from corral.hooks import HookServer
from corral.hooks import call as call_hook
from corral.observe.logsetup import configure_logging
from corral.supervisor.listeners import Listener, bind_all, inherited_listeners
from corral.supervisor.master import Master
from corral.supervisor.process import PidFile, daemonize, resolve_ids, set_title
from corral.supervisor.systemd import Notifier, activation_fds
from corral.supervisor.upgrade import Upgrade

error_log = logging.getLogger("corral.error")


def run(
    config: Any,
    reload_config: Callable[[], Any] | None = None,
    argv: list[str] | None = None,
) -> int:
    """Serve ``config.app`` until stopped; returns the process exit code.

    ``reload_config`` re-reads the settings on SIGHUP (the CLI passes one that
    reads the same sources again); without it a reload keeps the settings.
    ``argv`` (the command line) lets USR2 start a new master the same way.
    """
    if config.daemon:
        daemonize()  # before logging opens files: the log handlers use the new stdio
    configure_logging(config.errorlog, config.loglevel)
    call_hook(getattr(config, "hooks", {}), "on_starting", HookServer(config))
    apply_process_settings(config)
    ids = resolve_ids(config.user, config.group)
    notifier = Notifier(os.environ)
    preloaded = _preload(config) if config.preload_app else None
    listeners = _listeners(config)
    pidfile = PidFile(config.pidfile)
    try:
        pidfile.write()
        for listener in listeners:
            error_log.info("Listening at: %s", listener.url)  # gunicorn's wording
        set_title("master", config)
        master = Master(
            config,
            listeners,
            reload_config,
            preloaded,
            ids=ids,
            notifier=notifier,
            upgrade=Upgrade(argv, listeners, pidfile) if argv is not None else None,
        )
        return master.run()
    finally:
        for listener in listeners:
            listener.close()
        pidfile.remove()


def _listeners(config: Any) -> list[Listener]:
    """The configured listeners, reusing sockets passed by systemd socket activation or
    by an old master (USR2) for the addresses they hold. Passed sockets that match no
    configured address are served too, and replace the default 127.0.0.1:8000."""
    inherited = inherited_listeners(activation_fds(os.environ, os.getpid()))
    specs = list(config.bind)
    if inherited and config.sources.get("bind") == "default":
        specs = []
    to_bind = [spec for spec in specs if not _already_passed(spec, inherited)]
    bound = bind_all(to_bind, config.backlog, config.umask, config.reuse_port)
    return [*inherited.values(), *bound]


def _already_passed(spec: str, inherited: dict[str, Listener]) -> bool:
    """True when a passed socket already holds ``spec``'s address (so it is not bound);
    a configured port 0 matches the port the old master got for it."""
    host, _, port = spec.rpartition(":")
    for address in inherited:
        if address == spec or (port == "0" and address.rpartition(":")[0] == host):
            return True
    return False


def _preload(config: Any) -> Any:
    """--preload: import the app once, in the master, before forking.

    ``gc.freeze()`` then moves every object alive now into the permanent
    generation, so the collector never writes to those pages in the workers and
    copy-on-write keeps them shared.
    """
    loaded = load_app(config.app, factory=config.factory, interface=config.interface)
    gc.collect()
    gc.freeze()
    error_log.info("Preloaded %s (%s) in the master", config.app, loaded.interface)
    return loaded
