"""Fuzzing the HTTP/1.1 request parser (hypothesis; the long run is bench/fuzz_http1.py).

Every input must end as a dispatched request, a wait for more bytes, or one error
response from ERROR_STATUSES followed by the close; never an exception, an
"internal error" log record or a hang. See tests/fuzz_http1.py for the invariants.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import fuzz_http1
import pytest
from fuzz_http1 import (
    ANSWER_MODES,
    ERROR_STATUSES,
    SMALL_LIMITS,
    FakeApp,
    FakeLoop,
    FakeTransport,
    _judge,
    chunks_of,
    describe,
    run_one,
)
from fuzz_http1_inputs import FIELD_VALUES, OPS, SEEDS, TOKENS, mutate
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from corral.http1 import connection
from corral.http1.request_head import METHODS, lowered_names
from corral.http1.state import State

FUZZ = settings(
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def check(data: bytes, splits: list[int], limits: Any, **kwargs: Any) -> None:
    outcome = run_one(data, splits, limits, **kwargs)
    assert outcome.ok, (
        f"{describe(data, splits, limits, **kwargs)} -> {outcome.label}:\n"
        + "\n".join(outcome.problems)
    )


payloads = st.one_of(st.sampled_from(TOKENS), st.binary(min_size=1, max_size=8))


@st.composite
def requests(draw: st.DrawFn) -> bytes:
    """One to three valid seed requests in a row, then up to five mutations, each at a
    position drawn within the bytes it mutates (so all parts of a request get hit)."""
    seeds = draw(st.lists(st.sampled_from([seed for seed, _ in SEEDS]), min_size=1, max_size=3))
    data = b"".join(seeds)
    for _ in range(draw(st.integers(0, 5))):
        op = draw(st.sampled_from(OPS))
        if op in FIELD_VALUES:
            pos = draw(st.integers(0, 3))  # which one of the fields of that kind
            payload = draw(st.one_of(st.sampled_from(FIELD_VALUES[op]), payloads))
        else:
            pos = draw(st.integers(0, len(data)))
            payload = draw(payloads)
        data = mutate(data, (op, pos, payload))
    return data


@st.composite
def splits_for(draw: st.DrawFn, data: bytes) -> list[int]:
    if len(data) > 1 and draw(st.integers(0, 9)) == 0:
        return list(range(1, len(data)))  # byte by byte
    return draw(st.lists(st.integers(1, max(1, len(data) - 1)), max_size=4))


answer_modes = st.text(alphabet=ANSWER_MODES, min_size=1, max_size=3)
limit_profiles = st.sampled_from([None, SMALL_LIMITS])


@settings(FUZZ, max_examples=2000)
@given(st.data(), requests(), limit_profiles, answer_modes, st.booleans())
def test_mutated_requests(
    data: st.DataObject, request: bytes, limits: Any, answers: str, timeout: bool
) -> None:
    splits = data.draw(splits_for(request), label="splits")
    check(request, splits, limits, answers=answers, timeout=timeout)


@settings(FUZZ, max_examples=1000)
@given(st.data(), st.binary(max_size=160), limit_profiles, answer_modes, st.booleans())
def test_random_bytes(
    data: st.DataObject, raw: bytes, limits: Any, answers: str, timeout: bool
) -> None:
    splits = data.draw(splits_for(raw), label="splits")
    check(raw, splits, limits, answers=answers, timeout=timeout)


@settings(FUZZ, max_examples=500)
@given(
    st.data(),
    st.sampled_from([seed for seed, _ in SEEDS]),
    st.binary(min_size=1, max_size=40),
    limit_profiles,
    answer_modes,
)
def test_garbage_after_a_request(
    data: st.DataObject, seed: bytes, tail: bytes, limits: Any, answers: str
) -> None:
    """Bytes after a complete request are the next request, or its error: never ignored
    into a crash, and the first request is still served."""
    request = seed + tail
    splits = data.draw(splits_for(request), label="splits")
    check(request, splits, limits, answers=answers)


@pytest.mark.parametrize("answers", ANSWER_MODES)
@pytest.mark.parametrize("whole", [True, False], ids=["whole", "bytewise"])
@pytest.mark.parametrize(("seed", "count"), SEEDS, ids=range(len(SEEDS)))
def test_seed_requests_are_served(seed: bytes, count: int, whole: bool, answers: str) -> None:
    """The seeds are valid: each request in them is dispatched (CONNECT and an Upgrade
    with a body are refused with 501, before the app), whatever the splits."""
    outcome = run_one(seed, [] if whole else list(range(1, len(seed))), answers=answers)
    assert outcome.ok, outcome.problems
    if seed.startswith(b"CONNECT ") or (b"Upgrade:" in seed and b"Content-Length" in seed):
        assert (outcome.label, outcome.dispatched) == ("error 501", 0)
    else:
        assert (outcome.kind, outcome.dispatched, outcome.statuses) == (
            "served",
            count,
            [200] * count,
        )


LIMIT_CASES = [
    (b"GET /" + b"a" * 80 + b" HTTP/1.1\r\nHost: x\r\n\r\n", 414),
    (b"GET / HTTP/1.1\r\nHost: x\r\nX-Long: " + b"v" * 80 + b"\r\n\r\n", 431),
    (b"GET / HTTP/1.1\r\nHost: x\r\n" + b"X-A: b\r\n" * 9 + b"\r\n", 431),
    (b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 300\r\n\r\n", 413),
    (b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n200\r\n" + b"z" * 512, 413),
]


@pytest.mark.parametrize(("data", "status"), LIMIT_CASES)
def test_small_limits_reach_their_status(data: bytes, status: int) -> None:
    """SMALL_LIMITS make the fuzzer's short inputs reach 413, 414 and 431."""
    outcome = run_one(data, [], SMALL_LIMITS, answers="d")
    assert outcome.ok, outcome.problems
    assert outcome.label == f"error {status}"


@pytest.mark.parametrize(
    ("data", "timeout", "label"),
    [
        (b"GET / HTTP/1.1\r\nHost: x\r\n", False, "waiting"),
        (b"GET / HTTP/1.1\r\nHost: x\r\n", True, "error 408"),
        (b"", True, "closed"),  # first-byte timeout: a plain close
        (b"GET / HTTP/2.0\r\nHost: x\r\n\r\n", False, "error 505"),
        (b"BREW / HTTP/1.1\r\nHost: x\r\n\r\n", False, "error 501"),
        (b"GET / HTTP/1.1\r\n\r\n", False, "error 400"),
    ],
)
def test_outcome_labels(data: bytes, timeout: bool, label: str) -> None:
    outcome = run_one(data, [], timeout=timeout)
    assert outcome.ok, outcome.problems
    assert outcome.label == label
    assert outcome.status is None or outcome.status in ERROR_STATUSES


def test_chunks_of_cuts_at_each_offset_once() -> None:
    assert chunks_of(b"abcdef", [4, 2, 2, 0, 9]) == [b"ab", b"cd", b"ef"]
    assert chunks_of(b"", [1]) == []


def _judged(writes: list[bytes], closed: bool = True, dispatched: int = 0) -> list[str]:
    transport = FakeTransport(FakeLoop())
    transport.writes, transport.closed = writes, closed
    app = FakeApp("i", transport)
    app.dispatched = [SimpleNamespace(finished=False)] * dispatched  # type: ignore[list-item]
    conn: Any = type("Conn", (), {"state": State.CLOSED if closed else State.IDLE})()
    data = b"GET / HTTP/1.1\r\n" * max(dispatched, 1)
    return _judge(data, conn, transport, app, "").problems


OK_200 = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok"
ERR_400 = b"HTTP/1.1 400 Bad Request\r\nconnection: close\r\n\r\n400 Bad Request\n"


@pytest.mark.parametrize(
    ("writes", "closed", "dispatched", "problem"),
    [
        ([ERR_400, OK_200], True, 1, "written after the 400 response"),
        ([ERR_400, ERR_400], True, 0, "2 error responses"),
        ([ERR_400], False, 0, "connection left open"),
        ([ERR_400.replace(b"400 Bad", b"500 Bad")], True, 0, "error status 500"),
        ([b"HTTP/1.0 200 OK\r\n\r\n"], True, 1, "is not a response"),
        ([OK_200, OK_200], False, 1, "2 responses for 1 requests"),
        ([], True, 0, "closed without a response"),
    ],
)
def test_the_oracle_catches_violations(
    writes: list[bytes], closed: bool, dispatched: int, problem: str
) -> None:
    """The checks can fail: each broken rule is reported."""
    problems = _judged(writes, closed, dispatched)
    assert any(problem in p for p in problems), problems


def test_the_oracle_catches_exceptions_and_error_logs(monkeypatch: pytest.MonkeyPatch) -> None:
    # A subclass, not a patched method: the compiled H1Connection is an immutable type.
    class Broken(fuzz_http1.H1Connection):
        def on_header(self, name: bytes, value: bytes) -> None:
            raise RuntimeError("boom")

    monkeypatch.setattr(fuzz_http1, "H1Connection", Broken)
    problems = run_one(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").problems
    assert any("internal error" in p for p in problems), problems
    assert any("error status 500" in p for p in problems), problems


@pytest.mark.parametrize(
    "queued",
    [
        b"CONNECT a:1 HTTP/1.1\r\nHost: a\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: a\r\nUpgrade: h2c\r\nConnection: Upgrade\r\n\r\n",
    ],
)
def test_a_queued_upgrade_request_is_still_answered(queued: bytes) -> None:
    # Found by the fuzzer: behind a request answered later, the Upgrade/CONNECT
    # request was dropped without a word when the first response completed.
    outcome = run_one(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n" + queued, [], answers="d")
    assert outcome.statuses[0] == 200 and len(outcome.statuses) == 2
    assert outcome.closed and not outcome.problems


FRAMING_NAMES = {
    b"host",
    b"content-length",
    b"transfer-encoding",
    b"expect",
    b"upgrade",
    b"connection",
}
LINE_METHODS_SEEN = [*METHODS.values(), "PROPFIND", "PURGE"]
TARGETS = [b"/", b"/a?b=c", b"/GET%20/x", b"/x HTTP/1.1", b"http://h.example/p", b"*"]


@settings(FUZZ, max_examples=400)
@given(
    st.data(),
    st.sampled_from(LINE_METHODS_SEEN),
    st.sampled_from(TARGETS),
    st.sampled_from([b"1.0", b"1.1"]),
    st.sampled_from([b"", b"\r\n"]),
)
def test_the_request_line_read_from_the_packet_agrees_with_the_parser(
    data: st.DataObject, method: str, target: bytes, version: bytes, lead: bytes
) -> None:
    """connection._request_line reads method and version from the packet's bytes when it
    can; whatever the splits, they must be what llhttp itself parsed."""
    if target == b"*" and method != "OPTIONS":
        target = b"/"
    request = lead + method.encode() + b" " + target + b" HTTP/" + version + b"\r\nHost: h\r\n\r\n"
    seen: list[tuple[str, str, str, str]] = []
    original = FakeApp.start

    def start(app: FakeApp, exchange: Any) -> None:
        parser = exchange.conn.parser  # still on this request: answered inline ("i")
        seen.append(
            (
                exchange.method,
                exchange.http_version,
                parser.get_method().decode(),
                parser.get_http_version(),
            )
        )
        original(app, exchange)

    splits = data.draw(splits_for(request))
    asked: list[object] = []

    def http_version(parser: Any) -> str:
        asked.append(parser)
        return str(parser.get_http_version())

    patched = pytest.MonkeyPatch()
    patched.setattr(FakeApp, "start", start)
    patched.setattr(connection, "_http_version", http_version)
    try:
        outcome = run_one(request, splits, answers="i")
    finally:
        patched.undo()
    if b" " in target:  # a space in the target: not a valid request line
        assert outcome.label == "error 400" and not seen
        return
    assert outcome.ok and outcome.dispatched == 1, outcome.problems
    (got_method, got_version, parser_method, parser_version) = seen[0]
    assert (
        (got_method, got_version)
        == (parser_method, parser_version)
        == (
            method,
            version.decode(),
        )
    )
    if not splits and not lead and method in METHODS.values():
        assert not asked  # a known method and the whole line in one packet: no parser call


TABLE_NAMES = [name for name in lowered_names() if name != name.lower()]
OTHER_NAMES = [b"X-Custom", b"x-lower", b"X-UPPER-ONLY", b"Hostname", b"Accept-Ranges"]
field_names = st.one_of(
    st.sampled_from(TABLE_NAMES + OTHER_NAMES),
    # any case mix of a table name: most are not in the table as spelled
    st.sampled_from(TABLE_NAMES).flatmap(
        lambda name: st.lists(st.booleans(), min_size=len(name), max_size=len(name)).map(
            lambda upper: bytes(
                c ^ 32 if u and 97 <= (c | 32) <= 122 else c
                for c, u in zip(name, upper, strict=True)
            )
        )
    ),
)
field_values = st.tuples(
    st.sampled_from([b"", b"v", b"a b", b"text/html, */*", b"\tx"]),
    st.text(alphabet=" \t", max_size=3).map(str.encode),
)


@settings(FUZZ, max_examples=300)
@given(st.lists(st.tuples(field_names, field_values), min_size=1, max_size=6))
def test_field_names_are_lowered_and_values_lose_trailing_whitespace(
    fields: list[tuple[bytes, tuple[bytes, bytes]]],
) -> None:
    """on_header takes common names from a table and skips rstrip when a value ends in
    neither space nor tab (compiled build): the fields must be what lower() and
    rstrip() give, whatever the spelling."""
    fields = [(n, v) for n, v in fields if n.lower() not in FRAMING_NAMES]
    lines = b"".join(n + b": " + v + ows + b"\r\n" for n, (v, ows) in fields)
    request = b"GET / HTTP/1.1\r\nHost: h\r\n" + lines + b"\r\n"
    seen: list[list[tuple[bytes, bytes]]] = []
    original = FakeApp.start

    def start(app: FakeApp, exchange: Any) -> None:
        seen.append(list(exchange.headers))
        original(app, exchange)

    patched = pytest.MonkeyPatch()
    patched.setattr(FakeApp, "start", start)
    try:
        outcome = run_one(request, [], answers="i")
    finally:
        patched.undo()
    assert outcome.ok and outcome.dispatched == 1, outcome.problems
    expected = [(b"host", b"h")] + [(n.lower(), v.strip(b" \t")) for n, (v, _) in fields]
    assert seen[0] == expected
