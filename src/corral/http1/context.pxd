# Declarations for the optional compiled build (docs/performance.md, "Compiled hot path").
# Cython reads these beside context.py; the pure-Python package ignores them.
from corral.http1.head cimport DateHeader

cdef class H1Limits:
    cdef public Py_ssize_t big_head, drain_limit, raw_head, request_body, request_field_size
    cdef public Py_ssize_t request_fields, request_head, request_line, min_body_rate
    cdef public double body_timeout, first_byte_timeout, header_timeout, keepalive
    cdef public double request_timeout, write_timeout
    cdef public bint keepalive_on

cdef class H1Context:
    cdef public object limits, access_log, conn_limit, connections, dispatcher
    cdef public DateHeader date
    cdef public object health_path, loop, on_idle, on_request, on_response, proxy, start_exchange
    cdef public bint checks_before_app, draining, extras, healthy
    cdef public double now
    cdef public Py_ssize_t requests
