"""A module whose WSGI app has the default name ``application`` (as Django's wsgi.py)."""


def application(environ, start_response):  # type: ignore[no-untyped-def]
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "13")])
    return [b"plain module!"]
