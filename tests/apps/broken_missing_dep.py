"""An app module that imports a dependency which is not installed."""

import corral_test_dependency_that_is_not_installed  # noqa: F401


def application(environ, start_response):  # type: ignore[no-untyped-def]  # pragma: no cover
    start_response("200 OK", [])
    return [b""]
