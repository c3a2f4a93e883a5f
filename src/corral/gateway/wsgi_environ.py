"""Building the PEP 3333 environ from an exchange (pure apart from the input object)."""

from __future__ import annotations

import sys
from typing import Any

from corral.gateway.paths import PERCENT, decode_path, split_root_path

# Header names seen before, mapped to their environ keys (bounded: names come from clients).
_KEYS: dict[bytes, str | None] = {
    b"content-type": "CONTENT_TYPE",
    b"content-length": "CONTENT_LENGTH",
}
_MAX_KEYS = 2048


def _environ_key(name: bytes) -> str | None:
    key = _KEYS.get(name)
    if key is None and name not in _KEYS:
        # Names with "_" would be ambiguous with "-" once mapped (X_Forwarded_For
        # could pose as X-Forwarded-For), so they are left out, as nginx does.
        key = None if b"_" in name else "HTTP_" + name.decode("latin-1").upper().replace("-", "_")
        if len(_KEYS) < _MAX_KEYS:
            _KEYS[name] = key
    return key


def base_environ(multithread: bool, file_wrapper: Any) -> dict[str, Any]:
    """The keys that are the same for every request of a worker."""
    return {
        "wsgi.version": (1, 0),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": multithread,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
        "wsgi.input_terminated": True,
        "wsgi.file_wrapper": file_wrapper,
        "SERVER_SOFTWARE": "corral",
        "SCRIPT_NAME": "",  # replaced when a root path applies
    }


def connection_environ(base: dict[str, Any], exchange: Any) -> dict[str, Any]:
    """The keys that are the same for every request on one connection."""
    environ = base.copy()
    server = exchange.server
    client = exchange.client
    environ["wsgi.url_scheme"] = exchange.scheme
    if server is not None:
        environ["SERVER_NAME"] = server[0]
        environ["SERVER_PORT"] = str(server[1])
    else:
        environ["SERVER_NAME"] = "localhost"
        environ["SERVER_PORT"] = "80" if exchange.scheme == "http" else "443"
    if client is not None:
        environ["REMOTE_ADDR"] = client[0]
        environ["REMOTE_PORT"] = str(client[1])
    return environ


def build_environ(
    conn_environ: dict[str, Any],
    exchange: Any,
    root_path: bytes,
    body: Any,
    content_length: int | None,
) -> dict[str, Any]:
    """The environ of one request; ``content_length`` is known or None (streamed)."""
    path = exchange.path
    environ = conn_environ.copy()
    if root_path or PERCENT in path:
        script_name, path_info = split_root_path(decode_path(path), root_path)
        environ["SCRIPT_NAME"] = script_name.decode("latin-1")
        environ["PATH_INFO"] = path_info.decode("latin-1")
    else:
        environ["PATH_INFO"] = path.decode("latin-1")
    environ["REQUEST_METHOD"] = exchange.method
    query = exchange.query
    environ["QUERY_STRING"] = query.decode("latin-1") if query else ""
    environ["SERVER_PROTOCOL"] = "HTTP/1.1" if exchange.http_version == "1.1" else "HTTP/1.0"
    environ["wsgi.input"] = body
    for name, value in exchange.headers:
        key = _KEYS.get(name) or _environ_key(name)
        if key is None:
            continue
        text = value.decode("latin-1")
        if key in environ and key[0] == "H":
            # RFC 9110 §5.3: repeated fields combine with commas (cookies with "; ").
            text = environ[key] + ("; " if key == "HTTP_COOKIE" else ", ") + text
        environ[key] = text
    if content_length is not None:
        environ["CONTENT_LENGTH"] = str(content_length)
    elif "CONTENT_LENGTH" in environ:
        del environ["CONTENT_LENGTH"]
    return environ
