"""The supervisor: binds the listeners, then runs the pre-fork master.

The master never imports protocol or gateway code: the worker entry point is
imported inside each forked child (see ``master.py``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

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
    listeners = bind_all(list(config.bind), config.backlog)
    try:
        for listener in listeners:
            error_log.info("Listening at: %s", listener.url)  # gunicorn's wording
        return Master(config, listeners, reload_config).run()
    finally:
        for listener in listeners:
            listener.close()
