"""corral: a production application server for Python web apps (WSGI and ASGI)."""

from __future__ import annotations

from typing import Any

from corral import compiled as _compiled

# Before any module of the request path is imported: compiled, or source (compiled.py).
_compiled.install()

__version__ = "0.1.0"
__all__ = ["Config", "__version__", "run"]


def run(app: str, **settings: Any) -> int:
    """Serve ``app`` ("module:attribute") with the given settings; returns the exit code."""
    from corral.config import Config
    from corral.supervisor import run as supervise

    return supervise(Config(app=app, **settings))


def __getattr__(name: str) -> Any:
    if name == "Config":
        from corral.config import Config

        return Config
    raise AttributeError(name)
