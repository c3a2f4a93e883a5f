"""HTTP/1.1 driver: the only code that knows the HTTP/1.1 wire format."""
