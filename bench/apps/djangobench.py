"""The Django scenario's site: a fresh, migrated and seeded copy of examples/djangosite.

    python bench/apps/djangobench.py WORKDIR     # prepare by hand; prints the site dir

``prepare(workdir)`` copies the repository's ``examples/djangosite`` to
``workdir / "djangosite"`` (replacing an earlier copy), runs ``manage.py
migrate`` and ``manage.py seed`` (10 notes) there, and returns that directory.
Servers then run with it as their working directory and serve ``mysite.wsgi``
or ``mysite.asgi`` (attribute ``application``); ``GET /`` renders a template
with the 10 notes from SQLite. The repository's own database is never touched.

Standard library only: the Django run happens in ``python`` (default
``sys.executable``), which must have Django installed.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "djangosite"
SITE_NAME = "djangosite"
# Fixed settings whatever the calling shell exports: production-like, no DEBUG.
SITE_ENV = {"DJANGO_DEBUG": "0", "DJANGO_SETTINGS_MODULE": "mysite.settings"}
MANAGE_TIMEOUT = 120.0


def _manage(site: Path, python: str, *args: str) -> None:
    done = subprocess.run(
        [python, "manage.py", *args],
        cwd=site,
        env={**os.environ, **SITE_ENV},
        capture_output=True,
        text=True,
        timeout=MANAGE_TIMEOUT,
    )
    if done.returncode != 0:
        raise RuntimeError(
            f"manage.py {' '.join(args)} failed in {site} (exit {done.returncode}):\n"
            + done.stderr[-4000:]
        )


def prepare(workdir: Path, python: str | None = None) -> Path:
    """Copy, migrate and seed the example site under ``workdir``; return the site dir."""
    if not (EXAMPLE / "manage.py").is_file():
        raise FileNotFoundError(f"the Django example site is missing: {EXAMPLE}")
    site = Path(workdir).resolve() / SITE_NAME
    if site.exists():
        shutil.rmtree(site)
    site.parent.mkdir(parents=True, exist_ok=True)
    shutil.copytree(
        EXAMPLE,
        site,
        ignore=shutil.ignore_patterns("db.sqlite3*", "__pycache__", "staticfiles"),
    )
    interpreter = python or sys.executable
    _manage(site, interpreter, "migrate", "--noinput")
    _manage(site, interpreter, "seed")
    return site


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1 or args[0].startswith("-"):
        print("usage: python bench/apps/djangobench.py WORKDIR", file=sys.stderr)
        return 2
    print(prepare(Path(args[0])))
    return 0


if __name__ == "__main__":
    sys.exit(main())
