"""WSGI apps the integration tests serve; each is small and does one thing.

Apps that must report something the client cannot see (``close()`` called, how
far a generator got) append lines to the file named by ``$TEST_RECORD_FILE``.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any
from urllib.parse import parse_qs
from wsgiref.validate import validator

Environ = dict[str, Any]
StartResponse = Callable[..., Any]

TEXT = [("Content-Type", "text/plain")]


def record(line: str) -> None:
    """Append one line to the record file the test named in the environment."""
    with open(os.environ["TEST_RECORD_FILE"], "a", encoding="utf-8") as f:
        f.write(line + "\n")


def query(environ: Environ) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(environ.get("QUERY_STRING", "")).items()}


def respond(start_response: StartResponse, body: bytes, status: str = "200 OK") -> list[bytes]:
    start_response(status, [*TEXT, ("Content-Length", str(len(body)))])
    return [body]


def hello(environ: Environ, start_response: StartResponse) -> list[bytes]:
    return respond(start_response, b"hello")


def path_app(environ: Environ, start_response: StartResponse) -> list[bytes]:
    """Answers with its own path, so tests can tell responses apart; ``?sleep=S`` waits."""
    delay = float(query(environ).get("sleep", 0))
    if delay:
        time.sleep(delay)
    return respond(start_response, environ["PATH_INFO"].encode("latin-1"))


def create_app() -> Callable[..., Any]:
    """An app factory for ``--factory``."""

    def made_by_factory(environ: Environ, start_response: StartResponse) -> list[bytes]:
        return respond(start_response, b"made by factory")

    return made_by_factory


GREETING_AT_IMPORT = os.environ.get("APP_GREETING", "<unset>")


def env_app(environ: Environ, start_response: StartResponse) -> list[bytes]:
    """Answers ``$APP_GREETING`` as seen at import time and at request time."""
    now = os.environ.get("APP_GREETING", "<unset>")
    return respond(start_response, f"{GREETING_AT_IMPORT}|{now}".encode())


def cwd_app(environ: Environ, start_response: StartResponse) -> list[bytes]:
    return respond(start_response, os.getcwd().encode())


def echo(environ: Environ, start_response: StartResponse) -> list[bytes]:
    """Answers with the request body it read."""
    body = environ["wsgi.input"].read()
    return respond(start_response, body)


def body_digest(environ: Environ, start_response: StartResponse) -> list[bytes]:
    """Reads the body in pieces and answers its size, sha256 and CONTENT_LENGTH."""
    stream = environ["wsgi.input"]
    digest = hashlib.sha256()
    size = 0
    while chunk := stream.read(65536):
        digest.update(chunk)
        size += len(chunk)
    info = {
        "size": size,
        "sha256": digest.hexdigest(),
        "content_length": environ.get("CONTENT_LENGTH"),
        "input_terminated": environ.get("wsgi.input_terminated"),
    }
    return respond(start_response, json.dumps(info).encode())


def ignore_body(environ: Environ, start_response: StartResponse) -> list[bytes]:
    """Never touches wsgi.input; answers with its path."""
    return respond(start_response, environ["PATH_INFO"].encode("latin-1"))


def environ_app(environ: Environ, start_response: StartResponse) -> list[bytes]:
    """Answers the environ as JSON (non-str values described by type)."""
    environ["wsgi.errors"].write("wsgi-errors-marker\n")
    environ["wsgi.errors"].flush()
    out: dict[str, Any] = {}
    for key, value in environ.items():
        if isinstance(value, str | bool | int) or value is None:
            out[key] = value
        elif isinstance(value, tuple):
            out[key] = list(value)
        else:
            out[key] = f"<{type(value).__name__}>"
    out["_thread"] = threading.current_thread().name
    return respond(start_response, json.dumps(out).encode(), "200 OK")


def input_methods(environ: Environ, start_response: StartResponse) -> list[bytes]:
    """Reads wsgi.input the way ``?mode=`` says and answers the pieces as JSON."""
    stream = environ["wsgi.input"]
    mode = query(environ)["mode"]
    pieces: list[bytes] = []
    if mode == "read":
        pieces.append(stream.read())
    elif mode == "read_n":
        while chunk := stream.read(4):
            pieces.append(chunk)
    elif mode == "readline":
        while line := stream.readline():
            pieces.append(line)
    elif mode == "readline_n":
        while line := stream.readline(3):
            pieces.append(line)
    elif mode == "readlines":
        pieces.extend(stream.readlines())
    elif mode == "iter":
        pieces.extend(stream)
    answer = json.dumps([p.decode("latin-1") for p in pieces]).encode()
    return respond(start_response, answer)


def no_length(environ: Environ, start_response: StartResponse) -> Iterator[bytes]:
    """Several chunks and no Content-Length: chunked on HTTP/1.1, close on 1.0."""
    start_response("200 OK", TEXT)
    for i in range(5):
        yield f"part{i};".encode()


def _pattern_file(size: int) -> str:
    path = os.path.join(tempfile.gettempdir(), f"corral-test-pattern-{size}.bin")
    if not os.path.exists(path) or os.path.getsize(path) != size:
        block = bytes(range(251)) * (size // 251 + 1)
        tmp = f"{path}.{os.getpid()}.tmp"
        with open(tmp, "wb") as f:
            f.write(block[:size])
        os.replace(tmp, path)
    return path


def file_app(environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
    """Serves a file of ``?size=`` pattern bytes through wsgi.file_wrapper."""
    params = query(environ)
    size = int(params["size"])
    headers = list(TEXT)
    if params.get("cl", "1") == "1":
        headers.append(("Content-Length", str(size)))
    start_response("200 OK", headers)
    f = open(_pattern_file(size), "rb")  # noqa: SIM115 - closed by the wrapper's close()
    return environ["wsgi.file_wrapper"](f, 65536)


def start_response_twice(environ: Environ, start_response: StartResponse) -> list[bytes]:
    """PEP 3333: a second start_response without exc_info is an error."""
    start_response("200 OK", TEXT)
    try:
        start_response("201 Created", TEXT)
    except Exception as exc:
        return [f"second call raised {type(exc).__name__}".encode()]
    return [b"second call accepted"]


def exc_info_before_headers(environ: Environ, start_response: StartResponse) -> list[bytes]:
    """start_response with exc_info before anything was sent replaces the response."""
    start_response("200 OK", TEXT)
    try:
        raise ValueError("something failed after start_response")
    except ValueError:
        start_response("503 Service Unavailable", TEXT, sys.exc_info())
    return [b"replaced"]


def exc_info_after_headers(environ: Environ, start_response: StartResponse) -> list[bytes]:
    """start_response with exc_info after headers were sent re-raises the exception."""
    write = start_response("200 OK", TEXT)
    write(b"partial;")
    try:
        raise ValueError("failure after the head went out")
    except ValueError:
        try:
            start_response("500 Internal Server Error", TEXT, sys.exc_info())
        except ValueError:
            record("re-raised")
            raise
        record("not re-raised")
    return [b"should never be sent"]


def write_callable(environ: Environ, start_response: StartResponse) -> list[bytes]:
    """Mixes the legacy write() callable with a returned iterable."""
    write = start_response("200 OK", TEXT)
    write(b"written-1;")
    write(b"written-2;")
    return [b"iterated-1;", b"iterated-2;"]


class _RecordingIterable:
    """An iterable with a close() that records it was called."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self._chunks = chunks

    def __iter__(self) -> Iterator[bytes]:
        return self._chunks

    def close(self) -> None:
        record("closed")


def closes_normally(environ: Environ, start_response: StartResponse) -> _RecordingIterable:
    start_response("200 OK", [*TEXT, ("Content-Length", "4")])
    return _RecordingIterable(iter([b"done"]))


def endless(environ: Environ, start_response: StartResponse) -> _RecordingIterable:
    """Streams forever (until the server stops iterating), recording each chunk."""
    start_response("200 OK", TEXT)

    def chunks() -> Iterator[bytes]:
        n = 0
        while True:
            n += 1
            record(f"chunk {n}")
            time.sleep(0.005)
            yield b"x" * 1024

    return _RecordingIterable(chunks())


def raise_mid_iteration(environ: Environ, start_response: StartResponse) -> _RecordingIterable:
    """Yields one chunk, then raises (``?first=0``: raises before yielding)."""
    start_response("200 OK", TEXT)
    yield_first = query(environ).get("first", "1") == "1"

    def chunks() -> Iterator[bytes]:
        if yield_first:
            yield b"first-chunk;"
        raise RuntimeError("iteration failed")

    return _RecordingIterable(chunks())


def slow(environ: Environ, start_response: StartResponse) -> list[bytes]:
    time.sleep(float(query(environ).get("sleep", 0.5)))
    return respond(start_response, threading.current_thread().name.encode())


def hop_by_hop(environ: Environ, start_response: StartResponse) -> list[bytes]:
    """Sends the hop-by-hop header named by ``?h=``, which PEP 3333 forbids."""
    name = query(environ)["h"]
    value = {"Transfer-Encoding": "chunked", "Upgrade": "websocket"}.get(name, "close")
    return respond_with_header(start_response, name, value)


def respond_with_header(start_response: StartResponse, name: str, value: str) -> list[bytes]:
    start_response("200 OK", [*TEXT, ("Content-Length", "2"), (name, value)])
    return [b"ok"]


def bad_header(environ: Environ, start_response: StartResponse) -> list[bytes]:
    """Puts CR/LF into a header name or value, as ``?where=`` says."""
    where = query(environ)["where"]
    if where == "value":
        return respond_with_header(start_response, "X-Note", "fine\r\nX-Injected: yes")
    if where == "value_lf":
        return respond_with_header(start_response, "X-Note", "fine\nX-Injected: yes")
    return respond_with_header(start_response, "X-Injected: yes\r\nX-Note", "fine")


def boom(environ: Environ, start_response: StartResponse) -> list[bytes]:
    raise RuntimeError("kaboom-secret-detail")


def _validated_inner(environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
    path = environ["PATH_INFO"]
    if path == "/echo":
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length)
        start_response("200 OK", [*TEXT, ("Content-Length", str(len(body)))])
        return [body]
    if path == "/chunked":
        start_response("200 OK", TEXT)
        return [b"one;", b"two;", b"three;"]
    if path == "/file":
        start_response("200 OK", [*TEXT, ("Content-Length", "300000")])
        f = open(_pattern_file(300000), "rb")  # noqa: SIM115 - closed by the wrapper
        return environ["wsgi.file_wrapper"](f, 8192)
    start_response("200 OK", [*TEXT, ("Content-Length", "9")])
    return [b"validated"]


validated = validator(_validated_inner)


def stuck(environ: Environ, start_response: StartResponse) -> list[bytes]:
    """Records that it started, then sleeps far longer than any graceful timeout."""
    record("started")
    time.sleep(60)
    return respond(start_response, b"too late")


def block_loop(environ: Environ, start_response: StartResponse) -> list[bytes]:
    """``/block`` blocks its worker (inline, so the event loop stops); else answers."""
    if environ["PATH_INFO"] == "/block":
        while True:
            time.sleep(0.05)  # a stuck app: the worker's loop never runs again
    return respond(start_response, str(os.getpid()).encode())


BIG_CHUNK = bytes(range(256)) * 256  # 64 KiB


def attack_target(environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
    """What slow-client attacks aim at: ``/big?mib=N`` is N MiB (default 1) sent in 64 KiB
    chunks; anything else reads the whole request body and answers its size."""
    if environ["PATH_INFO"] == "/big":
        chunks = 16 * int(query(environ).get("mib", 1))
        start_response("200 OK", [*TEXT, ("Content-Length", str(len(BIG_CHUNK) * chunks))])
        return (BIG_CHUNK for _ in range(chunks))
    body = environ["wsgi.input"].read()
    return respond(start_response, f"read {len(body)}".encode())


def path_pieces(environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
    """Echoes the path: streamed in three pieces under /stream/, whole otherwise."""
    path = environ["PATH_INFO"].encode()
    start_response("200 OK", TEXT)
    if path.startswith(b"/stream/"):
        return iter([path[:3], path[3:7], path[7:]])
    return [path]


def loaded_gateways(environ: Environ, start_response: StartResponse) -> list[bytes]:
    """Which of corral's gateway modules this worker has imported, one per line."""
    import sys

    names = sorted(name for name in sys.modules if name.startswith("corral.gateway."))
    return respond(start_response, "\n".join(names).encode())


def loop_visibility(environ: Environ, start_response: StartResponse) -> list[bytes]:
    """What synchronous app code sees of asyncio (``?run=1``: also runs asyncio.run())."""
    import asyncio

    try:
        asyncio.get_running_loop()
        seen = "running-loop-visible"
    except RuntimeError:
        seen = "no-running-loop"

    async def answer() -> int:
        await asyncio.sleep(0)
        return 42

    ran = asyncio.run(answer()) if query(environ).get("run") == "1" else 0
    return respond(start_response, f"{seen} {ran}".encode())
