"""The ``Setting`` record and ``setting()``, the one way to declare a setting.

A setting is declared once, as a typed class attribute of a settings section::

    class HttpSettings:
        '''HTTP'''

        keepalive: float = setting(75.0, Float(), "...", flags=["--keep-alive"])

``setting()`` returns a declaration object (typed as the default's type, the way
``dataclasses.field()`` is) and :func:`collect` turns the attributes of each
section into :class:`Setting` records, from which the command line, the
environment variables, the config-file readers, ``--print-config`` and
docs/settings.md are all derived.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TypeVar, cast

from corral.config.kinds import Kind, ListOf

T = TypeVar("T")
ENV_PREFIX = "CORRAL_"


@dataclass(frozen=True)
class Setting:
    """Everything corral knows about one setting."""

    name: str
    section: str
    kind: Kind
    default: Any
    help: str
    #: Command-line flags (gunicorn's and uvicorn's spellings included).
    flags: tuple[str, ...] = ()
    #: Flags that set a boolean setting to false (``--no-access-log``).
    negative_flags: tuple[str, ...] = ()
    #: Conventional environment variables, read with lower priority than CORRAL_<NAME>.
    extra_env: tuple[str, ...] = ()
    #: The name gunicorn uses for the same setting in its config files, if any.
    gunicorn: str | None = None
    #: False for settings declared now and implemented by a later issue: any
    #: value other than the default is refused ("not supported yet").
    supported: bool = True
    #: For unsupported settings: True when a gunicorn.conf.py or a conventional
    #: environment variable may set it and corral can safely ignore it (with a
    #: warning). False when ignoring it would be unsafe (TLS files, user, group).
    ignorable: bool = True
    #: True for the positional APP argument.
    positional: bool = False

    @property
    def env(self) -> str:
        """The setting's own environment variable, ``CORRAL_<NAME>``."""
        return ENV_PREFIX + self.name.upper()

    @property
    def is_list(self) -> bool:
        """List settings take repeated flags, which add up."""
        return isinstance(self.kind, ListOf)

    @property
    def is_flag(self) -> bool:
        """Boolean settings are switches on the command line (no argument)."""
        return isinstance(self.default, bool)


@dataclass(frozen=True)
class _Declaration:
    default: Any
    kind: Kind
    help: str
    options: dict[str, Any]


def setting(
    default: T,
    kind: Kind,
    help: str,
    *,
    flags: Sequence[str] = (),
    negative_flags: Sequence[str] = (),
    extra_env: Sequence[str] = (),
    gunicorn: str | bool = False,
    supported: bool = True,
    ignorable: bool = True,
    positional: bool = False,
) -> T:
    """Declare a setting as a class attribute; ``gunicorn=True`` means "same name"."""
    options: dict[str, Any] = {
        "flags": tuple(flags),
        "negative_flags": tuple(negative_flags),
        "extra_env": tuple(extra_env),
        "gunicorn": gunicorn,
        "supported": supported,
        "ignorable": ignorable,
        "positional": positional,
    }
    if default is not None:
        kind.parse(default)  # a bad default fails when the module is imported
    return cast(T, _Declaration(default, kind, help, options))


def collect(*sections: type) -> dict[str, Setting]:
    """Turn each section's declarations into Settings, in declaration order.

    The section's title is the first line of its docstring. Each class attribute
    is replaced by its default, so the class reads like plain defaults.
    """
    found: dict[str, Setting] = {}
    for section in sections:
        title = (section.__doc__ or section.__name__).strip().splitlines()[0]
        for name, value in list(vars(section).items()):
            if not isinstance(value, _Declaration):
                continue
            if name in found:
                raise TypeError(f"setting {name!r} is declared twice")
            options = dict(value.options)
            alias = options.pop("gunicorn")
            gunicorn = name if alias is True else (alias or None)
            found[name] = Setting(
                name, title, value.kind, value.default, value.help, gunicorn=gunicorn, **options
            )
            setattr(section, name, value.default)
    return found
