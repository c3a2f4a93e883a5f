# Declarations for the optional compiled build (see corral/http1/context.pxd).
cdef class ASGIGateway:
    cdef public object app, loop, root_path, state, on_done
    cdef public Py_ssize_t busy

cdef class HTTPCycle:
    cdef public object exchange
    cdef public bint started, body_done
