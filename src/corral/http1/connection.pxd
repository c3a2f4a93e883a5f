# Declarations for the optional compiled build (see output.pxd).
from corral.http1.guards cimport ConnectionGuards

cdef class H1Connection(ConnectionGuards):
    pass
