"""``--print-config``: every effective setting and where it came from."""

from __future__ import annotations

from typing import TYPE_CHECKING

from corral.config.schema import SETTINGS

if TYPE_CHECKING:
    from corral.config.loader import Config

VALUE_WIDTH = 44


def format_config(config: Config) -> str:
    """The settings as TOML lines (paste-able into corral.toml), each with its source.

    Unset settings are shown commented out, since TOML has no null.
    """
    lines: list[str] = []
    section = ""
    for name, setting in SETTINGS.items():
        if setting.section != section:
            section = setting.section
            if lines:
                lines.append("")
            lines.append(f"# [{section}]")
        value = getattr(config, name)
        if value is None:
            assignment = f"# {name} = unset"
        else:
            assignment = f"{name} = {setting.kind.show(value)}"
        note = "" if setting.supported else ", not supported yet"
        lines.append(f"{assignment:<{VALUE_WIDTH}} # {config.sources[name]}{note}")
    return "\n".join(lines) + "\n"
