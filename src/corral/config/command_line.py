"""The command line, generated from the settings schema.

Parsing never exits the process: ``--help`` and ``--version`` are reported back
to the caller, and every mistake raises :class:`ConfigError` with one line.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, NoReturn

from corral.config.declaration import Setting
from corral.config.schema import SECTIONS, SETTINGS
from corral.config.sources import RANK_COMMAND_LINE, Assignment
from corral.config.suggest import FOREIGN_FLAGS, HINTS, did_you_mean
from corral.errors import ConfigError

DESCRIPTION = "Serve a WSGI or ASGI app over HTTP/1.1."
EPILOG = (
    "Settings come from (lowest to highest): defaults, one config file (-c, else "
    "./corral.toml, else [tool.corral] in ./pyproject.toml), CORRAL_<NAME> environment "
    "variables, then these flags. See docs/settings.md."
)


@dataclass
class CommandLine:
    """What the command line asked for: setting assignments and one-off actions."""

    assignments: list[Assignment] = field(default_factory=list)
    config_file: str | None = None
    print_config: bool = False
    check_config: bool = False
    version: bool = False
    help: bool = False


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise ConfigError(f"{message} (command line)")


class _Record(argparse.Action):
    """Record ``(setting name, raw value, flag)`` instead of storing into the namespace."""

    def __init__(self, option_strings: Sequence[str], dest: str, **kwargs: Any) -> None:
        self.setting_name: str = kwargs.pop("setting_name")
        super().__init__(option_strings, dest, **kwargs)

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: Any,
        option_string: str | None = None,
    ) -> None:
        if self.const is not None:
            values = self.const
        elif values is None:  # the optional positional APP, absent
            return
        namespace.recorded.append((self.setting_name, values, option_string))


def _add_setting(group: Any, setting: Setting) -> None:
    shown = setting.kind.show(setting.default)
    help_text = f"{setting.help} [default: {shown}]".replace("%", "%%")
    common: dict[str, Any] = {"action": _Record, "setting_name": setting.name}
    if setting.positional:
        group.add_argument(
            setting.name, nargs="?", metavar=setting.name.upper(), help=help_text, **common
        )
        return
    common["dest"] = "_" + setting.name
    if setting.is_flag:
        group.add_argument(*setting.flags, nargs=0, const=True, help=help_text, **common)
        if setting.negative_flags:
            negative_help = f"Turn {setting.flags[0]} off."
            group.add_argument(
                *setting.negative_flags, nargs=0, const=False, help=negative_help, **common
            )
    else:
        group.add_argument(*setting.flags, metavar=setting.kind.metavar, help=help_text, **common)


def build_parser() -> argparse.ArgumentParser:
    """The argparse parser for every setting's flags plus the one-off actions."""
    parser = _Parser(
        prog="corral",
        usage="%(prog)s [OPTIONS] [APP]",
        description=DESCRIPTION,
        epilog=EPILOG,
        add_help=False,
        allow_abbrev=False,
    )
    actions = parser.add_argument_group("Actions")
    actions.add_argument(
        "-c",
        "--config",
        metavar="FILE",
        dest="config_file",
        help="Read settings from this .toml or gunicorn-style .py file.",
    )
    actions.add_argument(
        "--print-config",
        action="store_true",
        help="Print every effective setting and where it came from, then exit.",
    )
    actions.add_argument(
        "--check-config",
        action="store_true",
        help="Check the settings and import the app, then exit.",
    )
    actions.add_argument("--version", action="store_true", help="Print the version and exit.")
    actions.add_argument("-h", "--help", action="store_true", help="Show this help and exit.")
    for section in SECTIONS:
        title = (section.__doc__ or "").strip()
        group = parser.add_argument_group(title)
        for setting in SETTINGS.values():
            if setting.section == title:
                _add_setting(group, setting)
    return parser


def parse_command_line(argv: Sequence[str]) -> CommandLine:
    """Parse ``argv`` (without the program name) into a :class:`CommandLine`."""
    parser = build_parser()
    namespace = argparse.Namespace(recorded=[])
    namespace, extras = parser.parse_known_args(list(argv), namespace)
    if extras:
        _reject_extras(parser, extras)
    result = CommandLine(
        config_file=namespace.config_file,
        print_config=namespace.print_config,
        check_config=namespace.check_config,
        version=namespace.version,
        help=namespace.help,
    )
    result.assignments = _assignments(namespace.recorded)
    return result


def _assignments(recorded: list[tuple[str, Any, str | None]]) -> list[Assignment]:
    """One assignment per use of a flag; uses of a list setting's flags add up."""
    lists: dict[str, list[tuple[Any, str | None]]] = {}
    found = []
    for name, value, flag in recorded:
        if SETTINGS[name].is_list:
            lists.setdefault(name, []).append((value, flag))
            continue
        source = f"command line {flag}" if flag else "command line"
        found.append(Assignment(name, value, source, RANK_COMMAND_LINE, flag or name))
    for name, uses in lists.items():
        flags = list(dict.fromkeys(flag for _, flag in uses if flag))
        source = "command line " + ", ".join(flags)
        values = [value for value, _ in uses]
        found.append(Assignment(name, values, source, RANK_COMMAND_LINE, flags[0]))
    return found


def _reject_extras(parser: argparse.ArgumentParser, extras: list[str]) -> NoReturn:
    flags = [arg for arg in extras if arg.startswith("-") and arg != "-"]
    if not flags:
        raise ConfigError(
            f"unexpected argument {extras[0]!r} on the command line (only one APP can be given)"
        )
    flag = flags[0].split("=", 1)[0]
    if flag in FOREIGN_FLAGS:
        name = FOREIGN_FLAGS[flag]
        raise ConfigError(
            f"unknown flag {flag} on the command line: gunicorn's {name} has no corral "
            f"equivalent ({HINTS[name]})"
        )
    known = [option for action in parser._actions for option in action.option_strings]
    hint = did_you_mean(flag, known, cutoff=0.7)
    raise ConfigError(f"unknown flag {flag} on the command line{hint}")
