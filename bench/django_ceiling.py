"""The in-process ceiling of the Django scenario: the view through the WSGI handler, no server.

    python bench/django_ceiling.py --site DIR [--seconds 10] [--path /] [--warmup 1]

DIR is a site made by ``bench/apps/djangobench.py``. The script does what a
server does before the first request (chdir to DIR, DIR first on ``sys.path``,
import ``mysite.wsgi``, which sets ``DJANGO_SETTINGS_MODULE``), then calls
``application`` in a loop with the environ of a ``GET`` carrying only a ``Host``
header (what wrk sends): ``start_response``, join the body, ``close()``. After
the warm-up it counts the calls made in ``--seconds`` and prints one JSON
object: ``{"rps", "requests", "body_bytes", "seconds", "status"}`` where
``body_bytes`` is the size of one response body. A server's requests/s divided
by ``rps`` is the share of the possible throughput that it achieves.
"""

from __future__ import annotations

import argparse
import importlib
import io
import json
import os
import sys
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

App = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
HOST = "127.0.0.1"
PORT = "8000"


def load_application(site: Path) -> App:
    """Import ``mysite.wsgi:application`` the way a server run from ``site`` would."""
    os.chdir(site)
    sys.path.insert(0, str(site))
    module = importlib.import_module("mysite.wsgi")
    app: App = module.application
    return app


def base_environ(path: str) -> dict[str, Any]:
    """The environ of ``GET path HTTP/1.1`` with only ``Host``, as a server builds it."""
    path_info, _, query = path.partition("?")
    return {
        "REQUEST_METHOD": "GET",
        "SCRIPT_NAME": "",
        "PATH_INFO": path_info,
        "QUERY_STRING": query,
        "SERVER_NAME": HOST,
        "SERVER_PORT": PORT,
        "SERVER_PROTOCOL": "HTTP/1.1",
        "SERVER_SOFTWARE": "django-ceiling",
        "REMOTE_ADDR": HOST,
        "REMOTE_PORT": "40000",
        "HTTP_HOST": f"{HOST}:{PORT}",
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "http",
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": False,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
        "wsgi.input_terminated": True,
    }


def call_once(app: App, base: dict[str, Any]) -> tuple[str, int]:
    """One request: a fresh environ, the body joined, ``close()`` called; (status, size)."""
    statuses: list[str] = []

    def start_response(status: str, headers: Any, exc_info: Any = None) -> Callable[..., Any]:
        statuses.append(status)
        return lambda data: None

    environ = base.copy()
    environ["wsgi.input"] = io.BytesIO()
    result = app(environ, start_response)
    try:
        body = b"".join(result)
    finally:
        close = getattr(result, "close", None)
        if close is not None:
            close()
    return statuses[-1], len(body)


def run_for(app: App, base: dict[str, Any], seconds: float) -> tuple[int, float]:
    """Call the app until ``seconds`` have passed; (calls made, elapsed seconds)."""
    clock = time.perf_counter
    start = clock()
    deadline = start + seconds
    count = 0
    while True:
        call_once(app, base)
        count += 1
        now = clock()
        if now >= deadline:
            return count, now - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--site", type=Path, required=True, help="a prepared djangosite copy")
    parser.add_argument("--seconds", type=float, default=10.0, help="measured time")
    parser.add_argument("--warmup", type=float, default=1.0, help="discarded time before it")
    parser.add_argument("--path", default="/", help="the request path (and ?query)")
    args = parser.parse_args(argv)
    site = args.site.resolve()
    if not (site / "mysite" / "wsgi.py").is_file():
        parser.error(f"{site} is not a Django site with mysite/wsgi.py")
    app = load_application(site)
    base = base_environ(args.path)
    status, size = call_once(app, base)
    if not status.startswith("200"):
        print(f"GET {args.path} answered {status!r}, not 200", file=sys.stderr)
        return 1
    if args.warmup > 0:
        run_for(app, base, args.warmup)
    requests, elapsed = run_for(app, base, args.seconds)
    result = {
        "rps": round(requests / elapsed, 1),
        "requests": requests,
        "body_bytes": size,
        "seconds": round(elapsed, 3),
        "status": int(status.split()[0]),
    }
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
