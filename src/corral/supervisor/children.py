"""Worker processes as the master sees them, and the pure rules about them.

Worker lifecycle (one place, DESIGN.md rule 5):

    BOOTING --"R" on its pipe--> READY --retire/scale down/stop--> STOPPING --reaped--> gone
       |                           |
       +-- exits --> reaped: a boot failure (at start-up: the server stops;
                     later: retried with back-off while the others serve)
                                   +-- exits or is killed --> reaped: replaced at once
"""

from __future__ import annotations

import enum
import os
import signal
import time
from dataclasses import dataclass, field

CRASH_WINDOW = 5.0  # a worker dying this soon after it booted counts as crashing
MAX_CRASHES = 8  # consecutive crashes before the master gives up
MAX_BACKOFF = 30.0


class Life(enum.Enum):
    BOOTING = "booting"
    READY = "ready"
    STOPPING = "stopping"


@dataclass
class Child:
    """One forked worker."""

    pid: int
    pipe: int  # read end of its heartbeat pipe
    started: float  # monotonic time of the fork
    generation: int  # bumped by each reload (HUP)
    life: Life = Life.BOOTING
    ready_at: float = 0.0
    last_beat: float = 0.0
    stop_reason: str = ""  # why the master is stopping it ("" while it serves)
    kill_deadline: float = 0.0  # when a worker told to stop gets SIGKILL
    signals_sent: set[int] = field(default_factory=set)
    recycle: str = ""  # why it should be replaced (new before old) while it still serves
    lifetime: float = 0.0  # --max-worker-lifetime with this worker's jitter (0: none)
    number: int = 0  # spawn sequence number: gunicorn's worker.age

    @property
    def age(self) -> float:
        """Seconds since the worker was forked (as gunicorn's ``worker.age``)."""
        return max(0.0, time.monotonic() - self.started)


def describe_exit(status: int, child: Child) -> str:
    """Why a worker ended, in words for the error log (``status`` from waitpid)."""
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        name = signal.Signals(sig).name if sig in signal.Signals.__members__.values() else sig
        if sig == signal.SIGKILL and signal.SIGKILL not in child.signals_sent:
            return f"killed by {name} (likely killed by the kernel's out-of-memory killer)"
        if child.stop_reason:
            return f"killed by {name} ({child.stop_reason})"
        return f"killed by {name}"
    code = os.WEXITSTATUS(status) if os.WIFEXITED(status) else status
    if child.stop_reason:
        return f"exited with code {code} ({child.stop_reason})"
    return f"exited with code {code}"


def exit_code_of(status: int) -> int:
    """The exit code a master should pass on for a worker that failed to boot."""
    if os.WIFEXITED(status):
        return os.WEXITSTATUS(status) or 1
    return 1


def backoff(crashes: int) -> float:
    """Seconds to wait before respawning after ``crashes`` consecutive crashes."""
    if crashes <= 0:
        return 0.0
    return min(MAX_BACKOFF, 0.5 * 2.0 ** (crashes - 1))


def unique_memory(smaps_rollup: str) -> int:
    """USS in bytes from the text of ``/proc/PID/smaps_rollup``: the pages only this
    process has (copy-on-write pages still shared with the master do not count)."""
    total_kib = 0
    for line in smaps_rollup.splitlines():
        name, _, rest = line.partition(":")
        if name in ("Private_Clean", "Private_Dirty", "Private_Hugetlb"):
            total_kib += int(rest.split()[0])
    return total_kib * 1024
