# Declarations for the optional compiled build (see context.pxd).
cdef class BodyBuffer:
    cdef public object _chunks, _file
    cdef public Py_ssize_t buffered, received, spool_over
