"""Error log set-up: the ``corral.error`` logger and the root logger.

Lines look like gunicorn's::

    [2026-11-25 06:00:00 +0000] [4242] [INFO] Listening at: http://127.0.0.1:8000
"""

from __future__ import annotations

import logging
import sys
from typing import Final, TextIO

from corral.errors import ConfigError

__all__ = [
    "ERROR_LOGGER",
    "LEVELS",
    "configure_logging",
    "keep_error_logger_enabled",
    "parse_level",
    "reopen_error_log",
]

ERROR_LOGGER: Final = "corral.error"
LEVELS: Final = {
    "debug": logging.DEBUG,
    "info": logging.INFO,
    "warning": logging.WARNING,
    "error": logging.ERROR,
    "critical": logging.CRITICAL,
}
LINE_FORMAT: Final = "[%(asctime)s] [%(process)d] [%(levelname)s] %(message)s"
DATE_FORMAT: Final = "%Y-%m-%d %H:%M:%S %z"


class _CorralHandler(logging.StreamHandler[TextIO]):
    """Marks the handler corral installed, so a second set-up replaces it."""


class _CorralFileHandler(logging.FileHandler):
    """Same mark, for a log file."""


def parse_level(loglevel: str) -> int:
    """Map a level name (any case) to its ``logging`` number, or raise ConfigError."""
    level = LEVELS.get(loglevel.strip().lower())
    if level is None:
        choices = ", ".join(LEVELS)
        raise ConfigError(f"unknown log level {loglevel!r}: choose one of {choices}")
    return level


def configure_logging(errorlog: str, loglevel: str) -> None:
    """Send ``corral.error`` and the app's logs to ``errorlog`` ("-": stderr).

    The ``corral.error`` logger gets its own handler and does not propagate, so
    an app that reconfigures the root logger does not hide server messages.
    The root logger gets the same handler unless something else already
    configured it, so app records at or above ``loglevel`` show up too.
    Calling this again replaces what an earlier call installed.
    Raises :class:`~corral.errors.ConfigError` for an unknown level or a log
    file that cannot be opened.
    """
    level = parse_level(loglevel)
    handler = _make_handler(errorlog)
    handler.setFormatter(logging.Formatter(LINE_FORMAT, DATE_FORMAT))

    root = logging.getLogger()
    error_logger = logging.getLogger(ERROR_LOGGER)
    _remove_our_handlers(root, error_logger)

    error_logger.addHandler(handler)
    error_logger.setLevel(level)
    error_logger.propagate = False
    error_logger.disabled = False
    if not root.handlers:  # leave a root logger the app configured alone
        root.addHandler(handler)
        root.setLevel(level)


def keep_error_logger_enabled() -> None:
    """Re-enable ``corral.error`` after the app configured logging.

    ``logging.config.dictConfig`` with ``disable_existing_loggers`` (Django's
    ``LOGGING`` setting often has it) disables every logger it does not name,
    which would silence the server's own messages. Call this after loading the app.
    """
    logging.getLogger(ERROR_LOGGER).disabled = False


def reopen_error_log() -> None:
    """Reopen the error log file (after log rotation, on SIGUSR1).

    If the file cannot be opened, logging goes on to the old one and the
    failure is logged there.
    """
    for handler in logging.getLogger(ERROR_LOGGER).handlers:
        if not isinstance(handler, _CorralFileHandler):
            continue
        try:
            stream = open(handler.baseFilename, "a", encoding="utf-8")  # noqa: SIM115
        except OSError as exc:
            logging.getLogger(ERROR_LOGGER).error("cannot reopen error log: %s", exc)
            continue
        old = handler.setStream(stream)  # takes the handler's lock
        if old is not None:
            old.close()


def _make_handler(errorlog: str) -> logging.Handler:
    if errorlog == "-":
        return _CorralHandler(sys.stderr)
    try:
        return _CorralFileHandler(errorlog, mode="a", encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot open error log {errorlog!r}: {exc.strerror or exc}") from None


def _is_ours(handler: logging.Handler) -> bool:
    return isinstance(handler, _CorralHandler | _CorralFileHandler)


def _remove_our_handlers(*loggers: logging.Logger) -> None:
    ours = {h for logger in loggers for h in logger.handlers if _is_ours(h)}
    for logger in loggers:
        for handler in ours:
            logger.removeHandler(handler)
    for handler in ours:
        handler.close()  # a stderr handler only flushes; stderr stays open
