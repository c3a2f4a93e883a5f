"""Value kinds: how a setting's value is parsed, checked and shown.

A kind turns a raw value into the setting's value. Raw values are strings when
they come from the command line or the environment, and native values (int,
bool, list...) when they come from a TOML or Python config file, so every kind
accepts both. A bad value raises ``ValueError`` whose message says what was
expected; the loader adds the setting's name and the source.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from typing import Any

_TRUE = frozenset({"1", "true", "yes", "on", "y", "t"})
_FALSE = frozenset({"0", "false", "no", "off", "n", "f"})


class Kind:
    """Base of all kinds; subclasses override ``parse`` and ``expected``."""

    #: What the user must give, as shown in errors and in the docs.
    expected = "a value"
    #: Argparse metavar for the flag's argument.
    metavar = "VALUE"

    def parse(self, raw: object) -> Any:
        """Return the checked value, or raise ``ValueError`` saying what was expected."""
        raise NotImplementedError

    def show(self, value: Any) -> str:
        """The value as TOML would spell it (used by --print-config and the docs)."""
        return toml_literal(value)

    def fail(self) -> ValueError:
        return ValueError("expected " + self.expected)


def toml_literal(value: object) -> str:
    """Spell a plain value as a TOML literal (``None`` has none: shown as ``unset``)."""
    if value is None:
        return "unset"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        if '"' in value and "'" not in value and value.isprintable():
            return f"'{value}'"  # a TOML literal string: no escapes needed
        # JSON string escapes are valid TOML basic-string escapes.
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(toml_literal(item) for item in value) + "]"
    return repr(value)


class Str(Kind):
    """Any string."""

    expected = "a string"

    def __init__(self, metavar: str = "TEXT", *, empty: bool = True) -> None:
        self.metavar = metavar
        self.empty = empty
        if not empty:
            self.expected = "a non-empty string"

    def parse(self, raw: object) -> str:
        if not isinstance(raw, str) or (not self.empty and not raw):
            raise self.fail()
        return raw


class Optional(Kind):
    """Another kind's value, or unset (``None``; an empty string also means unset)."""

    def __init__(self, inner: Kind) -> None:
        self.inner = inner
        self.expected = inner.expected
        self.metavar = inner.metavar

    def parse(self, raw: object) -> Any:
        if raw is None or raw == "":
            return None
        return self.inner.parse(raw)

    def show(self, value: Any) -> str:
        return "unset" if value is None else self.inner.show(value)


class NameOrId(Kind):
    """A user or group: a name, or a numeric id (kept as a string)."""

    expected = "a name or a numeric id"
    metavar = "NAME"

    def parse(self, raw: object) -> str:
        if isinstance(raw, int) and not isinstance(raw, bool) and raw >= 0:
            return str(raw)
        if isinstance(raw, str) and raw.strip():
            return raw.strip()
        raise self.fail()


class Int(Kind):
    """An integer within ``[minimum, maximum]``."""

    metavar = "INT"

    def __init__(self, minimum: int = 0, maximum: int | None = None) -> None:
        self.minimum = minimum
        self.maximum = maximum
        if maximum is None:
            self.expected = f"an integer >= {minimum}"
        else:
            self.expected = f"an integer from {minimum} to {maximum}"

    def parse(self, raw: object) -> int:
        value = self._convert(raw)
        if value < self.minimum or (self.maximum is not None and value > self.maximum):
            raise self.fail()
        return value

    def _convert(self, raw: object) -> int:
        if isinstance(raw, bool):
            raise self.fail()
        if isinstance(raw, int):
            return raw
        if isinstance(raw, str):
            try:
                return int(raw.strip())
            except ValueError:
                raise self.fail() from None
        raise self.fail()


_SIZE_RE = re.compile(r"(\d+)\s*([kmg]?)(i?b)?", re.IGNORECASE)
_SIZE_UNITS = {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3}


class Size(Int):
    """A number of bytes; strings may end in K, M or G (powers of 1024)."""

    metavar = "BYTES"

    def __init__(self, minimum: int = 0) -> None:
        super().__init__(minimum)
        self.expected = f"a number of bytes >= {minimum} (suffixes K, M, G allowed)"

    def _convert(self, raw: object) -> int:
        if isinstance(raw, str):
            match = _SIZE_RE.fullmatch(raw.strip())
            if not match:
                raise self.fail()
            return int(match.group(1)) * _SIZE_UNITS[match.group(2).lower()]
        return super()._convert(raw)


class Octal(Int):
    """An integer such as a umask; strings are read as octal (``022``, ``0o22``)."""

    metavar = "OCTAL"

    def __init__(self, maximum: int) -> None:
        super().__init__(0, maximum)
        self.expected = f"an octal number from 0 to {maximum:o}"

    def _convert(self, raw: object) -> int:
        if isinstance(raw, str):
            text = raw.strip().lower().removeprefix("0o")
            try:
                return int(text, 8)
            except ValueError:
                raise self.fail() from None
        return super()._convert(raw)

    def show(self, value: Any) -> str:
        return f"0o{value:03o}" if isinstance(value, int) else super().show(value)


class Float(Kind):
    """A finite number of seconds, at least ``minimum`` (or above it if ``exclusive``)."""

    metavar = "SECONDS"

    def __init__(self, minimum: float = 0.0, *, exclusive: bool = False) -> None:
        self.minimum = minimum
        self.exclusive = exclusive
        bound = f"> {minimum:g}" if exclusive else f">= {minimum:g}"
        self.expected = f"a number of seconds {bound}"

    def parse(self, raw: object) -> float:
        if isinstance(raw, bool):
            raise self.fail()
        if isinstance(raw, int | float):
            value = float(raw)
        elif isinstance(raw, str):
            try:
                value = float(raw.strip())
            except ValueError:
                raise self.fail() from None
        else:
            raise self.fail()
        too_small = value <= self.minimum if self.exclusive else value < self.minimum
        if not math.isfinite(value) or too_small:
            raise self.fail()
        return value


class Bool(Kind):
    """true/false; strings may also be 1/0, yes/no, on/off."""

    expected = "true or false"
    metavar = "BOOL"

    def parse(self, raw: object) -> bool:
        if isinstance(raw, bool):
            return raw
        if isinstance(raw, str):
            text = raw.strip().lower()
            if text in _TRUE:
                return True
            if text in _FALSE:
                return False
        raise self.fail()


class Choice(Kind):
    """One of a few words (case-insensitive); ``aliases`` map other spellings."""

    def __init__(self, *options: str, aliases: dict[str, str] | None = None) -> None:
        self.options = options
        self.aliases = aliases or {}
        self.expected = "one of " + ", ".join(options)
        self.metavar = "{" + ",".join(options) + "}"

    def parse(self, raw: object) -> str:
        if not isinstance(raw, str):
            raise self.fail()
        text = raw.strip().lower()
        text = self.aliases.get(text, text)
        if text not in self.options:
            raise self.fail()
        return text


class EnvPair(Str):
    """``KEY=VALUE`` for an environment variable."""

    expected = "KEY=VALUE"

    def __init__(self) -> None:
        super().__init__("KEY=VALUE")

    def parse(self, raw: object) -> str:
        text = super().parse(raw)
        key, sep, _ = text.partition("=")
        if not sep or not key.strip():
            raise self.fail()
        return text


class BadItem(ValueError):
    """One item of a list is bad: the error names that item, not the whole list."""

    def __init__(self, item: object, reason: str) -> None:
        super().__init__(reason)
        self.item = item


class ListOf(Kind):
    """A list of items; a string is split on ``sep`` (when given) into items."""

    def __init__(self, item: Kind, sep: str | None = ",") -> None:
        self.item = item
        self.sep = sep
        self.metavar = item.metavar
        split = f"; or one string of items separated by {sep!r}" if sep else ""
        self.expected = f"a list, each item {item.expected}{split}"

    def parse(self, raw: object) -> list[Any]:
        if raw is None:  # gunicorn's spelling of "none" in a config file
            return []
        if isinstance(raw, str):
            pieces: Sequence[object] = [raw]
        elif isinstance(raw, list | tuple):
            pieces = raw
        else:
            raise self.fail()
        items: list[Any] = []
        for piece in pieces:
            for part in self._split(piece):
                try:
                    items.append(self.item.parse(part))
                except ValueError as exc:
                    raise BadItem(part, str(exc)) from None
        return items

    def _split(self, piece: object) -> list[object]:
        if not isinstance(piece, str) or self.sep is None:
            return [piece]
        return [part.strip() for part in piece.split(self.sep) if part.strip()]
