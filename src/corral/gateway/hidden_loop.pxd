# Declarations for the optional compiled build (see corral/http1/context.pxd), and the
# C that reads and swaps CPython 3.11's running-loop holder (hidden_loop.py says why).
cdef extern from *:
    """
    /* Modules/_asynciomodule.c (3.11): PyObject_HEAD, then the loop, then the pid. */
    typedef struct { PyObject_HEAD PyObject *loop; } corral_loop_holder;

    static PyObject *corral_holder_key = NULL;

    /* The holder in this thread's state dict, or None (a new reference). */
    static PyObject *corral_thread_holder(void) {
        PyObject *state = PyThreadState_GetDict();  /* borrowed */
        PyObject *holder = NULL;
        if (corral_holder_key == NULL) {
            corral_holder_key = PyUnicode_InternFromString("__asyncio_running_event_loop__");
            if (corral_holder_key == NULL) { PyErr_Clear(); }
        }
        if (state != NULL && corral_holder_key != NULL) {
            holder = PyDict_GetItemWithError(state, corral_holder_key);  /* borrowed */
            if (holder == NULL) { PyErr_Clear(); }
        }
        if (holder == NULL) { holder = Py_None; }
        Py_INCREF(holder);
        return holder;
    }

    /* Only for a holder whose type and size HiddenLoop._adopt() checked. */
    static PyObject *corral_holder_loop(PyObject *holder) {
        PyObject *loop = ((corral_loop_holder *)holder)->loop;
        Py_INCREF(loop);
        return loop;
    }

    static void corral_holder_set_loop(PyObject *holder, PyObject *loop) {
        corral_loop_holder *h = (corral_loop_holder *)holder;
        PyObject *old = h->loop;
        Py_INCREF(loop);
        h->loop = loop;
        Py_XDECREF(old);
    }
    """
    object _c_holder "corral_thread_holder"()
    object _c_holder_loop "corral_holder_loop"(object holder)
    void _c_set_loop "corral_holder_set_loop"(object holder, object loop)

cdef class HiddenLoop:
    cdef public object loop, holder
    cdef public bint fast

    cpdef hide(self)
    cpdef show(self)
