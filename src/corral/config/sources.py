"""Reading settings from a config file and from the environment.

Each source yields :class:`Assignment` records (raw values, not yet checked);
the loader checks them and merges them by rank: defaults < config file <
environment < command line (and keyword arguments of ``Config(...)``).

Exactly one config file is read: the ``-c/--config`` file (or ``$CORRAL_CONFIG``)
if given, else ``./corral.toml``, else the ``[tool.corral]`` table of
``./pyproject.toml``. A ``-c`` file not ending in ``.toml`` is a Python file,
executed like a gunicorn.conf.py.
"""

from __future__ import annotations

import builtins
import inspect
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from corral.compiled import COMPILE_VARIABLE, PURE_VARIABLE
from corral.config.declaration import ENV_PREFIX
from corral.config.schema import GUNICORN_NAMES, SETTINGS
from corral.config.suggest import (
    GUNICORN_CLI_ONLY,
    GUNICORN_ONLY,
    HINTS,
    closest,
    did_you_mean,
)
from corral.errors import ConfigError
from corral.hooks import HOOK_NAMES

RANK_FILE = 1
RANK_ENV = 2
RANK_COMMAND_LINE = 3
CONFIG_ENV = ENV_PREFIX + "CONFIG"
# CORRAL_ variables that are not settings: the config file, and the switches of the
# compiled build, read at install and import time (corral/compiled.py).
OTHER_ENV = (CONFIG_ENV, PURE_VARIABLE, COMPILE_VARIABLE)
DEFAULT_FILE = "corral.toml"
PYPROJECT = "pyproject.toml"


@dataclass(frozen=True)
class Assignment:
    """A raw value for a setting, and where it came from."""

    name: str
    raw: object
    #: Shown in ``config.sources`` and in errors: a path, ``env X``, ``command line --x``.
    source: str
    rank: int
    #: The setting's name as the source spelled it (a flag, an env var, a gunicorn name).
    key: str
    #: True for gunicorn.conf.py files and conventional env vars (WEB_CONCURRENCY...):
    #: unsupported settings coming from them are ignored with a warning, not refused.
    lenient: bool = False

    @property
    def where(self) -> str:
        """The source, plus the key when the source does not already show it."""
        if self.rank == RANK_FILE and self.key != self.name:
            return f"{self.source}, as {self.key}"
        return self.source


@dataclass
class FileSettings:
    """What a config file set, and the warnings reading it produced."""

    assignments: list[Assignment]
    warnings: list[str]
    hooks: dict[str, Callable[..., Any]] = field(default_factory=dict)


def find_config_file(explicit: str | None, cwd: Path) -> tuple[Path, str | None] | None:
    """The one config file to read and its TOML table (None: the whole file), if any."""
    if explicit:
        path = cwd / explicit
        if not path.is_file():
            raise ConfigError(f"config file {str(path)!r} not found")
        table = "tool.corral" if path.name == PYPROJECT else None
        return path, table
    if (cwd / DEFAULT_FILE).is_file():
        return cwd / DEFAULT_FILE, None
    if (cwd / PYPROJECT).is_file():
        data = _load_toml(cwd / PYPROJECT)
        if isinstance(data.get("tool"), dict) and "corral" in data["tool"]:
            return cwd / PYPROJECT, "tool.corral"
    return None


def read_config_file(path: Path, table: str | None) -> FileSettings:
    """Read a TOML file (or one table of it) or execute a Python config file."""
    if path.suffix == ".toml":
        return FileSettings(read_toml(path, table), [])
    return read_python(path)


def _load_toml(path: Path) -> dict[str, Any]:
    import tomllib  # only when there is a TOML file: the master keeps what it imports

    try:
        with path.open("rb") as file:
            return tomllib.load(file)
    except OSError as exc:
        raise ConfigError(f"cannot read config file {str(path)!r}: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"cannot parse {path}: {exc}") from None


def read_toml(path: Path, table: str | None) -> list[Assignment]:
    """Assignments from a TOML file; an unknown key is an error with a suggestion."""
    data: Any = _load_toml(path)
    source = str(path)
    if table:
        source = f"{path} [{table}]"
        for part in table.split("."):
            data = data.get(part, {}) if isinstance(data, dict) else {}
    if not isinstance(data, dict):
        raise ConfigError(f"{source} must be a table of settings")
    assignments = []
    for key, value in data.items():
        name = key.replace("-", "_")
        if name not in SETTINGS:
            raise ConfigError(f"unknown setting {key!r} in {source}{_suggest_setting(name)}")
        assignments.append(Assignment(name, value, source, RANK_FILE, key))
    return assignments


def _suggest_setting(name: str) -> str:
    if name in GUNICORN_NAMES:
        return f" (did you mean {GUNICORN_NAMES[name]!r}? corral's name for gunicorn's {name})"
    if name in GUNICORN_ONLY:
        hint = HINTS.get(name, "not supported")
        return f" (a gunicorn setting corral does not have: {hint})"
    return did_you_mean(name, SETTINGS)


def read_python(path: Path) -> FileSettings:
    """Execute a gunicorn-style Python config file and pick its settings.

    Module-level names that are corral settings or gunicorn's names for them are
    used. Names starting with ``_``, modules, functions and classes are the
    file's own helpers and are ignored, except gunicorn settings corral does
    not have (hooks such as ``post_fork``, ``worker_class``...), which are
    ignored with a warning, as is a plain value whose name is a near miss of a
    setting name (``workerz = 4``).
    """
    namespace = _execute(path)
    found = FileSettings([], [])
    source = str(path)
    for key, value in namespace.items():
        if key.startswith("_") or inspect.ismodule(value) or key in GUNICORN_CLI_ONLY:
            continue
        name = key if key in SETTINGS else GUNICORN_NAMES.get(key)
        if key == "accesslog" and value is None:  # gunicorn's "no access log"
            name, value = "access_log", False
        if name is not None:
            found.assignments.append(Assignment(name, value, source, RANK_FILE, key, lenient=True))
        elif key in HOOK_NAMES and callable(value):
            found.hooks[key] = value
        elif key in GUNICORN_ONLY:
            hint = HINTS.get(key, "corral does not have this gunicorn setting")
            found.warnings.append(f"{source}: ignoring {key}: {hint}")
        elif not callable(value):
            near = closest(key, [*SETTINGS, *GUNICORN_NAMES], cutoff=0.8)
            if near is not None:
                found.warnings.append(
                    f"{source}: ignoring {key}: not a setting (did you mean {near!r}?)"
                )
    return found


def _execute(path: Path) -> dict[str, Any]:
    try:
        code_text = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read config file {str(path)!r}: {exc.strerror}") from None
    namespace: dict[str, Any] = {
        "__file__": str(path),
        "__name__": "__config__",
        "__builtins__": builtins,
    }
    try:
        exec(compile(code_text, str(path), "exec"), namespace)
    except SyntaxError as exc:
        raise ConfigError(f"syntax error in {path} line {exc.lineno}: {exc.msg}") from None
    except Exception as exc:
        line = _line_in(path, exc)
        raise ConfigError(
            f"error in config file {path}{line}: {type(exc).__name__}: {exc}"
        ) from None
    return namespace


def _line_in(path: Path, exc: BaseException) -> str:
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename == str(path)]
    return f" line {frames[-1].lineno}" if frames else ""


def read_env(environ: Mapping[str, str]) -> list[Assignment]:
    """Assignments from ``CORRAL_<NAME>`` and conventional variables such as WEB_CONCURRENCY.

    Conventional variables rank below ``CORRAL_<NAME>`` and are ignored when empty.
    Every other ``CORRAL_`` variable is an error, with a suggestion.
    """
    found = []
    for setting in SETTINGS.values():
        for var in setting.extra_env:
            if environ.get(var, "").strip():
                found.append(
                    Assignment(setting.name, environ[var], f"env {var}", RANK_ENV, var, True)
                )
    env_vars = {setting.env: setting.name for setting in SETTINGS.values()}
    for var in sorted(environ):
        if not var.startswith(ENV_PREFIX) or var in OTHER_ENV:
            continue
        if var not in env_vars:
            hint = did_you_mean(var, [*env_vars, *OTHER_ENV])
            raise ConfigError(f"unknown setting {var} in the environment{hint}")
        found.append(Assignment(env_vars[var], environ[var], f"env {var}", RANK_ENV, var))
    return found
