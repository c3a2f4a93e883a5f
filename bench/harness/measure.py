"""Measurements from /proc: CPU time and PSS of a server's process group, core times."""

from __future__ import annotations

import os
from pathlib import Path

HZ = os.sysconf("SC_CLK_TCK")


def group_pids(pgid: int) -> list[int]:
    """Live processes whose process group is ``pgid`` (a server and every worker it forked)."""
    pids = []
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            stat = Path(entry.path, "stat").read_text()
        except OSError:
            continue
        if int(stat.rpartition(")")[2].split()[2]) == pgid:
            pids.append(int(entry.name))
    return pids


def cpu_jiffies(pgid: int) -> int:
    """User + system time of every live process in the group."""
    total = 0
    for pid in group_pids(pgid):
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total


def pss_kib(pgid: int) -> int:
    """Proportional set size of the whole group (master included), in KiB.

    PSS shares each page among the processes that map it, so the sum over the group
    counts shared pages (forked workers, libraries) once and is comparable between a
    single-process server and a master + worker one. The ``taskset`` wrapper exec()s,
    so it is not a separate process.
    """
    total = 0
    for pid in group_pids(pgid):
        try:
            text = Path(f"/proc/{pid}/smaps_rollup").read_text()
        except OSError:
            continue
        for line in text.splitlines():
            if line.startswith("Pss:"):
                total += int(line.split()[1])
                break
    return total


def core_times(cpu: int) -> tuple[int, int, int]:
    """(user+nice+system, irq+softirq, steal) jiffies of one core from /proc/stat."""
    for line in Path("/proc/stat").read_text().splitlines():
        if line.startswith(f"cpu{cpu} "):
            v = [int(x) for x in line.split()[1:9]]
            return v[0] + v[1] + v[2], v[5] + v[6], v[7]
    return 0, 0, 0
