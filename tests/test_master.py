"""The pre-fork master, driven as a real subprocess with real signals and bounded load."""

from __future__ import annotations

import http.client
import os
import signal
import socket
import threading
import time
from pathlib import Path

import pytest
from conftest import run_corral
from wire import Wire


def children(pid: int) -> set[int]:
    """The direct child processes of ``pid``."""
    found: set[int] = set()
    for task in Path(f"/proc/{pid}/task").iterdir():
        text = (task / "children").read_text().split()
        found.update(int(p) for p in text)
    return found


def wait_for(predicate, timeout: float = 15.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return predicate()


def worker_pids(server, count: int) -> set[int]:
    """Wait until the master has ``count`` ready workers; return their pids."""
    assert wait_for(
        lambda: server.output.count(" ready") >= count and len(children(server.proc.pid)) == count
    ), server.output
    return children(server.proc.pid)


def get(server, path: str = "/") -> tuple[int, bytes]:
    conn = http.client.HTTPConnection(server.host, server.port, timeout=10)
    try:
        conn.request("GET", path, headers={"Connection": "close"})
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


class Load:
    """Bounded load on 127.0.0.1: a few clients, one request per connection."""

    def __init__(self, server, clients: int = 4) -> None:
        self.server = server
        self.ok = 0
        self.failed: list[str] = []
        self.stop = threading.Event()
        self.threads = [threading.Thread(target=self._client) for _ in range(clients)]

    def _client(self) -> None:
        while not self.stop.is_set():
            try:
                status, _ = get(self.server)
                if status == 200:
                    self.ok += 1
                else:
                    self.failed.append(f"status {status}")
            except (OSError, http.client.HTTPException) as exc:
                self.failed.append(repr(exc))

    def progress(self, count: int = 20, timeout: float = 20.0) -> None:
        """Wait until ``count`` more requests have succeeded: the load really runs."""
        target = self.ok + count
        assert wait_for(lambda: self.ok >= target, timeout), (self.ok, self.failed)

    def __enter__(self) -> Load:
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(20)


def test_workers_serve_and_term_stops_them_all(start_server):
    server = start_server("wsgi_apps:block_loop", "-w", "3")
    pids = worker_pids(server, 3)
    seen = {int(get(server)[1]) for _ in range(60)}
    assert seen <= pids and seen
    server.signal(signal.SIGTERM)
    assert server.wait(20) == 0
    assert server.wait_output("Master") and server.wait_output("stopped")


def test_killed_worker_is_replaced_and_the_others_keep_serving(start_server):
    server = start_server("wsgi_apps:block_loop", "-w", "2")
    pids = worker_pids(server, 2)
    victim = min(pids)
    with Load(server, clients=4) as load:
        load.progress()
        import os

        os.kill(victim, signal.SIGKILL)
        assert wait_for(lambda: len(children(server.proc.pid) - {victim}) == 2)
        load.progress()
    # Only requests the killed worker had in flight can fail (at most one per client).
    assert len(load.failed) <= 4, load.failed
    assert load.ok > 50
    assert server.wait_output(f"Worker {victim} killed by SIGKILL")
    assert server.wait_output("out-of-memory")  # SIGKILL the master did not send
    assert victim not in children(server.proc.pid)


def test_hup_replaces_every_worker_without_failed_requests(start_server):
    server = start_server("wsgi_apps:block_loop", "-w", "2")
    before = worker_pids(server, 2)
    with Load(server, clients=4) as load:
        load.progress()
        server.signal(signal.SIGHUP)
        assert wait_for(lambda: server.output.count("(replaced)") >= 2, 30), server.output
        load.progress()
    assert load.failed == []
    assert load.ok > 50
    after = children(server.proc.pid)
    assert len(after) == 2 and not (after & before)


def test_ttin_and_ttou_change_the_number_of_workers(start_server):
    server = start_server("wsgi_apps:block_loop", "-w", "1")
    worker_pids(server, 1)
    server.signal(signal.SIGTTIN)
    assert wait_for(lambda: len(children(server.proc.pid)) == 2)
    server.signal(signal.SIGTTOU)
    assert wait_for(
        lambda: len(children(server.proc.pid)) == 1 and "(fewer workers)" in server.output
    )


def test_a_blocked_worker_is_detected_dumped_and_replaced(start_server):
    server = start_server("wsgi_apps:block_loop", "-w", "1", "--timeout", "1")
    (victim,) = worker_pids(server, 1)
    conn = http.client.HTTPConnection(server.host, server.port, timeout=30)
    conn.request("GET", "/block")  # never answered: the worker's loop is stuck
    assert wait_for(lambda: "WORKER TIMEOUT" in server.output, 20), server.output
    assert wait_for(
        lambda: victim not in children(server.proc.pid) and len(children(server.proc.pid)) == 1, 20
    )
    # faulthandler's dump of the stuck worker names the app's frame.
    assert server.wait_output("block_loop") and server.wait_output("Current thread")
    assert wait_for(lambda: server.output.count(" ready") >= 2, 20)
    status, body = get(server)
    assert status == 200 and int(body) != victim
    conn.close()


@pytest.mark.parametrize("workers", ["1", "3"])
def test_a_broken_app_exits_once_with_its_error(workers):
    started = time.monotonic()
    result = run_corral("broken_import", "-w", workers, "--bind", "127.0.0.1:0")
    assert result.returncode == 3, result.stderr
    errors = [ln for ln in result.stderr.splitlines() if ln.startswith("corral: error:")]
    assert len(errors) == 1, result.stderr  # one worker tried, not one per worker or a loop
    assert result.stderr.count("Booting worker") == 1
    assert time.monotonic() - started < 20


def test_health_path_is_answered_by_corral_before_the_app(start_server):
    server = start_server("wsgi_apps:block_loop", "--health-path", "/healthz")
    worker_pids(server, 1)
    assert get(server, "/healthz") == (200, b"ok\n")
    status, body = get(server, "/other")
    assert status == 200 and body.isdigit()  # everything else reaches the app


def test_term_within_the_shutdown_delay_loses_no_request(start_server):
    server = start_server(
        "wsgi_apps:block_loop",
        "-w",
        "2",
        "--health-path",
        "/healthz",
        "--shutdown-delay",
        "2",
    )
    worker_pids(server, 2)
    with Load(server, clients=4) as load:
        load.progress()
        server.signal(signal.SIGTERM)
        assert wait_for(lambda: server.output.count("Shutdown phase 1") >= 2)
        # Still serving during the delay, while telling load balancers to go away.
        assert get(server, "/healthz") == (503, b"shutting down\n")
        load.progress()  # still serving during the delay
    assert load.failed == []
    assert server.wait(30) == 0
    assert server.wait_output("Shutdown phase 2")


def test_max_requests_recycles_new_before_old_without_failures(start_server):
    server = start_server("wsgi_apps:block_loop", "-w", "1", "--max-requests", "30")
    (first,) = worker_pids(server, 1)
    with Load(server, clients=2) as load:
        assert wait_for(
            lambda: (
                "max requests reached" in server.output and first not in children(server.proc.pid)
            ),
            30,
        ), server.output
        load.progress()
    assert load.failed == []
    assert server.wait_output("asking to be replaced")
    # (The replacement soon reaches its own limit under this load: no count is asserted.)


def test_max_worker_lifetime_and_memory_recycle_workers(start_server):
    server = start_server("wsgi_apps:block_loop", "--max-worker-lifetime", "1")
    (first,) = worker_pids(server, 1)
    assert wait_for(
        lambda: first not in children(server.proc.pid) and len(children(server.proc.pid)) == 1, 20
    ), server.output
    assert server.wait_output("max lifetime reached")
    server.stop()
    server = start_server("wsgi_apps:block_loop", "--max-worker-memory", "1")
    (first,) = worker_pids(server, 1)
    assert wait_for(
        lambda: "unique memory" in server.output and first not in children(server.proc.pid), 20
    ), server.output


def test_preload_imports_the_app_once_in_the_master(start_server, tmp_path: Path):
    record = tmp_path / "record.txt"
    server = start_server(
        "preload_probe", "-w", "2", "--preload", env={"TEST_RECORD_FILE": str(record)}
    )
    worker_pids(server, 2)
    assert record.read_text().splitlines() == [f"imported in {server.proc.pid}"]
    pids = {int(get(server)[1]) for _ in range(30)}
    assert pids <= children(server.proc.pid)
    server.stop()
    record.unlink()
    server = start_server("preload_probe", "-w", "2", env={"TEST_RECORD_FILE": str(record)})
    worker_pids(server, 2)
    assert wait_for(lambda: len(record.read_text().splitlines()) == 2)
    assert f"imported in {server.proc.pid}" not in record.read_text()


@pytest.mark.parametrize(
    ("app", "loaded", "not_loaded"),
    [
        ("asgi_apps:loaded_gateways", "corral.gateway.asgi", "corral.gateway.wsgi"),
        ("wsgi_apps:loaded_gateways", "corral.gateway.wsgi", "corral.gateway.asgi"),
    ],
)
def test_a_worker_imports_only_its_apps_gateway(start_server, app, loaded, not_loaded):
    # The other gateway would only take memory (the compiled one ~0.3 MiB a worker).
    status, body = get(start_server(app))
    names = body.decode().split()
    assert status == 200
    assert loaded in names
    assert not_loaded not in names


def test_connections_waiting_to_be_accepted_at_a_graceful_stop_are_answered(start_server):
    # The worker is frozen while clients connect and send their requests, so at TERM
    # they are still in the listen backlog (or being set up): a graceful stop must
    # serve them, not exit as soon as the connections it already had are closed.
    server = start_server("wsgi_apps:block_loop", "-w", "1")
    (worker,) = worker_pids(server, 1)
    os.kill(worker, signal.SIGSTOP)
    clients = []
    try:
        for _ in range(6):
            sock = socket.create_connection((server.host, server.port), timeout=15)
            sock.sendall(b"GET / HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n")
            clients.append(sock)
        os.kill(worker, signal.SIGTERM)
    finally:
        os.kill(worker, signal.SIGCONT)
    answers = []
    for sock in clients:
        with sock:
            answers.append(Wire(sock, timeout=10).rest())
    assert all(answer.startswith(b"HTTP/1.1 200") for answer in answers), answers


def fd_targets(pid: int) -> list[str]:
    """What a process's descriptors point to; one closed while listing is skipped."""
    targets = []
    for link in Path(f"/proc/{pid}/fd").iterdir():
        try:
            targets.append(str(link.readlink()))
        except FileNotFoundError:  # the worker just closed a client connection
            continue
    return targets


def test_reuse_port_gives_each_worker_its_own_socket(start_server):
    server = start_server("wsgi_apps:block_loop", "-w", "2", "--reuse-port")
    pids = worker_pids(server, 2)
    # The kernel spreads new connections over the workers' own sockets.
    seen = {int(get(server)[1]) for _ in range(60)}
    assert seen == pids
    for pid in pids:
        assert any("socket:" in target for target in fd_targets(pid))
    with Load(server, clients=2) as load:
        load.progress()
        server.signal(signal.SIGHUP)
        assert wait_for(lambda: server.output.count("(replaced)") >= 2, 30)
    # Connections queued on a closing worker's own socket can be lost (see docs).
    assert load.ok > 50 and len(load.failed) <= 10, load.failed


def test_usr2_starts_a_new_master_on_the_same_sockets(start_server, tmp_path: Path):
    import os
    import re

    pidfile = tmp_path / "corral.pid"
    server = start_server("wsgi_apps:block_loop", "-w", "2", "--pid", str(pidfile))
    old_workers = worker_pids(server, 2)
    new_master = 0
    try:
        with Load(server, clients=4) as load:
            load.progress()
            server.signal(signal.SIGUSR2)
            assert wait_for(lambda: "started a new master" in server.output)
            new_master = int(re.search(r"started a new master \((\d+)\)", server.output)[1])
            # The new master's workers are ready once it says so on the shared stderr.
            assert wait_for(
                lambda: pidfile.exists() and pidfile.read_text().strip() == str(new_master), 20
            )
            assert wait_for(lambda: len(children(new_master)) == 2, 20)
            assert (tmp_path / "corral.pid.oldbin").read_text().strip() == str(server.proc.pid)
            server.signal(signal.SIGTERM)  # the old master drains and leaves
            assert server.wait(30) == 0
            load.progress()
        assert load.failed == [], load.failed
        # Now only the new master's workers answer, on the same port.
        seen = {int(get(server)[1]) for _ in range(30)}
        assert seen <= children(new_master) and not (seen & old_workers)
    finally:
        if new_master:
            os.kill(new_master, signal.SIGTERM)
            assert wait_for(lambda: not Path(f"/proc/{new_master}").exists(), 30)


def test_running_out_of_descriptors_is_logged_and_serving_goes_on(start_server):
    import resource
    import socket

    server = start_server("wsgi_apps:block_loop")
    (worker,) = worker_pids(server, 1)
    open_now = len(list(Path(f"/proc/{worker}/fd").iterdir()))
    resource.prlimit(worker, resource.RLIMIT_NOFILE, (open_now + 5, open_now + 5))
    clients = []
    try:
        for _ in range(20):  # more than the worker can accept
            clients.append(socket.create_connection((server.host, server.port), timeout=5))
        assert wait_for(lambda: "Too many open files" in server.output, 10), server.output
    finally:
        for client in clients:
            client.close()
    # Once descriptors are free again, the worker accepts and answers (no crash, no
    # silently dropped listener).
    assert wait_for(lambda: get(server)[0] == 200, 10)
    assert worker in children(server.proc.pid)


def test_workers_stop_by_themselves_when_the_master_is_killed(start_server):
    server = start_server("wsgi_apps:block_loop", "-w", "2")
    pids = worker_pids(server, 2)
    server.signal(signal.SIGKILL)
    server.wait(10)
    assert wait_for(lambda: not any(Path(f"/proc/{pid}").exists() for pid in pids), 15)


def test_signals_meant_for_the_master_do_not_harm_workers(start_server):
    import os

    server = start_server("wsgi_apps:block_loop", "-w", "1")
    (worker,) = worker_pids(server, 1)
    for sig in (signal.SIGHUP, signal.SIGTTIN, signal.SIGTTOU, signal.SIGUSR2):
        os.kill(worker, sig)  # as a signal to the whole process group would
    time.sleep(0.5)
    assert children(server.proc.pid) == {worker}
    assert get(server) == (200, str(worker).encode())
