"""gunicorn-style server hooks from a Python config file, with gunicorn's arguments."""

from __future__ import annotations

import signal
from pathlib import Path

from test_master import get, wait_for, worker_pids

CONF = """
import os

def _record(line):
    with open(os.environ["TEST_RECORD_FILE"], "a") as f:
        f.write(line + "\\n")

workers = 1

def on_starting(server):
    server.log.info("hook on_starting")
    _record(f"on_starting {server.pid}")

def when_ready(server):
    _record(f"when_ready {server.num_workers}")

def pre_fork(server, worker):
    _record(f"pre_fork age={worker.age}")

def post_fork(server, worker):
    _record(f"post_fork age={worker.age} pid={worker.pid}")

def post_worker_init(worker):
    _record(f"post_worker_init {worker.pid}")

def pre_request(worker, req):
    _record(f"pre_request {req.method} {req.path} {req.query} {dict(req.headers)['X-PROBE']}")

def post_request(worker, req, environ, resp):
    _record(f"post_request {req.path} {resp.status} {resp.status_code}")

def child_exit(server, worker):
    _record(f"child_exit {worker.pid}")

def worker_exit(server, worker):
    _record(f"worker_exit {worker.pid}")

def on_reload(server):
    _record("on_reload")

def on_exit(server):
    _record("on_exit")
"""


def test_hooks_are_called_with_gunicorn_like_objects(start_server, tmp_path: Path):
    conf = tmp_path / "gunicorn.conf.py"
    conf.write_text(CONF)
    record = tmp_path / "record.txt"
    server = start_server(
        "wsgi_apps:block_loop", "-c", str(conf), env={"TEST_RECORD_FILE": str(record)}
    )
    (first,) = worker_pids(server, 1)
    import http.client

    conn = http.client.HTTPConnection(server.host, server.port, timeout=10)
    conn.request("GET", "/probe?x=1", headers={"X-Probe": "yes"})
    assert conn.getresponse().status == 200
    conn.close()
    server.signal(signal.SIGHUP)
    assert wait_for(lambda: "(replaced)" in server.output, 20)
    assert get(server)[0] == 200
    server.signal(signal.SIGTERM)
    assert server.wait(20) == 0
    lines = record.read_text().splitlines()
    assert lines[0] == f"on_starting {server.proc.pid}"
    assert "pre_fork age=1" in lines and f"post_fork age=1 pid={first}" in lines
    assert f"post_worker_init {first}" in lines
    assert "when_ready 1" in lines
    assert "pre_request GET /probe x=1 yes" in lines
    assert "post_request /probe 200 OK 200" in lines
    assert "on_reload" in lines and "pre_fork age=2" in lines
    assert f"worker_exit {first}" in lines and f"child_exit {first}" in lines
    assert lines[-1] == "on_exit"
    assert "ignoring" not in server.output  # hooks are used, not warned about
