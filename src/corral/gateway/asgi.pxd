# Declarations for the optional compiled build (see corral/http1/context.pxd).
from corral.http1.exchange cimport H1Exchange

cdef class ASGIGateway:
    cdef public object app, loop, root_path, state, on_done
    cdef public Py_ssize_t busy

    # Called for every request: C calls instead of attribute lookups (docs/performance.md).
    cpdef start(self, H1Exchange exchange)
    cpdef dict scope(self, H1Exchange exchange)

cdef class HTTPCycle:
    cdef public H1Exchange exchange
    cdef public bint started, body_done
