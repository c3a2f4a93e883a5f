"""WSGI input and file objects: the streaming ``wsgi.input`` and ``wsgi.file_wrapper``."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from typing import IO, Any


class FileWrapper:
    """``wsgi.file_wrapper``: iterable over a file; sent with sendfile when it has a fileno."""

    def __init__(self, filelike: IO[bytes], blksize: int = 65536) -> None:
        self.filelike = filelike
        self.blksize = blksize
        if hasattr(filelike, "close"):
            self.close = filelike.close

    def fileno(self) -> int | None:
        """The OS file descriptor when the file is a real, regular file."""
        try:
            fd = self.filelike.fileno()
            return fd if _is_regular(fd) else None
        except (AttributeError, OSError, ValueError):
            return None

    def __iter__(self) -> Iterator[bytes]:
        read = self.filelike.read
        while True:
            block = read(self.blksize)
            if not block:
                return
            yield block


def _is_regular(fd: int) -> bool:
    import stat

    return stat.S_ISREG(os.fstat(fd).st_mode)


class _EmptyInput:
    """``wsgi.input`` of a request without a body: stateless, so one serves all."""

    __slots__ = ()

    def read(self, size: int | None = -1) -> bytes:
        return b""

    def readline(self, size: int | None = -1) -> bytes:
        return b""

    def readlines(self, hint: int = -1) -> list[bytes]:
        return []

    def __iter__(self) -> Iterator[bytes]:
        return iter(())


EMPTY_INPUT = _EmptyInput()


class StreamInput:
    """``wsgi.input`` for an app in a worker thread: reads from the connection on demand.

    The first read sends ``100 Continue`` when the client asked for it. ``prefix``
    holds body bytes buffered before the app started.
    """

    def __init__(
        self, exchange: Any, loop: asyncio.AbstractEventLoop, prefix: IO[bytes] | None = None
    ) -> None:
        self._exchange = exchange
        self._loop = loop
        self._prefix = prefix
        self._buffer = bytearray()
        self._eof = False

    def _fill(self) -> bool:
        """Fetch more bytes into the buffer; False at the end of the body."""
        if self._prefix is not None:
            data = self._prefix.read(65536)
            if data:
                self._buffer += data
                return True
            self._prefix.close()
            self._prefix = None
        if self._eof:
            return False
        future = asyncio.run_coroutine_threadsafe(self._next_chunk(), self._loop)
        data = future.result()
        if not data:
            self._eof = True
            return False
        self._buffer += data
        return True

    async def _next_chunk(self) -> bytes:
        exchange = self._exchange
        while True:
            await exchange.wait_body()
            if exchange.body.buffered:
                return bytes(exchange.take_body())
            if exchange.request_complete:
                return b""
            if exchange.disconnected:
                raise OSError("client disconnected while sending the request body")

    def read(self, size: int | None = -1) -> bytes:
        if size is None or size < 0:
            while self._fill():
                pass
            data = bytes(self._buffer)
            self._buffer.clear()
            return data
        while len(self._buffer) < size and self._fill():
            pass
        data = bytes(self._buffer[:size])
        del self._buffer[:size]
        return data

    def readline(self, size: int | None = -1) -> bytes:
        limit = -1 if size is None else size
        while True:
            end = self._buffer.find(b"\n")
            if end >= 0 or (0 <= limit <= len(self._buffer)) or not self._fill():
                break
        cut = end + 1 if end >= 0 else len(self._buffer)
        if 0 <= limit < cut:
            cut = limit
        data = bytes(self._buffer[:cut])
        del self._buffer[:cut]
        return data

    def readlines(self, hint: int = -1) -> list[bytes]:
        lines = []
        total = 0
        while line := self.readline():
            lines.append(line)
            total += len(line)
            if 0 < hint <= total:
                break
        return lines

    def __iter__(self) -> Iterator[bytes]:
        while line := self.readline():
            yield line
