"""Hello-world WSGI app for ``bench/hello.py``.

Every server under test gets the same bytes: 200, ``Content-Type: text/plain``,
``Content-Length: 13`` and the body ``Hello, world!`` as a list of one bytes
object. The header list is built on each call, as a real app would, so no server
gains from (or trips over) a list shared between requests.
"""

BODY = b"Hello, world!"
LENGTH = str(len(BODY))


def app(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", LENGTH)])
    return [BODY]
