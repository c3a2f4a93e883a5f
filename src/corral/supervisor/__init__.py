"""The supervisor: binds the listeners, then runs the pre-fork master.

The master never imports protocol or gateway code: the worker entry point is
imported inside each forked child (see ``master.py``).
"""

from __future__ import annotations

import gc
import logging
from collections.abc import Callable
from typing import Any

from corral.apps import load_app
from corral.config import apply_process_settings
from corral.observe.logsetup import configure_logging
from corral.supervisor.listeners import bind_all
from corral.supervisor.master import Master

error_log = logging.getLogger("corral.error")


def run(config: Any, reload_config: Callable[[], Any] | None = None) -> int:
    """Serve ``config.app`` until stopped; returns the process exit code.

    ``reload_config`` re-reads the settings on SIGHUP (the CLI passes one that
    reads the same sources again); without it a reload keeps the settings.
    """
    configure_logging(config.errorlog, config.loglevel)
    apply_process_settings(config)
    preloaded = _preload(config) if config.preload_app else None
    listeners = bind_all(list(config.bind), config.backlog)
    try:
        for listener in listeners:
            error_log.info("Listening at: %s", listener.url)  # gunicorn's wording
        return Master(config, listeners, reload_config, preloaded).run()
    finally:
        for listener in listeners:
            listener.close()


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
