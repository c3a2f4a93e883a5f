# Declarations for the optional compiled build (see corral/http1/context.pxd).
cimport cython

from corral.http1.exchange cimport H1Exchange

cdef dict _KEYS

@cython.locals(path=bytes, query=bytes, environ=dict, name=bytes, value=bytes, key=str, text=str)
cpdef dict build_environ(
    dict conn_environ, H1Exchange exchange, bytes root_path, object body, object content_length
)
