# Declarations for the optional compiled build (see corral/http1/context.pxd).
cdef class StartResponse:
    cdef public object exchange, writer
    cdef public bint called

cdef class WSGIGateway:
    cdef public object app, loop, root_path, pool, base, on_done
    cdef public Py_ssize_t spool_over, chunked_buffer, busy
