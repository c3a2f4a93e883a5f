"""The health path: answered by corral itself, before the app (pure)."""

from __future__ import annotations

from corral.gateway.response import EncodedHeaders

HEADERS = EncodedHeaders(
    b"content-type: text/plain; charset=utf-8\r\ncache-control: no-store\r\n", None, False
)
SERVING = (200, b"ok\n")
DRAINING = (503, b"shutting down\n")


def health_answer(healthy: bool) -> tuple[int, bytes]:
    """Status and body for the health path: 200 while serving, 503 while shutting down."""
    return SERVING if healthy else DRAINING
