"""The server registry: how each server is started for an interface and an app.

Every server runs ONE worker process (plus its master, if it has one) under
``taskset -c SERVER_CPU``, with its access log off unless the name ends in ``-log``.
Thread pools: servers that run WSGI apps on a thread pool get ``THREADS`` threads
(gunicorn gthread, waitress); everything else runs with its own default (corral:
``--threads 1``, the app inline on the loop thread; uWSGI: 1 thread; granian: its
default blocking threads).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path

from harness.venv import APPS_DIR, NGINX, VENV_BIN, VENV_PYTHON

HOST = "127.0.0.1"
THREADS = 4  # for thread-pool WSGI servers: gunicorn gthread, waitress


@dataclasses.dataclass(frozen=True)
class Launch:
    """What to start: the app (``module:attr``, imported from ``chdir``) and where."""

    module: str
    attr: str
    chdir: Path
    interface: str  # "wsgi" or "asgi"
    port: int
    rundir: Path  # a fresh temporary directory for this run

    @property
    def spec(self) -> str:
        return f"{self.module}:{self.attr}"


@dataclasses.dataclass(frozen=True)
class Server:
    name: str
    interfaces: frozenset[str]  # "wsgi", "asgi"; nginx has "ref"
    command: Callable[[Launch], list[str]]
    access_log: bool = False
    is_corral: bool = False
    note: str = ""
    default: bool = True  # in every scenario of its interface; else only with --servers
    env: tuple[tuple[str, str], ...] = ()  # set for this server's process only


def _bin(name: str) -> str:
    return str(VENV_BIN / name)


def _corral(log: bool) -> Callable[[Launch], list[str]]:
    def command(x: Launch) -> list[str]:
        argv = [_bin("corral"), x.spec, "--bind", f"{HOST}:{x.port}", "--chdir", str(x.chdir)]
        argv += ["--interface", x.interface]
        if log:
            return [*argv, "--access-logfile", str(x.rundir / "access.log")]
        return [*argv, "--no-access-log"]

    return command


def _gunicorn(worker: str) -> Callable[[Launch], list[str]]:
    def command(x: Launch) -> list[str]:
        argv = [_bin("gunicorn"), "--workers", "1", "--worker-class", worker]
        argv += ["--bind", f"{HOST}:{x.port}", "--chdir", str(x.chdir), "--log-level", "warning"]
        if worker == "gthread":
            argv += ["--threads", str(THREADS)]
        if worker == "asgi":
            argv += ["--asgi-loop", "uvloop"]
        return [*argv, x.spec]  # gunicorn's access log is off unless --access-logfile

    return command


def _uvicorn(x: Launch) -> list[str]:
    argv = [
        _bin("uvicorn"),
        x.spec,
        "--host",
        HOST,
        "--port",
        str(x.port),
        "--app-dir",
        str(x.chdir),
    ]
    return [
        *argv,
        "--loop",
        "uvloop",
        "--http",
        "httptools",
        "--no-access-log",
        "--log-level",
        "warning",
    ]


def _hypercorn(x: Launch) -> list[str]:
    argv = [_bin("hypercorn"), "--workers", "1", "--worker-class", "uvloop"]
    return [*argv, "--bind", f"{HOST}:{x.port}", "--log-level", "warning", x.spec]  # no access log


def _daphne(x: Launch) -> list[str]:
    # -v 0: daphne writes its access log to stdout at the default verbosity 1.
    return [_bin("daphne"), "-b", HOST, "-p", str(x.port), "-v", "0", x.spec]


def _granian(x: Launch) -> list[str]:
    argv = [_bin("granian"), "--interface", x.interface, "--workers", "1"]
    argv += ["--host", HOST, "--port", str(x.port), "--no-access-log", "--log-level", "warning"]
    if x.interface == "asgi":
        argv += ["--loop", "uvloop"]
    return [*argv, "--working-dir", str(x.chdir), x.spec]


def _uwsgi(router: bool) -> Callable[[Launch], list[str]]:
    def command(x: Launch) -> list[str]:
        if router:
            # uWSGI's HTTP router (a gateway process in front of the worker, both on the
            # server core) with keep-alive; --http-auto-chunked frames a response without
            # Content-Length, which keep-alive needs.
            argv = [_bin("uwsgi"), "--http", f"{HOST}:{x.port}", "--http-keepalive"]
            argv += ["--http-auto-chunked"]
        else:
            # The worker's own HTTP/1.1 socket: keep-alive, no gateway, but a response
            # without Content-Length is sent unframed on a kept-alive connection.
            argv = [_bin("uwsgi"), "--http11-socket", f"{HOST}:{x.port}"]
        argv += ["--processes", "1", "--threads", str(THREADS), "--disable-logging"]
        argv += ["--die-on-term", "--chdir", str(x.chdir), "--listen", "1024"]
        return [*argv, "--module", x.spec, "--need-app"]

    return command


def _bjoern(x: Launch) -> list[str]:
    launcher = (
        f"import sys, bjoern; sys.path.insert(0, {str(x.chdir)!r}); "
        f"from {x.module} import {x.attr} as app; bjoern.run(app, {HOST!r}, {x.port})"
    )
    return [str(VENV_PYTHON), "-c", launcher]


def _waitress(x: Launch) -> list[str]:
    argv = [_bin("waitress-serve"), f"--listen={HOST}:{x.port}", f"--threads={THREADS}"]
    return [*argv, f"--connection-limit={2000}", x.spec]  # waitress logs no requests


def _floor(x: Launch) -> list[str]:
    script = str(APPS_DIR / "floor_server.py")
    return [str(VENV_PYTHON), script, x.interface, x.spec, HOST, str(x.port), str(x.chdir)]


def _nginx(x: Launch) -> list[str]:
    d = x.rundir
    temps = "\n".join(
        f"    {k}_temp_path {d / k};" for k in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    (d / "nginx.conf").write_text(
        f"""daemon off;
master_process off;
worker_processes 1;
pid {d}/nginx.pid;
error_log {d}/error.log warn;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    keepalive_requests 100000000;
{temps}
    server {{
        listen {HOST}:{x.port};
        location / {{
            default_type text/plain;
            return 200 "Hello, world!";
        }}
    }}
}}
"""
    )
    return [str(NGINX), "-p", str(d), "-e", str(d / "error.log"), "-c", str(d / "nginx.conf")]


W, A, BOTH = frozenset({"wsgi"}), frozenset({"asgi"}), frozenset({"wsgi", "asgi"})
SERVERS: dict[str, Server] = {
    s.name: s
    for s in [
        Server("corral", BOTH, _corral(False), is_corral=True, note="--threads 1 (default)"),
        Server("corral-log", BOTH, _corral(True), access_log=True, is_corral=True),
        Server(
            "corral-pure",
            BOTH,
            _corral(False),
            is_corral=True,
            note="CORRAL_PURE_PYTHON=1: the compiled hot path off",
            default=False,
            env=(("CORRAL_PURE_PYTHON", "1"),),
        ),
        Server("bjoern", W, _bjoern),
        Server("gunicorn-sync", W, _gunicorn("sync"), note="sync worker: no keep-alive"),
        Server("gunicorn-gthread", W, _gunicorn("gthread"), note=f"--threads {THREADS}"),
        Server("gunicorn-asgi", A, _gunicorn("asgi"), note="-k asgi --asgi-loop uvloop"),
        Server("uvicorn", A, _uvicorn, note="uvloop + httptools"),
        Server("hypercorn", A, _hypercorn, note="-k uvloop"),
        Server("daphne", A, _daphne),
        Server("granian", BOTH, _granian),
        Server("uwsgi", W, _uwsgi(True), note=f"pyuwsgi, --http router, --threads {THREADS}"),
        Server(
            "uwsgi-http11",
            W,
            _uwsgi(False),
            note=f"pyuwsgi, --http11-socket, --threads {THREADS}",
            default=False,
        ),
        Server("waitress", W, _waitress, note=f"--threads {THREADS}"),
        Server("nginx", frozenset({"ref"}), _nginx, note="return 200, reference"),
        Server(
            "floor",
            BOTH,
            _floor,
            note="reference: apps/floor_server.py, uvloop + httptools + the app, nothing else",
            default=False,
        ),
    ]
}
