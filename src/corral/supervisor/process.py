"""Process housekeeping for the master: pidfile, privileges, process titles."""

from __future__ import annotations

import contextlib
import grp
import os
import pwd
from pathlib import Path
from typing import Any

from corral.errors import ConfigError


def resolve_ids(user: str | None, group: str | None) -> tuple[int | None, int | None]:
    """(uid, gid) for --user/--group names or numbers; a user's own group by default."""
    uid = gid = None
    if user is not None:
        try:
            entry = pwd.getpwuid(int(user)) if user.isdigit() else pwd.getpwnam(user)
        except (KeyError, ValueError):
            raise ConfigError(f"--user {user}: no such user") from None
        uid, gid = entry.pw_uid, entry.pw_gid
    if group is not None:
        try:
            gid = int(group) if group.isdigit() else grp.getgrnam(group).gr_gid
        except KeyError:
            raise ConfigError(f"--group {group}: no such group") from None
    return uid, gid


def drop_privileges(uid: int | None, gid: int | None) -> None:
    """In a worker, after the fork: switch group, then user (the other way round fails)."""
    if gid is not None:
        os.setgroups([gid])
        os.setgid(gid)
    if uid is not None:
        os.setuid(uid)


class PidFile:
    """--pid: the master's process id, written atomically, removed at exit if still ours."""

    def __init__(self, path: str | None) -> None:
        self.path = Path(path) if path else None

    def write(self) -> None:
        if self.path is None:
            return
        temporary = self.path.with_name(f".{self.path.name}.{os.getpid()}")
        try:
            temporary.write_text(f"{os.getpid()}\n")
            temporary.replace(self.path)
        except OSError as exc:
            raise ConfigError(f"--pid {self.path}: {exc.strerror}") from None

    def move_aside(self) -> None:
        """USR2: the file becomes ``FILE.oldbin`` (gunicorn's name) for the new master."""
        if self.path is None:
            return
        old = self.path.with_name(self.path.name + ".oldbin")
        with contextlib.suppress(OSError):
            self.path.replace(old)
            self.path = old

    def remove(self) -> None:
        if self.path is None:
            return
        with contextlib.suppress(OSError):
            if self.path.read_text().strip() == str(os.getpid()):
                self.path.unlink()


def daemonize() -> None:
    """--daemon: detach from the terminal (fork, new session, fork again) and point
    standard input and output at /dev/null; the caller's shell gets its prompt back."""
    if os.fork():
        os._exit(0)
    os.setsid()
    if os.fork():
        os._exit(0)
    null = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(null, fd)
    os.close(null)


def set_title(role: str, config: Any) -> None:
    """``corral: master [myproject.wsgi]`` in ps and top, when setproctitle is installed."""
    try:
        from setproctitle import setproctitle  # optional
    except ImportError:
        return
    setproctitle(f"corral: {role} [{config.app}]")
