"""Hello-world throughput of corral against its peers, one worker on one core.

    python bench/hello.py                      # every server, 5 interleaved rounds
    python bench/hello.py --only asgi --rounds 3 --duration 5
    python bench/hello.py --servers corral,bjoern --json out.json
    python bench/hello.py --baseline before.json   # corral only, against a saved run

Each server runs pinned to one core (``taskset -c 0``) and wrk runs pinned to
another (``taskset -c 1 wrk -t1 -c64``), with keep-alive connections. Rounds are
interleaved: every round starts, warms up, measures and stops each server in
turn, and every second round takes them in reverse order, so that a slow drift of
the machine (another job, thermal limits) falls on every server alike. The
report gives medians and spread (min-max) per server and the ratios that the
benchmark issue asks for; see bench/README.md for how to read them.

Peers live in bench/.venv, made on first run from bench/requirements-peers.txt
plus ``pip install -e`` of this repository. This script needs only the standard
library and runs under any Python >= 3.11.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import hashlib
import json
import os
import platform
import re
import resource
import shlex
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
REPO_ROOT = BENCH_DIR.parent
APPS_DIR = BENCH_DIR / "apps"
VENV_DIR = BENCH_DIR / ".venv"
VENV_BIN = VENV_DIR / "bin"
REQUIREMENTS = BENCH_DIR / "requirements-peers.txt"
STAMP = VENV_DIR / ".hello-bench-stamp"
NGINX = Path("/usr/sbin/nginx")

HOST = "127.0.0.1"
BODY = b"Hello, world!"
READY_TIMEOUT = 30.0  # seconds for a server to answer its first request
STOP_TIMEOUT = 10.0  # seconds between SIGTERM and SIGKILL
HZ = os.sysconf("SC_CLK_TCK")

# Ratios corral / peer (access logs off) that corral must reach: the benchmark issue.
TARGETS = {("corral", "bjoern"): 1.0, ("corral-asgi", "uvicorn"): 1.7}


# --------------------------------------------------------------------------- servers


@dataclasses.dataclass(frozen=True)
class Server:
    name: str
    interface: str  # "wsgi", "asgi", or "ref" (the nginx reference, shown in both tables)
    command: Callable[[int, Path], list[str]]  # (port, run dir) -> argv
    access_log: bool = False  # logs each request (we count the lines afterwards)
    is_corral: bool = False


def _corral(app: str, interface: str, log: bool) -> Callable[[int, Path], list[str]]:
    def command(port: int, rundir: Path) -> list[str]:
        argv = [str(VENV_BIN / "corral"), app, "--bind", f"{HOST}:{port}"]
        argv += ["--workers", "1", "--threads", "1"]
        if interface == "asgi":
            argv += ["--interface", "asgi"]
        if not log:
            argv.append("--no-access-log")
        elif corral_has_flag("--access-logfile"):
            argv += ["--access-logfile", str(rundir / "access.log")]
        # else: the access log goes to standard output, which is a file in rundir.
        return argv + CORRAL_EXTRA_ARGS

    return command


def _bjoern(port: int, rundir: Path) -> list[str]:
    launcher = f"import bjoern, hello_wsgi; bjoern.run(hello_wsgi.app, {HOST!r}, {port})"
    return [str(VENV_BIN / "python"), "-c", launcher]


def _uvicorn(log: bool) -> Callable[[int, Path], list[str]]:
    def command(port: int, rundir: Path) -> list[str]:
        argv = [str(VENV_BIN / "uvicorn"), "hello_asgi:app", "--host", HOST, "--port", str(port)]
        argv += ["--loop", "uvloop", "--http", "httptools"]
        # uvicorn writes access lines at INFO level, so logging on needs --log-level info.
        if log:
            return [*argv, "--access-log", "--log-level", "info"]
        return [*argv, "--no-access-log", "--log-level", "warning"]

    return command


def _nginx(port: int, rundir: Path) -> list[str]:
    conf = rundir / "nginx.conf"
    temp = {k: rundir / k for k in ("body", "proxy", "fastcgi", "uwsgi", "scgi")}
    conf.write_text(
        f"""daemon off;
master_process off;
worker_processes 1;
pid {rundir}/nginx.pid;
error_log {rundir}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    keepalive_requests 100000000;
    client_body_temp_path {temp["body"]};
    proxy_temp_path {temp["proxy"]};
    fastcgi_temp_path {temp["fastcgi"]};
    uwsgi_temp_path {temp["uwsgi"]};
    scgi_temp_path {temp["scgi"]};
    server {{
        listen {HOST}:{port};
        location / {{
            default_type text/plain;
            return 200 "Hello, world!";
        }}
    }}
}}
"""
    )
    return [str(NGINX), "-p", str(rundir), "-e", str(rundir / "error.log"), "-c", str(conf)]


SERVERS = {
    s.name: s
    for s in [
        Server("corral", "wsgi", _corral("hello_wsgi:app", "wsgi", False), is_corral=True),
        Server("bjoern", "wsgi", _bjoern),
        Server("corral-log", "wsgi", _corral("hello_wsgi:app", "wsgi", True), True, True),
        Server("corral-asgi", "asgi", _corral("hello_asgi:app", "asgi", False), is_corral=True),
        Server("uvicorn", "asgi", _uvicorn(False)),
        Server("corral-asgi-log", "asgi", _corral("hello_asgi:app", "asgi", True), True, True),
        Server("uvicorn-log", "asgi", _uvicorn(True), access_log=True),
        Server("nginx", "ref", _nginx),
    ]
}
ALIASES = {"nginx-return200": "nginx", "corral-wsgi": "corral", "corral-wsgi-log": "corral-log"}
DEFAULT = ["corral", "bjoern", "corral-log", "corral-asgi", "uvicorn", "corral-asgi-log", "nginx"]
CORRAL_EXTRA_ARGS: list[str] = []  # --corral-args
_corral_help: str | None = None


def corral_has_flag(flag: str) -> bool:
    """Whether ``corral --help`` mentions ``flag`` (read once)."""
    global _corral_help
    if _corral_help is None:
        try:
            out = subprocess.run(
                [str(VENV_BIN / "corral"), "--help"], capture_output=True, text=True, timeout=30
            )
            _corral_help = out.stdout + out.stderr
        except (OSError, subprocess.TimeoutExpired):
            _corral_help = ""
    return re.search(re.escape(flag) + r"\b", _corral_help) is not None


# --------------------------------------------------------------------------- environment


def ensure_venv(skip: bool) -> None:
    """Create bench/.venv and (re)install the peers and corral when their inputs change."""
    python = VENV_BIN / "python"
    if skip:
        if not python.exists():
            sys.exit(f"{VENV_DIR} does not exist: run once without --no-install")
        return
    inputs = REQUIREMENTS.read_bytes() + (REPO_ROOT / "pyproject.toml").read_bytes()
    digest = hashlib.sha256(inputs).hexdigest()
    if python.exists() and STAMP.exists() and STAMP.read_text().strip() == digest:
        importable = subprocess.run([str(python), "-c", "import corral"], capture_output=True)
        if importable.returncode == 0:
            return
    if not python.exists():
        log(f"creating {VENV_DIR}")
        subprocess.run([sys.executable, "-m", "venv", str(VENV_DIR)], check=True)
    log("installing peers and corral into bench/.venv (first run or changed requirements)")
    pip = [str(python), "-m", "pip", "install", "--quiet"]
    for what in (["-r", str(REQUIREMENTS)], ["-e", str(REPO_ROOT)]):
        done = subprocess.run([*pip, *what], capture_output=True, text=True)
        if done.returncode != 0:  # pip's output only when it matters (it is noisy)
            sys.exit(f"pip install {' '.join(what)} failed:\n{done.stdout}{done.stderr}")
    STAMP.write_text(digest + "\n")


def versions() -> dict[str, str]:
    code = (
        "import importlib.metadata as m, json\n"
        "out = {}\n"
        "for d in ('corral', 'bjoern', 'uvicorn', 'httptools', 'uvloop'):\n"
        "    try: out[d] = m.version(d)\n"
        "    except m.PackageNotFoundError: out[d] = 'missing'\n"
        "print(json.dumps(out))\n"
    )
    out = subprocess.run([str(VENV_BIN / "python"), "-c", code], capture_output=True, text=True)
    found: dict[str, str] = json.loads(out.stdout) if out.returncode == 0 else {}
    found["python"] = platform.python_version()
    with contextlib.suppress(OSError, subprocess.CalledProcessError):
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


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


# --------------------------------------------------------------------------- processes


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def probe(port: int) -> bytes | None:
    """One ``GET /`` on a fresh connection; the raw response if it is our 200, else None."""
    request = f"GET / HTTP/1.1\r\nHost: {HOST}:{port}\r\nConnection: close\r\n\r\n".encode()
    try:
        with socket.create_connection((HOST, port), timeout=2) as s:
            s.sendall(request)
            data = b""
            while chunk := s.recv(65536):
                data += chunk
                head, sep, body = data.partition(b"\r\n\r\n")
                if sep and len(body) >= len(BODY):
                    break
    except OSError:
        return None
    head, _, body = data.partition(b"\r\n\r\n")
    return data if head.startswith(b"HTTP/1.1 200") and body[: len(BODY)] == BODY else None


class Running:
    """One started server: its process group, output files and readiness."""

    def __init__(self, server: Server, cpu: str, tmp: Path) -> None:
        self.server = server
        self.port = free_port()
        self.rundir = Path(tempfile.mkdtemp(prefix=f"{server.name}-", dir=tmp))
        argv = ["taskset", "-c", cpu, *server.command(self.port, self.rundir)]
        env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
        env["PYTHONPATH"] = str(APPS_DIR)
        self.stdout = open(self.rundir / "stdout", "wb")  # noqa: SIM115 -- closed in stop()
        self.stderr = open(self.rundir / "stderr", "wb")  # noqa: SIM115
        # A session of its own: the group holds the server and any workers it forks.
        self.proc = subprocess.Popen(
            argv,
            cwd=APPS_DIR,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=self.stdout,
            stderr=self.stderr,
            start_new_session=True,
        )
        self.response = b""

    def wait_ready(self) -> None:
        """Poll TCP connect + one good GET until it answers; raise if it dies or times out."""
        deadline = time.monotonic() + READY_TIMEOUT
        while time.monotonic() < deadline:
            if not self.alive():
                raise RuntimeError(f"{self.exit_status()} before it answered\n{self.tail()}")
            response = probe(self.port)
            if response is not None:
                self.response = response
                return
            time.sleep(0.05)
        raise RuntimeError(f"no good response in {READY_TIMEOUT:.0f}s\n{self.tail()}")

    def alive(self) -> bool:
        """Whether the leader runs. It is never reaped before stop() has killed its group,
        so its pid, which is the group's id, cannot be reused by another process meanwhile."""
        return self.exit_status() is None

    def exit_status(self) -> str | None:
        info = os.waitid(os.P_PID, self.proc.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT)
        if info is None:
            return None
        if info.si_code == os.CLD_EXITED:
            return f"exited with status {info.si_status}"
        return f"killed by {signal.Signals(info.si_status).name}"

    def cpu_jiffies(self) -> int:
        """User + system time of every live process in the server's group."""
        total = 0
        for entry in os.scandir("/proc"):
            if not entry.name.isdigit():
                continue
            try:
                stat = Path(entry.path, "stat").read_text()
            except OSError:
                continue
            fields = stat.rpartition(")")[2].split()
            if int(fields[2]) == self.proc.pid:  # pgrp
                total += int(fields[11]) + int(fields[12])
        return total

    def stop(self) -> None:
        """SIGTERM the leader, SIGKILL the group if it lingers, then close the files."""
        if self.alive():
            self.proc.send_signal(signal.SIGTERM)
            deadline = time.monotonic() + STOP_TIMEOUT
            while self.alive() and time.monotonic() < deadline:
                time.sleep(0.02)
            if self.alive():
                log(f"  {self.server.name} ignored SIGTERM for {STOP_TIMEOUT:.0f}s: SIGKILL")
        # Whatever of this group is still there (a stuck leader, orphaned workers); the
        # leader is not reaped yet (see alive()), so this group id is still ours.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait()
        self.stdout.close()
        self.stderr.close()

    def tail(self, lines: int = 15) -> str:
        self.stderr.flush()
        text = (self.rundir / "stderr").read_text(errors="replace").splitlines()
        return "\n".join("    | " + line for line in text[-lines:])

    def access_lines(self) -> int:
        """Lines the server logged: the most of its access log file, stdout and stderr."""
        counts = [0]
        for name in ("access.log", "stdout", "stderr"):
            with contextlib.suppress(OSError), open(self.rundir / name, "rb") as f:
                counts.append(sum(c.count(b"\n") for c in iter(lambda: f.read(1 << 20), b"")))
        return max(counts)


def core_times(cpu: int) -> tuple[int, int, int]:
    """(user+nice+system, softirq+irq, steal) jiffies of one core from /proc/stat."""
    for line in Path("/proc/stat").read_text().splitlines():
        if line.startswith(f"cpu{cpu} "):
            v = [int(x) for x in line.split()[1:9]]
            return v[0] + v[1] + v[2], v[5] + v[6], v[7]
    return 0, 0, 0


# --------------------------------------------------------------------------- wrk

_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0, "h": 3_600_000.0}


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
    m = re.search(r"^\s+(\d+) requests in", out, re.M)
    result["requests"] = int(m[1]) if m else 0
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    if m:
        result["errors"] = sum(int(x) for x in m.groups())
    m = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if m:
        result["non2xx"] = int(m[1])
    return result


def run_wrk(port: int, seconds: int, args: argparse.Namespace) -> tuple[dict[str, float], str]:
    """Run wrk on the client core; the parsed figures (plus wrk's CPU %) and raw output."""
    argv = ["taskset", "-c", args.client_cpu, "wrk", "-t1", f"-c{args.connections}"]
    argv += [f"-d{seconds}s", "--latency", f"http://{HOST}:{port}/"]
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


# --------------------------------------------------------------------------- one run


def bench_one(server: Server, rnd: int, args: argparse.Namespace, tmp: Path) -> dict:
    run: dict = {"round": rnd, "server": server.name, "interface": server.interface, "ok": False}
    srv = None
    try:
        srv = Running(server, args.server_cpu, tmp)
        srv.wait_ready()
        run["response_bytes"] = len(srv.response)
        run["response_head"] = srv.response.partition(b"\r\n\r\n")[0].decode("latin-1")
        if args.warmup > 0:
            run_wrk(srv.port, args.warmup, args)
        server_core, client_core = int(args.server_cpu), int(args.client_cpu)
        jiffies0, core0, client0 = (
            srv.cpu_jiffies(),
            core_times(server_core),
            core_times(client_core),
        )
        started = time.monotonic()
        result, raw = run_wrk(srv.port, args.duration, args)
        wall = time.monotonic() - started
        jiffies1, core1, client1 = (
            srv.cpu_jiffies(),
            core_times(server_core),
            core_times(client_core),
        )
        if not srv.alive():
            raise RuntimeError(f"{srv.exit_status()} during the run\n{srv.tail()}")
        ticks = wall * HZ
        run.update(result)
        run["server_cpu_pct"] = 100 * (jiffies1 - jiffies0) / ticks
        # Other processes' user/system time on the server's core (interference), and steal.
        other = (core1[0] - core0[0]) - (jiffies1 - jiffies0)
        run["core_other_pct"] = max(0.0, 100 * other / ticks)
        run["steal_pct"] = 100 * (core1[2] - core0[2]) / ticks
        # The same on wrk's core: its user/system time less wrk's own.
        client_busy = 100 * (client1[0] - client0[0]) / ticks
        run["client_other_pct"] = max(0.0, client_busy - result["wrk_cpu_pct"])
        run["client_steal_pct"] = 100 * (client1[2] - client0[2]) / ticks
        run["wrk_output"] = raw
        run["ok"] = True
    except (RuntimeError, ValueError, OSError, subprocess.TimeoutExpired) as exc:
        run["failure"] = str(exc)
    finally:
        if srv is not None:
            srv.stop()
    if srv is not None:
        if server.access_log and run["ok"]:
            run["access_log_lines"] = srv.access_lines()
        shutil.rmtree(srv.rundir, ignore_errors=True)
    return run


def describe(run: dict) -> str:
    if not run["ok"]:
        return "FAILED: " + run.get("failure", "?")
    text = f"{run['rps']:>10,.0f} req/s  p50 {run.get('p50_ms', 0):.2f} ms"
    text += f"  p99 {run.get('p99_ms', 0):.2f} ms  cpu {run['server_cpu_pct']:.0f}%"
    text += f"  wrk {run['wrk_cpu_pct']:.0f}%"
    bad = run["errors"] + run["non2xx"]
    return text + (f"  errors {bad:.0f}" if bad else "")


# --------------------------------------------------------------------------- report


def summarize(runs: list[dict]) -> dict[str, dict]:
    summary: dict[str, dict] = {}
    for name in dict.fromkeys(r["server"] for r in runs):
        ok = [r for r in runs if r["server"] == name and r["ok"]]
        failed = sum(1 for r in runs if r["server"] == name and not r["ok"])
        if not ok:
            summary[name] = {"rounds": 0, "failed": failed}
            continue
        rps = [r["rps"] for r in ok]
        med = statistics.median(rps)

        def mid(key: str, ok: list[dict] = ok) -> float:
            values = [r[key] for r in ok if key in r]
            return statistics.median(values) if values else float("nan")

        summary[name] = {
            "interface": ok[0]["interface"],
            "rounds": len(ok),
            "failed": failed,
            "rps_median": med,
            "rps_min": min(rps),
            "rps_max": max(rps),
            "spread": (max(rps) - min(rps)) / med if med else 0.0,
            "rps_by_round": {r["round"]: r["rps"] for r in ok},
            "p50_ms": mid("p50_ms"),
            "p99_ms": mid("p99_ms"),
            "errors": sum(r["errors"] + r["non2xx"] for r in ok),
            "server_cpu_pct": mid("server_cpu_pct"),
            "wrk_cpu_pct": mid("wrk_cpu_pct"),
            "core_other_pct": mid("core_other_pct"),
            "steal_pct": mid("steal_pct"),
            "response_bytes": ok[0]["response_bytes"],
        }
    return summary


def verdict(ratio: float, spread: float, target: float) -> str:
    """Ahead/behind/tie of ``ratio`` against ``target``; a tie when the lead is within spread."""
    lead = ratio / target - 1
    if abs(lead) <= spread:
        what = "tie" if target == 1 else f"tie with {target:g}x"
        return f"{what} (lead {abs(lead):.1%} <= spread {spread:.1%})"
    if target == 1:
        return "faster" if lead > 0 else "slower"
    return f"meets {target:g}x" if lead > 0 else f"misses {target:g}x"


def compare(a: dict, b: dict, target: float) -> dict:
    """Ratio a/b of medians, its spread and verdict; paired ratios of rounds run by both."""
    ratio = a["rps_median"] / b["rps_median"]
    spread = max(a["spread"], b["spread"])
    paired = [
        a["rps_by_round"][r] / b["rps_by_round"][r]
        for r in a["rps_by_round"]
        if r in b["rps_by_round"]
    ]
    return {
        "ratio": ratio,
        "spread": spread,
        "paired_min": min(paired) if paired else None,
        "paired_max": max(paired) if paired else None,
        "target": target,
        "verdict": verdict(ratio, spread, target),
    }


def comparisons(summary: dict[str, dict]) -> list[dict]:
    pairs = [
        ("corral", "bjoern", TARGETS[("corral", "bjoern")]),
        ("corral-log", "bjoern", 1.0),
        ("corral-log", "corral", 1.0),
        ("corral-asgi", "uvicorn", TARGETS[("corral-asgi", "uvicorn")]),
        ("corral-asgi-log", "uvicorn", 1.0),
        ("corral-asgi-log", "uvicorn-log", 1.0),
        ("corral-asgi-log", "corral-asgi", 1.0),
    ]
    out = []
    for a, b, target in pairs:
        if summary.get(a, {}).get("rounds") and summary.get(b, {}).get("rounds"):
            out.append({"a": a, "b": b, **compare(summary[a], summary[b], target)})
    return out


def warnings_for(
    runs: list[dict], summary: dict[str, dict], rounds: int, baseline: bool
) -> list[str]:
    warn = []
    if rounds < 5:
        warn.append(
            f"{rounds} round(s): a smoke test, not a measurement (the issue asks for >= 5); "
            "spreads and verdicts mean little."
        )
    python = {n: s for n, s in summary.items() if s.get("rounds") and n != "nginx"}
    ngx = summary.get("nginx", {})
    if ngx.get("rounds") and python:
        best = max(python, key=lambda n: python[n]["rps_median"])
        top = python[best]["rps_median"]
        # "Clearly above": above the best Python server by more than both spreads.
        margin = max(ngx["spread"], python[best]["spread"], 0.1)
        if ngx["rps_median"] <= top * (1 + margin):
            warn.append(
                f"nginx ({ngx['rps_median']:,.0f} req/s) is not clearly above {best} "
                f"({top:,.0f} req/s): wrk on one core may be the bottleneck, so the "
                "fastest servers' figures (and their ratios) may be capped."
            )
    elif "nginx" not in summary and not baseline:
        warn.append("nginx was not run: nothing shows that wrk was not the bottleneck.")
    starved = [
        f"{n} {s['server_cpu_pct']:.0f}%" for n, s in python.items() if s["server_cpu_pct"] < 90
    ]
    if starved:
        warn.append(
            "below 90% CPU on their core (median), so limited by something else than their "
            f"own work (wrk, other load): {', '.join(starved)}."
        )
    for name, s in python.items():
        if s["wrk_cpu_pct"] > 95:
            warn.append(f"wrk used {s['wrk_cpu_pct']:.0f}% of its core against {name}.")
        if s["errors"]:
            warn.append(f"{name}: {s['errors']:.0f} socket errors or non-2xx responses.")
    ok = [r for r in runs if r["ok"]]
    for core, other, steal in (
        ("server's", "core_other_pct", "steal_pct"),
        ("wrk's", "client_other_pct", "client_steal_pct"),
    ):
        noisy = [r for r in ok if r[other] > 5 or r[steal] > 5]
        if noisy:
            worst = max(noisy, key=lambda r: r[other] + r[steal])
            warn.append(
                f"other processes or steal took over 5% of the {core} core in {len(noisy)} of "
                f"{len(ok)} runs (worst: round {worst['round']} {worst['server']}, other "
                f"{worst[other]:.0f}%, steal {worst[steal]:.0f}%): the machine was not quiet; "
                "per-run figures are in the JSON."
            )
    for r in runs:
        expected = r.get("requests", 0)
        lines = r.get("access_log_lines")
        if lines is not None and lines < expected * 0.9:
            warn.append(
                f"round {r['round']} {r['server']}: {lines} access log lines for at least "
                f"{expected:.0f} requests: is access logging really on?"
            )
    return warn


def fmt_rate(x: float) -> str:
    return f"{x:,.0f}"


def table(summary: dict[str, dict], interface: str) -> list[str]:
    rows = [
        "| server | req/s (median) | min - max | spread | p50 ms | p99 ms | errors "
        "| server CPU | wrk CPU | resp. bytes |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, s in summary.items():
        if SERVERS[name].interface not in (interface, "ref"):
            continue
        if not s.get("rounds"):
            rows.append(f"| {name} | failed | | | | | | | | |")
            continue
        failed = f" ({s['failed']} failed)" if s["failed"] else ""
        rows.append(
            f"| {name}{failed} | {fmt_rate(s['rps_median'])} | {fmt_rate(s['rps_min'])} - "
            f"{fmt_rate(s['rps_max'])} | {s['spread']:.1%} | {s['p50_ms']:.2f} | "
            f"{s['p99_ms']:.2f} | {s['errors']:.0f} | {s['server_cpu_pct']:.0f}% | "
            f"{s['wrk_cpu_pct']:.0f}% | {s['response_bytes']} |"
        )
    return rows


def ratio_table(items: list[dict], label: str) -> list[str]:
    rows = [
        f"| {label} | ratio of medians | per-round ratios | spread | verdict |",
        "|---|---:|---:|---:|---|",
    ]
    for c in items:
        paired = (
            f"{c['paired_min']:.2f} - {c['paired_max']:.2f}"
            if c["paired_min"] is not None
            else "n/a"
        )
        name = c["a"] if c["a"] == c["b"] else f"{c['a']} / {c['b']}"
        rows.append(
            f"| {name} | {c['ratio']:.2f}x | {paired} | {c['spread']:.1%} | {c['verdict']} |"
        )
    return rows


def report(result: dict) -> str:
    meta, settings, summary = result["machine"], result["settings"], result["summary"]
    ver = result["versions"]
    lines = [
        f"# Hello-world benchmark, {meta['date']}",
        "",
        f"{meta['cpu']} ({meta['cpus']} CPUs), kernel {meta['kernel']}, corral "
        f"{ver.get('corral', '?')} at {meta['corral_rev']}; "
        + ", ".join(f"{k} {v}" for k, v in ver.items() if k != "corral"),
        f"{settings['rounds']} interleaved rounds of {settings['duration']:g}s after a "
        f"{settings['warmup']:g}s warm-up; wrk -t1 -c{settings['connections']} on CPU "
        f"{settings['client_cpu']}, each server on CPU {settings['server_cpu']}.",
    ]
    for interface in ("wsgi", "asgi"):
        if not any(SERVERS[name].interface == interface for name in summary):
            continue
        lines += ["", f"## {interface.upper()}", "", *table(summary, interface)]
        mine = [c for c in result["comparisons"] if SERVERS[c["a"]].interface == interface]
        if mine:
            lines += ["", *ratio_table(mine, "corral / peer")]
    if result.get("baseline"):
        b = result["baseline"]
        lines += ["", f"## Against the baseline {b['file']} ({b['date']}, {b['rev']})", ""]
        lines += ratio_table(b["comparisons"], "now / baseline")
    if result["warnings"]:
        lines += ["", "## Warnings", ""] + [f"- {w}" for w in result["warnings"]]
    return "\n".join(lines) + "\n"


def against_baseline(path: Path, result: dict) -> dict:
    old = json.loads(path.read_text())
    items = []
    for name, s in result["summary"].items():
        o = old.get("summary", {}).get(name, {})
        if s.get("rounds") and o.get("rounds"):
            c = compare(s, {**o, "rps_by_round": {}}, 1.0)
            items.append({"a": name, "b": name, **c})
    notes = []
    for key in ("duration", "connections", "server_cpu", "client_cpu"):
        if old.get("settings", {}).get(key) != result["settings"][key]:
            notes.append(f"baseline used {key}={old.get('settings', {}).get(key)!r}")
    if old.get("warnings"):
        notes.append(f"the baseline run had {len(old['warnings'])} warning(s) of its own")
    if old.get("machine", {}).get("cpu") != result["machine"]["cpu"]:
        notes.append("baseline ran on another CPU model: ratios are not meaningful")
    result["warnings"] += notes
    meta = old.get("machine", {})
    return {
        "file": str(path),
        "date": meta.get("date", "?"),
        "rev": meta.get("corral_rev", "?"),
        "comparisons": items,
    }


# --------------------------------------------------------------------------- main


def choose_servers(args: argparse.Namespace) -> list[Server]:
    if args.servers:
        names = [ALIASES.get(n.strip(), n.strip()) for n in args.servers.split(",") if n.strip()]
        unknown = [n for n in names if n not in SERVERS]
        if unknown:
            sys.exit(f"unknown server(s) {', '.join(unknown)}; known: {', '.join(SERVERS)}")
    elif args.baseline:
        names = [n for n in DEFAULT if SERVERS[n].is_corral]
    else:
        names = DEFAULT
    chosen = [SERVERS[n] for n in dict.fromkeys(names)]
    if args.only:
        chosen = [s for s in chosen if s.interface in (args.only, "ref")]
    if any(s.name == "nginx" for s in chosen) and not NGINX.exists():
        log(f"{NGINX} not found: skipping the nginx reference (apt-get install nginx-light)")
        chosen = [s for s in chosen if s.name != "nginx"]
    if not chosen:
        sys.exit("no server to run")
    return chosen


def rounds_order(servers: list[Server], rounds: int) -> Iterator[tuple[int, Server]]:
    """Interleave: every round runs every server; odd rounds in reverse order."""
    for rnd in range(1, rounds + 1):
        for server in servers if rnd % 2 else reversed(servers):
            yield rnd, server


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description="Hello-world throughput of corral and its peers, one worker on one core.",
    )
    p.add_argument("--rounds", type=int, default=5, help="interleaved rounds (default 5)")
    p.add_argument("--duration", type=int, default=10, help="seconds measured per run")
    p.add_argument("--warmup", type=int, default=3, help="seconds of warm-up per run, 0: none")
    p.add_argument("--connections", type=int, default=64, help="wrk keep-alive connections")
    p.add_argument("--only", choices=["wsgi", "asgi"], help="one interface only")
    p.add_argument(
        "--servers", help=f"comma-separated, in round order; known: {', '.join(SERVERS)}"
    )
    p.add_argument("--json", type=Path, help="also write the results (with raw runs) here")
    p.add_argument("--baseline", type=Path, help="compare with a saved --json (corral only)")
    p.add_argument("--server-cpu", default="0", help="the one core for the server (default 0)")
    p.add_argument("--client-cpu", default="1", help="the one core for wrk (default 1)")
    p.add_argument("--corral-args", default="", help="extra arguments for every corral server")
    p.add_argument("--no-install", action="store_true", help="never pip install into .venv")
    args = p.parse_args(argv)
    if args.rounds < 1 or args.duration <= 0 or args.warmup < 0 or args.connections < 1:
        p.error("rounds and connections must be >= 1, duration > 0, warmup >= 0")
    if args.baseline and not args.baseline.exists():
        p.error(f"{args.baseline} does not exist")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    for tool in ("wrk", "taskset"):
        if shutil.which(tool) is None:
            sys.exit(f"{tool} is not installed (apt-get install wrk util-linux)")
    cpus = os.sched_getaffinity(0)
    for cpu in (args.server_cpu, args.client_cpu):
        if not cpu.isdigit() or int(cpu) not in cpus:
            sys.exit(f"CPU {cpu!r} is not one of the CPUs available here: {sorted(cpus)}")
    if args.server_cpu == args.client_cpu:
        log("warning: server and wrk share one core; the figures measure both together")
    CORRAL_EXTRA_ARGS.extend(shlex.split(args.corral_args))
    ensure_venv(args.no_install)
    servers = choose_servers(args)
    per_run = args.warmup + args.duration + 2
    log(
        f"{args.rounds} rounds x {len(servers)} servers ({', '.join(s.name for s in servers)}), "
        f"about {args.rounds * len(servers) * per_run / 60:.1f} minutes"
    )
    runs: list[dict] = []
    with tempfile.TemporaryDirectory(prefix="corral-bench-") as tmp:
        try:
            for rnd, server in rounds_order(servers, args.rounds):
                run = bench_one(server, rnd, args, Path(tmp))
                runs.append(run)
                log(f"round {rnd}/{args.rounds} {server.name:<16} {describe(run)}")
        except KeyboardInterrupt:
            log("interrupted: reporting the runs done so far")
    summary = summarize(runs)
    result = {
        "machine": machine(),
        "versions": versions(),
        "settings": {
            k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items() if k != "json"
        },
        "summary": summary,
        "comparisons": comparisons(summary),
        "warnings": warnings_for(runs, summary, args.rounds, bool(args.baseline)),
        "runs": runs,
    }
    if args.baseline:
        result["baseline"] = against_baseline(args.baseline, result)
    print(report(result), end="")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=2) + "\n")
        log(f"wrote {args.json}")
    return 0 if runs and all(r["ok"] for r in runs) else 1


if __name__ == "__main__":
    sys.exit(main())
