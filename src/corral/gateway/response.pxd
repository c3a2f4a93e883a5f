# Declarations for the optional compiled build (see corral/http1/context.pxd).
cdef class EncodedHeaders:
    cdef public object data, content_length
    cdef public bint close
