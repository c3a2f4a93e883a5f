"""USR2: start a new master from the current code and binary on the same sockets.

The new master is exec'd with the listening sockets on descriptors 3, 4, ...
and LISTEN_FDS/LISTEN_PID set, as systemd socket activation does, so it serves
the very same sockets: nothing is refused or lost while both run. The operator
then sends TERM to the old master (whose workers drain) once the new one serves.
"""

from __future__ import annotations

import fcntl
import logging
import os
import sys
from typing import Any

from corral.supervisor.listeners import Listener
from corral.supervisor.systemd import SD_LISTEN_FDS_START

error_log = logging.getLogger("corral.error")
_HIGH_FD = 100  # parking place for descriptors while they are moved to 3, 4, ...


class Upgrade:
    """Knows how to start the new master: the command line and the sockets."""

    def __init__(self, argv: list[str], listeners: list[Listener], pidfile: Any) -> None:
        self.argv = argv
        self.listeners = listeners
        self.pidfile = pidfile
        self.pid = 0

    def start(self) -> int:
        """Fork and exec the new master; returns its pid."""
        pid = os.fork()
        if pid == 0:
            self._exec_new_master()
        self.pid = pid
        for listener in self.listeners:
            listener.unix_path = None  # the socket file now belongs to the new master too
        self.pidfile.move_aside()
        return pid

    def _exec_new_master(self) -> None:
        try:
            parked = [
                fcntl.fcntl(lst.sock.fileno(), fcntl.F_DUPFD, _HIGH_FD) for lst in self.listeners
            ]
            for index, fd in enumerate(parked):
                os.dup2(fd, SD_LISTEN_FDS_START + index, inheritable=True)
            os.environ["LISTEN_FDS"] = str(len(parked))
            os.environ["LISTEN_PID"] = str(os.getpid())
            os.execv(sys.executable, [sys.executable, "-m", "corral", *self.argv])
        except BaseException as exc:  # never return into the old master's loop
            error_log.error("USR2: could not start a new master: %s", exc)
        finally:
            os._exit(1)
