"""Settings declared now and implemented by a later issue.

They are parsed and shown by --print-config so that config files and command
lines written for gunicorn or uvicorn get a clear answer, but any value other
than the default is refused ("not supported yet"), except where a gunicorn.conf.py
or a conventional environment variable sets one that is safe to ignore: that
gets a warning instead (see ``Setting.ignorable``).
"""

from __future__ import annotations

from corral.config.declaration import setting
from corral.config.kinds import Bool, Optional, Str


class LaterSettings:
    """Not supported yet"""

    reload: bool = setting(
        False,
        Bool(),
        "Restart workers when source files change (development).",
        flags=["--reload"],
        gunicorn=True,
        supported=False,
    )
    certfile: str | None = setting(
        None,
        Optional(Str("FILE")),
        "TLS certificate file (PEM).",
        flags=["--certfile", "--ssl-certfile"],
        gunicorn=True,
        supported=False,
        ignorable=False,
    )
    keyfile: str | None = setting(
        None,
        Optional(Str("FILE")),
        "TLS private key file (PEM).",
        flags=["--keyfile", "--ssl-keyfile"],
        gunicorn=True,
        supported=False,
        ignorable=False,
    )
