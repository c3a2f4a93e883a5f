# Declarations for the optional compiled build (see output.pxd).
cimport cython

from corral.http1.body cimport BodyBuffer
from corral.http1.exchange cimport H1Exchange
from corral.http1.guards cimport ConnectionGuards

cdef dict _LOWERED
cdef bint _COMPILED

cdef class H1Connection(ConnectionGuards):
    @cython.locals(lowered=bytes, last=int)
    cpdef on_header(self, bytes name, bytes value)
    @cython.locals(exchange=H1Exchange, buffer=BodyBuffer)
    cpdef on_body(self, bytes body)
    # The parser's callbacks for every request, with their exchange typed.
    @cython.locals(exchange=H1Exchange)
    cpdef on_headers_complete(self)
    @cython.locals(exchange=H1Exchange)
    cpdef on_message_complete(self)
    @cython.locals(start=bytes, at=Py_ssize_t)
    cpdef tuple _request_line(self)
    cpdef _expect_body(self, H1Exchange exchange)
    cpdef _take(self, H1Exchange exchange)
    cpdef _begin(self, H1Exchange exchange)
    cpdef exchange_finished(self, exchange)
    cpdef _next(self)
    cpdef _enter_head(self)
    cpdef body_consumed(self)
    cpdef _resume_reading(self)
