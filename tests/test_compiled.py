"""The optional compiled hot path (corral/compiled.py, setup.py): built, used, never stale.

CI installs with CORRAL_COMPILE=1 and runs the suite twice: as built (every module of
``MODULES`` compiled) and with CORRAL_PURE_PYTHON=1 (all of it as source), so both
builds are tested alike. A default (pure) install runs these tests as source.
"""

from __future__ import annotations

import ast
import importlib
import importlib.machinery
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from corral import compiled

SRC = Path(__file__).resolve().parent.parent / "src"
FORCED_PURE = os.environ.get(compiled.PURE_VARIABLE, "") not in ("", "0")
# Set when the build was asked for: then every module must have been compiled.
EXPECT_COMPILED = os.environ.get(compiled.COMPILE_VARIABLE, "") not in ("", "0")
EXTENSIONS = tuple(importlib.machinery.EXTENSION_SUFFIXES)


def is_extension(module_file: str | None) -> bool:
    return bool(module_file) and str(module_file).endswith(EXTENSIONS)


def built(package: Path) -> bool:
    return any(package.rglob("*" + importlib.machinery.EXTENSION_SUFFIXES[0]))


@pytest.mark.parametrize(
    ("forced", "built_from", "now", "expected"),
    [
        (False, None, "a", "source"),  # not compiled
        (False, "a", "a", "compiled"),
        (False, "a", "b", "stale"),  # the .py was edited after the build
        (True, "a", "a", "source"),  # CORRAL_PURE_PYTHON=1
        (True, None, "a", "source"),
        (False, "a", None, "compiled"),  # no .py beside it: the build is all there is
        (True, "a", None, "compiled"),  # ... and cannot be replaced by source
    ],
)
def test_choose(forced: bool, built_from: str | None, now: str | None, expected: str) -> None:
    assert compiled.choose(forced, built_from, now) == expected


def test_the_manifest_names_modules_that_exist() -> None:
    for name in compiled.MODULES:
        assert (SRC.joinpath(*name.split(".")).with_suffix(".py")).exists(), name


@pytest.mark.parametrize("name", compiled.MODULES)
def test_no_method_is_defined_under_an_if_in_a_compiled_class(name: str) -> None:
    # Cython compiles a def inside `if TYPE_CHECKING:` in a cdef class body as a real
    # method, which replaces the inherited one (a stub flush_out once did that).
    tree = ast.parse(SRC.joinpath(*name.split(".")).with_suffix(".py").read_text())
    for cls in (node for node in tree.body if isinstance(node, ast.ClassDef)):
        for statement in cls.body:
            if isinstance(statement, ast.If):
                defs = [
                    node.name
                    for node in ast.walk(statement)
                    if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
                ]
                assert not defs, f"{name}.{cls.name}: {defs} defined under an if"


def test_every_module_of_the_request_path_runs_as_built() -> None:
    """CI installs with CORRAL_COMPILE=1: the compiled modules must be the ones imported."""
    as_source = FORCED_PURE or not (EXPECT_COMPILED or built(SRC / "corral"))
    for name in compiled.MODULES:
        module = importlib.import_module(name)
        if as_source:
            assert not is_extension(module.__file__), module.__file__
        else:
            assert is_extension(module.__file__), (
                f"{name} was imported from {module.__file__}: the compiled hot path was "
                "not built (it needs CORRAL_COMPILE=1 and a C compiler when installing); "
                f"{compiled.PURE_VARIABLE}=1 tests the pure-Python package"
            )
    assert compiled.summary() == ("pure Python" if as_source else "compiled hot path")


def run_python(code: str, path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, "PYTHONPATH": str(path), **env}
    full_env.pop(compiled.PURE_VARIABLE, None)
    full_env.update(env)
    return subprocess.run(
        [sys.executable, "-c", code], env=full_env, capture_output=True, text=True, timeout=60
    )


FILES = (
    "import corral.http1.exchange as e, corral.http1.connection as c; "
    "import corral.compiled as k; print(e.__file__); print(c.__file__); print(k.summary())"
)


@pytest.fixture
def package_copy(tmp_path: Path) -> Path:
    if not built(SRC / "corral"):
        pytest.skip("the compiled hot path is not built here")
    shutil.copytree(SRC / "corral", tmp_path / "corral")
    return tmp_path


def test_an_edited_source_is_imported_instead_of_its_older_build(package_copy: Path) -> None:
    exchange = package_copy / "corral" / "http1" / "exchange.py"
    exchange.write_text(exchange.read_text() + "\nEDITED = True\n")
    result = run_python(FILES + "; print(e.EDITED)", package_copy)
    assert result.returncode == 0, result.stderr
    exchange_file, connection_file, summary, edited = result.stdout.split("\n")[:4]
    assert exchange_file.endswith("exchange.py") and edited == "True"
    # connection.so cimports exchange's C class: it cannot load beside its source.
    assert connection_file.endswith("connection.py")
    assert summary == "pure Python"
    assert result.stderr.strip() == (
        "corral: warning: the compiled corral.http1.exchange predate their source; "
        "using the source (`pip install -e .` compiles it again)"
    )


def test_the_pure_python_variable_imports_every_module_as_source(package_copy: Path) -> None:
    result = run_python(FILES, package_copy, **{compiled.PURE_VARIABLE: "1"})
    assert result.returncode == 0, result.stderr
    exchange_file, connection_file, summary = result.stdout.split("\n")[:3]
    assert exchange_file.endswith(".py") and connection_file.endswith(".py")
    assert summary == "pure Python" and not result.stderr


def test_a_build_without_its_manifest_is_not_trusted(package_copy: Path) -> None:
    (package_copy / "corral" / compiled.MANIFEST).unlink()
    result = run_python(FILES, package_copy)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split("\n")[0].endswith("exchange.py")
    assert "predate their source" in result.stderr
