# Declarations for the optional compiled build (see context.pxd).
cdef class DateHeader:
    cdef public object lines, server_line, tail
    cdef public bint enabled
    cdef public long second
