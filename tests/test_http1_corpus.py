"""Raw-byte request corpora against a real server: corral's own and gunicorn's.

Every case goes to the ASGI app ``echo_request:app`` (which answers with the
request it saw, as JSON) on its own connection, five times: whole, byte by byte,
and cut at random places with three seeds. After an error response the server
must close the connection having sent nothing more; after the expected valid
responses the client half-closes and the server must close without answering
anything else (a smuggled request never gets a response).

gunicorn's corpus is downloaded from PyPI at test time (see ``corpus_gunicorn``);
when that fails the test fails, it does not skip.
"""

from __future__ import annotations

import contextlib
import json
import random
import select
import socket
from collections.abc import Iterator
from dataclasses import dataclass

import corpus_gunicorn
import pytest
from conftest import Server
from corpus_http1 import CASES, SERVER_FLAGS, Case, Outcome, Parsed
from wire import Response, Wire

APP = "echo_request:app"
RESPONSE_TIMEOUT = 2.0  # seconds for each expected response
CLOSE_TIMEOUT = 1.0  # seconds for the server to close once it has nothing more to say
MODES = ("whole", "bytes", "split-1", "split-2", "split-3")


def _gunicorn_params() -> list[object]:
    try:
        cases = corpus_gunicorn.load_cases(corpus_gunicorn.fetch())
    except Exception as exc:  # any failure to get the corpus must fail the test, not skip it
        return [
            pytest.param(None, f"{type(exc).__name__}: {exc}", id="gunicorn-corpus-unavailable")
        ]
    return [
        pytest.param(c, None, id=c.name, marks=[pytest.mark.skip(reason=c.skip)] if c.skip else [])
        for c in cases
    ]


GUNICORN_PARAMS = _gunicorn_params()


# -- servers -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def servers() -> Iterator[dict[tuple[str, ...], Server]]:
    """One server per distinct set of flags, all started at once, shared by the module."""
    flag_sets = {SERVER_FLAGS}
    flag_sets |= {p.values[0].flags for p in GUNICORN_PARAMS if p.values[0] is not None}
    started = {
        flags: Server([APP, *flags, "--bind", "127.0.0.1:0"], None, None) for flags in flag_sets
    }
    try:
        for server in started.values():
            server.wait_listening()
        yield started
    finally:
        for server in started.values():
            server.stop()


# -- one exchange ------------------------------------------------------------------------------


def pieces(data: bytes, mode: str, name: str) -> list[bytes]:
    """``data`` cut the way ``mode`` says; random cuts are seeded by mode and case name."""
    if mode == "whole" or len(data) < 2:
        return [data]
    if mode == "bytes":
        return [data[i : i + 1] for i in range(len(data))]
    rng = random.Random(f"{mode}:{name}")
    cuts = sorted(rng.sample(range(1, len(data)), rng.randint(1, min(len(data) - 1, 12))))
    return [data[a:b] for a, b in zip([0, *cuts], [*cuts, len(data)], strict=True)]


def send(sock: socket.socket, parts: list[bytes], stop_when_answered: bool) -> None:
    """Send ``parts`` one by one; stop early if the server has answered (or closed)."""
    for part in parts:
        if stop_when_answered and select.select([sock], [], [], 0)[0]:
            return
        try:
            sock.sendall(part)
        except (BrokenPipeError, ConnectionResetError):
            return


@dataclass
class Observed:
    """What came back on one connection: the responses, then how the connection ended."""

    responses: list[Response]
    ending: str  # "closed" when all is well


def exchange(
    server: Server, parts: list[bytes], expect: tuple[Outcome, ...], half_close: bool
) -> Observed:
    with socket.create_connection((server.host, server.port), timeout=RESPONSE_TIMEOUT) as sock:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        send(sock, parts, stop_when_answered=not isinstance(expect[0], Parsed))
        if half_close:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_WR)
        wire = Wire(sock, timeout=RESPONSE_TIMEOUT)
        responses: list[Response] = []
        for _ in expect:
            try:
                responses.append(wire.response())
            except EOFError:
                return Observed(
                    responses,
                    "closed" if not wire.buf else f"closed in a response: {wire.buf[:200]!r}",
                )
            except TimeoutError:
                return Observed(responses, f"no response within {RESPONSE_TIMEOUT} s")
            if responses[-1].status != 200:
                break
        all_served = responses[-1].status == 200
        return Observed(responses, _ending(sock, wire.buf, half_close=all_served))


def _ending(sock: socket.socket, extra: bytes, half_close: bool) -> str:
    """How the connection ends once the expected responses are in: "closed" or what else."""
    if half_close:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_WR)
    sock.settimeout(CLOSE_TIMEOUT)
    try:
        while chunk := sock.recv(65536):
            extra += chunk
    except TimeoutError:
        return f"still open after {CLOSE_TIMEOUT} s" + (
            f", having sent {extra[:300]!r}" if extra else ""
        )
    except ConnectionResetError:
        pass
    return f"closed after sending more: {extra[:300]!r}" if extra else "closed"


# -- comparing ---------------------------------------------------------------------------------


def describe(want: Outcome) -> str:
    if isinstance(want, Parsed):
        return f"200 {want.method} {want.target[:60]!r}"
    return "|".join("closed without response" if s == 0 else str(s) for s in sorted(want))


def _target_matches(seen: bytes, want: bytes) -> bool:
    """The target as ASGI gives it back; an absolute-form target may come back as origin-form."""
    if seen == want:
        return True
    _scheme, sep, rest = want.partition(b"://")
    return bool(sep) and b"/" in rest and seen == b"/" + rest.split(b"/", 1)[1]


def _parsed_diff(want: Parsed, seen: dict[str, object]) -> str | None:
    def raw(text: object) -> bytes:
        return str(text).encode("latin-1")

    query = raw(seen["query_string"])
    target = raw(seen["raw_path"]) + (b"?" + query if query else b"")
    headers = [(raw(n).lower(), raw(v)) for n, v in seen["headers"]]  # type: ignore[attr-defined]
    diffs = []
    if seen["method"] != want.method:
        diffs.append(f"method {seen['method']!r} != {want.method!r}")
    if not _target_matches(target, want.target):
        diffs.append(f"target {target[:100]!r} != {want.target[:100]!r}")
    if seen["http_version"] != want.version:
        diffs.append(f"version {seen['http_version']!r} != {want.version!r}")
    if headers != [(n.lower(), v) for n, v in want.headers]:
        diffs.append(f"headers {headers!r:.400} != {list(want.headers)!r:.400}")
    if raw(seen["body"]) != want.body:
        diffs.append(f"body {raw(seen['body'])[:100]!r} != {want.body[:100]!r}")
    return "; ".join(diffs) or None


def mismatch(expect: tuple[Outcome, ...], observed: Observed) -> str | None:
    """None when ``observed`` is what ``expect`` asks for, else what differs."""
    got = observed.responses
    for i, want in enumerate(expect):
        if i >= len(got):
            if isinstance(want, frozenset) and 0 in want and observed.ending == "closed":
                break  # closing without an answer is one of the accepted outcomes
            return f"response {i + 1}: expected {describe(want)}, got none ({observed.ending})"
        answer = f"{got[i].status} {got[i].body[:120]!r}"
        if isinstance(want, Parsed):
            if got[i].status != 200:
                return f"response {i + 1}: expected {describe(want)}, got {answer}"
            diff = _parsed_diff(want, json.loads(got[i].body))
            if diff:
                return f"response {i + 1}: {diff}"
        elif got[i].status not in want:
            return f"response {i + 1}: expected {describe(want)}, got {answer}"
    if observed.ending != "closed":
        return f"after {[r.status for r in got]}: {observed.ending}"
    return None


def check(
    server: Server, name: str, data: bytes, expect: tuple[Outcome, ...], half_close: bool
) -> None:
    """Send the case in every mode; a failure of the whole send stops there."""
    failures = []
    for mode in MODES:
        problem = mismatch(expect, exchange(server, pieces(data, mode, name), expect, half_close))
        if problem:
            failures.append(f"  {mode}: {problem}")
            if mode == "whole":
                break
    wanted = ", ".join(describe(w) for w in expect)
    assert not failures, f"{name}: expected {wanted}\n" + "\n".join(failures)


# -- the tests ---------------------------------------------------------------------------------


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_corral_corpus(servers, case: Case) -> None:
    check(servers[SERVER_FLAGS], case.name, case.data, case.expect, case.half_close)


@pytest.mark.parametrize(("case", "unavailable"), GUNICORN_PARAMS)
def test_gunicorn_corpus(
    servers, case: corpus_gunicorn.GunicornCase | None, unavailable: str | None
) -> None:
    if case is None:
        pytest.fail(
            f"gunicorn {corpus_gunicorn.VERSION}'s request corpus is unavailable: {unavailable}"
        )
    check(servers[case.flags], case.name, case.data, case.expect, case.half_close)


def test_gunicorn_tables_name_existing_files() -> None:
    """SKIPPED and DIFFERS stay in step with the corpus: no stale or overlapping entries."""
    names = {p.values[0].name for p in GUNICORN_PARAMS if p.values[0] is not None}
    assert names, GUNICORN_PARAMS[0].values[1]
    assert set(corpus_gunicorn.SKIPPED) <= names, set(corpus_gunicorn.SKIPPED) - names
    assert set(corpus_gunicorn.DIFFERS) <= names, set(corpus_gunicorn.DIFFERS) - names
    assert not set(corpus_gunicorn.SKIPPED) & set(corpus_gunicorn.DIFFERS)
    unmapped = [
        p.values[0].name
        for p in GUNICORN_PARAMS
        if p.values[0] is not None and (p.values[0].skip or "").startswith("unmapped")
    ]
    assert not unmapped, unmapped


@pytest.mark.parametrize(
    ("text", "data"),
    [
        (b"GET / HTTP/1.1\\r\\n\n\\r\\n\n", b"GET / HTTP/1.1\r\n\r\n"),
        (b"a\\0b\\tc\\nd", b"a\0b\tc\nd"),
        (b"\\x0D\\x0a\\xff", b"\r\n\xff"),
        (b"caf\xc3\xa9\n", b"caf\xc3\xa9"),
    ],
)
def test_gunicorn_http_files_decode_like_its_harness(text: bytes, data: bytes) -> None:
    assert corpus_gunicorn.decode_http(text) == data


def test_gunicorn_http_file_with_an_unknown_escape_is_refused() -> None:
    with pytest.raises(ValueError, match="unexpected escape"):
        corpus_gunicorn.decode_http(b"GET /\\q HTTP/1.1")
