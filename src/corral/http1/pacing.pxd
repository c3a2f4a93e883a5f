# Declarations for the optional compiled build (see context.pxd).
cdef class BusyTimers:
    cdef public double body, body_timeout, request, request_timeout, write, write_timeout
    cdef public Py_ssize_t _mark, _need, min_body_rate

    cpdef start_request(self, double now)
    cpdef stop_body_window(self)
    cpdef clear(self)
    cpdef double next_deadline(self)
