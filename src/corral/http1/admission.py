"""What happens between an accepted request head and the app (off the plain path).

Each step here is optional and switched on by a setting; the connection runs
them only when ``ctx.extras`` says one is on, so a plain request pays one test.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from corral.observe.health import HEADERS as HEALTH_HEADERS
from corral.observe.health import health_answer

if TYPE_CHECKING:
    from corral.http1.connection import H1Connection
    from corral.http1.exchange import H1Exchange


def before_app(conn: H1Connection, exchange: H1Exchange) -> bool:
    """The request clock, pre_request hooks and the health path (when one is on:
    ``ctx.checks_before_app``). True when the request was answered here."""
    ctx = conn.ctx
    if conn.limits.request_timeout:
        conn.start_request_clock()
    if ctx.on_request is not None:
        ctx.on_request(exchange)
    if ctx.health_path is not None and exchange.path == ctx.health_path:
        status, body = health_answer(ctx.healthy)
        exchange.start_response(status, HEALTH_HEADERS)
        exchange.write(body, False)
        return True
    return False


def refuse_upgrade(exchange: H1Exchange) -> bool:
    """CONNECT and Upgrade are not supported yet: answer without switching.
    True when the request was answered here."""
    if exchange.method == "CONNECT":
        exchange.keep_alive = False
        exchange.fail(501)
        return True
    if exchange.upgrade:
        # RFC 9110 §7.8 lets a server ignore Upgrade; httptools has stopped parsing
        # at this point, so the connection closes after the response.
        exchange.keep_alive = False
        if exchange.has_body:
            exchange.fail(501)  # its body lies past the point httptools parsed
            return True
    return False
