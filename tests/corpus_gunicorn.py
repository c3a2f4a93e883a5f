"""gunicorn's raw request corpus, fetched at test time and mapped to corral's answers.

gunicorn ships ``tests/requests/{valid,invalid}/*.http`` in its source
distribution, each with a ``.py`` next to it naming the expected result: a dict
(or a list of dicts for pipelined requests) for valid files, an exception class
from ``gunicorn.http.errors`` for invalid ones; some set ``cfg`` options. The
sdist is downloaded once with pip into ``~/.cache/corral-tests`` (never
committed), and the ``.py`` files run against small stand-ins: gunicorn is never
imported.

corral's answer is derived from gunicorn's expectation by ``STATUS_BY_ERROR``
(with two rules that depend on the bytes), except for the files listed in
``SKIPPED`` (they need a gunicorn-only setting) and ``DIFFERS`` (corral's policy
answers differently; each entry says why, citing the RFC).
"""

from __future__ import annotations

import builtins
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from corpus_http1 import EOF_OR_400, Outcome, Parsed, outcome

VERSION = "27.0.1"
CACHE = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "corral-tests"


class CorpusUnavailable(Exception):
    """The gunicorn sdist could not be downloaded or read."""


# -- fetching ------------------------------------------------------------------------------------


def fetch(cache: Path = CACHE) -> Path:
    """The directory holding ``valid/`` and ``invalid/``, downloading gunicorn's sdist once."""
    target = cache / f"gunicorn-{VERSION}-requests"
    if (target / ".complete").exists():
        return target
    cache.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=cache) as tmp:
        command = [
            sys.executable,
            "-m",
            "pip",
            "download",
            f"gunicorn=={VERSION}",
            "--no-deps",
            "--no-binary",
            ":all:",
            "--disable-pip-version-check",
            "-d",
            tmp,
        ]
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=300)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise CorpusUnavailable(f"{' '.join(command)} failed: {exc}") from exc
        sdists = list(Path(tmp).glob("gunicorn-*.tar.gz"))
        if done.returncode != 0 or not sdists:
            raise CorpusUnavailable(
                f"{' '.join(command)} exited {done.returncode}:\n{done.stderr[-2000:]}"
            )
        staging = Path(tmp) / "requests"
        _extract_requests(sdists[0], staging)
        (staging / ".complete").write_text(VERSION)
        shutil.rmtree(target, ignore_errors=True)
        staging.rename(target)
    return target


def _extract_requests(sdist: Path, into: Path) -> None:
    """Write ``tests/requests/{valid,invalid}/*`` of the sdist under ``into`` (files only)."""
    wanted = re.compile(r"[^/]+/tests/requests/(valid|invalid)/([\w.-]+\.(?:http|py))")
    count = 0
    with tarfile.open(sdist) as tar:
        for member in tar:
            match = wanted.fullmatch(member.name)
            source = tar.extractfile(member) if match and member.isfile() else None
            if match is None or source is None:
                continue
            path = into / match.group(1) / match.group(2)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(source.read())
            count += 1
    if count == 0:
        raise CorpusUnavailable(f"{sdist.name} has no tests/requests files")


# -- reading the files ---------------------------------------------------------------------------

# gunicorn's test harness reads a .http file this way: line breaks in the file are
# only for editing and are removed; then ``\r\n``, ``\0``, ``\n``, ``\t`` and
# ``\xHH`` written out as text stand for those bytes. Any other backslash is an error.
_ESCAPE = re.compile(rb"\\(r\\n|0|n|t|x[0-9A-Fa-f]{2}|.?)", re.DOTALL)
_SIMPLE = {b"r\\n": b"\r\n", b"0": b"\0", b"n": b"\n", b"t": b"\t"}


def decode_http(text: bytes) -> bytes:
    """The request bytes a ``.http`` file stands for."""

    def replace(match: re.Match[bytes]) -> bytes:
        escape = match.group(1)
        if escape in _SIMPLE:
            return _SIMPLE[escape]
        if escape.startswith(b"x") and len(escape) == 3:
            return bytes([int(escape[1:], 16)])
        raise ValueError(f"unexpected escape {match.group(0)!r}")

    return _ESCAPE.sub(replace, text.replace(b"\n", b""))


class _Config:
    """Stands in for ``gunicorn.config.Config``: records what ``set`` was called with."""

    def __init__(self) -> None:
        self.settings: dict[str, Any] = {}

    def set(self, name: str, value: Any) -> None:
        self.settings[name] = value


def _errors_module() -> ModuleType:
    """A ``gunicorn.http.errors`` whose every name is an exception class of that name."""
    module = ModuleType("gunicorn.http.errors")
    classes: dict[str, type] = {}

    def lookup(name: str) -> type:
        if name.startswith("__"):
            raise AttributeError(name)
        return classes.setdefault(name, type(name, (Exception,), {}))

    module.__getattr__ = lookup  # type: ignore[method-assign]
    return module


def load_expectation(py_file: Path) -> tuple[Any, dict[str, Any]]:
    """Run a gunicorn expectation file against stand-ins: (its ``request``, its settings)."""
    config = ModuleType("gunicorn.config")
    config.Config = _Config  # type: ignore[attr-defined]
    fakes = {"gunicorn.config": config, "gunicorn.http.errors": _errors_module()}

    def fake_import(name: str, *args: Any, **kwargs: Any) -> Any:
        return fakes[name] if name in fakes else builtins.__import__(name, *args, **kwargs)

    namespace: dict[str, Any] = {
        "__builtins__": {**vars(builtins), "__import__": fake_import},
        "__name__": "__config__",
        "uri": lambda raw: raw,
        "cfg": _Config(),
    }
    exec(compile(py_file.read_text("utf-8"), str(py_file), "exec"), namespace)
    return namespace["request"], namespace["cfg"].settings


# -- gunicorn's expectation -> corral's ------------------------------------------------------------

_TCHAR = re.compile(rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")


def _method_status(data: bytes) -> int:
    """A well-formed method token corral does not know gets 501, anything else 400."""
    method = data.lstrip(b"\r\n").split(b" ", 1)[0]
    return 501 if _TCHAR.fullmatch(method) else 400


def _version_status(data: bytes) -> int:
    """A well-formed but unsupported ``HTTP/d.d`` gets 505, a malformed version 400."""
    line = data.lstrip(b"\r\n").split(b"\r\n", 1)[0]
    return 505 if re.fullmatch(rb"\S+ \S+ HTTP/\d\.\d", line) else 400


STATUS_BY_ERROR: dict[str, Any] = {
    "InvalidRequestLine": 400,
    "InvalidRequestMethod": _method_status,
    "InvalidHTTPVersion": _version_status,
    "InvalidHeader": 400,
    "InvalidHeaderName": 400,
    "ObsoleteFolding": 400,
    "InvalidChunkSize": 400,
    "ChunkMissingTerminator": 400,
    "InvalidChunkExtension": 400,
    "LimitRequestLine": 414,
    "LimitRequestHeaders": 431,
    "UnsupportedTransferCoding": 501,
    "InvalidProxyLine": 400,  # with --proxy-protocol from a trusted peer
    "NoMoreData": EOF_OR_400,  # the input ends mid-request: no answer, or 400
}

# gunicorn's defaults and how it counts differ from corral's, so its limits are
# translated: gunicorn's limit_request_line is the whole request line (corral's is
# the target: 13 bytes less for a 3-letter method and " HTTP/1.1"), its field
# size counts "Name: value\r\n" (corral's counts name and value: 4 bytes less),
# and 0 or more than its maximum means its maximum (8190, 8190, 32768).
GUNICORN_LIMITS = {
    "limit_request_line": 4094,
    "limit_request_field_size": 8190,
    "limit_request_fields": 100,
}


def corral_flags(settings: dict[str, Any]) -> tuple[str, ...]:
    """corral's command-line limits equivalent to gunicorn's (defaults and ``cfg.set``)."""
    limits = {**GUNICORN_LIMITS, **settings}
    line = limits["limit_request_line"]
    size = limits["limit_request_field_size"]
    fields = limits["limit_request_fields"]
    line = 8190 if line <= 0 or line > 8190 else line
    size = 8190 if size <= 0 else size
    fields = 32768 if fields <= 0 or fields > 32768 else fields
    return (
        "--limit-request-line",
        str(line - 13),
        "--limit-request-field-size",
        str(size - 4),
        "--limit-request-fields",
        str(fields),
    )


_GUNICORN_ONLY = "needs a gunicorn-only setting:"
SKIPPED: dict[str, str] = {
    "invalid/013": f"{_GUNICORN_ONLY} permit_obsolete_folding (corral always rejects obs-fold)",
    "invalid/019": f"{_GUNICORN_ONLY} forwarded_allow_ips with conflicting X-Forwarded-* headers",
    "invalid/040": f"{_GUNICORN_ONLY} header_map=refuse",
    "invalid/chunked_07": f"{_GUNICORN_ONLY} header_map=refuse",
    "valid/028": f"{_GUNICORN_ONLY} strip_header_spaces (corral answers 400, RFC 9112 §5.1)",
    "valid/031compat": f"{_GUNICORN_ONLY} permit_unconventional_http_method, casefold_http_method",
    "valid/031compat2": f"{_GUNICORN_ONLY} permit_unconventional_http_method",
    "valid/040_compat": f"{_GUNICORN_ONLY} header_map=dangerous",
    "valid/compat_obs_fold": f"{_GUNICORN_ONLY} permit_obsolete_folding",
    "valid/compat_obs_fold_huge": f"{_GUNICORN_ONLY} permit_obsolete_folding",
}

NO_HOST = "RFC 9112 §3.2: an HTTP/1.1 request without Host gets 400"
NO_HOST_AND = NO_HOST + "; it also has {}, so either error may be reported first"
TE_501 = "RFC 9112 §6.1: a transfer coding other than chunked gets 501 (corral decodes none)"
TRAILER = (
    "RFC 9110 §6.5.1-6.5.2: corral drops trailer fields, so a Host trailer changes "
    "nothing and the request is served (framing trailers do get 400, as gunicorn expects)"
)
_TRAILER_REQUEST = Parsed(
    "POST", b"/p", ((b"host", b"example.com"), (b"transfer-encoding", b"chunked")), b"hello"
)

DIFFERS: dict[str, tuple[Any, str]] = {
    **{
        f"valid/{n}": (400, NO_HOST)
        for n in (
            "004",
            "005",
            "006",
            "007",
            "010",
            "011",
            "012",
            "013",
            "014",
            "018",
            "021",
            "023",
            "100",
        )
    },
    "valid/rfc9112_target_absolute_userinfo_01": (
        400,
        "RFC 9110 §4.2.4: a recipient SHOULD treat userinfo in a target as an error "
        "(it is used to disguise the authority)",
    ),
    "valid/pp_02": ((400,), NO_HOST + " (behind a valid PROXY line)"),
    "valid/pp_03": (
        400,
        "with --proxy-protocol corral requires the PROXY header from trusted peers, as "
        "HAProxy's accept-proxy does; gunicorn also takes connections without one",
    ),
    "valid/022": (
        (Parsed("GET", b"/first", ((b"connection", b"Keep-Alive"),), b"", "1.0"), 400),
        NO_HOST + " (the second request)",
    ),
    "valid/025": ({400, 501}, NO_HOST_AND.format("Transfer-Encoding: gzip, chunked (501)")),
    "valid/025_line": ({400, 501}, NO_HOST_AND.format("Transfer-Encoding: gzip,chunked (501)")),
    "valid/029": ({400, 501}, NO_HOST_AND.format("Transfer-Encoding: identity, chunked (501)")),
    "valid/030": ({400, 501}, NO_HOST_AND.format("Transfer-Encoding: identity, chunked (501)")),
    "valid/031": (
        {400, 501},
        NO_HOST_AND.format("an unknown method (RFC 9110 §9.1: 501; gunicorn accepts any token)"),
    ),
    "valid/040": (
        Parsed(
            "GET",
            b"/keep/same/as?invalid/040",
            (
                (b"transfer_encoding", b"tricked"),
                (b"content-length", b"7"),
                (b"content_length", b"-1E23"),
            ),
            b"tricked",
            "1.0",
        ),
        "RFC 9110 §5.1: '_' is a tchar; corral hands ASGI apps every field as received "
        "(gunicorn drops names with '_' by default)",
    ),
    "valid/rfc9112_smuggle_gzip_chunked_01": (501, TE_501),
    "valid/rfc9112_smuggle_te_identity_chunked_01": (501, TE_501 + "; 'identity' is not a coding"),
    "valid/rfc9112_target_authority_connect_01": (501, "RFC 9110 §9.3.6: corral is no proxy"),
    "valid/rfc9112_target_authority_ipv6_01": (501, "RFC 9110 §9.3.6: corral is no proxy"),
    "invalid/041": (
        Parsed(
            "GET",
            b"/stuff/here?foo=bar",
            (
                (b"host", b"localhost"),
                (b"content-type", b"application/json"),
                (b"content-type", b"text/html"),
            ),
        ),
        "RFC 9110 §5.3 forbids senders to repeat a singleton field but does not ask "
        "recipients to reject it; corral rejects repeats only where they change "
        "framing or routing (Content-Length, Host)",
    ),
    "invalid/rfc9110_trailer_forbidden_host_01": (_TRAILER_REQUEST, TRAILER),
    "invalid/rfc9112_leading_crlf_02": (
        Parsed("GET", b"/", ((b"host", b"a"),)),
        "RFC 9112 §2.2: a server SHOULD ignore at least one empty "
        "line before the request line; corral ignores several",
    ),
    "valid/099": (
        EOF_OR_400,
        "Content-Length says 17914 but 8599 bytes follow: an incomplete "
        "message (RFC 9112 §8) that gunicorn's harness ends at end of input",
    ),
    "invalid/rfc9112_chunked_missing_final_crlf_01": (
        EOF_OR_400,
        "RFC 9112 §8: the input ends before the last CRLF (gunicorn's harness "
        "raises at end of input); corral may close without an answer or answer 400",
    ),
}

_LIMIT_SETTINGS = frozenset(GUNICORN_LIMITS)


@dataclass(frozen=True)
class GunicornCase:
    """One gunicorn .http file: its bytes and corral's expected outcomes."""

    name: str  # "valid/001"
    data: bytes
    expect: tuple[Outcome, ...]
    flags: tuple[str, ...]
    skip: str | None
    differs: str | None

    @property
    def half_close(self) -> bool:
        """gunicorn's harness ends the input after the file: an incomplete one needs EOF."""
        return 0 in self.expect[-1] if isinstance(self.expect[-1], frozenset) else False


def _parsed(request: dict[str, Any]) -> Parsed:
    def raw(text: str | bytes) -> bytes:
        return text if isinstance(text, bytes) else text.encode("latin-1")

    headers = tuple((raw(name.lower()), raw(value)) for name, value in request["headers"])
    version = "{}.{}".format(*request["version"])
    return Parsed(request["method"], raw(request["uri"]), headers, raw(request["body"]), version)


def _expected(kind: str, request: Any, data: bytes) -> tuple[Outcome, ...]:
    if kind == "valid":
        return tuple(_parsed(r) for r in (request if isinstance(request, list) else [request]))
    status = STATUS_BY_ERROR.get(request.__name__)
    if status is None:
        raise KeyError(
            f"no corral status for gunicorn's {request.__name__}: add it to STATUS_BY_ERROR"
        )
    return (outcome(status(data) if callable(status) else status),)


def load_cases(root: Path) -> list[GunicornCase]:
    """Every .http file under ``root``, with corral's expectation."""
    cases = []
    for kind in ("valid", "invalid"):
        for http in sorted((root / kind).glob("*.http")):
            name = f"{kind}/{http.stem}"
            data = decode_http(http.read_bytes())
            request, settings = load_expectation(http.with_suffix(".py"))
            skip = SKIPPED.get(name)
            unmapped = set(settings) - _LIMIT_SETTINGS - {"proxy_protocol"}
            if unmapped and skip is None:
                skip = f"unmapped gunicorn settings {sorted(unmapped)}: list it in SKIPPED"
            expect = _expected(kind, request, data) if skip is None else ()
            differs = None
            if name in DIFFERS:
                corral, differs = DIFFERS[name]
                items = corral if isinstance(corral, tuple) else (corral,)
                expect = tuple(outcome(item) for item in items)
            flags = corral_flags({k: v for k, v in settings.items() if k in _LIMIT_SETTINGS})
            if settings.get("proxy_protocol"):
                flags += ("--proxy-protocol",)  # the test client is 127.0.0.1: trusted
            cases.append(GunicornCase(name, data, expect, flags, skip, differs))
    return cases
