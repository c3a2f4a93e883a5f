# Declarations for the optional compiled build (see output.pxd).
from corral.http1.output cimport ConnectionOutput

cdef class ConnectionGuards(ConnectionOutput):
    pass
