"""bench/.venv: the peers, corral (editable) and the harness's own tools; versions, machine."""

from __future__ import annotations

import contextlib
import hashlib
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent.parent
REPO_ROOT = BENCH_DIR.parent
APPS_DIR = BENCH_DIR / "apps"
VENV_DIR = BENCH_DIR / ".venv"
VENV_BIN = VENV_DIR / "bin"
VENV_PYTHON = VENV_BIN / "python"
REQUIREMENTS = BENCH_DIR / "requirements-peers.txt"
STAMP = VENV_DIR / ".harness-stamp"
NGINX = Path("/usr/sbin/nginx")

# Distributions whose exact versions go into every report.
PACKAGES = (
    "corral", "bjoern", "daphne", "granian", "gunicorn", "hypercorn", "pyuwsgi",
    "uvicorn", "waitress", "httptools", "uvloop", "Django", "matplotlib",
)  # fmt: skip


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def in_venv() -> bool:
    return Path(sys.prefix).resolve() == VENV_DIR.resolve()


def ensure_venv(skip: bool) -> None:
    """Create bench/.venv and (re)install the peers and corral when their inputs change."""
    if skip:
        if not VENV_PYTHON.exists():
            sys.exit(f"{VENV_DIR} does not exist: run once without --no-install")
        return
    inputs = REQUIREMENTS.read_bytes() + (REPO_ROOT / "pyproject.toml").read_bytes()
    digest = hashlib.sha256(inputs).hexdigest()
    if VENV_PYTHON.exists() and STAMP.exists() and STAMP.read_text().strip() == digest:
        check = subprocess.run([str(VENV_PYTHON), "-c", "import corral"], capture_output=True)
        if check.returncode == 0:
            return
    if not VENV_PYTHON.exists():
        log(f"creating {VENV_DIR}")
        subprocess.run([sys.executable, "-m", "venv", str(VENV_DIR)], check=True)
    log("installing peers and corral into bench/.venv (first run or changed requirements)")
    pip = [str(VENV_PYTHON), "-m", "pip", "install", "--quiet"]
    for what in (["-r", str(REQUIREMENTS)], ["-e", str(REPO_ROOT)]):
        done = subprocess.run([*pip, *what], capture_output=True, text=True)
        if done.returncode != 0:
            sys.exit(f"pip install {' '.join(what)} failed:\n{done.stdout}{done.stderr}")
    STAMP.write_text(digest + "\n")


def reexec_in_venv(argv: list[str]) -> None:
    """Run the harness itself with the venv's Python (it needs matplotlib for the charts)."""
    if not in_venv():
        os.execv(str(VENV_PYTHON), [str(VENV_PYTHON), *argv])


def versions() -> dict[str, str]:
    import importlib.metadata as md

    found: dict[str, str] = {}
    for dist in PACKAGES:
        try:
            found[dist] = md.version(dist)
        except md.PackageNotFoundError:
            found[dist] = "missing"
    found["python"] = platform.python_version()
    from corral.compiled import decide_all

    choices = decide_all()  # as the "corral" entries run (corral-pure: none compiled)
    compiled = sum(how == "compiled" for how in choices.values())
    found["corral build"] = f"{compiled} of {len(choices)} hot-path modules compiled"
    with contextlib.suppress(OSError):
        wrk = subprocess.run(["wrk", "-v"], capture_output=True, text=True)
        found["wrk"] = (wrk.stdout + wrk.stderr).split(" [")[0].removeprefix("wrk ").strip()
    if NGINX.exists():
        ngx = subprocess.run([str(NGINX), "-v"], capture_output=True, text=True)
        found["nginx"] = ngx.stderr.strip().rpartition("/")[2]
    return found


def machine() -> dict[str, object]:
    model = "unknown"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.partition(":")[2].strip()
                break
    rev = subprocess.run(
        ["git", "-C", str(REPO_ROOT), "describe", "--always", "--dirty"],
        capture_output=True,
        text=True,
    ).stdout.strip()
    return {
        "host": platform.node(),
        "cpu": model,
        "cpus": os.cpu_count(),
        "kernel": platform.release(),
        "corral_rev": rev or "unknown",
        "date": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
