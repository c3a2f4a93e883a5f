"""corral's settings: declared once in :mod:`corral.config.schema`, loaded from
defaults < one config file < environment < command line.

Public API: :func:`load_config`, :class:`Config`, :data:`SETTINGS` (the
declarations), :func:`format_config` (``--print-config``) and
:func:`apply_process_settings` (chdir, sys.path, app environment).
"""

from __future__ import annotations

from corral.config.declaration import Setting
from corral.config.loader import Config, load_config
from corral.config.process import apply_process_settings
from corral.config.report import format_config
from corral.config.schema import SETTINGS

__all__ = [
    "SETTINGS",
    "Config",
    "Setting",
    "apply_process_settings",
    "format_config",
    "load_config",
]
