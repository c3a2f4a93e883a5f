"""Request body storage: a small in-memory queue that spills to a temp file.

The connection appends what the parser hands it; the gateway takes it. When the
gateway consumes as it goes (ASGI, threaded WSGI) the buffer stays small and the
connection pauses reading at the high-water mark. When the whole body must be in
hand before the app runs (WSGI inline), ``spool_over`` moves it to a temporary
file past a threshold so memory stays bounded.
"""

from __future__ import annotations

from typing import IO


class BodyBuffer:
    """Bytes received but not yet consumed by the app."""

    __slots__ = ("_chunks", "_file", "buffered", "received", "spool_over")

    def __init__(self, spool_over: int = 0) -> None:
        self._chunks: list[bytes] = []
        self._file: IO[bytes] | None = None
        self.buffered = 0  # bytes held in memory
        self.received = 0  # bytes received in total
        self.spool_over = spool_over  # 0: never spool

    def append(self, data: bytes) -> None:
        """Store a chunk from the parser."""
        self.received += len(data)
        if self._file is not None:
            self._file.write(data)
            return
        self._chunks.append(data)
        self.buffered += len(data)
        if self.spool_over and self.buffered > self.spool_over:
            self._spill()

    def _spill(self) -> None:
        # Imported on first use: tempfile (with shutil, random, bz2, lzma) costs a
        # worker about 1 MiB of private memory, and most never spill a body.
        import tempfile

        self._file = tempfile.TemporaryFile(prefix="corral-body-")  # noqa: SIM115 - kept open
        self._file.writelines(self._chunks)
        self._chunks.clear()
        self.buffered = 0

    def take(self) -> bytes:
        """Everything held in memory, removed from the buffer."""
        chunks = self._chunks
        if not chunks:
            return b""
        data = chunks[0] if len(chunks) == 1 else b"".join(chunks)
        chunks.clear()
        self.buffered = 0
        return data

    def as_file(self) -> IO[bytes] | None:
        """The spooled file rewound for reading, or None when all is in memory."""
        if self._file is not None:
            self._file.flush()
            self._file.seek(0)
        return self._file

    def detach(self) -> IO[bytes] | None:
        """Hand over what is held as a readable file; later bytes stay in memory."""
        spooled = self.as_file()
        self._file = None
        self.spool_over = 0
        if spooled is None and self._chunks:
            import io

            return io.BytesIO(self.take())
        return spooled

    def discard(self) -> None:
        """Drop what is held (the app finished without reading it)."""
        self._chunks.clear()
        self.buffered = 0
        if self._file is not None:
            self._file.close()
            self._file = None


# Shared by requests without a body: nothing is ever appended to it (the parser
# delivers body bytes only to requests that declared a body).
NO_BODY = BodyBuffer()
