"""Access log: one line per response, formatted from gunicorn-compatible atoms.

Formatting is pure (values in, a string out, no clock reads) and cheap: a format
string is compiled once by :func:`compile_format` into one specialised function that
computes only the atoms it uses and builds the line with an f-string (a %-format for
other conversions). :class:`AccessLogWriter` (accesswriter.py) batches the lines, or
the rows they are formatted from, and writes them with one ``write`` call per batch.

Values a client controls (the request target, header values, the Basic auth
user name) are escaped the way Apache escapes log items, so a client cannot
forge a log line: bytes outside printable ASCII become ``\\xNN``, and ``"`` and
``\\`` become ``\\"`` and ``\\\\``.
"""

from __future__ import annotations

import binascii
import re
import time
from collections.abc import Callable, Mapping
from typing import Any, Final

from corral.dates import MONTHS
from corral.observe.accesswriter import AccessLogWriter

__all__ = [
    "DEFAULT_FORMAT",
    "ENTRY_FIELDS",
    "AccessEntry",
    "AccessLogWriter",
    "Formatter",
    "apache_date",
    "compile_format",
    "escape",
]

#: Apache's "combined" log format plus the request duration in microseconds.
DEFAULT_FORMAT: Final = '%(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s" %(D)s'


class AccessEntry:
    """What the access log needs to know about one finished request."""

    __slots__ = (
        "duration",
        "environ",
        "http_version",
        "method",
        "pid",
        "remote_addr",
        "request_headers",
        "response_bytes",
        "response_headers",
        "start_time",
        "status",
        "target",
    )

    def __init__(
        self,
        remote_addr: str,
        method: str,
        target: str,
        http_version: str,
        status: int,
        response_bytes: int,
        request_headers: list[tuple[bytes, bytes]],
        response_headers: list[tuple[bytes, bytes]],
        start_time: float,
        duration: float,
        pid: int,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        self.remote_addr = remote_addr
        self.method = method
        # Raw path + "?" + query as sent; a latin-1 decoding of the wire bytes.
        self.target = target
        self.http_version = http_version
        self.status = status
        self.response_bytes = response_bytes  # body bytes sent
        self.request_headers = request_headers
        self.response_headers = response_headers
        self.start_time = start_time  # wall clock, epoch seconds
        self.duration = duration  # seconds
        self.pid = pid
        self.environ = environ


Formatter = Callable[[AccessEntry], str]


# --- escaping ---------------------------------------------------------------


def _escape_char(ch: str) -> str:
    if ch == '"':
        return '\\"'
    if ch == "\\":
        return "\\\\"
    code = ord(ch)
    if 0x20 <= code < 0x7F:
        return ch
    if code < 0x100:  # a latin-1 decoded wire byte: log that byte
        return f"\\x{code:02x}"
    return "".join(f"\\x{b:02x}" for b in ch.encode("utf-8", "surrogatepass"))


def escape(value: str) -> str:
    """Escape a client-controlled value like Apache's ``ap_escape_logitem``.

    Characters below U+0100 are taken as the wire bytes they decode (latin-1);
    others are escaped as their UTF-8 bytes.
    """
    # Fast path, all in C: almost every value is printable ASCII.
    if value.isascii() and value.isprintable() and '"' not in value and "\\" not in value:
        return value
    return "".join(map(_escape_char, value))


def _escape_bytes(value: bytes) -> str:
    return escape(value.decode("latin-1"))


# --- atoms ------------------------------------------------------------------


def apache_date(second: int, utc_offset_seconds: int | None = None) -> str:
    """``[10/Oct/2000:13:55:36 -0700]`` for an epoch second (no clock read)."""
    if utc_offset_seconds is None:
        tm = time.localtime(second)
        offset = tm.tm_gmtoff
    else:
        offset = utc_offset_seconds
        tm = time.gmtime(second + offset)
    sign = "-" if offset < 0 else "+"
    hours, minutes = divmod(abs(offset) // 60, 60)
    return (
        f"[{tm.tm_mday:02d}/{MONTHS[tm.tm_mon - 1]}/{tm.tm_year:04d}:"
        f"{tm.tm_hour:02d}:{tm.tm_min:02d}:{tm.tm_sec:02d} {sign}{hours:02d}{minutes:02d}]"
    )


def _date_getter(utc_offset_seconds: int | None) -> Callable[[float], str]:
    # One-entry cache keyed by the whole second: most lines in a busy second
    # share it. A tuple is swapped in whole, so concurrent callers are safe.
    cache: list[tuple[int, str]] = [(-1, "")]

    def get(start_time: float) -> str:
        second = int(start_time)
        cached = cache[0]
        if cached[0] == second:
            return cached[1]
        text = apache_date(second, utc_offset_seconds)
        cache[0] = (second, text)
        return text

    return get


def _seconds_decimal(micros: int) -> str:
    seconds, rest = divmod(micros, 1_000_000)
    return f"{seconds}.{rest:06d}"


#: How the generated formatter reads each field from the object it is given.
#: The defaults read an :class:`AccessEntry`; a server can pass expressions over
#: its own request object instead (``e`` is the object), to skip building one.
ENTRY_FIELDS: Final[dict[str, str]] = {
    "remote_addr": "e.remote_addr",
    "method": "e.method",
    "target": "e.target",
    "http_version": "e.http_version",
    "status": "e.status",
    "response_bytes": "e.response_bytes",
    "request_headers": "e.request_headers",
    "response_headers": "e.response_headers",
    "start_time": "e.start_time",
    "duration": "e.duration",
    "pid": "e.pid",
    "environ": "e.environ",
    # The %(t)s text; a server may pass an expression reading a per-second cache.
    "date_text": "_date(e.start_time)",
    # The duration in whole microseconds (computed once per line, for %(D)s and kin).
    "micros": "round(e.duration * 1000000)",
    # Client address and method as log text: escaped here, since an entry may come
    # from anywhere; a server whose parser guarantees them may pass them as they are.
    "remote_addr_text": "escape(e.remote_addr)",
    "method_text": "escape(e.method)",
    "target_text": "escape(e.target)",
    # "headers_lowercase": a true value says request header names are lowercase already.
    # "status_text", "bytes_text": optional expressions giving %(s)s and %(b)s as text
    # (a server may look them up instead of formatting an int per line); used only by
    # formats whose conversions are all %s.
}

_MICROS = "{micros}"
# Atoms as expressions over fields. Values a client controls are escaped; the
# protocol version (one of two strings the parser accepted) is not.
_EXPRESSIONS: Final[dict[str, str]] = {
    "h": "{remote_addr_text}",
    "l": "'-'",
    "m": "{method_text}",
    "U": "escape({target}.partition('?')[0])",
    "q": "escape({target}.partition('?')[2])",
    "H": "'HTTP/' + {http_version}",
    "s": "{status}",
    "B": "{response_bytes}",
    "b": "{response_bytes} or '-'",
    "T": _MICROS + " // 1000000",
    "D": _MICROS,
    "M": _MICROS + " // 1000",
    "L": "_seconds_decimal(" + _MICROS + ")",
    "p": "'<%d>' % {pid}",
    "t": "{date_text}",
}
# Request headers gunicorn gives atoms of their own.
_HEADER_ATOMS: Final = {"f": "referer", "a": "user-agent", "u": "authorization"}
# Atoms written as several values of the %-format (no concatenation per line).
_SPREAD_ATOMS: Final = {
    "r": ("%s %s HTTP/%", ("{method_text}", "{target_text}", "{http_version}")),
}
_VARIABLE_ATOM: Final = re.compile(r"\{([^{}]*)\}([ioe])\Z")
# A mapping key as %-formatting reads it; "%%" is a literal percent sign.
_KEY: Final = re.compile(r"%%|%\(([^()]*)\)")


class _Generator:
    """Turns a gunicorn format into the source of one specialised function.

    Formatting is on the hot path of every request, so instead of a getter call
    per atom and a dict per line, the format becomes a positional %-format and
    one function that computes each atom inline; every wanted header is found
    in a single pass over the request (or response) headers.
    """

    def __init__(self, fields: Mapping[str, str], plain: bool) -> None:
        # The duration is computed once, into the local "m", when an atom uses it.
        self.fields = {**fields, "micros": "m"}
        self.micros = fields["micros"]
        self.uses_micros = False
        self.overrides: dict[str, str] = {}
        if plain:  # every conversion is %s: text lookups may stand in for ints
            for atom, field in (("s", "status_text"), ("b", "bytes_text")):
                if field in fields:
                    self.overrides[atom] = fields[field]
        self.namespace: dict[str, Any] = {
            "escape": escape,
            "_seconds_decimal": _seconds_decimal,
            "_escape_bytes": _escape_bytes,
            "_basic_user_of": _basic_user_of,
            "_environ_text": _environ_text,
        }
        self.headers: dict[tuple[str, bool], str] = {}  # (name, response) -> local name

    def header_local(self, name: str, response: bool) -> str:
        key = (name.lower(), response)
        if key not in self.headers:
            self.headers[key] = f"h{len(self.headers)}"
        return self.headers[key]

    def expression(self, atom: str) -> str:
        if atom in self.overrides:
            return self.overrides[atom]
        if atom in _EXPRESSIONS:
            template = _EXPRESSIONS[atom]
            self.uses_micros = self.uses_micros or "{micros}" in template
            return template.format_map(self.fields)
        if atom in _HEADER_ATOMS:
            local = self.header_local(_HEADER_ATOMS[atom], response=False)
            # Calls only for a header that is there (most lines have no Authorization).
            if atom == "u":
                return f"(_basic_user_of({local}) if {local} else '-')"
            return f"(_escape_bytes({local}) if {local} else '-')"
        match = _VARIABLE_ATOM.match(atom)
        if match is None:
            return "'-'"  # unknown atom, as gunicorn does
        name, kind = match.groups()
        if kind == "e":
            return f"_environ_text({self.fields['environ']}, {name!r})"
        local = self.header_local(name, response=kind == "o")
        return f"(_escape_bytes({local}) if {local} else '-')"

    def scan(self, response: bool) -> list[str]:
        wanted = [(name, local) for (name, resp), local in self.headers.items() if resp == response]
        if not wanted:
            return []
        source = self.fields["response_headers" if response else "request_headers"]
        lines = ["    " + " = ".join(local for _, local in wanted) + " = None"]
        lines.append(f"    for k, v in {source}:")
        if not (self.fields.get("headers_lowercase") and not response):
            lines.append("        k = k.lower()")
        for index, (name, local) in enumerate(wanted):
            keyword = "if" if index == 0 else "elif"
            lines.append(f"        {keyword} k == {name.encode('latin-1', 'replace')!r}:")
            lines.append(f"            {local} = v if {local} is None else {local} + b', ' + v")
        return lines


def _environ_text(environ: Mapping[str, str] | None, name: str) -> str:
    value = environ.get(name) if environ is not None else None
    return escape(value) if value else "-"


def _basic_user_of(value: bytes | None) -> str:
    if not value:
        return "-"
    scheme, _, credentials = value.strip().partition(b" ")
    if scheme.lower() != b"basic":
        return "-"
    try:
        decoded = binascii.a2b_base64(credentials.strip(), strict_mode=True)
    except binascii.Error:
        return "-"
    user = decoded.partition(b":")[0]
    return _escape_bytes(user) if user else "-"


_SAMPLES: Final = (
    AccessEntry("127.0.0.1", "GET", "/?q", "1.1", 200, 5, [], [], 0.0, 0.5, 1, {}),
    AccessEntry("127.0.0.1", "GET", "/", "1.1", 204, 0, [], [], 0.0, 0.0, 1, None),
)


def compile_format(
    fmt: str,
    *,
    utc_offset_seconds: int | None = None,
    fields: Mapping[str, str] = ENTRY_FIELDS,
) -> Formatter:
    """Parse an access log format (gunicorn's ``%(atom)s`` syntax) once.

    Returns a function that formats one :class:`AccessEntry` into a line
    (without the trailing newline). ``utc_offset_seconds`` fixes the time zone
    of ``%(t)s``; ``None`` uses the local zone. Raises ``ValueError`` for a
    string that is not a valid %-format with named keys. ``fields`` (see
    :data:`ENTRY_FIELDS`) lets a caller format its own objects directly.
    """
    plain = bool(_PLAIN_CONVERSIONS.match(_KEY.sub(_conversion_of, fmt)))
    gen = _Generator(fields, plain)
    gen.namespace["_date"] = _date_getter(utc_offset_seconds)
    expressions: list[str] = []

    def positional(match: re.Match[str]) -> str:
        atom = match.group(1)
        if atom is None:
            return "%%"
        if atom in _SPREAD_ATOMS:
            pattern, parts = _SPREAD_ATOMS[atom]
            expressions.extend(part.format_map(gen.fields) for part in parts)
            return pattern
        expressions.append(gen.expression(atom))
        return "%"

    gen.namespace["FMT"] = positional_fmt = _KEY.sub(positional, fmt)
    body = [*gen.scan(response=False), *gen.scan(response=True)]
    if gen.uses_micros:
        body.append(f"    m = {gen.micros}")
    body += _result(positional_fmt, expressions)
    source = "\n".join(["def format_entry(e):", *body])
    exec(compile(source, "<corral access log format>", "exec"), gen.namespace)
    format_entry: Formatter = gen.namespace["format_entry"]
    try:
        _ = gen.namespace["FMT"] % tuple(0 for _ in expressions)  # a bad conversion raises
        if fields is ENTRY_FIELDS:
            for sample in _SAMPLES:
                format_entry(sample)
    except (ValueError, TypeError, KeyError) as exc:
        raise ValueError(f"invalid access log format {fmt!r}: {exc}") from None
    return format_entry


def _conversion_of(match: re.Match[str]) -> str:
    return "%%" if match.group(1) is None else "%"


_PLAIN_CONVERSIONS = re.compile(r"(?:[^%]|%[s%])*\Z")


def _result(positional_fmt: str, expressions: list[str]) -> list[str]:
    """The last lines of the formatter: an f-string when every conversion is a plain
    ``%s`` (measured ~120 ns faster per line than %-formatting twelve values), else
    the %-format itself (``%(D)06d`` and the like)."""
    if not _PLAIN_CONVERSIONS.match(positional_fmt):
        values = ", ".join(expressions)
        return [f"    return FMT % ({values}{',' if expressions else ''})"]
    # Values go to locals first: an f-string expression may not hold a backslash
    # before Python 3.12, and the expressions do.
    lines = [
        f"    v{i} = {expression}"
        for i, expression in enumerate(expressions)
        if expression != "'-'"
    ]
    pieces = re.split(r"(%[s%])", positional_fmt)
    template, index = [], 0
    for piece in pieces:
        if piece == "%s":
            # A constant dash (%(l)s, unknown atoms) goes into the text itself.
            template.append("-" if expressions[index] == "'-'" else f"{{v{index}}}")
            index += 1
        else:
            text = "%" if piece == "%%" else piece
            template.append(text.replace("{", "{{").replace("}", "}}"))
    lines.append(f"    return f{''.join(template)!r}")
    return lines
