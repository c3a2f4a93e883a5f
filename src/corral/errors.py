"""The error tree and the process exit codes.

Errors a user can cause carry a one-line message meant for them; the CLI prints
that line (never a traceback) and exits with the error's exit code.
"""

from __future__ import annotations

import sys
import traceback

EXIT_OK = 0
EXIT_CONFIG = 2  # bad settings, as argparse uses for bad arguments
EXIT_APP_LOAD = 3  # the app cannot be imported or is not an app
EXIT_BOOT = 4  # the app imported but failed to start (lifespan startup, bind)


class CorralError(Exception):
    """Base of every error corral raises on purpose."""

    exit_code = 1


class ConfigError(CorralError):
    """A setting has a bad name or value; the message names key and source."""

    exit_code = EXIT_CONFIG


class AppLoadError(CorralError):
    """The application could not be found, imported or recognised."""

    exit_code = EXIT_APP_LOAD

    def __init__(self, message: str, *, show_traceback: bool = False) -> None:
        super().__init__(message)
        # True when the app's own code raised: its traceback helps the user.
        self.show_traceback = show_traceback


class BootError(CorralError):
    """The server could not start: a listener failed or lifespan startup failed."""

    exit_code = EXIT_BOOT


class ProtocolError(Exception):
    """A client broke the protocol; carries the HTTP status to answer with."""

    status = 400

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        if status is not None:
            self.status = status


class BadRequest(ProtocolError):
    status = 400


class RequestTimeout(ProtocolError):
    status = 408


class PayloadTooLarge(ProtocolError):
    status = 413


class URITooLong(ProtocolError):
    status = 414


class HeadersTooLarge(ProtocolError):
    status = 431


class NotImplementedMethod(ProtocolError):
    status = 501


class UnknownCoding(ProtocolError):
    """A transfer coding corral does not implement (RFC 9112 §6.1)."""

    status = 501


class VersionNotSupported(ProtocolError):
    status = 505


def report_error(err: CorralError) -> int:
    """Print a user-facing error as one line (after the app's own traceback, if the
    app raised it) and return the exit code it calls for."""
    if isinstance(err, AppLoadError) and err.show_traceback and err.__cause__ is not None:
        traceback.print_exception(err.__cause__)
    print(f"corral: error: {err}", file=sys.stderr, flush=True)
    return err.exit_code
