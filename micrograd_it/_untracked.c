/* The compiled engine's nodes, made outside the cyclic garbage collector's lists.
 *
 * A Value refers only to the Values it was computed from, which existed
 * before it, to its Op and to its label: a graph of them can hold no
 * reference cycle (tests/test_gc.py checks it on real training steps), so
 * reference counting frees every node, and the cyclic collector, which
 * visits every tracked object again and again while a graph grows (about 40%
 * of a W1 training step compiled), can only lose time on them.
 *
 * set_tracked(cls, False) makes cls allocate its instances as usual
 * (PyType_GenericAlloc: memory zeroed, the collector's header in place) and
 * then takes each one off the collector's lists, as CPython itself does with
 * tuples and dicts that hold no containers. The header stays, so the
 * deallocator's trashcan, which frees a chain of a million nodes without
 * recursing a million deep, works as before. Only cls's own instances are
 * concerned: a subclass defined in Python allocates with its own tp_alloc
 * (PyType_GenericAlloc), so its instances stay tracked. set_tracked(cls,
 * True) puts the usual allocator back (nodes already made stay as they are).
 *
 * new_instance(cls) returns cls.__new__(cls) by a direct call of its tp_new,
 * without the argument tuples that calling cls.__new__ from compiled code
 * builds: the compiled engine's generated op methods make their nodes with
 * it and then set every field (__init__ does not run; its checks are for
 * numbers that come from outside).
 *
 * setup.py builds this module beside the compiled engine, with the same
 * compiler; micrograd_it/_compiled.py applies it to the compiled Value only.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

static PyObject *
alloc_untracked(PyTypeObject *type, Py_ssize_t nitems)
{
    PyObject *obj = PyType_GenericAlloc(type, nitems);
    if (obj != NULL) {
        PyObject_GC_UnTrack(obj);
    }
    return obj;
}

static PyObject *
set_tracked(PyObject *module, PyObject *args)
{
    PyTypeObject *type;
    int tracked;
    if (!PyArg_ParseTuple(args, "O!p:set_tracked", &PyType_Type, &type, &tracked)) {
        return NULL;
    }
    if (!PyType_IS_GC(type) ||
        (type->tp_alloc != PyType_GenericAlloc && type->tp_alloc != alloc_untracked)) {
        PyErr_Format(PyExc_TypeError,
                     "set_tracked() needs a class whose instances the collector tracks and that "
                     "allocates them with PyType_GenericAlloc, got %R", (PyObject *)type);
        return NULL;
    }
    type->tp_alloc = tracked ? PyType_GenericAlloc : alloc_untracked;
    Py_RETURN_NONE;
}

static PyObject *
is_tracked_class(PyObject *module, PyObject *type)
{
    if (!PyType_Check(type)) {
        PyErr_Format(PyExc_TypeError, "is_tracked_class() needs a class, got %R", type);
        return NULL;
    }
    return PyBool_FromLong(((PyTypeObject *)type)->tp_alloc != alloc_untracked);
}

static PyObject *empty_args = NULL;

static PyObject *
new_instance(PyObject *module, PyObject *type)
{
    if (!PyType_Check(type) || ((PyTypeObject *)type)->tp_new == NULL) {
        PyErr_Format(PyExc_TypeError, "new_instance() needs a class that can be instantiated, got %R", type);
        return NULL;
    }
    return ((PyTypeObject *)type)->tp_new((PyTypeObject *)type, empty_args, NULL);
}

static PyMethodDef methods[] = {
    {"new_instance", new_instance, METH_O,
     "new_instance(cls): cls.__new__(cls), called directly (no __init__)."},
    {"set_tracked", set_tracked, METH_VARARGS,
     "set_tracked(cls, tracked): whether the collector tracks the instances cls makes from now on."},
    {"is_tracked_class", is_tracked_class, METH_O,
     "is_tracked_class(cls): False when cls makes its instances untracked (set_tracked(cls, False))."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module_def = {
    PyModuleDef_HEAD_INIT, "micrograd_it._untracked",
    "The compiled engine's nodes, made outside the cyclic garbage collector's lists.", -1, methods,
};

PyMODINIT_FUNC
PyInit__untracked(void)
{
    if (empty_args == NULL) {
        empty_args = PyTuple_New(0);
        if (empty_args == NULL) {
            return NULL;
        }
    }
    return PyModule_Create(&module_def);
}
