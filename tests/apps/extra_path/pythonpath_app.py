"""Importable only when corral runs with ``--pythonpath`` naming this directory."""


def application(environ, start_response):  # type: ignore[no-untyped-def]
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "15")])
    return [b"from pythonpath"]
