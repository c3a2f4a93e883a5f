# Declarations for the optional compiled build (see context.pxd).
cdef class H1Exchange:
    cdef public object conn, method, path, query, http_version, headers, client, server
    cdef public object scheme, root_path, body, content_length, response_headers
    cdef public object on_request_complete, on_body_over, on_writable, job, _waiter
    cdef public bint plain, forwarded, upgrade, has_body, chunked_request, expect_continue
    cdef public bint request_complete, disconnected, response_started, body_started
    cdef public bint finished, keep_alive, _continue_sent
    cdef public int status, _framing
    cdef public Py_ssize_t bytes_sent, _remaining
    cdef public double start_time
