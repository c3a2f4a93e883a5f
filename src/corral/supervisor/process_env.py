"""Process set-up before the app is imported: directory, import path, environment."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

from corral.errors import ConfigError


def parse_env_file(text: str, source: str) -> dict[str, str]:
    """Parse ``KEY=VALUE`` lines (``export`` prefix, quotes and ``#`` comments allowed)."""
    values: dict[str, str] = {}
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        line = line.removeprefix("export ").lstrip()
        key, sep, value = line.partition("=")
        key = key.strip()
        if not sep or not key.replace("_", "a").isalnum():
            raise ConfigError(f"{source}:{number}: expected KEY=VALUE, got {raw.strip()!r}")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        elif " #" in value:
            value = value.split(" #", 1)[0].rstrip()
        values[key] = value
    return values


def prepare_process(config: Any) -> None:
    """Apply --chdir, --pythonpath, --env-file and --env before importing the app."""
    if config.chdir:
        try:
            os.chdir(config.chdir)
        except OSError as exc:
            raise ConfigError(f"--chdir {config.chdir}: {exc.strerror}") from None
    cwd = os.getcwd()
    if cwd not in sys.path:
        sys.path.insert(0, cwd)
    for entry in reversed(list(config.pythonpath or [])):
        path = str(Path(entry).resolve())
        if path not in sys.path:
            sys.path.insert(0, path)
    if config.env_file:
        try:
            text = Path(config.env_file).read_text()
        except OSError as exc:
            raise ConfigError(f"--env-file {config.env_file}: {exc.strerror}") from None
        os.environ.update(parse_env_file(text, config.env_file))
    for item in config.raw_env or []:
        key, _, value = item.partition("=")
        os.environ[key] = value
