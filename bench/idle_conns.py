"""Many keep-alive connections at a low request rate: the idle-connections scenario.

    python bench/idle_conns.py --host 127.0.0.1 --port P --connections 1000 --rate 200 \\
        --duration 20 [--path /] [--open-timeout 30] [--timeout 10] [--hold-file PATH]

Opens ``--connections`` HTTP/1.1 connections to a local server and waits until
all are established. Then request ``j`` (j = 0, 1, 2, ...) is due at
``j / rate`` seconds and goes to connection ``j % connections`` (round robin),
each connection with at most one request in flight, until ``--duration``
seconds have passed; the first round (one request per connection) always
completes, however long it takes. Once it has, the file ``--hold-file`` (if
given) is touched: every connection is then open and has been served, so the
caller can read the server's memory while the load goes on.

Latency runs from the moment a request was due to its last response byte, so a
late answer also delays (and is counted in) the next request on the connection.
A connection the server closes is opened again before its next request
(``reconnects``). One JSON object is printed on stdout::

    {"connections_open": n, "requests": n, "errors": n, "p50_ms": x, "p99_ms": y,
     "max_ms": z, "non_2xx": n, "reconnects": n, "connections_end": n, ...}

``connections_open`` counts connections open once the first round is done,
``connections_end`` those still open at the end; ``requests`` counts complete
responses, ``errors`` the requests without one plus the non-2xx/3xx responses.
The exit status is 1 (with a message, nothing on stdout) when the connections
cannot all be opened, or none is left open after the first round.
"""

from __future__ import annotations

import sys

# Plain HTTP only: without ssl (which asyncio would import) the client maps no page
# of OpenSSL's libcrypto, which the server it measures maps too; PSS would share
# those pages between the two and lower the server's figure by chance.
sys.modules.setdefault("ssl", None)  # type: ignore[assignment]

import argparse  # noqa: E402
import asyncio  # noqa: E402
import dataclasses  # noqa: E402
import ipaddress  # noqa: E402
import itertools  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import resource  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

OPEN_CONCURRENCY = 100  # connects in progress at once: do not overrun a small listen backlog
FD_MARGIN = 64  # descriptors beyond one per connection (stdio, the event loop, ...)
MAX_HEAD = 65536


class OpenError(Exception):
    """The connections could not all be opened."""


@dataclasses.dataclass
class Plan:
    host: str
    port: int
    request: bytes
    connections: int
    rate: float
    start: float  # time.perf_counter() when request 0 is due
    end: float  # no request after round 0 is due at or after this
    timeout: float


@dataclasses.dataclass
class Stats:
    latencies: list[float] = dataclasses.field(default_factory=list)
    failed: int = 0
    non_2xx: int = 0
    reconnects: int = 0


class Slot:
    """One client connection (reopened when the server closes it)."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader: asyncio.StreamReader | None = reader
        self.writer: asyncio.StreamWriter | None = writer

    @property
    def is_open(self) -> bool:
        return (
            self.reader is not None
            and self.writer is not None
            and not self.reader.at_eof()
            and not self.writer.is_closing()
        )

    async def reopen(self, host: str, port: int) -> None:
        self.close()
        self.reader, self.writer = await asyncio.open_connection(host, port, limit=MAX_HEAD)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


# -- the HTTP/1.1 response reader -----------------------------------------------------------


async def read_response(reader: asyncio.StreamReader) -> tuple[int, bool]:
    """Read one whole response; (status, whether the connection ends after it)."""
    while True:
        head = await reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        if status >= 200:
            break  # 1xx are interim responses: the final one follows
    fields: dict[str, str] = {}
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if sep:
            fields[name.strip().lower()] = value.strip().lower()
    close = "close" in fields.get("connection", "") or lines[0].startswith("HTTP/1.0")
    if status in (204, 304):
        return status, close
    if "chunked" in fields.get("transfer-encoding", ""):
        await _read_chunked(reader)
    elif "content-length" in fields:
        await reader.readexactly(int(fields["content-length"]))
    else:
        while await reader.read(65536):  # delimited by the end of the connection
            pass
        close = True
    return status, close


async def _read_chunked(reader: asyncio.StreamReader) -> None:
    while True:
        size = int((await reader.readuntil(b"\r\n")).split(b";", 1)[0], 16)
        if size == 0:
            while await reader.readuntil(b"\r\n") != b"\r\n":  # trailer fields
                pass
            return
        await reader.readexactly(size + 2)


# -- opening connections --------------------------------------------------------------------


async def _connect(host: str, port: int) -> Slot:
    reader, writer = await asyncio.open_connection(host, port, limit=MAX_HEAD)
    return Slot(reader, writer)


async def open_all(host: str, port: int, count: int, timeout: float) -> list[Slot]:
    gate = asyncio.Semaphore(OPEN_CONCURRENCY)

    async def one() -> Slot:
        async with gate:
            return await _connect(host, port)

    tasks = [asyncio.ensure_future(one()) for _ in range(count)]
    done, pending = await asyncio.wait(tasks, timeout=timeout, return_when=asyncio.FIRST_EXCEPTION)
    for task in pending:
        task.cancel()
    slots = [task.result() for task in done if not task.cancelled() and not task.exception()]
    failures = [task.exception() for task in done if not task.cancelled() and task.exception()]
    if len(slots) == count:
        return slots
    for slot in slots:
        slot.close()
    why = f"first error: {failures[0]!r}" if failures else f"timed out after {timeout:g} s"
    raise OpenError(f"could open only {len(slots)} of {count} connections to {host}:{port}; {why}")


# -- the load -------------------------------------------------------------------------------


async def request_once(slot: Slot, plan: Plan, due: float, stats: Stats) -> None:
    sent = time.perf_counter()
    try:
        async with asyncio.timeout(plan.timeout):
            if not slot.is_open:
                stats.reconnects += 1
                await slot.reopen(plan.host, plan.port)
            assert slot.reader is not None and slot.writer is not None
            slot.writer.write(plan.request)
            status, close = await read_response(slot.reader)
    except (OSError, EOFError, TimeoutError, ValueError, IndexError, asyncio.LimitOverrunError):
        stats.failed += 1
        slot.close()
        return
    # From when it was due; from when it was sent if the timer fired a little early.
    stats.latencies.append(time.perf_counter() - min(due, sent))
    if not 200 <= status < 400:
        stats.non_2xx += 1
    if close:
        slot.close()


async def drive(
    index: int, slot: Slot, plan: Plan, stats: Stats, first_done: Callable[[], None]
) -> None:
    """The requests of one connection: ``index``, ``index + n``, ``index + 2n``, ..."""
    for round_no in itertools.count():
        due = plan.start + (index + round_no * plan.connections) / plan.rate
        if round_no and due >= plan.end:
            return
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        await request_once(slot, plan, due, stats)
        if round_no == 0:
            first_done()


def percentile_ms(ordered: list[float], fraction: float) -> float | None:
    if not ordered:
        return None
    rank = max(1, math.ceil(fraction * len(ordered)))
    return round(ordered[rank - 1] * 1000.0, 3)


async def run(args: argparse.Namespace) -> dict[str, Any]:
    slots = await open_all(args.host, args.port, args.connections, args.open_timeout)
    start = time.perf_counter() + 0.05
    plan = Plan(
        host=args.host,
        port=args.port,
        request=build_request(args.host, args.port, args.path),
        connections=args.connections,
        rate=args.rate,
        start=start,
        end=start + args.duration,
        timeout=args.timeout,
    )
    stats = Stats()
    held: dict[str, int] = {}
    waiting = [len(slots)]

    def first_done() -> None:
        waiting[0] -= 1
        if waiting[0] == 0:
            held["open"] = sum(slot.is_open for slot in slots)
            if args.hold_file is not None:
                args.hold_file.touch()

    await asyncio.gather(*(drive(i, s, plan, stats, first_done) for i, s in enumerate(slots)))
    elapsed = time.perf_counter() - start
    connections_end = sum(slot.is_open for slot in slots)
    for slot in slots:
        slot.close()
    await asyncio.sleep(0)  # let the transports finish closing
    ordered = sorted(stats.latencies)
    return {
        "connections_open": held.get("open", 0),
        "requests": len(ordered),
        "errors": stats.failed + stats.non_2xx,
        "p50_ms": percentile_ms(ordered, 0.50),
        "p99_ms": percentile_ms(ordered, 0.99),
        "max_ms": percentile_ms(ordered, 1.0),
        "non_2xx": stats.non_2xx,
        "reconnects": stats.reconnects,
        "connections_end": connections_end,
        "connections": args.connections,
        "rate": args.rate,
        "seconds": round(elapsed, 3),
    }


# -- command line ---------------------------------------------------------------------------


def build_request(host: str, port: int, path: str) -> bytes:
    authority = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    return f"GET {path} HTTP/1.1\r\nHost: {authority}\r\n\r\n".encode("latin-1")


def check_loopback(host: str) -> None:
    if host == "localhost":
        return
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        raise OpenError(
            f"--host must be a loopback address such as 127.0.0.1, not {host!r}"
        ) from None
    if not address.is_loopback:
        raise OpenError(f"--host must be a loopback address (127.0.0.1, ::1), not {host}")


def raise_fd_limit(needed: int) -> None:
    """Raise the soft descriptor limit to ``needed`` (at most the hard limit)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < needed:
        if hard != resource.RLIM_INFINITY and hard < needed:
            raise OpenError(f"{needed} file descriptors needed, over the hard limit of {hard}")
        resource.setrlimit(resource.RLIMIT_NOFILE, (needed, hard))


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1", help="loopback address of the server")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--connections", type=int, default=1000)
    parser.add_argument("--rate", type=float, default=200.0, help="requests/s over all")
    parser.add_argument("--duration", type=float, default=20.0, help="seconds of requests")
    parser.add_argument("--path", default="/")
    parser.add_argument("--open-timeout", type=float, default=30.0, help="seconds to connect")
    parser.add_argument("--timeout", type=float, default=10.0, help="seconds per request")
    parser.add_argument("--hold-file", type=Path, help="touched once the first round is done")
    args = parser.parse_args(argv)
    if args.connections < 1 or args.rate <= 0 or args.duration < 0 or args.timeout <= 0:
        parser.error("--connections, --rate and --timeout must be positive, --duration >= 0")
    if not args.path.startswith("/"):
        parser.error("--path must start with /")
    if args.hold_file is not None and not args.hold_file.parent.is_dir():
        parser.error(f"--hold-file: no directory {args.hold_file.parent}")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        check_loopback(args.host)
        raise_fd_limit(args.connections + FD_MARGIN)
        first_round = args.connections / args.rate
        if first_round > args.duration:
            print(
                f"idle_conns: the first round takes {first_round:g} s, longer than "
                f"--duration {args.duration:g}: the run is extended to it",
                file=sys.stderr,
            )
        if args.hold_file is not None:
            args.hold_file.unlink(missing_ok=True)  # an old one must not signal too early
        # asyncio's own loop, not uvloop: uvloop's code would be pages shared with a
        # uvloop server, as libcrypto's would (above).
        result = asyncio.run(run(args))
    except OpenError as exc:
        print(f"idle_conns: {exc}", file=sys.stderr)
        return 1
    if result["connections_open"] == 0:
        print("idle_conns: no connection was left open after the first round", file=sys.stderr)
        return 1
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
