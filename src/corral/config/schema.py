"""Every corral setting, declared once.

Each section is a class whose typed attributes are settings; :class:`Settings`
combines them, and :data:`SETTINGS` maps each name to its :class:`Setting`
record. Flags include gunicorn's and uvicorn's spellings of the same setting so
their command lines keep working; ``gunicorn=`` names the setting in a
gunicorn.conf.py. Settings with ``supported=False`` are declared for a later
issue: setting them to anything but the default is refused for now.
"""

from __future__ import annotations

from corral.config.declaration import Setting, collect, setting
from corral.config.kinds import (
    Bool,
    Choice,
    EnvPair,
    Float,
    Int,
    ListOf,
    NameOrId,
    Octal,
    Optional,
    Size,
    Str,
)
from corral.config.later import LaterSettings
from corral.config.listeners import Host, Listener
from corral.config.protection import OverloadSettings, ProxySettings, SlowClientSettings

DEFAULT_ACCESS_LOG_FORMAT = '%(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s" %(M)sms'


class ApplicationSettings:
    """Application"""

    app: str | None = setting(
        None,
        Optional(Str("APP")),
        "The app to serve: 'module:attribute', or 'module' for its 'application' "
        "(Django's wsgi.py and asgi.py). Dotted attributes are allowed.",
        positional=True,
        gunicorn="wsgi_app",
    )
    factory: bool = setting(
        False,
        Bool(),
        "Treat APP as a factory: call it with no arguments to get the app.",
        flags=["--factory"],
    )
    interface: str = setting(
        "auto",
        Choice("auto", "wsgi", "asgi", aliases={"asgi3": "asgi"}),
        "The app's interface; auto detects ASGI (an async callable) or WSGI.",
        flags=["--interface"],
    )
    chdir: str | None = setting(
        None,
        Optional(Str("DIR")),
        "Change to this directory before loading the app (and put it first on sys.path).",
        flags=["--chdir"],
        gunicorn=True,
    )
    pythonpath: list[str] = setting(
        [],
        ListOf(Str("DIR")),
        "Directories to add to sys.path, comma separated (relative to chdir).",
        flags=["--pythonpath", "--app-dir"],
        gunicorn=True,
    )
    env_file: str | None = setting(
        None,
        Optional(Str("PATH")),
        "A .env file of KEY=VALUE lines loaded into the app's environment; "
        "variables already set are kept.",
        flags=["--env-file"],
    )
    raw_env: list[str] = setting(
        [],
        ListOf(EnvPair(), sep=None),
        "Set an environment variable for the app (KEY=VALUE); repeat for more.",
        flags=["-e", "--env"],
        gunicorn=True,
    )


class ListenerSettings:
    """Listeners"""

    bind: list[str] = setting(
        ["127.0.0.1:8000"],
        ListOf(Listener()),
        "Address to listen on: HOST:PORT, [IPV6]:PORT, :PORT (all interfaces), "
        "unix:PATH or fd://N; repeat for more. Port 0 lets the OS choose.",
        flags=["-b", "--bind"],
        gunicorn=True,
    )
    host: str | None = setting(
        None,
        Host(),
        "Listen on this host (uvicorn style; port 8000 or $PORT unless --port is given).",
        flags=["--host"],
    )
    port: int | None = setting(
        None,
        Optional(Int(0, 65535)),
        "Listen on this port (uvicorn style; host 127.0.0.1 unless --host is given).",
        flags=["--port"],
    )
    uds: str | None = setting(
        None,
        Optional(Str("PATH")),
        "Listen on this Unix domain socket path (same as --bind unix:PATH).",
        flags=["--uds"],
    )
    fd: int | None = setting(
        None,
        Optional(Int(0)),
        "Listen on this already-open socket file descriptor (same as --bind fd://N).",
        flags=["--fd"],
    )
    backlog: int = setting(
        2048,
        Int(1),
        "Maximum number of pending connections queued by the kernel.",
        flags=["--backlog"],
        gunicorn=True,
    )


class ProcessSettings:
    """Processes"""

    workers: int = setting(
        1,
        Int(1),
        "Number of worker processes the master keeps running (TTIN/TTOU change it live).",
        flags=["-w", "--workers"],
        extra_env=["WEB_CONCURRENCY"],
        gunicorn=True,
    )
    threads: int = setting(
        1,
        Int(1),
        "Threads per worker for WSGI apps; 1 runs the app inline on the event loop thread.",
        flags=["--threads"],
        gunicorn=True,
    )
    timeout: float = setting(
        30.0,
        Float(),
        "Seconds without a heartbeat from a worker's event loop before the master dumps "
        "its stack and replaces it (0 disables).",
        flags=["-t", "--timeout"],
        gunicorn=True,
    )
    graceful_timeout: float = setting(
        30.0,
        Float(),
        "On shutdown, time given to in-flight requests before connections are closed.",
        flags=["--graceful-timeout", "--timeout-graceful-shutdown"],
        gunicorn=True,
    )
    health_path: str | None = setting(
        None,
        Optional(Str("PATH")),
        "URL path answered by corral itself, before the app: 200 while serving, 503 while "
        "shutting down (for load balancer and Kubernetes readiness probes).",
        flags=["--health-path"],
    )
    shutdown_delay: float = setting(
        0.0,
        Float(),
        "On SIGTERM, keep serving normally this many seconds while the health path answers "
        "503, so load balancers take the server out of rotation before it drains.",
        flags=["--shutdown-delay"],
    )
    max_requests: int = setting(
        0,
        Int(0),
        "Restart a worker after this many requests (0 = never).",
        flags=["--max-requests", "--limit-max-requests"],
        gunicorn=True,
    )
    max_requests_jitter: int = setting(
        0,
        Int(0),
        "Add up to this many requests, at random, to max_requests per worker.",
        flags=["--max-requests-jitter", "--limit-max-requests-jitter"],
        gunicorn=True,
    )
    preload_app: bool = setting(
        False,
        Bool(),
        "Import the app once in the master before forking workers (memory pages then stay "
        "shared between workers; a code change needs a restart, not a HUP).",
        flags=["--preload"],
        gunicorn=True,
    )
    max_worker_lifetime: float = setting(
        0.0,
        Float(),
        "Replace a worker after this many seconds (0 = never); new before old.",
        flags=["--max-worker-lifetime"],
    )
    max_worker_lifetime_jitter: float = setting(
        0.0,
        Float(),
        "Add up to this many seconds, at random, to max_worker_lifetime per worker.",
        flags=["--max-worker-lifetime-jitter"],
    )
    max_worker_memory: int = setting(
        0,
        Int(0),
        "Replace a worker whose unique memory (USS, MiB) passes this (0 = never); pages "
        "shared after --preload do not count.",
        flags=["--max-worker-memory"],
    )
    daemon: bool = setting(
        False,
        Bool(),
        "Detach from the terminal and run in the background (log to files and use --pid; "
        "under systemd or in a container, do not).",
        flags=["-D", "--daemon"],
        gunicorn=True,
    )
    reuse_port: bool = setting(
        False,
        Bool(),
        "Give each worker its own SO_REUSEPORT socket on TCP listeners instead of one shared "
        "socket (the kernel then spreads connections evenly; see docs/operations.md).",
        flags=["--reuse-port"],
        gunicorn=True,
    )
    request_timeout: float = setting(
        0.0,
        Float(),
        "Seconds an app may take to answer a request: then 504 if nothing was sent, else the "
        "connection is aborted; the request is abandoned and logged with its stack (0 = off).",
        flags=["--request-timeout"],
    )
    user: str | None = setting(
        None,
        Optional(NameOrId()),
        "Run worker processes as this user (name or uid); the master binds first.",
        flags=["-u", "--user"],
        gunicorn=True,
    )
    group: str | None = setting(
        None,
        Optional(NameOrId()),
        "Run worker processes with this group (name or gid).",
        flags=["-g", "--group"],
        gunicorn=True,
    )
    umask: int = setting(
        0,
        Octal(0o777),
        "Mask for the mode of unix socket files corral creates (octal, as gunicorn; "
        "0 gives srwxrwxrwx).",
        flags=["-m", "--umask"],
        gunicorn=True,
    )
    pidfile: str | None = setting(
        None,
        Optional(Str("FILE")),
        "Write the master's process id to this file.",
        flags=["-p", "--pid"],
        gunicorn=True,
    )
    loop: str = setting(
        "auto",
        Choice("auto", "uvloop"),
        "Event loop; corral always uses uvloop (accepted for uvicorn command lines).",
        flags=["--loop"],
    )
    http: str = setting(
        "auto",
        Choice("auto", "httptools"),
        "HTTP/1.1 parser; corral always uses httptools (accepted for uvicorn command lines).",
        flags=["--http"],
    )


class HttpSettings:
    """HTTP"""

    keepalive: float = setting(
        75.0,
        Float(),
        "Seconds an idle keep-alive connection is kept open (0 closes after each "
        "response). 75 s outlasts the 60 s idle timeout of AWS ALB and nginx, so the "
        "proxy closes first; behind a Google Cloud load balancer use 620.",
        flags=["--keep-alive", "--timeout-keep-alive"],
        gunicorn=True,
    )
    first_byte_timeout: float = setting(
        10.0,
        Float(exclusive=True),
        "Seconds a new connection may take to send its first byte.",
        flags=["--first-byte-timeout"],
    )
    header_timeout: float = setting(
        5.0,
        Float(exclusive=True),
        "Seconds to receive the complete request head, from its first byte.",
        flags=["--header-timeout"],
    )
    limit_request_line: int = setting(
        8190,
        Int(0),
        "Maximum size in bytes of the request line (method, target, version); 0 = unlimited.",
        flags=["--limit-request-line"],
        gunicorn=True,
    )
    limit_request_fields: int = setting(
        100,
        Int(0),
        "Maximum number of header fields in a request; 0 = unlimited.",
        flags=["--limit-request-fields"],
        gunicorn=True,
    )
    limit_request_field_size: int = setting(
        8190,
        Int(0),
        "Maximum size in bytes of one request header field; 0 = unlimited.",
        flags=["--limit-request-field-size", "--limit-request-field_size"],
        gunicorn=True,
    )
    limit_request_head: int = setting(
        65536,
        Size(),
        "Maximum size in bytes of the whole request head; 0 = unlimited.",
        flags=["--limit-request-head"],
    )
    limit_request_body: int = setting(
        1073741824,
        Size(),
        "Maximum size in bytes of a request body (413 beyond it); 0 = unlimited.",
        flags=["--limit-request-body"],
    )
    wsgi_chunked_buffer: int = setting(
        10485760,
        Size(),
        "Chunked request bodies up to this size are read whole before a WSGI app runs, "
        "so CONTENT_LENGTH can be set; larger ones are streamed (0 = never buffer).",
        flags=["--wsgi-chunked-buffer"],
    )
    body_spool_threshold: int = setting(
        1048576,
        Size(),
        "A buffered request body is kept in memory up to this size, then in a temp file.",
        flags=["--body-spool-threshold"],
    )
    drain_limit: int = setting(
        1048576,
        Size(),
        "Request body left unread by the app is drained up to this size so the "
        "connection can be kept alive; beyond it the connection is closed.",
        flags=["--drain-limit"],
    )
    root_path: str = setting(
        "",
        Str("PATH"),
        "The URL prefix the app is mounted under (ASGI root_path, WSGI SCRIPT_NAME).",
        flags=["--root-path"],
        gunicorn=True,
    )
    server_header: bool = setting(
        True,
        Bool(),
        "Send a 'Server: corral' header when the app sets none.",
        flags=["--server-header"],
        negative_flags=["--no-server-header"],
    )
    date_header: bool = setting(
        True,
        Bool(),
        "Send a Date header when the app sets none.",
        flags=["--date-header"],
        negative_flags=["--no-date-header"],
    )
    lifespan: str = setting(
        "auto",
        Choice("auto", "on", "off"),
        "ASGI lifespan events: auto runs them if the app supports them, on requires "
        "them, off skips them.",
        flags=["--lifespan"],
        gunicorn="asgi_lifespan",
    )


class LoggingSettings:
    """Logging"""

    access_log: bool = setting(
        True,
        Bool(),
        "Write an access log line per request.",
        flags=["--access-log"],
        negative_flags=["--no-access-log"],
    )
    accesslog: str = setting(
        "-",
        Str("FILE", empty=False),
        "Access log file; '-' is stdout. (accesslog = None in a gunicorn.conf.py, "
        "gunicorn's way to turn it off, sets access_log = false.)",
        flags=["--access-logfile"],
        gunicorn=True,
    )
    access_log_format: str = setting(
        DEFAULT_ACCESS_LOG_FORMAT,
        Str("FORMAT", empty=False),
        "Access log line, with gunicorn's %(x)s atoms; the default is the combined "
        "log format plus the request duration in milliseconds.",
        flags=["--access-logformat"],
        gunicorn=True,
    )
    errorlog: str = setting(
        "-",
        Str("FILE", empty=False),
        "Error log file; '-' is stderr.",
        flags=["--error-logfile", "--log-file"],
        gunicorn=True,
    )
    loglevel: str = setting(
        "info",
        Choice(
            "debug",
            "info",
            "warning",
            "error",
            "critical",
            aliases={"trace": "debug", "warn": "warning"},
        ),
        "Error log level.",
        flags=["--log-level"],
        gunicorn=True,
    )


SECTIONS: tuple[type, ...] = (
    ApplicationSettings,
    ListenerSettings,
    ProcessSettings,
    HttpSettings,
    SlowClientSettings,
    OverloadSettings,
    ProxySettings,
    LoggingSettings,
    LaterSettings,
)


class Settings(
    ApplicationSettings,
    ListenerSettings,
    ProcessSettings,
    HttpSettings,
    SlowClientSettings,
    OverloadSettings,
    ProxySettings,
    LoggingSettings,
    LaterSettings,
):
    """All settings as typed attributes (their class values are the defaults)."""


#: Every setting by name, in declaration order.
SETTINGS: dict[str, Setting] = collect(*SECTIONS)
#: gunicorn config-file names of the settings corral shares with gunicorn.
GUNICORN_NAMES: dict[str, str] = {s.gunicorn: s.name for s in SETTINGS.values() if s.gunicorn}
