"""The optional compiled hot path: which modules it covers and when it is used.

When corral is installed with ``CORRAL_COMPILE=1`` (and a C compiler), setup.py
compiles the modules in ``MODULES`` from the same ``.py`` source (with the ``.pxd`` declarations
beside them) and records each source's SHA-256 in ``compiled.txt``. An import then
takes the compiled modules only if the sources beside them are the ones they were built
from: an edited ``.py`` next to an older build (an editable install, a checkout of
another commit) makes the whole hot path import as source, with one warning naming
it, instead of running stale code.
``CORRAL_PURE_PYTHON=1`` imports every module as source (to compare, or to debug).
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType

# The request path, compiled when possible. setup.py reads this tuple too.
MODULES = (
    "corral.http1.body",
    "corral.http1.context",
    "corral.http1.exchange",
    "corral.http1.output",
    "corral.http1.guards",
    "corral.http1.connection",
    "corral.http1.head",
    "corral.http1.pacing",
    "corral.http1.request_head",
    "corral.gateway.response",
    "corral.gateway.wsgi_environ",
    "corral.gateway.hidden_loop",
    "corral.gateway.wsgi",
    "corral.gateway.asgi",
)
MANIFEST = "compiled.txt"  # lines of "module sha256-of-the-.py-it-was-compiled-from"
PURE_VARIABLE = "CORRAL_PURE_PYTHON"  # read at import: run every module as source
COMPILE_VARIABLE = "CORRAL_COMPILE"  # read by setup.py: build the compiled modules
PACKAGE_DIR = Path(__file__).resolve().parent


def source_digest(source: bytes) -> str:
    """SHA-256 of a source, from CPython's own small SHA-2 module where it has one.

    hashlib would load OpenSSL's libcrypto into the master, which never needs it
    otherwise: about 3 MiB of the server's memory (PSS, master and worker) measured
    with 1,000 idle connections (bench/run.py idle-asgi). The digest is the same.
    """
    try:
        from _sha2 import sha256  # type: ignore[import-not-found]  # Python 3.12+
    except ImportError:
        try:
            from _sha256 import sha256  # type: ignore[import-not-found]  # Python 3.11
        except ImportError:  # a build without the built-in module
            from hashlib import sha256
    return str(sha256(source).hexdigest())


def choose(forced_pure: bool, built_from: str | None, source_now: str | None) -> str:
    """How to import one module: "compiled", "source", or "stale" (source, and warn).

    ``built_from`` is the digest the build recorded (None: not compiled);
    ``source_now`` the digest of the .py beside it (None: no source, a wheel without
    .py files, where the compiled module is all there is).
    """
    if built_from is None:
        return "source"
    if forced_pure and source_now is not None:
        return "source"
    if source_now is None or source_now == built_from:
        return "compiled"
    return "stale"


def _source_path(name: str) -> Path:
    return PACKAGE_DIR.joinpath(*name.split(".")[1:]).with_suffix(".py")


def _has_extension(name: str) -> bool:
    stem = _source_path(name).with_suffix("")
    return any(
        stem.with_name(stem.name + suffix).exists()
        for suffix in importlib.machinery.EXTENSION_SUFFIXES
    )


def _read_manifest() -> dict[str, str]:
    try:
        text = PACKAGE_DIR.joinpath(MANIFEST).read_text()
    except OSError:
        return {}
    pairs = (line.split() for line in text.splitlines())
    return {pair[0]: pair[1] for pair in pairs if len(pair) == 2}


def _digest_of(path: Path) -> str | None:
    try:
        return source_digest(path.read_bytes())
    except OSError:
        return None


def decide_all() -> dict[str, str]:
    """The choice for every module in MODULES, read from the files as they are now."""
    built = [name for name in MODULES if _has_extension(name)]
    if not built:  # a pure-Python install: nothing to read or hash
        return dict.fromkeys(MODULES, "source")
    manifest = _read_manifest()
    forced = os.environ.get(PURE_VARIABLE, "") not in ("", "0")
    choices = dict.fromkeys(MODULES, "source")
    for name in built:
        # A build the manifest does not vouch for ("") counts as stale.
        choices[name] = choose(forced, manifest.get(name, ""), _digest_of(_source_path(name)))
    if any(how != "compiled" for how in choices.values()):
        # The compiled modules share C declarations (the .pxd files cimport each
        # other's classes): one cannot load beside another's source ("__pyx_vtable__"
        # errors), so a stale or missing one makes all of them run as source.
        choices = {name: "source" if how == "compiled" else how for name, how in choices.items()}
    return choices


class _SourceFirst:
    """A meta path finder: the modules to import as source, found before the extension."""

    def __init__(self, names: set[str]) -> None:
        self.names = names

    def find_spec(
        self, name: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if name not in self.names:
            return None
        return importlib.util.spec_from_file_location(name, _source_path(name))


_choices: dict[str, str] | None = None


def install() -> None:
    """Decide once per process, before the first hot module is imported."""
    global _choices
    if _choices is not None:
        return
    _choices = decide_all()
    stale = sorted(name for name, how in _choices.items() if how == "stale")
    if stale:
        sys.stderr.write(
            f"corral: warning: the compiled {', '.join(stale)} predate their source; "
            "using the source (`pip install -e .` compiles it again)\n"
        )
    as_source = {name for name, how in _choices.items() if how != "compiled"}
    if as_source and any(_has_extension(name) for name in as_source):
        sys.meta_path.insert(0, _SourceFirst(as_source))


def summary() -> str:
    """One line for ``--version`` and the startup log: what this process runs."""
    install()
    assert _choices is not None
    compiled = all(how == "compiled" for how in _choices.values())
    return "compiled hot path" if compiled else "pure Python"
