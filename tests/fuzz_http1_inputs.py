"""Inputs for fuzzing the HTTP/1.1 parser: valid seed requests and mutations of them.

A mutation is a plain value, ``(op, pos, payload)``, applied by ``mutate``, so the
hypothesis tests draw mutations with strategies (they shrink to readable ones) and
the long runner draws them from a seeded ``random.Random`` (``random_case``).
"""

from __future__ import annotations

import random
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from fuzz_http1 import ANSWER_MODES, SMALL_LIMITS, describe


def _request(
    head: str, *fields: str, body: bytes = b"", version: str = "HTTP/1.1", host: bool = True
) -> bytes:
    lines = [f"{head} {version}", *(["Host: example.com"] if host else []), *fields]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


_CHUNKED = "Transfer-Encoding: chunked"
_SMUGGLED = _request("GET /smuggled")

# Valid requests (each is served by a conforming server), with how many requests each holds.
SEEDS: list[tuple[bytes, int]] = [
    (_request("GET /"), 1),
    (_request("GET /a/b?x=1&y=%20", "User-Agent: fuzz/1.0", "Accept: */*", "X-Empty:"), 1),
    (_request("HEAD /index.html"), 1),
    (_request("POST /form", "Content-Length: 11", body=b"hello=world"), 1),
    (_request("POST /up", _CHUNKED, body=b"5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\n\r\n"), 1),
    (_request("PUT /t", _CHUNKED, body=b"3\r\nabc\r\n0\r\nX-Trailer: yes\r\n\r\n"), 1),
    (_request("GET /old", version="HTTP/1.0", host=False), 1),
    (
        _request(
            "POST /old",
            "Content-Length: 3",
            "Connection: keep-alive",
            body=b"abc",
            version="HTTP/1.0",
        ),
        1,
    ),
    (_request("GET /bye", "Connection: close"), 1),
    (_request("POST /e", "Expect: 100-continue", "Content-Length: 4", body=b"data"), 1),
    (_request("GET /ws", "Upgrade: websocket", "Connection: Upgrade"), 1),
    (
        _request(
            "POST /ws", "Upgrade: foo", "Connection: Upgrade", "Content-Length: 2", body=b"hi"
        ),
        1,
    ),
    (_request("OPTIONS *"), 1),
    (_request("CONNECT example.com:443"), 1),
    (_request("GET http://example.com/abs"), 1),
    (_request("DELETE /x", "Content-Length: 0"), 1),
    (_request("PATCH /p", "Content-Type: application/json", "Content-Length: 2", body=b"{}"), 1),
    (_request("POST /z", _CHUNKED, body=b"0\r\n\r\n"), 1),
    (_request("GET /1") + _request("GET /2") + _request("HEAD /3"), 3),
    (_request("POST /a", "Content-Length: 4", body=b"abcd") + _request("GET /b"), 2),
    # A body that looks like a request: it must never be served as one.
    (_request("POST /s", f"Content-Length: {len(_SMUGGLED)}", body=_SMUGGLED), 1),
    (_request("GET /h", *(f"X-F{i}: {'v' * 50}" for i in range(7))), 1),
    (_request("GET /" + "p" * 40, "Cookie: a=1; b=2"), 1),
]

# Bytes and tokens that tend to matter to an HTTP/1.1 parser.
TOKENS: list[bytes] = [
    b"\r",
    b"\n",
    b"\r\n",
    b"\r\n\r\n",
    b"\x00",
    b" ",
    b"\t",
    b"\x0b",
    b"\x7f",
    b"\x80",
    b"\xff",
    b":",
    b",",
    b";",
    b"0",
    b"-1",
    b"Host: x\r\n",
    b"Content-Length: 5\r\n",
    b"Transfer-Encoding: chunked\r\n",
    b"Connection: close\r\n",
    b"Upgrade: h2c\r\n",
    b"Expect: 100-continue\r\n",
    b"GET / HTTP/1.1\r\n",
    b"HTTP/1.1",
    b"0\r\n\r\n",
    b" \r\n",
    b"a" * 70,
]

# Replacement values for the parts of a request a parser decides framing with.
FIELD_VALUES: Mapping[str, list[bytes]] = {
    "method": [
        b"GET",
        b"FOO",
        b"CONNECT",
        b"get",
        b"G\x00T",
        b"PRI",
        b"M-SEARCH",
        b"SOURCE",
        b"QUERY",
        b"",
        b"A" * 40,
        b"GET GET",
        b"PROPFIND",
    ],
    "version": [
        b"HTTP/1.0",
        b"HTTP/1.1",
        b"HTTP/2.0",
        b"HTTP/0.9",
        b"HTTP/1.2",
        b"http/1.1",
        b"HTTP/11",
        b"RTSP/1.0",
        b"ICE/1.0",
        b"HTTP/1.1 ",
        b"",
        b"HTTP/9.9",
    ],
    "content-length": [
        b"0",
        b"-1",
        b"+5",
        b"5 5",
        b"0x10",
        b"99999999999999999999",
        b" 5",
        b"5,5",
        b"",
        b"1000",
        b"300",
        b"5\x00",
    ],
    "transfer-encoding": [
        b"chunked",
        b"gzip",
        b"gzip, chunked",
        b"chunked, gzip",
        b"chunked, chunked",
        b"CHUNKED",
        b"",
        b"identity",
        b" chunked",
        b"chunked\x0b",
    ],
    "chunk-size": [
        b"0",
        b"1",
        b"ff",
        b"FFFFFFFFFFFFFFFFFF",
        b"-1",
        b"0x5",
        b"5 ",
        b"5;a=b",
        b"",
        b"g",
        b"00000000000000000005",
        b"5;" + b"e" * 80,
    ],
    "host": [b"", b"a b", b"x\x00y", b"[::1]:80", b"example.com:99999999999", b"a" * 70, b"a, b"],
    "target": [
        b"/",
        b"*",
        b"",
        b"/\x00",
        b"//x",
        b"http://x/y",
        b"/%zz",
        b"/" + b"a" * 80,
        b"/ /",
        b"/#frag",
    ],
}

_FIELD_PATTERNS: Mapping[str, re.Pattern[bytes]] = {
    "method": re.compile(rb"(?:^|\n)([^ \r\n]*) "),
    "version": re.compile(rb"([A-Za-z]+/[0-9.]+)\r"),
    "content-length": re.compile(rb"(?i)content-length:[ \t]*([^\r\n]*)"),
    "transfer-encoding": re.compile(rb"(?i)transfer-encoding:[ \t]*([^\r\n]*)"),
    "chunk-size": re.compile(rb"(?:\r\n\r\n|\r\n)([0-9a-fA-F]+)(?=[;\r])"),
    "host": re.compile(rb"(?i)host:[ \t]*([^\r\n]*)"),
    "target": re.compile(rb"(?:^|\n)[A-Z]+ ([^ \r\n]*) "),
}

OPS = ("insert", "delete", "overwrite", "duplicate-line", "truncate", *_FIELD_PATTERNS)

Mutation = tuple[str, int, bytes]


def mutate(data: bytes, mutation: Mutation) -> bytes:
    """Apply one mutation. ``pos`` is taken modulo the length (or the match count).

    insert: ``payload`` at ``pos``; delete: ``len(payload) or 1`` bytes at ``pos``;
    overwrite: bytes at ``pos`` by ``payload``; duplicate-line: the line holding
    ``pos`` twice; truncate: cut at ``pos``; a field name (``method``, ``version``,
    ``content-length``...): the ``pos``-th such field's value becomes ``payload``.
    """
    op, pos, payload = mutation
    size = len(data)
    at = pos % (size + 1)
    if op == "insert":
        return data[:at] + payload + data[at:]
    if op == "delete":
        return data[:at] + data[at + (len(payload) or 1) :]
    if op == "overwrite":
        return data[:at] + payload + data[at + len(payload) :]
    if op == "truncate":
        return data[:at]
    if op == "duplicate-line":
        start = data.rfind(b"\n", 0, at) + 1
        end = data.find(b"\n", at)
        end = size if end < 0 else end + 1
        return data[:end] + data[start:end] + data[end:]
    matches = list(_FIELD_PATTERNS[op].finditer(data))
    if not matches:
        return data
    match = matches[pos % len(matches)]
    return data[: match.start(1)] + payload + data[match.end(1) :]


@dataclass
class Case:
    """One fuzz input and how to run it (the arguments of ``run_one``)."""

    data: bytes
    splits: list[int]
    limits: Mapping[str, Any] | None
    answers: str
    timeout: bool

    def kwargs(self) -> dict[str, Any]:
        return {"answers": self.answers, "timeout": self.timeout}

    def __str__(self) -> str:
        return describe(self.data, self.splits, self.limits, **self.kwargs())


def random_payload(rng: random.Random, op: str) -> bytes:
    if op in FIELD_VALUES and rng.random() < 0.8:
        return rng.choice(FIELD_VALUES[op])
    if rng.random() < 0.6:
        return rng.choice(TOKENS)
    return rng.randbytes(rng.randint(1, 8))


def random_case(rng: random.Random) -> Case:
    """A seed request (or a pipeline of them) mutated 0-6 times, or random bytes."""
    roll = rng.random()
    if roll < 0.08:
        data = rng.randbytes(rng.randint(0, 120))
    else:
        data = b"".join(rng.choice(SEEDS)[0] for _ in range(1 if roll < 0.7 else rng.randint(2, 3)))
        for _ in range(rng.choice((0, 1, 1, 1, 2, 2, 3, 4, 6))):
            op = rng.choice(OPS)
            data = mutate(data, (op, rng.randrange(1 << 16), random_payload(rng, op)))
    if rng.random() < 0.1:
        splits = list(range(1, len(data)))  # byte by byte
    else:
        splits = [rng.randint(1, max(1, len(data) - 1)) for _ in range(rng.choice((0, 0, 1, 2, 4)))]
    return Case(
        data=data,
        splits=splits,
        limits=SMALL_LIMITS if rng.random() < 0.4 else None,
        answers="".join(rng.choice(ANSWER_MODES) for _ in range(rng.randint(1, 3))),
        timeout=rng.random() < 0.25,
    )
