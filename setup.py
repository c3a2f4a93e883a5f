"""Builds corral's optional compiled hot path; everything else is in pyproject.toml.

With CORRAL_COMPILE=1 set, the modules listed in src/corral/compiled.py are compiled
by Cython from their own .py source and the .pxd declarations beside them. By default,
and where a module cannot be compiled, the package is pure Python and works the same
(docs/performance.md, "The compiled hot path", says what the build gains and costs).
"""

from __future__ import annotations

import ast
import hashlib
import os
from pathlib import Path

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

SRC = Path(__file__).resolve().parent / "src"


def hot_modules() -> list[str]:
    """MODULES from src/corral/compiled.py, read without importing the package."""
    tree = ast.parse((SRC / "corral" / "compiled.py").read_text())
    for node in tree.body:
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == "MODULES":
            return list(ast.literal_eval(node.value))
    raise RuntimeError("src/corral/compiled.py has no MODULES")


def source_of(name: str) -> Path:
    return SRC.joinpath(*name.split(".")).with_suffix(".py")


COMPILE = os.environ.get("CORRAL_COMPILE", "") not in ("", "0")


def extensions() -> list[Extension]:
    if not COMPILE:
        return []  # opt-in: it needs Cython and a C compiler (docs/performance.md)
    try:
        from Cython.Build import cythonize
    except ImportError:
        # Also the case while pip asks for the build requirements, before Cython is in.
        print("corral: Cython is not installed; building the pure-Python package")
        return []
    modules = [
        Extension(name, [str(source_of(name).relative_to(SRC.parent))]) for name in hot_modules()
    ]
    return list(
        cythonize(
            modules,
            build_dir="build/cython",  # the generated C stays out of src/
            # C types come from the .pxd files only; the annotations are for mypy (an
            # annotation such as ``int | None`` has no C spelling a .pxd could repeat).
            compiler_directives={"language_level": 3, "annotation_typing": False},
            quiet=True,
        )
    )


class BuildWithManifest(build_ext):
    """build_ext that records which source each compiled module was built from."""

    def finalize_options(self) -> None:
        super().finalize_options()
        if self.parallel is None:  # one compiler per core: the build takes half as long
            self.parallel = os.cpu_count() or 1

    def build_extension(self, ext: Extension) -> None:
        # A module that cannot be compiled (no C compiler, no Python headers) runs as
        # source: the package works the same, only slower.
        try:
            super().build_extension(ext)
        except Exception as exc:
            print(f"corral: {ext.name} is not compiled ({exc}); it will run as pure Python")

    def run(self) -> None:
        super().run()
        lines = []
        for ext in self.extensions:
            if Path(self.get_ext_fullpath(ext.name)).exists():
                digest = hashlib.sha256(source_of(ext.name).read_bytes()).hexdigest()
                lines.append(f"{ext.name} {digest}\n")
        package = SRC / "corral" if self.inplace else Path(self.build_lib) / "corral"
        package.mkdir(parents=True, exist_ok=True)
        (package / "compiled.txt").write_text("".join(lines))


setup(
    ext_modules=extensions(),
    cmdclass={"build_ext": BuildWithManifest},
    # A build requirement only when compiling (pip asks setup.py before it builds).
    setup_requires=["Cython>=3.0"] if COMPILE else [],
)
