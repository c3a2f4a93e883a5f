"""Long fuzz run of corral's HTTP/1.1 request parsing (by hand, not in CI).

    python bench/fuzz_http1.py                      # 1,000,000 inputs, atheris if installed
    python bench/fuzz_http1.py --engine mutate      # the hand-written mutation loop
    python bench/fuzz_http1.py --engine mutate --replay 123456   # re-run one input

Each input goes through ``run_one`` of tests/fuzz_http1.py and must keep its property
(a dispatched request, a wait for more bytes, or one error response and the close).
Inputs that break it are saved in ``--out`` (bench/results/raw/fuzz-http1/) and
counted; the run goes on (``--stop`` stops at the first).

Engines:
  atheris  coverage-guided (libFuzzer) over corral's Python code, with a mutator that
           mixes libFuzzer's byte mutations with the HTTP-aware ones of
           tests/fuzz_http1_inputs.py; hangs and crashes are libFuzzer's (-timeout).
  mutate   input i is ``random_case(Random(seed, i))``: seed requests mutated, or random
           bytes. A child process runs them while this one watches: a crash (the child
           dies) or a hang (no progress for --hang-timeout s) is reported with its index,
           its input saved, and the run resumes after it.
"""

from __future__ import annotations

import argparse
import collections
import multiprocessing
import os
import random
import shutil
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "tests"), str(ROOT / "src")]

PROGRESS_EVERY = 100_000
REPORT_EVERY = 5_000  # the mutate child sends its counts this often


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("-n", "--inputs", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--engine", choices=["auto", "atheris", "mutate"], default="auto")
    parser.add_argument(
        "--out",
        type=Path,
        default=ROOT / "bench" / "results" / "raw" / "fuzz-http1",
        help="failing inputs are saved here (and atheris' corpus/)",
    )
    parser.add_argument("--hang-timeout", type=float, default=10.0)
    parser.add_argument("--stop", action="store_true", help="stop at the first failure")
    parser.add_argument("--replay", type=int, metavar="INDEX", help="mutate: run input INDEX")
    args = parser.parse_args()
    engine = args.engine
    if engine == "auto":
        engine = "atheris" if _has_atheris() else "mutate"
    if args.replay is not None:
        return replay(args.seed, args.replay)
    print(f"fuzzing HTTP/1.1 parsing: {args.inputs:,} inputs, engine {engine}, seed {args.seed}")
    return run_atheris(args) if engine == "atheris" else run_mutate(args)


def _has_atheris() -> bool:
    try:
        import atheris  # noqa: F401
    except ImportError:
        return False
    return True


class Tally:
    """Outcome counts, progress lines and the summary."""

    def __init__(self, total: int, failures: Path) -> None:
        self.total = total
        self.failures = failures
        self.counts: collections.Counter[str] = collections.Counter()
        self.notes: collections.Counter[str] = collections.Counter()
        self.problems = 0
        self.done = 0
        self.started = time.monotonic()
        self.next_progress = PROGRESS_EVERY

    def add(self, counts: dict[str, int], notes: dict[str, int], problems: int, done: int) -> None:
        self.counts.update(counts)
        self.notes.update(notes)
        self.problems += problems
        self.done = done
        while self.done >= self.next_progress:
            elapsed = time.monotonic() - self.started
            print(
                f"  {self.next_progress:>10,} inputs  {elapsed:7.1f} s  "
                f"{self.done / elapsed:,.0f}/s  failures {self.problems}",
                flush=True,
            )
            self.next_progress += PROGRESS_EVERY

    def save(self, name: str, text: str, data: bytes) -> Path:
        self.failures.mkdir(parents=True, exist_ok=True)
        path = self.failures / name
        path.with_suffix(".txt").write_text(text)
        path.with_suffix(".bin").write_bytes(data)
        return path

    def summary(self) -> None:
        elapsed = time.monotonic() - self.started
        print(f"done: {self.done:,} inputs in {elapsed:.1f} s ({self.done / elapsed:,.0f}/s)")
        print("outcomes:")
        for label, count in sorted(self.counts.items(), key=lambda item: -item[1]):
            print(f"  {label:<10} {count:>10,}  {100 * count / max(self.done, 1):5.1f} %")
        for note, count in self.notes.items():
            print(f"note: {count:,} x {note}")
        print(f"failures: {self.problems}" + (f" (see {self.failures}/)" if self.problems else ""))


# -- the hand-written mutation loop --------------------------------------------------------


def case_rng(seed: int, index: int) -> random.Random:
    return random.Random((seed << 40) | index)


def replay(seed: int, index: int) -> int:
    from fuzz_http1 import run_one
    from fuzz_http1_inputs import random_case

    case = random_case(case_rng(seed, index))
    print(case)
    outcome = run_one(case.data, case.splits, case.limits, **case.kwargs())
    print(outcome.label, outcome.statuses, outcome.state)
    print("\n".join(outcome.problems + outcome.notes))
    return 1 if outcome.problems else 0


def _child(seed: int, start: int, stop: int, current: Any, pipe: Any, halt: bool) -> None:
    """Run inputs start..stop-1, storing the index under way in ``current``."""
    from fuzz_http1 import run_one
    from fuzz_http1_inputs import random_case

    counts: collections.Counter[str] = collections.Counter()
    notes: collections.Counter[str] = collections.Counter()
    problems = 0
    for index in range(start, stop):
        current.value = index
        case = random_case(case_rng(seed, index))
        outcome = run_one(case.data, case.splits, case.limits, **case.kwargs())
        counts[outcome.label] += 1
        notes.update(outcome.notes)
        if outcome.problems:
            problems += 1
            pipe.send(("failure", index, str(case), case.data, outcome.problems))
            if halt:
                break
        if (index + 1) % REPORT_EVERY == 0:
            pipe.send(("counts", dict(counts), dict(notes), problems, index + 1))
            counts.clear()
            notes.clear()
            problems = 0
    pipe.send(("counts", dict(counts), dict(notes), problems, index + 1))
    pipe.send(("end",))


def run_mutate(args: argparse.Namespace) -> int:
    tally = Tally(args.inputs, args.out)
    context = multiprocessing.get_context("fork")
    current = context.RawValue("q", 0)
    start = 0
    while start < args.inputs:
        receiver, sender = context.Pipe(duplex=False)
        child = context.Process(
            target=_child, args=(args.seed, start, args.inputs, current, sender, args.stop)
        )
        child.start()
        sender.close()
        start = _watch(child, receiver, current, tally, args)
        if args.stop and tally.problems:
            break
    tally.summary()
    return 1 if tally.problems else 0


def _watch(child: Any, receiver: Any, current: Any, tally: Tally, args: argparse.Namespace) -> int:
    """Follow the child until it ends; the index to resume from (past a crash or hang)."""
    last, since = -1, time.monotonic()
    while True:
        if receiver.poll(0.5):
            try:
                message = receiver.recv()
            except EOFError:
                child.join(5)
                message = ("eof",)
            if message[0] == "counts":
                tally.add(*message[1:])
            elif message[0] == "failure":
                _, index, case, data, problems = message
                path = tally.save(f"failure-{index}", f"{case}\n\n" + "\n".join(problems), data)
                print(f"FAILURE at input {index} (saved {path}.txt):\n  " + problems[0][:2000])
            elif message[0] == "end":
                child.join()
                return args.inputs
            if message[0] != "eof":
                continue
        index = current.value
        if not child.is_alive():
            tally.problems += 1
            _lost(tally, args.seed, index, f"crash: the child died with exit code {child.exitcode}")
            return index + 1
        if index != last:
            last, since = index, time.monotonic()
        elif time.monotonic() - since > args.hang_timeout:
            os.kill(child.pid, 9)
            child.join()
            tally.problems += 1
            _lost(tally, args.seed, index, f"hang: no progress for {args.hang_timeout} s")
            return index + 1


def _lost(tally: Tally, seed: int, index: int, what: str) -> None:
    from fuzz_http1_inputs import random_case

    case = random_case(case_rng(seed, index))
    path = tally.save(f"lost-{index}", f"{what}\n{case}\n", case.data)
    print(f"{what}, at input {index}: {case}\n  saved {path}.bin", flush=True)
    tally.done = index + 1  # the counts of the last partial report are lost with it


# -- atheris -------------------------------------------------------------------------------

ANSWER_PATTERNS = ["i", "d", "c", "dd", "di", "dc", "id", "ic", "cd", "ci", "ddd", "dcd"]
SPLIT_COUNTS = (0, 1, 3, 0)  # by flags & 3; 3 means byte by byte


def head_size(data: bytes) -> int:
    """Bytes before the input proper in an atheris test case."""
    return 2 + 2 * SPLIT_COUNTS[data[0] & 3] if data else 0


def run_atheris(args: argparse.Namespace) -> int:
    import atheris

    with atheris.instrument_imports(include=["corral"]):
        import corral.http1.connection  # noqa: F401
    from fuzz_http1 import SMALL_LIMITS, describe, run_one
    from fuzz_http1_inputs import OPS, SEEDS, mutate, random_payload

    tally = Tally(args.inputs, args.out)
    rng = random.Random(args.seed)

    def decode(data: bytes) -> tuple[bytes, list[int], dict[str, Any]]:
        """Byte 0: flags (splits, limits, timeout); byte 1: answer modes; then the
        split offsets, two bytes each; the rest is the input."""
        flags, pattern = (data + b"\0\0")[:2]
        start = head_size(data)
        splits = [int.from_bytes(data[i : i + 2], "big") for i in range(2, start, 2)]
        payload = data[start:]
        if flags & 3 == 3:
            splits = list(range(1, len(payload)))
        options = {
            "limits": SMALL_LIMITS if flags & 4 else None,
            "timeout": bool(flags & 8),
            "answers": ANSWER_PATTERNS[pattern % len(ANSWER_PATTERNS)],
        }
        return payload, splits, options

    def one(data: bytes) -> None:
        payload, splits, options = decode(data)
        outcome = run_one(payload, splits, **options)
        done = tally.done + 1
        tally.add(
            {outcome.label: 1}, dict.fromkeys(outcome.notes, 1), len(outcome.problems) > 0, done
        )
        if outcome.problems:
            text = describe(payload, splits, **options) + "\n\n" + "\n".join(outcome.problems)
            path = tally.save(f"failure-{done}", text, data)
            print(f"FAILURE at input {done} (saved {path}.txt):\n  {outcome.problems[0][:2000]}")
            if args.stop:
                tally.summary()
                raise AssertionError(outcome.problems[0])
        if done == args.inputs:
            tally.summary()

    def mutator(data: bytes, max_size: int, seed: int) -> bytes:
        # Half of the time libFuzzer's own byte mutations, else an HTTP-aware one.
        if rng.random() < 0.5 or len(data) < 3:
            return bytes(atheris.Mutate(data, max_size))
        op = rng.choice(OPS)
        start = head_size(data)
        body = mutate(data[start:], (op, rng.randrange(1 << 16), random_payload(rng, op)))
        return (data[:start] + body)[:max_size]

    corpus = args.out / "corpus"  # started afresh from the seeds: runs are repeatable
    shutil.rmtree(corpus, ignore_errors=True)
    corpus.mkdir(parents=True)
    for number, (seed, _) in enumerate(SEEDS):
        (corpus / f"seed-{number}").write_bytes(bytes([0, number]) + seed)
    argv = [
        sys.argv[0],
        f"-runs={args.inputs}",
        f"-seed={args.seed}",
        f"-timeout={int(args.hang_timeout)}",
        "-max_len=2048",
        f"-artifact_prefix={args.out}/",
        str(corpus),
    ]
    atheris.Setup(argv, one, custom_mutator=mutator)
    atheris.Fuzz()
    return 0


if __name__ == "__main__":
    sys.exit(main())
