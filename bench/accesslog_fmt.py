"""Cost of formatting one access log line: ``python bench/accesslog_fmt.py``.

A typical browser request (9 request headers, 4 response headers) through
DEFAULT_FORMAT, then a format using most atoms. Prints microseconds per line.
"""

from __future__ import annotations

import timeit

from corral.observe.accesslog import DEFAULT_FORMAT, AccessEntry, Formatter, compile_format

REQUEST_HEADERS = [
    (b"Host", b"example.com"),
    (b"User-Agent", b"Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"),
    (b"Accept", b"text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"),
    (b"Accept-Language", b"en-US,en;q=0.5"),
    (b"Accept-Encoding", b"gzip, deflate, br, zstd"),
    (b"Referer", b"https://example.com/articles/?page=2"),
    (b"Connection", b"keep-alive"),
    (b"Cookie", b"sessionid=abcdef0123456789; csrftoken=0123456789abcdef"),
    (b"Upgrade-Insecure-Requests", b"1"),
]
RESPONSE_HEADERS = [
    (b"content-type", b"text/html; charset=utf-8"),
    (b"content-length", b"5123"),
    (b"x-frame-options", b"DENY"),
    (b"vary", b"Cookie"),
]
ENTRY = AccessEntry(
    "203.0.113.9",
    "GET",
    "/articles/42/?utm_source=news",
    "1.1",
    200,
    5123,
    REQUEST_HEADERS,
    RESPONSE_HEADERS,
    1_764_050_400.25,
    0.001234,
    4242,
    None,
)
WIDE = DEFAULT_FORMAT + " %(L)s %(p)s %({content-type}o)s %({x-forwarded-for}i)s"


def microseconds_per_line(formatter: Formatter, number: int = 200_000) -> float:
    """Best of five runs, in microseconds per formatted line."""
    runs = timeit.repeat(lambda: formatter(ENTRY), number=number, repeat=5)
    return min(runs) / number * 1e6


def main() -> None:
    for name, fmt in (("DEFAULT_FORMAT", DEFAULT_FORMAT), ("wide format", WIDE)):
        formatter = compile_format(fmt, utc_offset_seconds=0)
        print(f"{name}: {microseconds_per_line(formatter):.2f} us/line  {formatter(ENTRY)}")


if __name__ == "__main__":
    main()
