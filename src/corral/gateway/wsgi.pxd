# Declarations for the optional compiled build (see corral/http1/context.pxd).
from corral.gateway.hidden_loop cimport HiddenLoop
from corral.gateway.wsgi_environ cimport build_environ
from corral.http1.exchange cimport H1Exchange

cdef dict _HEAD_CACHE

cdef class StartResponse:
    cdef public H1Exchange exchange
    cdef public object writer
    cdef public bint called

cdef class WSGIGateway:
    cdef public object app, loop, root_path, pool, base, on_done
    cdef public HiddenLoop hidden
    cdef public Py_ssize_t spool_over, chunked_buffer, busy

    # Called for every request: C calls instead of attribute lookups (docs/performance.md).
    cpdef start(self, H1Exchange exchange)
    cpdef _run_inline(self, H1Exchange exchange)
    cpdef _call_inline(self, H1Exchange exchange)
    cpdef dict _environ(self, H1Exchange exchange, body, length)
