# Declarations for the optional compiled build (see output.pxd).
from corral.http1.guards cimport ConnectionGuards

cdef class H1Connection(ConnectionGuards):
    cpdef _method(self)
    cpdef _expect_body(self, exchange)
    cpdef _take(self, exchange)
    cpdef _begin(self, exchange)
    cpdef exchange_finished(self, exchange)
    cpdef _next(self)
    cpdef _enter_head(self)
    cpdef body_consumed(self)
    cpdef _resume_reading(self)
