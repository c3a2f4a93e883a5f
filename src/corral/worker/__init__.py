"""One worker process: event loop, accept loop, connection registry, graceful stop."""
