"""Listener addresses: checking one address and folding all listener settings into one list.

Listener strings are ``HOST:PORT``, ``[IPV6]:PORT``, ``unix:PATH`` or ``fd://N``.
Accepted shorthands: ``:PORT`` means all IPv4 interfaces (``0.0.0.0:PORT``, as in
gunicorn), ``HOST`` alone means port 8000, ``unix://PATH`` and ``tcp://HOST:PORT``
are accepted as spelled by gunicorn. A bare ``PORT`` is refused because it is
ambiguous (this machine only, or every interface?).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from corral.config.kinds import Int, Kind

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000
PORT_ENV_HOST = "0.0.0.0"  # $PORT is set by platforms that route traffic to the container

_HOSTNAME_RE = re.compile(r"[A-Za-z0-9_]([A-Za-z0-9_.-]*[A-Za-z0-9_])?\.?")
PORT = Int(0, 65535)
LISTENER_SETTINGS = ("bind", "host", "port", "uds", "fd")
CLI = "command line "


def format_host_port(host: str, port: int) -> str:
    """``HOST:PORT``, with brackets around an IPv6 address."""
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def check_host(text: str) -> str:
    """Return a host name or IP address (brackets around IPv6 removed), or raise."""
    host = text.strip()
    if host.startswith("[") and host.endswith("]"):
        return check_ipv6(host[1:-1])
    if ":" in host:
        return check_ipv6(host)
    if not _HOSTNAME_RE.fullmatch(host):
        raise ValueError(f"{host!r} is not a host name or IP address")
    return host


def check_ipv6(host: str) -> str:
    """Return an IPv6 address (scope ids such as %eth0 allowed), or raise."""
    try:
        ipaddress.IPv6Address(host)
    except ValueError:
        raise ValueError(f"{host!r} is not a valid IPv6 address") from None
    return host


def _port(text: str) -> int:
    try:
        return int(PORT.parse(text))
    except ValueError:
        raise ValueError("the port must be a number from 0 to 65535") from None


def normalize_listener(raw: str) -> str:
    """Check one listener address and return its canonical spelling."""
    text = raw.strip()
    if text.startswith("unix:"):
        path = text[len("unix:") :]
        path = path[2:] if path.startswith("//") else path
        if not path:
            raise ValueError("unix: needs a socket path, e.g. unix:/run/corral.sock")
        return "unix:" + path
    if text.startswith("fd://"):
        number = text[len("fd://") :]
        if not number.isdigit():
            raise ValueError("fd:// needs a file descriptor number, e.g. fd://3")
        return f"fd://{int(number)}"
    text = text.removeprefix("tcp://")
    if text.startswith("["):
        inside, bracket, rest = text[1:].partition("]")
        if not bracket or (rest and not rest.startswith(":")):
            raise ValueError("write an IPv6 listener as [ADDRESS]:PORT")
        port = _port(rest[1:]) if rest else DEFAULT_PORT
        return format_host_port(check_ipv6(inside), port)
    if text.count(":") > 1:
        raise ValueError("put an IPv6 address in brackets, e.g. [::1]:8000")
    host, colon, port_text = text.partition(":")
    if not colon and host.isdigit():
        raise ValueError(
            f"no host: use 127.0.0.1:{host} (this machine only) or :{host} (all interfaces)"
        )
    port = _port(port_text) if colon else DEFAULT_PORT
    return format_host_port(check_host(host) if host else PORT_ENV_HOST, port)


class Listener(Kind):
    """One listener address (see the module docstring)."""

    expected = "HOST:PORT, [IPV6]:PORT, :PORT, unix:PATH or fd://N"
    metavar = "ADDRESS"

    def parse(self, raw: object) -> str:
        if not isinstance(raw, str) or not raw.strip():
            raise self.fail()
        return normalize_listener(raw)


class Host(Kind):
    """A host name or IP address to listen on (uvicorn's ``--host``)."""

    expected = "a host name or IP address"
    metavar = "HOST"

    def parse(self, raw: object) -> str | None:
        if raw is None or raw == "":
            return None
        if not isinstance(raw, str):
            raise self.fail()
        return check_host(raw)


@dataclass(frozen=True)
class Given:
    """A listener setting that some source set: its value, rank and source label."""

    value: Any
    rank: int
    source: str


def fold_listeners(given: dict[str, Given], port_env: str | None) -> tuple[list[str], str]:
    """Fold bind/host/port/uds/fd and ``$PORT`` into the final listeners and their source.

    The listener settings set by the highest-ranked source replace those of lower
    sources; the forms set by that one source are combined (``--bind`` twice plus
    ``--uds`` gives three listeners). ``--host`` and ``--port`` form one address and
    merge across sources, so a file's ``host`` combines with a flag's ``--port``.
    ``$PORT`` is used only when no listener setting is given anywhere (and as the
    port when only a host is given).
    """
    forms: list[tuple[int, list[str], str]] = []
    if "bind" in given:
        forms.append((given["bind"].rank, list(given["bind"].value), given["bind"].source))
    if "host" in given or "port" in given:
        forms.append(_host_port_form(given, port_env))
    if "uds" in given:
        forms.append((given["uds"].rank, [f"unix:{given['uds'].value}"], given["uds"].source))
    if "fd" in given:
        forms.append((given["fd"].rank, [f"fd://{given['fd'].value}"], given["fd"].source))
    if not forms:
        if port_env:
            return [format_host_port(PORT_ENV_HOST, parse_port_env(port_env))], "env PORT"
        return [format_host_port(DEFAULT_HOST, DEFAULT_PORT)], "default"
    top = max(rank for rank, _, _ in forms)
    chosen = [(listeners, source) for rank, listeners, source in forms if rank == top]
    listeners = [address for group, _ in chosen for address in group]
    return listeners, join_sources(source for _, source in chosen)


def _host_port_form(given: dict[str, Given], port_env: str | None) -> tuple[int, list[str], str]:
    host = given.get("host")
    port = given.get("port")
    parts = [item for item in (host, port) if item is not None]
    rank = max(item.rank for item in parts)
    sources = [item.source for item in parts]
    if port is not None:
        port_number = int(port.value)
    elif port_env:
        port_number = parse_port_env(port_env)
        sources.append("env PORT")
    else:
        port_number = DEFAULT_PORT
    host_name = str(host.value) if host is not None else DEFAULT_HOST
    return rank, [format_host_port(host_name, port_number)], join_sources(sources)


def join_sources(sources: Iterable[str]) -> str:
    """``command line --host, --port + env PORT``: flags of one command line share a label."""
    joined: list[str] = []
    for source in dict.fromkeys(sources):
        if joined and source.startswith(CLI) and joined[-1].startswith(CLI):
            joined[-1] += ", " + source.removeprefix(CLI)
        else:
            joined.append(source)
    return " + ".join(joined)


def parse_port_env(text: str) -> int:
    """The port from ``$PORT``; raises ``ValueError`` naming it when it is not a port."""
    try:
        return int(PORT.parse(text))
    except ValueError:
        raise ValueError(
            f"bad value {text!r} for PORT (env PORT): expected a port number from 0 to 65535"
        ) from None
