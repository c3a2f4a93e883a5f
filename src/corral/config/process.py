"""Applying the settings that change the process itself: chdir, sys.path, environment.

Called once in the master before the app is imported (by the CLI, and by
anything else that serves a Config). Paths in the Config are already absolute,
so applying twice is harmless.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import MutableMapping
from pathlib import Path
from typing import Protocol

from corral.errors import ConfigError

_ENV_LINE = re.compile(r"\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)")
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\"}


class ProcessConfig(Protocol):
    """The part of a Config this module needs."""

    chdir: str | None
    pythonpath: list[str]
    env_file: str | None
    raw_env: list[str]
    sources: dict[str, str]


def apply_process_settings(
    config: ProcessConfig,
    environ: MutableMapping[str, str] | None = None,
    path: list[str] | None = None,
) -> None:
    """chdir, put pythonpath and the app directory first on sys.path, set the app's env.

    The app directory (chdir, else the current directory) goes on sys.path like
    gunicorn and uvicorn do, so ``corral mymodule:app`` finds ./mymodule.py even
    when started from the ``corral`` script. ``env_file`` variables do not
    replace ones already set; ``raw_env`` (``-e KEY=VALUE``) ones do.
    """
    environ = os.environ if environ is None else environ
    path = sys.path if path is None else path
    if config.chdir:
        try:
            os.chdir(config.chdir)
        except OSError as exc:
            raise ConfigError(
                f"cannot change directory to {config.chdir!r} (chdir, "
                f"{config.sources['chdir']}): {exc.strerror}"
            ) from None
    app_dir = config.chdir or os.getcwd()
    path[0:0] = [
        entry for entry in dict.fromkeys([*config.pythonpath, app_dir]) if entry not in path
    ]
    if config.env_file:
        for key, value in read_env_file(Path(config.env_file), config.sources["env_file"]).items():
            environ.setdefault(key, value)
    for pair in config.raw_env:
        key, _, value = pair.partition("=")
        environ[key.strip()] = value


def read_env_file(file: Path, source: str) -> dict[str, str]:
    """Read a .env file; errors name the file and the setting's source."""
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(
            f"cannot read env_file {str(file)!r} ({source}): {exc.strerror}"
        ) from None
    try:
        return parse_env_file(text)
    except ValueError as exc:
        raise ConfigError(f"bad env_file {str(file)!r} ({source}): {exc}") from None


def parse_env_file(text: str) -> dict[str, str]:
    """Parse ``KEY=VALUE`` lines: ``export`` prefixes, # comments, '...' literal and
    "..." escaped values. No variable expansion, no multi-line values."""
    found: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        match = _ENV_LINE.fullmatch(line)
        if not match:
            raise ValueError(f"line {number}: expected KEY=VALUE")
        key, rest = match.groups()
        try:
            found[key] = _env_value(rest.strip())
        except ValueError as exc:
            raise ValueError(f"line {number}: {exc}") from None
    return found


def _env_value(rest: str) -> str:
    if rest[:1] in ("'", '"'):
        quote = rest[0]
        end = _closing_quote(rest, quote)
        if rest[end + 1 :].strip() and not rest[end + 1 :].strip().startswith("#"):
            raise ValueError("unexpected text after the closing quote")
        inner = rest[1:end]
        if quote == "'":
            return inner
        return re.sub(r"\\(.)", lambda m: _ESCAPES.get(m.group(1), m.group(0)), inner)
    return re.split(r"\s+#", rest, maxsplit=1)[0].strip()


def _closing_quote(rest: str, quote: str) -> int:
    index = 1
    while index < len(rest):
        if rest[index] == "\\" and quote == '"':
            index += 2
            continue
        if rest[index] == quote:
            return index
        index += 1
    raise ValueError("missing closing quote")
