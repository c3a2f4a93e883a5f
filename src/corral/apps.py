"""Find the application: import "module:attribute", call factories, detect the interface.

Every failure a user can cause becomes an :class:`AppLoadError` with one line
that says what to fix; when the app's own code raised, the error keeps the app's
exception as its cause so the CLI can show that traceback too.
"""

from __future__ import annotations

import importlib
import inspect
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from corral.errors import AppLoadError

Interface = Literal["wsgi", "asgi"]
DEFAULT_ATTRIBUTE = "application"  # Django's wsgi.py and asgi.py name it so


@dataclass(frozen=True)
class LoadedApp:
    """The callable to serve and the interface it speaks."""

    app: Callable[..., Any]
    interface: Interface
    spec: str


def load_app(spec: str, *, factory: bool = False, interface: str = "auto") -> LoadedApp:
    """Import ``module:attribute`` (or ``module``) and return the app to serve."""
    module_name, _, attr_path = spec.partition(":")
    if not module_name or (":" in spec and not attr_path):
        raise AppLoadError(f"app {spec!r} is not of the form 'module:attribute' or 'module'")
    module = _import_module(module_name, spec)
    target = _resolve_attribute(module, attr_path or DEFAULT_ATTRIBUTE, spec)
    if factory:
        target = _call_factory(target, spec)
    elif inspect.isfunction(target) and _looks_like_factory(target):
        raise AppLoadError(
            f"{spec!r} is a function that takes no arguments; if it is an app factory, "
            "add --factory"
        )
    if not callable(target):
        raise AppLoadError(f"{spec!r} is a {type(target).__name__}, not a WSGI or ASGI app")
    return LoadedApp(target, _choose_interface(target, interface, spec), spec)


def _import_module(name: str, spec: str) -> Any:
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as exc:
        # Only "not found" when it is the app module (or a parent) that is missing;
        # a missing import *inside* the app is the app's own error.
        if exc.name and (name == exc.name or name.startswith(exc.name + ".")):
            raise AppLoadError(
                f"cannot import module {name!r} for app {spec!r}: no such module "
                f"(searched sys.path starting with {sys.path[0] or '.'!r}; "
                "use --chdir or --pythonpath)"
            ) from None
        raise AppLoadError(
            f"importing {name!r} failed: {type(exc).__name__}: {exc}", show_traceback=True
        ) from _app_frames_only(exc)
    except Exception as exc:
        raise AppLoadError(
            f"importing {name!r} failed: {type(exc).__name__}: {exc}", show_traceback=True
        ) from _app_frames_only(exc)


def _app_frames_only(exc: BaseException) -> BaseException:
    """Drop corral's and importlib's frames from the top of the app's traceback."""
    tb = exc.__traceback__
    while tb is not None and _is_machinery(tb.tb_frame.f_code.co_filename):
        tb = tb.tb_next
    if tb is not None:
        exc.__traceback__ = tb
    return exc


def _is_machinery(filename: str) -> bool:
    return filename == __file__ or filename.startswith("<frozen importlib")


def _resolve_attribute(module: Any, attr_path: str, spec: str) -> Any:
    target = module
    for part in attr_path.split("."):
        try:
            target = getattr(target, part)
        except AttributeError:
            raise AppLoadError(
                f"module {module.__name__!r} has no attribute {attr_path!r} (app {spec!r})"
            ) from None
    return target


def _call_factory(target: Any, spec: str) -> Any:
    if not callable(target):
        raise AppLoadError(f"--factory given but {spec!r} is not callable")
    try:
        return target()
    except Exception as exc:
        raise AppLoadError(
            f"app factory {spec!r} failed: {type(exc).__name__}: {exc}", show_traceback=True
        ) from _app_frames_only(exc)


def _looks_like_factory(func: Callable[..., Any]) -> bool:
    try:
        return len(inspect.signature(func).parameters) == 0
    except (TypeError, ValueError):
        return False


def _choose_interface(app: Any, requested: str, spec: str) -> Interface:
    if requested in ("wsgi", "asgi"):
        return requested  # type: ignore[return-value]
    if requested != "auto":
        raise AppLoadError(f"unknown interface {requested!r}: use auto, wsgi or asgi")
    return "asgi" if is_asgi3(app) else "wsgi"


def is_asgi3(app: Any) -> bool:
    """True for ASGI 3 apps: coroutine functions, or objects whose __call__ is one.

    Django's ASGIHandler instance has an ``async def __call__``; WSGI callables,
    including Django's WSGIHandler, are plain functions or sync ``__call__``.
    """
    if inspect.iscoroutinefunction(app):
        return True
    if inspect.isclass(app):
        return False
    call = getattr(app, "__call__", None)  # noqa: B004 - we want the bound method
    return inspect.iscoroutinefunction(call)
