"""A WSGI app that records the pid of each process that imports it."""

import os

from wsgi_apps import record, respond

record(f"imported in {os.getpid()}")


def application(environ, start_response):
    return respond(start_response, str(os.getpid()).encode())
