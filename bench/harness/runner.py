"""Running servers: start, readiness polling, warm-up, measured runs, interleaved rounds."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from harness import load, measure
from harness.scenarios import POST_SIZE, Scenario
from harness.servers import HOST, SERVERS, Launch, Server
from harness.venv import APPS_DIR, BENCH_DIR, VENV_PYTHON

READY_TIMEOUT = 30.0  # seconds for a server to answer its first request
STOP_TIMEOUT = 10.0  # seconds between SIGTERM and SIGKILL
Run = dict[str, Any]


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind((HOST, 0))
        port: int = s.getsockname()[1]
        return port


def probe(port: int, expect: bytes | None) -> bytes | None:
    """One ``GET /`` on a fresh connection: the raw response if it is a good 200, else None."""
    import socket

    request = f"GET / HTTP/1.1\r\nHost: {HOST}:{port}\r\nConnection: close\r\n\r\n".encode()
    data = b""
    try:
        with socket.create_connection((HOST, port), timeout=5) as s:
            s.sendall(request)
            while chunk := s.recv(65536):
                data += chunk
    except OSError:
        if not data:
            return None
    head, _, body = data.partition(b"\r\n\r\n")
    if not head.startswith(b"HTTP/1.1 200"):
        return None
    return data if expect is None or body[: len(expect)] == expect else None


class Running:
    """One started server: its process group, output files and readiness."""

    def __init__(self, server: Server, scenario: Scenario, site: Path | None, cpu: str, tmp: Path):
        self.server = server
        self.port = free_port()
        self.rundir = Path(tempfile.mkdtemp(prefix=f"{server.name}-", dir=tmp))
        chdir = site if scenario.django and site is not None else APPS_DIR
        launch = Launch(
            scenario.module, scenario.attr, chdir, scenario.interface, self.port, self.rundir
        )
        argv = ["taskset", "-c", cpu, *server.command(launch)]
        env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
        env["PYTHONPATH"] = str(chdir)
        env.update(server.env)
        self.stdout = open(self.rundir / "stdout", "wb")  # noqa: SIM115 -- closed in stop()
        self.stderr = open(self.rundir / "stderr", "wb")  # noqa: SIM115
        # A session of its own: the group holds the server and any workers it forks.
        self.proc = subprocess.Popen(
            argv, cwd=chdir, env=env, stdin=subprocess.DEVNULL,
            stdout=self.stdout, stderr=self.stderr, start_new_session=True,
        )  # fmt: skip
        self.expect = scenario.body
        self.response = b""

    def wait_ready(self) -> None:
        """Poll TCP connect + one good GET until it answers; raise if it dies or times out."""
        deadline = time.monotonic() + READY_TIMEOUT
        while time.monotonic() < deadline:
            if not self.alive():
                raise RuntimeError(f"{self.exit_status()} before it answered\n{self.tail()}")
            response = probe(self.port, self.expect)
            if response is not None:
                self.response = response
                return
            time.sleep(0.05)
        raise RuntimeError(f"no good response in {READY_TIMEOUT:.0f}s\n{self.tail()}")

    def alive(self) -> bool:
        # The leader is never reaped before stop(), so its pid (the group id) stays ours.
        return self.exit_status() is None

    def exit_status(self) -> str | None:
        info = os.waitid(os.P_PID, self.proc.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT)
        if info is None:
            return None
        if info.si_code == os.CLD_EXITED:
            return f"exited with status {info.si_status}"
        return f"killed by {signal.Signals(info.si_status).name}"

    def stop(self) -> None:
        """SIGTERM the leader, SIGKILL the group if it lingers, then close the files."""
        if self.alive():
            self.proc.send_signal(signal.SIGTERM)
            deadline = time.monotonic() + STOP_TIMEOUT
            while self.alive() and time.monotonic() < deadline:
                time.sleep(0.02)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait()
        self.stdout.close()
        self.stderr.close()

    def tail(self, lines: int = 12) -> str:
        self.stderr.flush()
        text = (self.rundir / "stderr").read_text(errors="replace").splitlines()
        return "\n".join("    | " + line for line in text[-lines:])

    def access_lines(self) -> int:
        counts = [0]
        for name in ("access.log", "stdout", "stderr"):
            with contextlib.suppress(OSError), open(self.rundir / name, "rb") as f:
                counts.append(sum(c.count(b"\n") for c in iter(lambda: f.read(1 << 20), b"")))
        return max(counts)


def _measure_wrk(srv: Running, sc: Scenario, args: argparse.Namespace, tmp: Path) -> Run:
    script = load.post_script(tmp, POST_SIZE) if sc.post else None
    if args.warmup > 0:
        load.run_wrk(srv.port, args.warmup, args.connections, args.client_cpu, script)
    pgid, scpu, ccpu = srv.proc.pid, int(args.server_cpu), int(args.client_cpu)
    j0, core0, client0 = (
        measure.cpu_jiffies(pgid),
        measure.core_times(scpu),
        measure.core_times(ccpu),
    )
    started = time.monotonic()
    result, raw = load.run_wrk(srv.port, args.duration, args.connections, args.client_cpu, script)
    wall = time.monotonic() - started
    if not result["requests"]:
        raise RuntimeError("wrk completed no response (unframed or missing answers?)")
    j1, core1, client1 = (
        measure.cpu_jiffies(pgid),
        measure.core_times(scpu),
        measure.core_times(ccpu),
    )
    ticks = wall * measure.HZ
    run: Run = dict(result)
    run["server_cpu_pct"] = 100 * (j1 - j0) / ticks
    run["core_other_pct"] = max(0.0, 100 * ((core1[0] - core0[0]) - (j1 - j0)) / ticks)
    run["steal_pct"] = 100 * (core1[2] - core0[2]) / ticks
    client_busy = 100 * (client1[0] - client0[0]) / ticks
    run["client_other_pct"] = max(0.0, client_busy - result["wrk_cpu_pct"])
    run["pss_kib"] = measure.pss_kib(pgid)
    run["wrk_output"] = raw
    return run


SYSTEM_PYTHON = Path("/usr/bin/python3")


def idle_client_python(rundir: Path) -> str:
    """The interpreter that runs idle_conns.py: one that shares no code pages with a server.

    PSS divides a page among every process that maps it, the client included: run by
    the benchmark's own Python, the client would map the servers' libpython pages and
    lower their figure by a different amount in each run. So the client runs on the
    system's Python when that is another binary, else on a copy of the interpreter
    (for a Python with libpython linked in, as Debian's, a copy shares nothing; with a
    shared libpython that library's pages are still shared), else on the benchmark's
    Python. The run's JSON records which (``idle_client``).
    """
    import sys

    base = Path(getattr(sys, "_base_executable", sys.executable)).resolve()
    if SYSTEM_PYTHON.exists() and SYSTEM_PYTHON.resolve() != base and _is_311(SYSTEM_PYTHON):
        return str(SYSTEM_PYTHON)
    copy = rundir / "idle-client-python"
    if not copy.exists():
        shutil.copy2(base, copy)
    return str(copy) if _is_311(copy) else str(VENV_PYTHON)


def _is_311(python: Path) -> bool:
    check = [str(python), "-c", "import sys; sys.exit(sys.version_info < (3, 11))"]
    return subprocess.run(check, capture_output=True).returncode == 0


def _measure_idle(srv: Running, args: argparse.Namespace) -> Run:
    """bench/idle_conns.py on the client core; the server's PSS once every connection is open."""
    hold = srv.rundir / "hold"
    client = idle_client_python(srv.rundir)
    argv = ["taskset", "-c", args.client_cpu, client, "-I", str(BENCH_DIR / "idle_conns.py")]
    argv += ["--port", str(srv.port), "--connections", str(args.idle_connections)]
    argv += [
        "--rate",
        str(args.idle_rate),
        "--duration",
        str(args.duration),
        "--hold-file",
        str(hold),
    ]
    samples: list[int] = []
    stop = threading.Event()

    def sample() -> None:  # PSS every 0.5 s from the moment all connections are open
        while not stop.wait(0.5):
            if hold.exists():
                samples.append(measure.pss_kib(srv.proc.pid))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        out = subprocess.run(argv, capture_output=True, text=True, timeout=args.duration + 120)
    finally:
        stop.set()
        sampler.join()
    if out.returncode != 0 or not out.stdout.strip():
        raise RuntimeError(f"idle_conns.py failed ({out.returncode}): {out.stderr.strip()[-800:]}")
    result = json.loads(out.stdout)
    run: Run = {k: result.get(k) for k in ("p50_ms", "p99_ms", "requests", "reconnects")}
    run["errors"] = result.get("errors", 0)
    run["non2xx"] = result.get("non_2xx", 0)
    run["connections_open"] = result.get("connections_open")
    run["pss_kib"] = max(samples) if samples else measure.pss_kib(srv.proc.pid)
    run["idle_result"] = result
    run["idle_client"] = client
    return run


def bench_one(
    name: str, sc: Scenario, rnd: int, args: argparse.Namespace, tmp: Path, site: Path | None
) -> Run:
    run: Run = {"round": rnd, "server": name, "scenario": sc.name, "ok": False}
    if name == "ceiling":
        return bench_ceiling(run, args, site)
    server = SERVERS[name]
    srv = None
    try:
        srv = Running(server, sc, site, args.server_cpu, tmp)
        srv.wait_ready()
        run["response_head"] = srv.response.partition(b"\r\n\r\n")[0].decode("latin-1")
        run.update(
            _measure_idle(srv, args) if sc.kind == "idle" else _measure_wrk(srv, sc, args, tmp)
        )
        if not srv.alive():
            raise RuntimeError(f"{srv.exit_status()} during the run\n{srv.tail()}")
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


def bench_ceiling(run: Run, args: argparse.Namespace, site: Path | None) -> Run:
    """The Django view through its WSGI handler in a loop, no server, on the server core."""
    argv = [
        "taskset",
        "-c",
        args.server_cpu,
        str(VENV_PYTHON),
        str(BENCH_DIR / "django_ceiling.py"),
    ]
    argv += ["--site", str(site), "--seconds", str(args.duration), "--warmup", str(args.warmup)]
    out = subprocess.run(
        argv, capture_output=True, text=True, cwd=site, timeout=args.duration + 120
    )
    if out.returncode != 0:
        run["failure"] = f"django_ceiling.py failed: {out.stderr.strip()[-800:]}"
        return run
    run.update(rps=float(json.loads(out.stdout)["rps"]), errors=0, non2xx=0, ok=True)
    return run


def rounds_order(names: list[str], rounds: int) -> Iterator[tuple[int, str]]:
    """Odd rounds in the given order, even rounds reversed: A B C, C B A, A B C, ..."""
    for rnd in range(1, rounds + 1):
        for name in names if rnd % 2 else reversed(names):
            yield rnd, name
