# Declarations for the optional compiled build (see corral/http1/context.pxd).
cimport cython

from corral.http1.exchange cimport H1Exchange

cdef dict _HEAD_CACHE

cdef class ASGIGateway:
    cdef public object app, loop, root_path, state, on_done, _get_task_factory
    cdef public Py_ssize_t busy

    # Called for every request: C calls instead of attribute lookups (docs/performance.md).
    cpdef start(self, H1Exchange exchange)
    @cython.locals(raw_path=bytes, root=bytes, rest=bytes)
    cpdef dict scope(self, H1Exchange exchange)

cdef class Sent:
    pass

cdef object _EXHAUSTED
cdef Sent SENT

cdef class HTTPCycle:
    cdef public H1Exchange exchange
    cdef public bint started, body_done
