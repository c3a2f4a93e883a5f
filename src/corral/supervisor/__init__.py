"""The supervisor: binds listeners, then hands over to the worker.

Issue 4 turns this into the pre-fork master. Already now it never imports
protocol or gateway code at module level: the worker entry point is imported
inside ``run`` (in the child, once workers are forked).
"""

from __future__ import annotations

import logging
from typing import Any

from corral.config import apply_process_settings
from corral.errors import ConfigError
from corral.observe.logsetup import configure_logging
from corral.supervisor.listeners import bind_all

error_log = logging.getLogger("corral.error")


def run(config: Any) -> int:
    """Serve ``config.app`` until stopped; returns the process exit code."""
    configure_logging(config.errorlog, config.loglevel)
    if config.workers != 1:
        raise ConfigError(
            f"--workers {config.workers}: more than one worker needs the pre-fork master, "
            "which is not available yet; use --workers 1"
        )
    apply_process_settings(config)
    listeners = bind_all(list(config.bind), config.backlog)
    try:
        for listener in listeners:
            error_log.info("Listening at: %s", listener.url)  # gunicorn's wording
        from corral.worker.server import serve

        return serve(config, [listener.sock for listener in listeners])
    finally:
        for listener in listeners:
            listener.close()
