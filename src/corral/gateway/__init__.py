"""App adapters (WSGI, ASGI), independent of the wire protocol that carries the request."""
