"""Operations around the master: pidfile, privileges, unix socket mode, systemd."""

from __future__ import annotations

import os
import pwd
import signal
import socket
import stat
import subprocess
import sys
from pathlib import Path

import conftest
import pytest
from test_master import children, get, wait_for, worker_pids

ROOT_ONLY = pytest.mark.skipif(os.geteuid() != 0, reason="switching users needs root")


def test_pidfile_holds_the_master_pid_and_is_removed(start_server, tmp_path: Path):
    pidfile = tmp_path / "corral.pid"
    server = start_server("wsgi_apps:block_loop", "--pid", str(pidfile))
    worker_pids(server, 1)
    assert pidfile.read_text().strip() == str(server.proc.pid)
    assert server.stop() == 0
    assert not pidfile.exists()


@ROOT_ONLY
def test_workers_run_as_the_user_given(start_server):
    nobody = pwd.getpwnam("nobody")
    # --preload: on this machine Python lives under /root, which "nobody" cannot read,
    # so the app is imported before the switch.
    server = start_server("wsgi_apps:block_loop", "--user", "nobody", "--preload")
    (worker,) = worker_pids(server, 1)
    status = Path(f"/proc/{worker}/status").read_text()
    uid_line = next(line for line in status.splitlines() if line.startswith("Uid:"))
    assert uid_line.split()[1:] == [str(nobody.pw_uid)] * 4
    assert Path(f"/proc/{server.proc.pid}/status").read_text().count("Uid:\t0") == 1
    assert get(server)[0] == 200


def test_unknown_user_is_a_clear_error(tmp_path: Path):
    result = conftest.run_corral("wsgi_apps:hello", "--user", "no-such-user-here")
    assert result.returncode == 2
    assert "corral: error: --user no-such-user-here: no such user" in result.stderr


def test_umask_sets_the_unix_socket_mode(start_server, tmp_path: Path):
    path = tmp_path / "s.sock"
    server = start_server(
        "wsgi_apps:hello", "--uds", str(path), "--umask", "077", bind=False, wait=False
    )
    assert server.wait_output("Listening at: unix:")
    assert stat.S_IMODE(path.stat().st_mode) == 0o700


def _notify_socket(tmp_path: Path) -> tuple[socket.socket, Path]:
    path = tmp_path / "notify.sock"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(path))
    sock.settimeout(20)
    return sock, path


def test_systemd_notify_ready_and_stopping(start_server, tmp_path: Path):
    sock, path = _notify_socket(tmp_path)
    with sock:
        server = start_server("wsgi_apps:block_loop", "-w", "2", env={"NOTIFY_SOCKET": str(path)})
        ready = sock.recv(4096).decode()
        assert ready.startswith("READY=1") and "2 worker(s)" in ready
        assert len(children(server.proc.pid)) == 2  # ready only once both are
        server.signal(signal.SIGTERM)
        assert sock.recv(4096).decode().startswith("STOPPING=1")
        assert server.wait(20) == 0


def test_systemd_socket_activation(tmp_path: Path):
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    os.set_inheritable(listener.fileno(), True)
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(conftest.APPS), str(conftest.ROOT / "src")])
    env["LISTEN_FDS"] = "1"
    # systemd's part: the socket on descriptor 3, LISTEN_PID = corral's own pid
    # (exec keeps the pid of this small launcher).
    launcher = (
        "import os, sys\n"
        f"os.dup2({listener.fileno()}, 3)\n"
        "os.environ['LISTEN_PID'] = str(os.getpid())\n"
        "os.execv(sys.executable, [sys.executable, '-m', 'corral', 'wsgi_apps:hello'])\n"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", launcher],
        cwd=conftest.APPS,
        env=env,
        pass_fds=[listener.fileno()],
        stderr=subprocess.PIPE,
        text=True,
    )
    listener.close()
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:  # queued
            conn.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            data = b""
            while chunk := conn.recv(65536):
                data += chunk
        assert data.startswith(b"HTTP/1.1 200 ") and data.endswith(b"hello")
    except OSError:
        proc.send_signal(signal.SIGTERM)
        raise AssertionError(proc.communicate(timeout=20)[1]) from None
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=20)
    assert proc.returncode == 0, err
    assert "Listening at: http://127.0.0.1:" in err
    assert "8000" not in err  # the default listener is not bound


def test_daemon_detaches_and_serves(tmp_path: Path):
    sock_path = tmp_path / "d.sock"
    pidfile = tmp_path / "d.pid"
    log = tmp_path / "error.log"
    result = conftest.run_corral(
        "wsgi_apps:hello",
        "--daemon",
        "--uds",
        str(sock_path),
        "--pid",
        str(pidfile),
        "--error-logfile",
        str(log),
        timeout=20,
    )
    assert result.returncode == 0, result.stderr  # the command returns at once
    assert wait_for(lambda: pidfile.exists() and sock_path.exists(), 20)
    pid = int(pidfile.read_text())
    assert wait_for(lambda: "ready" in log.read_text(), 20)
    with socket.socket(socket.AF_UNIX) as client:
        client.connect(str(sock_path))
        client.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        assert client.recv(65536).startswith(b"HTTP/1.1 200 ")
    assert os.getsid(pid) != os.getsid(0)  # a session of its own: detached from ours
    os.kill(pid, signal.SIGTERM)
    assert wait_for(lambda: not pidfile.exists(), 20)
