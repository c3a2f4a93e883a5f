"""Zero-copy file bodies: os.sendfile on the connection's socket.

uvloop does not implement loop.sendfile, and its transport owns the socket's
file descriptor in the event loop, so corral waits for writability on a
duplicate of that descriptor and sends only when the transport's own buffer is
empty (so bytes never go out of order).
"""

from __future__ import annotations

import asyncio
import os
from typing import Any

CHUNK = 1 << 20  # per sendfile call; lets other connections run in between


async def send_file(conn: Any, fd: int, offset: int, count: int) -> int:
    """Send up to ``count`` bytes from ``fd`` at ``offset``; return how many were sent."""
    conn.flush_out()  # the head may still be queued with this turn's writes
    transport = conn.transport
    loop: asyncio.AbstractEventLoop = conn.loop
    sock = transport.get_extra_info("socket")
    if sock is None:
        return await _send_by_reads(conn, fd, offset, count)
    while transport.get_write_buffer_size():
        await conn.drain()
        if transport.is_closing():
            return 0
        await asyncio.sleep(0.001)  # the head is still in the transport's buffer
    out = os.dup(sock.fileno())
    sent_total = 0
    try:
        while sent_total < count and not transport.is_closing():
            try:
                sent = os.sendfile(out, fd, offset + sent_total, min(CHUNK, count - sent_total))
            except BlockingIOError:
                await _writable(loop, out)
                continue
            except (BrokenPipeError, ConnectionResetError):
                break
            if sent == 0:
                break  # the file is shorter than announced; the caller closes
            sent_total += sent
            await asyncio.sleep(0)
    finally:
        os.close(out)
    return sent_total


async def _writable(loop: asyncio.AbstractEventLoop, fd: int) -> None:
    waiter = loop.create_future()
    loop.add_writer(fd, waiter.set_result, None)
    try:
        await waiter
    finally:
        loop.remove_writer(fd)


async def _send_by_reads(conn: Any, fd: int, offset: int, count: int) -> int:
    """Fallback for transports without a plain socket (TLS later): read and write."""
    sent_total = 0
    while sent_total < count and not conn.transport.is_closing():
        data = os.pread(fd, min(65536, count - sent_total), offset + sent_total)
        if not data:
            break
        conn.transport.write(data)
        sent_total += len(data)
        if conn.write_paused:
            await conn.drain()
    return sent_total
