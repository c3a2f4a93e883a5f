"""Merging the sources into a :class:`Config`.

Pure: the loader reads the config file it is pointed at, but takes the
environment, the command line and the working directory as values, and never
changes the process (see :mod:`corral.config.process` for that).
"""

from __future__ import annotations

import copy
import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from corral.config.command_line import parse_command_line
from corral.config.declaration import Setting
from corral.config.kinds import BadItem, toml_literal
from corral.config.listeners import LISTENER_SETTINGS, Given, fold_listeners
from corral.config.schema import SETTINGS, Settings
from corral.config.sources import (
    CONFIG_ENV,
    RANK_COMMAND_LINE,
    Assignment,
    find_config_file,
    read_config_file,
    read_env,
)
from corral.config.suggest import did_you_mean
from corral.errors import ConfigError

PYTHON_SOURCE = "python"


class Config(Settings):
    """The effective settings: one attribute per setting, plus where each came from.

    ``Config(app="mod:app", bind=["127.0.0.1:0"])`` builds one in Python: the
    keywords are checked like any other source (source ``"python"``), and
    nothing else (no file, no environment) is read.
    """

    #: Where each setting's value came from: ``default``, a file path,
    #: ``env CORRAL_X``, ``command line --x``, or ``python``.
    sources: dict[str, str]
    #: Problems worth telling the user that did not stop loading (ignored
    #: gunicorn settings in a Python config file...). The CLI prints them.
    warnings: list[str]
    #: Server hooks (gunicorn's names) defined in a Python config file.
    hooks: dict[str, Any]

    def __init__(self, **settings: Any) -> None:
        assignments = []
        for key, value in settings.items():
            if key not in SETTINGS:
                hint = did_you_mean(key, SETTINGS)
                raise ConfigError(f"unknown setting {key!r} ({PYTHON_SOURCE}){hint}")
            assignments.append(Assignment(key, value, PYTHON_SOURCE, RANK_COMMAND_LINE, key))
        _populate(self, assignments, port_env=None, cwd=Path(os.getcwd()), warnings=[])
        self.hooks = {}

    @classmethod
    def _from_assignments(
        cls,
        assignments: Iterable[Assignment],
        *,
        port_env: str | None,
        cwd: Path,
        warnings: list[str],
    ) -> Config:
        config = cls.__new__(cls)
        _populate(config, assignments, port_env=port_env, cwd=cwd, warnings=warnings)
        config.hooks = {}
        return config

    def as_dict(self) -> dict[str, Any]:
        """Every setting's value by name, in declaration order."""
        return {name: getattr(self, name) for name in SETTINGS}

    def __repr__(self) -> str:
        changed = [f"{n}={v!r}" for n, v in self.as_dict().items() if self.sources[n] != "default"]
        return f"Config({', '.join(changed)})"


def load_config(argv: Sequence[str], environ: Mapping[str, str], cwd: Path) -> Config:
    """Load the settings from the config file, ``environ`` and ``argv`` (no program name).

    Raises :class:`ConfigError` with a one-line message naming the key and the
    source on any unknown name or bad value. The one-off actions of the command
    line (``--help``, ``--print-config``...) are not part of the Config: use
    :func:`corral.config.command_line.parse_command_line` for them.
    """
    command_line = parse_command_line(argv)
    found = find_config_file(command_line.config_file or environ.get(CONFIG_ENV), cwd)
    assignments: list[Assignment] = []
    warnings: list[str] = []
    hooks: dict[str, Any] = {}
    if found is not None:
        file_settings = read_config_file(*found)
        assignments += file_settings.assignments
        warnings += file_settings.warnings
        hooks = file_settings.hooks
    assignments += read_env(environ)
    assignments += command_line.assignments
    port_env = environ.get("PORT", "").strip() or None
    config = Config._from_assignments(assignments, port_env=port_env, cwd=cwd, warnings=warnings)
    config.hooks = hooks
    return config


def _populate(
    config: Config,
    assignments: Iterable[Assignment],
    *,
    port_env: str | None,
    cwd: Path,
    warnings: list[str],
) -> None:
    winners = _winners(assignments, warnings)
    _resolve_paths(winners, cwd)
    config.sources = {}
    for name, setting in SETTINGS.items():
        if name in winners:
            value, assignment = winners[name]
            config.sources[name] = assignment.source
        else:
            value = copy.copy(setting.default)
            config.sources[name] = "default"
        setattr(config, name, value)
    given = {
        name: Given(value, assignment.rank, assignment.source)
        for name, (value, assignment) in winners.items()
        if name in LISTENER_SETTINGS
    }
    try:
        config.bind, config.sources["bind"] = fold_listeners(given, port_env)
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    config.warnings = warnings


def _winners(
    assignments: Iterable[Assignment], warnings: list[str]
) -> dict[str, tuple[Any, Assignment]]:
    """Check every assignment; for each setting keep the highest-ranked one (the last
    of equal rank). Not-yet-supported values are refused, or ignored with a warning
    when they come from a lenient source and are safe to ignore."""
    winners: dict[str, tuple[Any, Assignment]] = {}
    for assignment in sorted(assignments, key=lambda a: a.rank):  # a stable sort
        setting = SETTINGS[assignment.name]
        value = _check(setting, assignment)
        unsupported = not setting.supported and value != setting.default
        if unsupported and assignment.lenient and setting.ignorable:
            warnings.append(
                f"{assignment.where}: ignoring {assignment.key} = {value!r}: "
                "corral does not support it yet"
            )
            continue
        winners[assignment.name] = (value, assignment)
    for name, (value, assignment) in winners.items():
        setting = SETTINGS[name]
        if not setting.supported and value != setting.default:
            raise ConfigError(f"setting {name!r} ({assignment.where}) is not supported yet")
    return winners


def _check(setting: Setting, assignment: Assignment) -> Any:
    try:
        return setting.kind.parse(assignment.raw)
    except BadItem as exc:
        bad = exc.item
        reason = str(exc)
    except ValueError as exc:
        bad = assignment.raw
        reason = str(exc)
    raise ConfigError(
        f"bad value {_show_raw(bad)} for {setting.name} ({assignment.where}): {reason}"
    )


def _show_raw(raw: object) -> str:
    text = toml_literal(raw) if isinstance(raw, bool) else repr(raw)
    return text if len(text) <= 60 else text[:57] + "..."


def _resolve_paths(winners: dict[str, tuple[Any, Assignment]], cwd: Path) -> None:
    """Make chdir, pythonpath and env_file absolute: chdir and env_file against the
    working directory, pythonpath against chdir (gunicorn's order: chdir first)."""

    def absolute(base: str, path: str) -> str:
        return os.path.normpath(os.path.join(base, os.path.expanduser(path)))

    base = str(cwd)
    if "chdir" in winners and winners["chdir"][0] is not None:
        chdir, assignment = winners["chdir"]
        base = absolute(base, chdir)
        winners["chdir"] = (base, assignment)
    if "pythonpath" in winners:
        paths, assignment = winners["pythonpath"]
        winners["pythonpath"] = ([absolute(base, p) for p in paths], assignment)
    if "env_file" in winners and winners["env_file"][0] is not None:
        env_file, assignment = winners["env_file"]
        winners["env_file"] = (absolute(str(cwd), env_file), assignment)
