"""Importable only when corral runs with ``--chdir`` pointing at this directory."""

import os


def application(environ, start_response):  # type: ignore[no-untyped-def]
    body = os.getcwd().encode()
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]
