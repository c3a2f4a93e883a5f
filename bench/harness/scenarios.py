"""The scenarios: which app, which load, which servers, which targets."""

from __future__ import annotations

import dataclasses

from harness.servers import SERVERS

POST_SIZE = 100 * 1024  # the echo scenario's request body


@dataclasses.dataclass(frozen=True)
class Scenario:
    name: str
    interface: str  # "wsgi" or "asgi"
    module: str  # in bench/apps, or in the prepared Django site
    attr: str = "app"
    kind: str = "wrk"  # "wrk": throughput; "idle": 1,000 keep-alive connections + PSS
    django: bool = False  # the app lives in the prepared Django site
    post: bool = False  # wrk POSTs POST_SIZE bytes
    body: bytes | None = None  # the probe's expected body (None: any 200)
    with_log: bool = False  # also run corral-log
    with_nginx: bool = False  # also run the references: nginx and the uvloop+httptools floor
    ceiling: bool = False  # add the Django in-process ceiling row
    skip: tuple[str, ...] = ()  # servers that cannot serve it (named in --servers: still run)
    # (peer, target): corral / peer must be >= target. "*" = every peer; for "idle"
    # scenarios the ratio is peer PSS / corral PSS (higher is better for corral).
    targets: tuple[tuple[str, float], ...] = (("*", 1.0),)

    def servers(self, extra: tuple[str, ...] = ()) -> list[str]:
        """Every default server of the interface, plus those of ``extra`` that serve it."""
        names = [
            n
            for n, s in SERVERS.items()
            if self.interface in s.interfaces and ((s.default and n not in self.skip) or n in extra)
        ]
        if not self.with_log:
            names.remove("corral-log")
        if self.with_nginx:
            names += [n for n in ("floor", "nginx") if n not in names]
        return names


HELLO = b"Hello, world!"
SCENARIOS: dict[str, Scenario] = {
    s.name: s
    for s in [
        Scenario("hello-wsgi", "wsgi", "hello_wsgi", body=HELLO, with_log=True,
                 with_nginx=True, targets=(("bjoern", 1.0),)),
        Scenario("hello-asgi", "asgi", "hello_asgi", body=HELLO, with_log=True,
                 with_nginx=True, targets=(("uvicorn", 1.7), ("granian", 1.7))),
        Scenario("django-wsgi", "wsgi", "mysite.wsgi", "application", django=True,
                 ceiling=True, targets=(("*", 1.0), ("ceiling", 0.95))),
        Scenario("django-asgi", "asgi", "mysite.asgi", "application", django=True, targets=()),
        Scenario("echo-wsgi", "wsgi", "echo_wsgi", post=True),
        Scenario("echo-asgi", "asgi", "echo_asgi", post=True),
        Scenario("stream-wsgi", "wsgi", "stream_wsgi"),
        Scenario("stream-asgi", "asgi", "stream_asgi"),
        # gunicorn's sync worker closes every connection: no idle keep-alive connections.
        Scenario("idle-wsgi", "wsgi", "hello_wsgi", kind="idle", targets=(),
                 skip=("gunicorn-sync",)),
        Scenario("idle-asgi", "asgi", "hello_asgi", kind="idle", targets=(("uvicorn", 1.0),)),
    ]
}  # fmt: skip
