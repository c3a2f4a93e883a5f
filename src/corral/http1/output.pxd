# Declarations for the optional compiled build (see context.pxd). Every attribute of a
# connection is declared here, on the root of ConnectionOutput -> ConnectionGuards ->
# H1Connection, so that the methods of all three read them as C struct fields.
from corral.http1.context cimport H1Context, H1Limits
from corral.http1.pacing cimport BusyTimers

cdef class ConnectionOutput:
    cdef public object state, loop, transport, _drain_waiter
    cdef public object parser, pipeline, scratch, client, server, _error_due
    cdef public object _method_start, _proxy_buffer, _start, _url, _out
    cdef public H1Context ctx
    cdef public H1Limits limits
    # current, receiving: H1Exchange, untyped here since exchange.pxd cimports this file
    cdef public object current, receiving
    cdef public BusyTimers timers
    cdef public list _headers, _framing
    cdef public bint write_paused, _reading_paused, _in_trailers, _kept, forwarding, _upgrade
    cdef public double deadline, idle_since
    cdef public Py_ssize_t _out_size, _head_size, _field_mark, _body_bytes, _body_start
    cdef public Py_ssize_t _trailers, _chunks, _chunk_meta, _drained

    # Called for every request: C calls instead of attribute lookups (docs/performance.md).
    cpdef exchange_finished(self, exchange)
    cpdef write_body(self, data)
    cpdef flush_out(self)
    cpdef _close(self)
    cpdef _pause_reading(self)
    cpdef _arm(self)
