"""The load generator: wrk on its own core, its output parsed; a Lua script for POST bodies."""

from __future__ import annotations

import re
import resource
import subprocess
import time
from pathlib import Path

HOST = "127.0.0.1"
_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0, "h": 3_600_000.0}

POST_LUA = """-- written by bench/harness/load.py: every request POSTs the same body
wrk.method = "POST"
wrk.body = string.rep("x", {size})
wrk.headers["Content-Type"] = "application/octet-stream"
"""


def post_script(directory: Path, size: int) -> Path:
    """A wrk Lua script that POSTs ``size`` bytes with every request."""
    path = directory / f"post-{size}.lua"
    path.write_text(POST_LUA.format(size=size))
    return path


def _ms(text: str) -> float:
    m = re.fullmatch(r"([\d.]+)(us|ms|s|m|h)", text)
    if not m:
        raise ValueError(f"unknown wrk duration {text!r}")
    return float(m[1]) * _UNITS[m[2]]


def parse_wrk(out: str) -> dict[str, float]:
    """Requests/sec, p50/p99 latency (ms), request count, socket errors, non-2xx/3xx."""
    result: dict[str, float] = {"errors": 0, "non2xx": 0}
    m = re.search(r"^Requests/sec:\s+([\d.]+)", out, re.M)
    if not m:
        raise ValueError("no Requests/sec in wrk output:\n" + out)
    result["rps"] = float(m[1])
    for pct, key in (("50", "p50_ms"), ("99", "p99_ms")):
        m = re.search(rf"^\s+{pct}%\s+(\S+)", out, re.M)
        if m:
            result[key] = _ms(m[1])
    m = re.search(r"^\s+(\d+) requests in [^,]+, ([\d.]+)([KMGT]?B) read", out, re.M)
    result["requests"] = int(m[1]) if m else 0
    if m and result["requests"]:
        # Bytes read per response, heads included: shows a server that answers short.
        scale = 1024 ** "BKMGT".index(m[3][0]) if m[3] != "B" else 1
        result["bytes_per_response"] = float(m[2]) * scale / result["requests"]
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    if m:
        result["errors"] = sum(int(x) for x in m.groups())
    m = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if m:
        result["non2xx"] = int(m[1])
    return result


def run_wrk(
    port: int,
    seconds: int,
    connections: int,
    client_cpu: str,
    script: Path | None = None,
    path: str = "/",
) -> tuple[dict[str, float], str]:
    """Run wrk on the client core: the parsed figures (plus wrk's CPU %) and raw output."""
    argv = ["taskset", "-c", client_cpu, "wrk", "-t1", f"-c{connections}"]
    argv += [f"-d{seconds}s", "--latency"]
    if script is not None:
        argv += ["-s", str(script)]
    argv.append(f"http://{HOST}:{port}{path}")
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.monotonic()
    out = subprocess.run(argv, capture_output=True, text=True, timeout=seconds + 60)
    wall = time.monotonic() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if out.returncode != 0:
        raise RuntimeError(f"wrk exited with {out.returncode}: {(out.stdout + out.stderr).strip()}")
    result = parse_wrk(out.stdout)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    result["wrk_cpu_pct"] = 100 * cpu / wall
    return result, out.stdout
