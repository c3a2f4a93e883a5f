"""ASGI apps the integration tests serve; each is small and does one thing.

Apps that must report something the client cannot see (a disconnect, how far a
stream got, lifespan events) append lines to the file named by
``$TEST_RECORD_FILE``.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qs

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]

TEXT = [(b"content-type", b"text/plain")]


def record(line: str) -> None:
    """Append one line to the record file the test named in the environment."""
    with open(os.environ["TEST_RECORD_FILE"], "a", encoding="utf-8") as f:
        f.write(line + "\n")


def query(scope: Scope) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(scope["query_string"].decode("latin-1")).items()}


async def lifespan_noop(receive: Receive, send: Send) -> None:
    """Accept lifespan startup and shutdown without doing anything."""
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


async def respond(send: Send, body: bytes, status: int = 200) -> None:
    headers = [*TEXT, (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def read_body(receive: Receive) -> tuple[bytes, list[bool]]:
    """The whole request body, and the more_body flag of each message."""
    parts: list[bytes] = []
    flags: list[bool] = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        parts.append(message.get("body", b""))
        flags.append(message.get("more_body", False))
        if not flags[-1]:
            break
    return b"".join(parts), flags


async def hello(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] == "lifespan":
        return await lifespan_noop(receive, send)
    await respond(send, b"hello from asgi")


class ClassApp:
    """An ASGI 3 app that is an instance with an ``async def __call__``."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            return await lifespan_noop(receive, send)
        await respond(send, b"hello from a class instance")


class_app = ClassApp()


def sync_wrapper_app(scope: Scope, receive: Receive, send: Send) -> Awaitable[None]:
    """ASGI behind a plain function: detected as WSGI, served with ``--interface asgi``."""

    async def run() -> None:
        if scope["type"] != "http":
            raise RuntimeError("no lifespan support")
        await respond(send, b"served as asgi")

    return run()


async def path_app(scope: Scope, receive: Receive, send: Send) -> None:
    """Answers with its own path; ``?sleep=S`` waits first."""
    if scope["type"] == "lifespan":
        return await lifespan_noop(receive, send)
    delay = float(query(scope).get("sleep", 0))
    if delay:
        await asyncio.sleep(delay)
    await respond(send, scope["path"].encode())


def _plain(value: Any) -> Any:
    """Scope values as JSON: bytes become {"b": latin-1 text}, tuples lists."""
    if isinstance(value, bytes):
        return {"b": value.decode("latin-1")}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


async def scope_app(scope: Scope, receive: Receive, send: Send) -> None:
    """Answers the scope as JSON, with each value's type name."""
    if scope["type"] == "lifespan":
        return await lifespan_noop(receive, send)
    out = {k: _plain(v) for k, v in scope.items() if k != "state"}
    out["_types"] = {k: type(v).__name__ for k, v in scope.items()}
    out["_header_types"] = sorted({type(x).__name__ for pair in scope["headers"] for x in pair})
    await respond(send, json.dumps(out).encode())


async def echo(scope: Scope, receive: Receive, send: Send) -> None:
    """Answers with the whole request body."""
    if scope["type"] == "lifespan":
        return await lifespan_noop(receive, send)
    body, _ = await read_body(receive)
    await respond(send, body)


async def body_digest(scope: Scope, receive: Receive, send: Send) -> None:
    """Answers the body's size, sha256 and the more_body flags of its messages."""
    if scope["type"] == "lifespan":
        return await lifespan_noop(receive, send)
    body, flags = await read_body(receive)
    info = {"size": len(body), "sha256": hashlib.sha256(body).hexdigest(), "flags": flags}
    await respond(send, json.dumps(info).encode())


async def ignore_body(scope: Scope, receive: Receive, send: Send) -> None:
    """Never calls receive(); answers with its path."""
    if scope["type"] == "lifespan":
        return await lifespan_noop(receive, send)
    await respond(send, scope["path"].encode())


async def streaming(scope: Scope, receive: Receive, send: Send) -> None:
    """Three body messages, the first 0.5 s before the others."""
    if scope["type"] == "lifespan":
        return await lifespan_noop(receive, send)
    await send({"type": "http.response.start", "status": 200, "headers": TEXT})
    await send({"type": "http.response.body", "body": b"first;", "more_body": True})
    await asyncio.sleep(0.5)
    await send({"type": "http.response.body", "body": b"second;", "more_body": True})
    await send({"type": "http.response.body", "body": b"third;", "more_body": False})


async def forever(scope: Scope, receive: Receive, send: Send) -> None:
    """Streams until the client goes away; records the http.disconnect it receives."""
    if scope["type"] == "lifespan":
        return await lifespan_noop(receive, send)

    async def watch() -> None:
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                record("http.disconnect")
                return

    watcher = asyncio.ensure_future(watch())
    await send({"type": "http.response.start", "status": 200, "headers": TEXT})
    try:
        while not watcher.done():
            await send({"type": "http.response.body", "body": b"x" * 1024, "more_body": True})
            await asyncio.sleep(0.005)
    except OSError:
        record("send raised OSError")
    await asyncio.wait({watcher}, timeout=5)


CHUNK_COUNT = 1000
CHUNK = b"y" * 65536


async def flood(scope: Scope, receive: Receive, send: Send) -> None:
    """Sends 1000 x 64 KiB as fast as send() lets it, recording each chunk sent."""
    if scope["type"] == "lifespan":
        return await lifespan_noop(receive, send)
    await send({"type": "http.response.start", "status": 200, "headers": TEXT})
    for n in range(1, CHUNK_COUNT + 1):
        await send({"type": "http.response.body", "body": CHUNK, "more_body": n < CHUNK_COUNT})
        record(f"sent {n}")


async def disconnect_after_response(scope: Scope, receive: Receive, send: Send) -> None:
    """Completes its response, then records what receive() returns next."""
    if scope["type"] == "lifespan":
        return await lifespan_noop(receive, send)
    await read_body(receive)
    await respond(send, b"done")
    message = await asyncio.wait_for(receive(), 10)
    record(message["type"])


async def violation(scope: Scope, receive: Receive, send: Send) -> None:
    """Breaks the ASGI protocol as ``?kind=`` says."""
    if scope["type"] == "lifespan":
        return await lifespan_noop(receive, send)
    kind = query(scope)["kind"]
    start = {"type": "http.response.start", "status": 200, "headers": TEXT}
    if kind == "body_before_start":
        await send({"type": "http.response.body", "body": b"too early"})
    elif kind == "start_twice":
        await send(start)
        await send(start)
    elif kind == "wrong_type":
        await send({"type": "websocket.send", "text": "wrong scope"})
    elif kind == "non_bytes":
        await send(start)
        await send({"type": "http.response.body", "body": "a str, not bytes"})
    elif kind == "no_response":
        return
    await send({"type": "http.response.body", "body": b"after the violation"})


async def boom(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] == "lifespan":
        return await lifespan_noop(receive, send)
    raise RuntimeError("kaboom-secret-detail")


async def slow(scope: Scope, receive: Receive, send: Send) -> None:
    """Records that it started, then answers after ``?sleep=`` seconds (default 1)."""
    if scope["type"] == "lifespan":
        return await lifespan_noop(receive, send)
    record(f"started {scope['path']}")
    await asyncio.sleep(float(query(scope).get("sleep", 1)))
    await respond(send, b"slow response done")


async def lifespan_state(scope: Scope, receive: Receive, send: Send) -> None:
    """Puts a value into the lifespan state; requests answer what their state holds."""
    if scope["type"] == "lifespan":
        message = await receive()
        assert message["type"] == "lifespan.startup"
        scope["state"]["greeting"] = "set-at-startup"
        await send({"type": "lifespan.startup.complete"})
        message = await receive()
        await send({"type": "lifespan.shutdown.complete"})
        return
    state = scope.get("state")
    answer = json.dumps(dict(state) if state is not None else None)
    if state is not None:
        state["leaked_from_request"] = True  # a shallow copy per request: must not leak
    await respond(send, answer.encode())


async def lifespan_raises(scope: Scope, receive: Receive, send: Send) -> None:
    """Like Django's ASGIHandler: raises for any scope but http."""
    if scope["type"] != "http":
        raise ValueError(f"scope type {scope['type']!r} is not supported")
    await respond(send, b"served without lifespan")


async def lifespan_fails(scope: Scope, receive: Receive, send: Send) -> None:
    """Reports a failed startup."""
    if scope["type"] == "lifespan":
        await receive()
        await send({"type": "lifespan.startup.failed", "message": "database unreachable (lf-42)"})
        return
    await respond(send, b"should never serve")


async def lifespan_marker(scope: Scope, receive: Receive, send: Send) -> None:
    """Records lifespan startup and shutdown."""
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                record("startup")
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                record("shutdown")
                await send({"type": "lifespan.shutdown.complete"})
                return
    await respond(send, b"ok")


BIG_CHUNK = bytes(range(256)) * 256  # 64 KiB


async def attack_target(scope: Scope, receive: Receive, send: Send) -> None:
    """What slow-client attacks aim at: ``/big?mib=N`` is N MiB (default 1) sent in 64 KiB
    chunks; anything else reads the whole request body and answers its size."""
    if scope["type"] == "lifespan":
        return await lifespan_noop(receive, send)
    if scope["path"] == "/big":
        chunks = 16 * int(query(scope).get("mib", 1))
        size = str(len(BIG_CHUNK) * chunks).encode()
        headers = [*TEXT, (b"content-length", size)]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        for n in range(1, chunks + 1):
            await send({"type": "http.response.body", "body": BIG_CHUNK, "more_body": n < chunks})
        return
    body, _ = await read_body(receive)
    await respond(send, f"read {len(body)}".encode())


async def late_reader(scope: Scope, receive: Receive, send: Send) -> None:
    """Waits ``?sleep=`` seconds before reading the body, then answers its size; a
    ``?status=`` answers that status with ``content-length: 0`` without reading."""
    if scope["type"] == "lifespan":
        return await lifespan_noop(receive, send)
    params = query(scope)
    if "status" in params:
        headers = [(b"content-length", b"0")]
        status = int(params["status"])
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": b""})
        return
    await asyncio.sleep(float(params.get("sleep", 0)))
    body, _ = await read_body(receive)
    await respond(send, f"read {len(body)}".encode())


async def loaded_gateways(scope: Scope, receive: Receive, send: Send) -> None:
    """Which of corral's gateway modules this worker has imported, one per line."""
    import sys

    if scope["type"] == "lifespan":
        return await lifespan_noop(receive, send)
    names = sorted(name for name in sys.modules if name.startswith("corral.gateway."))
    await respond(send, "\n".join(names).encode())


async def task_facts(scope: Scope, receive: Receive, send: Send) -> None:
    """The request's own task, and (``?factory=1``) a task factory set from then on."""
    if scope["type"] == "lifespan":
        return await lifespan_noop(receive, send)
    loop = asyncio.get_running_loop()
    if query(scope).get("factory") == "1" and loop.get_task_factory() is None:

        def factory(loop: asyncio.AbstractEventLoop, coro: Any, **kwargs: Any) -> Any:
            task = asyncio.Task(coro, loop=loop, **kwargs)
            task.set_name("made-by-the-app-factory")
            return task

        loop.set_task_factory(factory)
    task = asyncio.current_task()
    facts = {
        "is_task": isinstance(task, asyncio.Task),
        "name": task.get_name() if task else None,
        "in_all_tasks": task in asyncio.all_tasks(),
    }
    await respond(send, json.dumps(facts).encode())


async def send_styles(scope: Scope, receive: Receive, send: Send) -> None:
    """Sends its response in the way ``?style=`` names: awaited, as tasks, gathered,
    through an anyio task group, or checked against the awaitable and Coroutine ABCs."""
    if scope["type"] == "lifespan":
        return await lifespan_noop(receive, send)
    import collections.abc
    import inspect

    import anyio

    style = query(scope).get("style", "await")
    start = {"type": "http.response.start", "status": 200, "headers": TEXT}
    body = {"type": "http.response.body", "body": f"sent:{style}".encode()}
    if style == "task":
        await asyncio.create_task(send(start))
        await asyncio.ensure_future(send(body))
    elif style == "gather":
        await asyncio.gather(send(start))
        await asyncio.wait_for(send(body), 5)
    elif style == "anyio":
        async with anyio.create_task_group() as tg:
            tg.start_soon(send, start)
        async with anyio.create_task_group() as tg:
            tg.start_soon(send, body)
    elif style == "abc":
        first = send(start)
        kinds = (
            isinstance(first, collections.abc.Coroutine),
            isinstance(first, collections.abc.Awaitable),
            inspect.isawaitable(first),
            asyncio.iscoroutine(first),
        )
        await first
        await first  # awaiting a completed send again returns at once, as a Future would
        body["body"] += b" " + json.dumps(kinds).encode()
        await send(body)
    else:
        await send(start)
        await send(body)
