# Declarations for the optional compiled build (see context.pxd).
cdef class BodyBuffer:
    cdef public list _chunks
    cdef public object _file
    cdef public Py_ssize_t buffered, received, spool_over

    cpdef append(self, bytes data)
