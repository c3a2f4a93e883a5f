"""The states of an HTTP/1.1 connection (the lifecycle is drawn in connection.py)."""

from __future__ import annotations

import enum


class State(enum.Enum):
    IDLE = "idle"  # waiting for the first byte of a request
    HEAD = "head"  # receiving a request head
    BUSY = "busy"  # a request is being answered
    CLOSED = "closed"


IDLE, HEAD, BUSY, CLOSED = State.IDLE, State.HEAD, State.BUSY, State.CLOSED
