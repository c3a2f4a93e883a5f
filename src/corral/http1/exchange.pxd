# Declarations for the optional compiled build (see context.pxd).
from corral.gateway.response cimport EncodedHeaders
# Typed as the root of the connection's classes: connection.py imports this module.
from corral.http1.output cimport ConnectionOutput

cdef dict STATUS_LINES

cdef class H1Exchange:
    cdef public ConnectionOutput conn
    cdef public EncodedHeaders response_headers
    cdef public object method, path, query, http_version, headers, client, server
    cdef public object scheme, root_path, body, content_length
    cdef public object on_request_complete, on_body_over, on_writable, job, _waiter
    cdef public bint plain, forwarded, upgrade, has_body, chunked_request, expect_continue
    cdef public bint request_complete, disconnected, response_started, body_started
    cdef public bint finished, keep_alive, _continue_sent
    cdef public int status, _framing
    cdef public Py_ssize_t bytes_sent, _remaining
    cdef public double start_time

    cpdef send_continue(self)
    cpdef take_body(self)
    cpdef wake(self)
    cpdef start_response(self, int status, EncodedHeaders headers)
    cpdef write(self, data, bint more)
    cpdef _emit_head(self, data, bint more)
    cpdef _queue_first(self, bytes head, bytes body)
    cpdef _clip(self, data)
    cpdef _finish(self)
