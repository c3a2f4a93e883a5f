"""The ``corral`` command: load the settings, answer --print-config / --check-config, serve.

User mistakes never show a traceback: every :class:`CorralError` becomes one
line, ``corral: error: <message>``, and the error's exit code. Only when the
app's own code raised while loading is the app's traceback shown above it.
"""

from __future__ import annotations

import os
import sys
import traceback
from pathlib import Path
from typing import NoReturn

from corral.config import Config, apply_process_settings, format_config, load_config
from corral.config.command_line import build_parser, parse_command_line
from corral.errors import EXIT_OK, AppLoadError, ConfigError, CorralError

EXIT_INTERRUPTED = 130  # 128 + SIGINT, as shells report it
NO_APP = (
    "no app given: name it as MODULE:ATTRIBUTE (e.g. 'corral myproject.wsgi' or "
    "'corral main:app'), or set app in corral.toml"
)


def main(argv: list[str] | None = None) -> NoReturn:
    """Run the command line ``argv`` (default: ``sys.argv[1:]``) and exit."""
    args = sys.argv[1:] if argv is None else argv
    try:
        code = _main(args)
    except KeyboardInterrupt:
        code = EXIT_INTERRUPTED
    except AppLoadError as err:
        if err.show_traceback and err.__cause__ is not None:
            traceback.print_exception(err.__cause__)
        code = _report(err)
    except CorralError as err:
        code = _report(err)
    except BrokenPipeError:
        # Output piped into a command that stopped reading (``| head``): not an error.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        code = EXIT_OK
    sys.exit(code)


def _report(err: CorralError) -> int:
    print(f"corral: error: {err}", file=sys.stderr)
    return err.exit_code


def _main(argv: list[str]) -> int:
    command_line = parse_command_line(argv)
    if command_line.help:
        sys.stdout.write(build_parser().format_help())
        return EXIT_OK
    if command_line.version:
        from corral.compiled import summary

        python = ".".join(map(str, sys.version_info[:3]))
        print(f"corral {_version()} (Python {python}, {summary()})")
        return EXIT_OK
    config = load_config(argv, os.environ, Path.cwd())
    for warning in config.warnings:
        print(f"corral: warning: {warning}", file=sys.stderr)
    if command_line.print_config:
        sys.stdout.write(format_config(config))
    if command_line.check_config:
        return _check_config(config)
    if command_line.print_config:
        return EXIT_OK
    if config.app is None:
        raise ConfigError(NO_APP)
    # The supervisor applies chdir/pythonpath/env itself (corral.run() needs that too).
    from corral.supervisor import run  # the master; it imports worker code only in children

    cwd = Path.cwd()
    return run(config, lambda: load_config(argv, os.environ, cwd), argv=argv)


def _check_config(config: Config) -> int:
    """Settings are already valid here; apply them and import the app, if there is one."""
    apply_process_settings(config)
    if config.app is None:
        print("corral: settings OK (no app given, so none imported)")
        return EXIT_OK
    try:
        from corral.apps import load_app
    except ModuleNotFoundError as exc:
        if exc.name != "corral.apps":
            raise
        print(f"corral: settings OK (app {config.app!r} not imported: corral.apps is missing)")
        return EXIT_OK
    loaded = load_app(config.app, factory=config.factory, interface=config.interface)
    print(f"corral: settings OK, app {config.app!r} is a {loaded.interface.upper()} app")
    return EXIT_OK


def _version() -> str:
    import corral

    version = getattr(corral, "__version__", None)
    if version is None:
        # Imported here: importlib.metadata pulls in email, zipfile and csv, which
        # the master would otherwise carry (and every forked worker copy) for nothing.
        import importlib.metadata

        try:
            version = importlib.metadata.version("corral")
        except importlib.metadata.PackageNotFoundError:
            version = "unknown"
    return str(version)
