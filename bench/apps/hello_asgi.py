"""Hello-world ASGI app for ``bench/hello.py``.

Answers each HTTP request with one ``http.response.start`` and one
``http.response.body`` message: 200, ``content-type: text/plain``,
``content-length: 13``, body ``Hello, world!``. It completes the lifespan
protocol so that no server logs a lifespan error at start-up.
"""

BODY = b"Hello, world!"
LENGTH = str(len(BODY)).encode()


async def app(scope, receive, send):
    if scope["type"] == "http":
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", b"text/plain"), (b"content-length", LENGTH)],
            }
        )
        await send({"type": "http.response.body", "body": BODY})
    elif scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
