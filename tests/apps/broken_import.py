"""An app module whose own code fails at import time."""


def _read_settings() -> None:
    raise ValueError("settings file missing: broken-import-marker")


_read_settings()


def application(environ, start_response):  # type: ignore[no-untyped-def]  # pragma: no cover
    start_response("200 OK", [])
    return [b""]
