/* The compiled engine's nodes in C: their memory, the three commonest ops, freeing, backward's walks.
 *
 * The engine is micrograd_it/engine.py, compiled by mypyc; this module, built beside it with
 * the same compiler, does for the compiled `Value` what costs most when it is written in
 * Python (docs/performance.md has the measurements):
 *
 * 1. Memory. A graph is made and freed whole at every training step. Python's allocator
 *    gives the freed memory back to the system when a whole arena of it is free, and the
 *    next graph takes fresh pages again (about 1,000 page faults a step of the GPT lesson,
 *    2-3 ms of its 20). Here a node lives in a slab of SLAB_NODES blocks: a slab whose
 *    nodes are all freed is kept (up to EMPTY_CAP of them) and used again from its start,
 *    so the next graph is made in memory that is mapped and warm, in the order it is made
 *    (backward walks it in about the reverse order: the processor's prefetcher follows).
 *    A slab that is partly freed keeps its free blocks on a list and serves them when no
 *    empty slab is left, so memory is bounded by the nodes alive, never by the graphs made.
 *    The nodes stay outside the cyclic garbage collector's lists, as CPython does with
 *    tuples that hold no containers: a graph of Values holds no reference cycle (each
 *    refers only to the Values it was computed from, which existed before it), so
 *    reference counting frees every node and the collector could only lose time on them
 *    (about 40% of a W1 step when it did). set_tracked(cls, True) makes new nodes tracked
 *    again, for the tests that look for cycles with gc.
 *
 * 2. The ops + - * between two Values, or a Value and a float: 95% of a network's nodes.
 *    Their slots compute the value and the local derivatives as the catalogue
 *    (micrograd_it/ops.py) declares them (d(x+y) = 1, 1; d(x-y) = 1, -1; d(xy) = y, x)
 *    and fill in the node's fields directly. Anything else (an int, a subclass, a result
 *    that is not finite, an open no_grad() block) goes to the compiled methods, which
 *    raise the engine's errors and apply its modes.
 *
 * 3. Freeing a node frees, in the same loop, every input whose last reference it held: a
 *    chain of a million nodes is freed without recursion and without CPython's trashcan.
 *
 * 4. backward's two walks, count_consumers and chain_rule: the same algorithm as
 *    engine.py's _count_consumers and _chain_rule, step for step (the same order of the
 *    same float operations, so the same bits: tests/test_nodes_c.py compares them with the
 *    compiled walks on random graphs, tests/test_compiled.py the whole engine with the
 *    Python source). No Python code runs inside them, so no signal handler (Ctrl-C) can
 *    stop them half way.
 *
 * 5. `v.data` and `v.grad` read and written with a float: what every optimizer's loop does
 *    to every parameter at every step. Anything else goes to the compiled properties.
 *
 * 6. Adam's update on lists of floats (micrograd_it/optim.py's comprehensions, the same
 *    operations in the same order), for the parameters of any Value class, and on the compiled
 *    Values' own fields (read, computed, checked, then written in one call); zero_grad's writes;
 *    and trace_values' walk that counts the activations below a node (micrograd_it/trace_values.py).
 *
 * The fields are read at the offsets of mypyc's struct for Value (the Node struct below).
 * micrograd_it/_compiled.py (_use_nodes) checks them on probe nodes made by the compiled
 * methods (values, the -113.0 marker mypyc gives undefined floats, children, op, count)
 * before it turns 2-6 on (`layout_ok` then `enable`); if any differs, only 1 is used.
 * Nothing else in this file depends on mypyc: nodes of 1 are blocks of the class's size.
 *
 * Float operations are the interpreter's: setup.py builds this file with -ffp-contract=off.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#ifdef Py_GIL_DISABLED
#error "micrograd_it's C nodes rely on the GIL (the slabs, the ops' shared state): build the pure engine"
#endif
#if PY_VERSION_HEX >= 0x030D0000 || !(defined(Py_REF_DEBUG) || defined(Py_TRACE_REFS))
/* refcount 1. (_Py_NewReference would also tell tracemalloc, which traces the slab, not the
 * objects inside it: nothing to tell; it counts references only in a debug build.) */
#define NEW_REFERENCE(op) Py_SET_REFCNT((op), 1)
#else
#define NEW_REFERENCE(op) _Py_NewReference(op)
#endif
#include <math.h>
#include <stdint.h>
#include <string.h>

/* mypyc's struct for micrograd_it.engine.Value: its slots in __slots__ order, after a vtable and
 * a bitmap (a bit set where a float field holds mypyc's "undefined" marker, -113.0, as a value). */
typedef struct {
    PyObject_HEAD
    void *vtable;
    uint32_t bitmap;
    double data;
    double grad;
    PyObject *label;
    PyObject *operation;
    PyObject *x;      /* the inputs, or None */
    double dx;
    PyObject *y;
    double dy;
    Py_ssize_t pending;  /* a mypyc int: small ints are stored shifted left by one */
} Node;

#define MARKER (-113.0)
#define DATA_BIT 1u
#define GRAD_BIT 2u
#define DX_BIT 4u
#define DY_BIT 8u
#define ONE_PENDING ((Py_ssize_t)2)  /* 1 as a mypyc int */

/* -- 1. memory: slabs -------------------------------------------------------------------- */

#define SLAB_NODES 512
#define EMPTY_CAP 256  /* empty slabs kept for the next graph: 256 x 68 KiB (512 blocks of 136 bytes) */

typedef struct Slab Slab;

typedef struct BlockHead {  /* before each node's collector header */
    Slab *slab;
    struct BlockHead *next_free;  /* on its slab's free list, while free */
} BlockHead;

enum { CURRENT, FULL, PARTIAL, EMPTY };

struct Slab {
    Slab *prev, *next;   /* in the partial or the empty list */
    int state;
    int live;            /* blocks in use */
    int bump;            /* blocks [0, bump) have been handed out since the slab was last empty */
    BlockHead *free;     /* blocks freed while others are alive */
    char *blocks;
};

static PyTypeObject *node_type = NULL;  /* the class whose instances live in slabs */
static Py_ssize_t pre_size = 0;         /* bytes before an object: the collector's header */
static Py_ssize_t block_size = 0;
static int tracked = 0;                 /* set_tracked(cls, True): new nodes tracked by the collector */
static Slab *current = NULL;
static Slab *partial_slabs = NULL, *empty_slabs = NULL;
static Py_ssize_t n_slabs = 0, n_empty = 0, n_live = 0;

static void
unlink_slab(Slab **list, Slab *s)
{
    if (s->prev != NULL) s->prev->next = s->next; else *list = s->next;
    if (s->next != NULL) s->next->prev = s->prev;
    s->prev = s->next = NULL;
}

static void
push_slab(Slab **list, Slab *s, int state)
{
    s->state = state;
    s->prev = NULL;
    s->next = *list;
    if (*list != NULL) (*list)->prev = s;
    *list = s;
}

static Slab *
next_slab(void)
{
    Slab *s;
    if (empty_slabs != NULL) {
        s = empty_slabs;
        unlink_slab(&empty_slabs, s);
        n_empty--;
    } else if (partial_slabs != NULL) {
        s = partial_slabs;
        unlink_slab(&partial_slabs, s);
    } else {
        s = PyMem_RawMalloc(sizeof(Slab));
        if (s == NULL) return NULL;
        s->blocks = PyMem_RawMalloc((size_t)block_size * SLAB_NODES);
        if (s->blocks == NULL) {
            PyMem_RawFree(s);
            return NULL;
        }
        s->prev = s->next = NULL;
        s->live = s->bump = 0;
        s->free = NULL;
        n_slabs++;
    }
    if (current != NULL) current->state = FULL;  /* exhausted: no bump room, no free block */
    s->state = CURRENT;
    current = s;
    return s;
}

/* A block for one node, its object part uninitialised; NULL (no exception set) when out of memory. */
static inline BlockHead *
take_block(void)
{
    Slab *s = current;
    BlockHead *b;
    if (s == NULL || (s->bump == SLAB_NODES && s->free == NULL)) {
        s = next_slab();
        if (s == NULL) return NULL;
    }
    if (s->bump < SLAB_NODES) {
        b = (BlockHead *)(s->blocks + (size_t)block_size * s->bump++);
        b->slab = s;
    } else {
        b = s->free;
        s->free = b->next_free;
    }
    s->live++;
    n_live++;
    return b;
}

static inline void
give_block(BlockHead *b)
{
    Slab *s = b->slab;
    s->live--;
    n_live--;
    if (s->live == 0) {  /* all free: used again from its start */
        s->free = NULL;
        s->bump = 0;
        if (s == current) return;
        if (s->state == PARTIAL) unlink_slab(&partial_slabs, s);
        if (n_empty < EMPTY_CAP) {
            push_slab(&empty_slabs, s, EMPTY);
            n_empty++;
        } else {
            PyMem_RawFree(s->blocks);
            PyMem_RawFree(s);
            n_slabs--;
        }
        return;
    }
    b->next_free = s->free;
    s->free = b;
    if (s->state == FULL) push_slab(&partial_slabs, s, PARTIAL);
}

static inline PyObject *
object_of(BlockHead *b)
{
    return (PyObject *)((char *)b + sizeof(BlockHead) + pre_size);
}

static inline BlockHead *
block_of(PyObject *op)
{
    return (BlockHead *)((char *)op - pre_size - sizeof(BlockHead));
}

/* A new object in a block: refcount 1, collector header zeroed (untracked), fields zeroed if `zero`. */
static inline PyObject *
new_object(int zero)
{
    BlockHead *b = take_block();
    if (b == NULL) {
        PyErr_NoMemory();
        return NULL;
    }
    char *header = (char *)b + sizeof(BlockHead);
    if (zero) {
        memset(header, 0, (size_t)(pre_size + node_type->tp_basicsize));
    } else if (pre_size == 2 * sizeof(uintptr_t)) {  /* the collector's two words, zeroed: untracked */
        ((uintptr_t *)header)[0] = 0;
        ((uintptr_t *)header)[1] = 0;
    } else {
        memset(header, 0, (size_t)pre_size);
    }
    PyObject *op = object_of(b);
    Py_SET_TYPE(op, node_type);
    NEW_REFERENCE(op);
    return op;
}

static PyObject *
slab_alloc(PyTypeObject *type, Py_ssize_t nitems)
{
    if (type != node_type || nitems != 0) return PyType_GenericAlloc(type, nitems);
    PyObject *op = new_object(1);
    if (op != NULL && tracked) PyObject_GC_Track(op);
    return op;
}

static void
slab_free(void *p)
{
    give_block(block_of((PyObject *)p));
}

/* -- 2. the ops + - * -------------------------------------------------------------------- */

static int fast_ops = 0;            /* enable() ran */
static int grad_everywhere = 1;     /* engine.py: no no_grad() block open in any thread or task */
static void *value_vtable = NULL;
static PyObject *empty_label = NULL, *leaf_op = NULL, *add_op = NULL, *sub_op = NULL, *mul_op = NULL;
static binaryfunc compiled_add = NULL, compiled_sub = NULL, compiled_mul = NULL;
static destructor compiled_dealloc = NULL;

/* A node of `op` with inputs x and y (references given to it; None for a leaf's). NULL on no memory. */
static inline PyObject *
make_node(double data, PyObject *op, PyObject *x, double dx, PyObject *y, double dy)
{
    Node *out = (Node *)new_object(0);
    if (out == NULL) return NULL;
    out->vtable = value_vtable;
    out->bitmap = (data == MARKER ? DATA_BIT : 0u) | (dx == MARKER ? DX_BIT : 0u) | (dy == MARKER ? DY_BIT : 0u);
    out->data = data;
    out->grad = 0.0;
    Py_INCREF(empty_label);
    out->label = empty_label;
    Py_INCREF(op);
    out->operation = op;
    out->x = x;
    out->dx = dx;
    out->y = y;
    out->dy = dy;
    out->pending = 0;
    if (tracked) PyObject_GC_Track((PyObject *)out);
    return (PyObject *)out;
}

/* Value(number) for a finite float: a leaf, as the compiled _as_value makes it. */
static inline PyObject *
make_leaf(double data)
{
    Py_INCREF(Py_None);
    Py_INCREF(Py_None);
    PyObject *leaf = make_node(data, leaf_op, Py_None, 0.0, Py_None, 0.0);
    if (leaf == NULL) {
        Py_DECREF(Py_None);
        Py_DECREF(Py_None);
    }
    return leaf;
}

static inline PyObject *
node_of(PyObject *op, double data, PyObject *a, double dx, PyObject *b, double dy)
{
    Py_INCREF(a);
    Py_INCREF(b);
    PyObject *out = make_node(data, op, a, dx, b, dy);
    if (out == NULL) {
        Py_DECREF(a);
        Py_DECREF(b);
    }
    return out;
}

/* False for a node whose data mypyc reads as undefined: one made by Value.__new__ without __init__
 * (the marker without its bit). The compiled method then raises its AttributeError. */
static inline int
defined(PyObject *node)
{
    return ((Node *)node)->data != MARKER || (((Node *)node)->bitmap & DATA_BIT);
}

/* The same for its grad. */
static inline int
grad_defined(Node *node)
{
    return node->grad != MARKER || (node->bitmap & GRAD_BIT);
}

/* A node's data and grad written as mypyc's setters write them: a number that is exactly the
 * marker gets its bit (a value, not mypyc's "undefined"). */
static inline void
set_data(Node *node, double number)
{
    node->data = number;
    if (number == MARKER) node->bitmap |= DATA_BIT;
}

static inline void
set_grad(Node *node, double number)
{
    node->grad = number;
    if (number == MARKER) node->bitmap |= GRAD_BIT;
}

/* The slot of one op: a Value and a Value, a Value and a float, a float and a Value (the float
 * becomes a leaf first, as `_as_value` makes it). EXPR, DX and DY on the doubles x and y. */
#define FAST_OP(NAME, COMPILED, OP, EXPR, DX, DY)                                              \
    static PyObject *                                                                          \
    NAME(PyObject *a, PyObject *b)                                                             \
    {                                                                                          \
        if (fast_ops && grad_everywhere) {                                                     \
            PyTypeObject *ta = Py_TYPE(a), *tb = Py_TYPE(b);                                   \
            double x, y, data;                                                                 \
            if (ta == node_type && tb == node_type) {                                          \
                x = ((Node *)a)->data;                                                         \
                y = ((Node *)b)->data;                                                         \
                data = EXPR;                                                                   \
                if (isfinite(data) && defined(a) && defined(b))                                \
                    return node_of(OP, data, a, DX, b, DY);                                    \
            } else if (ta == node_type && tb == &PyFloat_Type) {                               \
                x = ((Node *)a)->data;                                                         \
                y = PyFloat_AS_DOUBLE(b);                                                      \
                data = EXPR;                                                                   \
                if (isfinite(y) && isfinite(data) && defined(a)) {                             \
                    PyObject *leaf = make_leaf(y), *out;                                       \
                    if (leaf == NULL) return NULL;                                             \
                    out = node_of(OP, data, a, DX, leaf, DY);                                  \
                    Py_DECREF(leaf);                                                           \
                    return out;                                                                \
                }                                                                              \
            } else if (ta == &PyFloat_Type && tb == node_type) {                               \
                x = PyFloat_AS_DOUBLE(a);                                                      \
                y = ((Node *)b)->data;                                                         \
                data = EXPR;                                                                   \
                if (isfinite(x) && isfinite(data) && defined(b)) {                             \
                    PyObject *leaf = make_leaf(x), *out;                                       \
                    if (leaf == NULL) return NULL;                                             \
                    out = node_of(OP, data, leaf, DX, b, DY);                                  \
                    Py_DECREF(leaf);                                                           \
                    return out;                                                                \
                }                                                                              \
            }                                                                                  \
        }                                                                                      \
        return COMPILED(a, b);                                                                 \
    }

FAST_OP(fast_add, compiled_add, add_op, x + y, 1.0, 1.0)
FAST_OP(fast_sub, compiled_sub, sub_op, x - y, 1.0, -1.0)
FAST_OP(fast_mul, compiled_mul, mul_op, x * y, y, x)

/* -- 3. freeing ------------------------------------------------------------------------- */

/* The nodes to free are chained through their vtable field (their own memory: no allocation). */
static void
fast_dealloc(PyObject *self)
{
    if (Py_TYPE(self) != node_type) {  /* a Python subclass's instance: the compiled deallocator */
        compiled_dealloc(self);
        return;
    }
    PyObject_GC_UnTrack(self);
    Node *stack = (Node *)self;
    stack->vtable = NULL;
    while (stack != NULL) {
        Node *node = stack;
        stack = (Node *)node->vtable;
        PyObject *inputs[2] = {node->x, node->y};
        PyObject *label = node->label, *operation = node->operation;
        node->x = node->y = node->label = node->operation = NULL;
        for (int i = 0; i < 2; i++) {
            PyObject *input = inputs[i];
            if (input == NULL) continue;  /* cleared by the collector (a node of a garbage cycle) */
            if (Py_TYPE(input) == node_type && Py_REFCNT(input) == 1) {  /* its last reference: freed here */
                PyObject_GC_UnTrack(input);
                Py_SET_REFCNT(input, 0);
                ((Node *)input)->vtable = stack;
                stack = (Node *)input;
            } else {
                Py_DECREF(input);
            }
        }
        Py_XDECREF(label);
        Py_XDECREF(operation);
        if (node->pending & 1)  /* a mypyc int too large to be stored inline (a tagged pointer to it), or 1 alone:
                                   undefined (Value.__new__ without __init__), a NULL pointer */
            Py_XDECREF((PyObject *)(node->pending & ~(Py_ssize_t)1));
        slab_free(node);
    }
}

/* -- data and grad, read and written ------------------------------------------------------- */

/* `p.data`, `p.grad`: what an optimizer's loop does to every parameter at every step. For a
 * Value (not a subclass, which may override them) and a float, they read and write the field
 * as the compiled properties do; everything else goes to them (their checks and errors). */
static PyObject *data_name = NULL, *grad_name = NULL;  /* interned, as attribute names in code are */
static getattrofunc compiled_getattro = NULL;
static setattrofunc compiled_setattro = NULL;

static PyObject *
fast_getattro(PyObject *self, PyObject *name)
{
    if (Py_TYPE(self) == node_type) {
        Node *node = (Node *)self;
        if (name == grad_name && grad_defined(node))
            return PyFloat_FromDouble(node->grad);
        if (name == data_name && defined(self)) return PyFloat_FromDouble(node->data);
    }
    return compiled_getattro(self, name);  /* other names, and undefined fields: the compiled AttributeError */
}

static int
fast_setattro(PyObject *self, PyObject *name, PyObject *value)
{
    if (value == NULL) {
        /* del v.data: the compiled properties' setters have no deleter (mypyc's would crash),
         * and a Value without one of its fields is no Value */
        if (PyDict_GetItemWithError(node_type->tp_dict, name) != NULL) {
            PyErr_Format(PyExc_AttributeError, "cannot delete the attribute %R of a Value", name);
            return -1;
        }
        if (PyErr_Occurred()) return -1;
    } else if (Py_TYPE(self) == node_type && PyFloat_CheckExact(value)) {
        Node *node = (Node *)self;
        double number = PyFloat_AS_DOUBLE(value);
        if (name == grad_name) {  /* any float: backward() names a leaf whose grad is NaN or infinite */
            set_grad(node, number);
            return 0;
        }
        if (name == data_name && isfinite(number)) {  /* not finite: the property's ValueError */
            set_data(node, number);
            return 0;
        }
    }
    return compiled_setattro(self, name, value);
}

/* -- 4. backward's walks ------------------------------------------------------------------ */

typedef struct {
    Node **items;
    Py_ssize_t size, capacity;
} Stack;

static inline int
push(Stack *stack, Node *node)
{
    if (stack->size == stack->capacity) {
        Py_ssize_t capacity = stack->capacity ? 2 * stack->capacity : 1024;
        Node **items = PyMem_Realloc(stack->items, (size_t)capacity * sizeof(Node *));
        if (items == NULL) {
            PyErr_NoMemory();
            return -1;
        }
        stack->items = items;
        stack->capacity = capacity;
    }
    stack->items[stack->size++] = node;
    return 0;
}

/* A node whose inputs mypyc reads as undefined (made by Value.__new__ without __init__): the
 * compiled walks raise AttributeError there, and so do these. */
static inline int
inputs_defined(Node *node)
{
    if (node->x != NULL && node->y != NULL) return 1;
    PyErr_SetString(PyExc_AttributeError, node->x == NULL ? "attribute '_x' of 'Value' undefined"
                                                          : "attribute '_y' of 'Value' undefined");
    return 0;
}

static int
check_root(PyObject *root)
{
    if (!fast_ops || !PyObject_TypeCheck(root, node_type)) {
        PyErr_Format(PyExc_TypeError, "the walks need a Value after enable(), got %R", root);
        return -1;
    }
    return 0;
}

/* engine._count_consumers: each node's pending = the edges of root's graph that use it;
 * the grads of non-leaves to 0.0; every leaf appended to `leaves` once. Returns the list
 * of the leaves' grads as they are (what backward() puts back if it is interrupted). */
static PyObject *
count_consumers(PyObject *module, PyObject *args)
{
    PyObject *root, *leaves, *before = NULL, *grad;
    Stack stack = {NULL, 0, 0};
    if (!PyArg_ParseTuple(args, "OO!:count_consumers", &root, &PyList_Type, &leaves) || check_root(root) < 0)
        return NULL;
    before = PyList_New(0);
    if (before == NULL || push(&stack, (Node *)root) < 0) goto error;
    while (stack.size != 0) {
        Node *node = stack.items[--stack.size];
        if (!inputs_defined(node)) goto error;
        if (node->x == Py_None) {
            if (PyList_Append(leaves, (PyObject *)node) < 0 || (grad = PyFloat_FromDouble(node->grad)) == NULL)
                goto error;
            if (PyList_Append(before, grad) < 0) {
                Py_DECREF(grad);
                goto error;
            }
            Py_DECREF(grad);
            continue;
        }
        node->grad = 0.0;
        Node *input = (Node *)node->x;
        if (input->pending != 0) {
            input->pending += ONE_PENDING;
        } else {
            input->pending = ONE_PENDING;
            if (push(&stack, input) < 0) goto error;
        }
        if (node->y != Py_None) {
            input = (Node *)node->y;
            if (input->pending != 0) {
                input->pending += ONE_PENDING;
            } else {
                input->pending = ONE_PENDING;
                if (push(&stack, input) < 0) goto error;
            }
        }
    }
    PyMem_Free(stack.items);
    return before;
error:
    PyMem_Free(stack.items);
    Py_XDECREF(before);
    return NULL;
}

/* sum(leaf.grad for leaf in leaves), in order: not finite when one of them is not (or the sum overflows). */
static PyObject *
grads_sum(PyObject *module, PyObject *leaves)
{
    double total = 0.0;
    if (!PyList_Check(leaves)) {
        PyErr_Format(PyExc_TypeError, "grads_sum needs a list of Values, got %R", leaves);
        return NULL;
    }
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(leaves); i++) {
        PyObject *leaf = PyList_GET_ITEM(leaves, i);
        if (!PyObject_TypeCheck(leaf, node_type)) {
            PyErr_Format(PyExc_TypeError, "grads_sum needs a list of Values, got %R in it", leaf);
            return NULL;
        }
        total += ((Node *)leaf)->grad;
    }
    return PyFloat_FromDouble(total);
}

/* engine._chain_rule: child.grad += local * out.grad for every edge, each node once all its
 * consumers are done (Kahn's algorithm, the same stack order). */
static PyObject *
chain_rule(PyObject *module, PyObject *root)
{
    Stack ready = {NULL, 0, 0};
    if (check_root(root) < 0 || push(&ready, (Node *)root) < 0) return NULL;
    while (ready.size != 0) {
        Node *out = ready.items[--ready.size];
        if (!inputs_defined(out)) goto error;
        if (out->x == Py_None) continue;
        double g = out->grad;
        Node *input = (Node *)out->x;
        set_grad(input, input->grad + out->dx * g);
        input->pending -= ONE_PENDING;
        if (input->pending == 0 && push(&ready, input) < 0) goto error;
        if (out->y != Py_None) {
            input = (Node *)out->y;
            set_grad(input, input->grad + out->dy * g);
            input->pending -= ONE_PENDING;
            if (input->pending == 0 && push(&ready, input) < 0) goto error;
        }
    }
    PyMem_Free(ready.items);
    Py_RETURN_NONE;
error:
    PyMem_Free(ready.items);
    return NULL;
}

/* trace_values' walk (micrograd_it/trace_values.py, _depth_below): the most activations on any path
 * below `root`, each node's count remembered in `memo` (a dict: node -> int, the activations' own
 * counts put there by the caller). The same walk, in C: each node visited once per block. */
static PyObject *
activation_depth(PyObject *module, PyObject *args)
{
    PyObject *root, *memo, *known, *zero = NULL;
    Stack stack = {NULL, 0, 0};
    if (!PyArg_ParseTuple(args, "OO!:activation_depth", &root, &PyDict_Type, &memo) || check_root(root) < 0)
        return NULL;
    known = PyDict_GetItemWithError(memo, root);
    if (known != NULL || PyErr_Occurred()) {
        Py_XINCREF(known);
        return known;
    }
    zero = PyLong_FromLong(0);
    if (zero == NULL || push(&stack, (Node *)root) < 0) goto error;
    while (stack.size != 0) {
        Node *node = stack.items[stack.size - 1];
        if (!inputs_defined(node)) goto error;
        if (node->x == Py_None) {  /* a leaf */
            if (PyDict_SetItem(memo, (PyObject *)node, zero) < 0) goto error;
            stack.size--;
            continue;
        }
        PyObject *below_x = PyDict_GetItemWithError(memo, node->x), *below_y = zero;
        if (below_x == NULL) {
            if (PyErr_Occurred() || push(&stack, (Node *)node->x) < 0) goto error;
            continue;
        }
        if (node->y != Py_None) {
            below_y = PyDict_GetItemWithError(memo, node->y);
            if (below_y == NULL) {
                if (PyErr_Occurred() || push(&stack, (Node *)node->y) < 0) goto error;
                continue;
            }
        }
        int greater = PyObject_RichCompareBool(below_x, below_y, Py_GT);
        if (greater < 0 || PyDict_SetItem(memo, (PyObject *)node, greater ? below_x : below_y) < 0) goto error;
        stack.size--;
    }
    PyMem_Free(stack.items);
    Py_DECREF(zero);
    known = PyDict_GetItemWithError(memo, root);
    Py_XINCREF(known);
    return known;
error:
    PyMem_Free(stack.items);
    Py_XDECREF(zero);
    return NULL;
}

/* -- 5. Adam's update (micrograd_it/optim.py) ------------------------------------------------- */

typedef struct {
    double beta1, beta2, keep1, keep2, lr, correction1, correction2, eps;
} AdamKnobs;

/* list[i] = number, boxed, in a list being filled; -1 on no memory (list[i] stays NULL, which
 * freeing the list skips). */
static inline int
put_float(PyObject *list, Py_ssize_t i, double number)
{
    PyObject *boxed = PyFloat_FromDouble(number);
    if (boxed == NULL) return -1;
    PyList_SET_ITEM(list, i, boxed);
    return 0;
}

/* One parameter's new m, v and data into out[0..2], as optim.Adam.step's comprehensions compute them
 * (the same operations in the same order); whether all three are finite. Both kernels below use it. */
static inline int
adam_one(const AdamKnobs *k, double g, double m, double v, double data, double out[3])
{
    out[0] = k->beta1 * m + k->keep1 * g;
    out[1] = k->beta2 * v + k->keep2 * g * g;
    out[2] = data - k->lr * (out[0] / k->correction1) / (sqrt(out[1] / k->correction2) + k->eps);
    return isfinite(out[0]) && isfinite(out[1]) && isfinite(out[2]);
}


/* adam_update(m, v, grads, data, beta1, beta2, keep1, keep2, lr, correction1, correction2, eps):
 * (new m, new v, new data, all finite) computed as optim.Adam.step's comprehensions compute
 * them, the same operations in the same order; None when an element is not a float (the
 * comprehensions then do it). Nothing is written: the lists returned are new. */
static PyObject *
adam_update(PyObject *module, PyObject *args)
{
    PyObject *m, *v, *grads, *data;
    AdamKnobs k;
    if (!PyArg_ParseTuple(args, "O!O!O!O!dddddddd:adam_update", &PyList_Type, &m, &PyList_Type, &v,
                          &PyList_Type, &grads, &PyList_Type, &data, &k.beta1, &k.beta2, &k.keep1, &k.keep2, &k.lr,
                          &k.correction1, &k.correction2, &k.eps))
        return NULL;
    Py_ssize_t n = PyList_GET_SIZE(m);
    if (PyList_GET_SIZE(v) != n || PyList_GET_SIZE(grads) != n || PyList_GET_SIZE(data) != n) {
        PyErr_SetString(PyExc_ValueError, "adam_update needs four lists of the same length");
        return NULL;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        if (!PyFloat_CheckExact(PyList_GET_ITEM(m, i)) || !PyFloat_CheckExact(PyList_GET_ITEM(v, i)) ||
            !PyFloat_CheckExact(PyList_GET_ITEM(grads, i)) || !PyFloat_CheckExact(PyList_GET_ITEM(data, i)))
            Py_RETURN_NONE;
    }
    PyObject *new_m = PyList_New(n), *new_v = PyList_New(n), *new_data = PyList_New(n);
    if (new_m == NULL || new_v == NULL || new_data == NULL) goto error;
    int finite = 1;
    for (Py_ssize_t i = 0; i < n; i++) {
        double out[3];
        finite &= adam_one(&k, PyFloat_AS_DOUBLE(PyList_GET_ITEM(grads, i)), PyFloat_AS_DOUBLE(PyList_GET_ITEM(m, i)),
                           PyFloat_AS_DOUBLE(PyList_GET_ITEM(v, i)), PyFloat_AS_DOUBLE(PyList_GET_ITEM(data, i)), out);
        if (put_float(new_m, i, out[0]) < 0 || put_float(new_v, i, out[1]) < 0 || put_float(new_data, i, out[2]) < 0)
            goto error;
    }
    return Py_BuildValue("(NNNO)", new_m, new_v, new_data, finite ? Py_True : Py_False);
error:
    Py_XDECREF(new_m);
    Py_XDECREF(new_v);
    Py_XDECREF(new_data);
    return NULL;
}

/* adam_nodes(optimizer, params, m, v, t, beta1, beta2, keep1, keep2, lr, correction1, correction2, eps):
 * optim.Adam.step on the compiled Values themselves: each parameter's data and grad read from its
 * fields, new m, v and data computed as adam_update computes them (the same operations in the same
 * order), and, when every one is finite, written at once: the data fields, then optimizer.m, .v and
 * .steps (= t). Returns True when written; False when a number would not be finite, None when a
 * parameter is not a plain compiled Value with its fields defined or m, v hold other than floats:
 * then nothing is written, and optim.py takes its list path (which raises the error). No Python code
 * runs between the first write and the last, so no signal handler (Ctrl-C) can cut them in half. */
static PyObject *
adam_nodes(PyObject *module, PyObject *args)
{
    PyObject *optimizer, *params, *m, *v, *t;
    AdamKnobs k;
    if (!PyArg_ParseTuple(args, "OOOOOdddddddd:adam_nodes", &optimizer, &params, &m, &v, &t, &k.beta1, &k.beta2,
                          &k.keep1, &k.keep2, &k.lr, &k.correction1, &k.correction2, &k.eps))
        return NULL;
    if (!PyList_CheckExact(params) || !PyList_CheckExact(m) || !PyList_CheckExact(v) || !PyLong_CheckExact(t))
        Py_RETURN_NONE;
    Py_ssize_t n = PyList_GET_SIZE(params);
    if (PyList_GET_SIZE(m) != n || PyList_GET_SIZE(v) != n) Py_RETURN_NONE;
    if (!fast_ops || Py_TYPE(optimizer)->tp_setattro != PyObject_GenericSetAttr) Py_RETURN_NONE;
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *p = PyList_GET_ITEM(params, i);
        if (Py_TYPE(p) != node_type || !defined(p) || !grad_defined((Node *)p) ||
            !PyFloat_CheckExact(PyList_GET_ITEM(m, i)) || !PyFloat_CheckExact(PyList_GET_ITEM(v, i)))
            Py_RETURN_NONE;
    }
    double *new_data = PyMem_Malloc((n > 0 ? n : 1) * sizeof(double));
    PyObject *new_m = PyList_New(n), *new_v = PyList_New(n);
    if (new_data == NULL || new_m == NULL || new_v == NULL) {
        PyMem_Free(new_data);
        Py_XDECREF(new_m);
        Py_XDECREF(new_v);
        return PyErr_NoMemory();
    }
    int finite = 1;
    for (Py_ssize_t i = 0; i < n && finite; i++) {
        Node *p = (Node *)PyList_GET_ITEM(params, i);
        double out[3];
        finite = adam_one(&k, p->grad, PyFloat_AS_DOUBLE(PyList_GET_ITEM(m, i)), PyFloat_AS_DOUBLE(PyList_GET_ITEM(v, i)),
                          p->data, out);
        if (put_float(new_m, i, out[0]) < 0 || put_float(new_v, i, out[1]) < 0) {
            PyMem_Free(new_data);
            Py_DECREF(new_m);
            Py_DECREF(new_v);
            return NULL;
        }
        new_data[i] = out[2];
    }
    if (!finite) {  /* (the lists' unfilled places are NULL: list_dealloc skips them) */
        PyMem_Free(new_data);
        Py_DECREF(new_m);
        Py_DECREF(new_v);
        Py_RETURN_FALSE;
    }
    /* the optimizer's attributes exist already: setting them replaces a value in its dict */
    PyObject *values[3] = {new_m, new_v, t};
    const char *names[3] = {"m", "v", "steps"};
    for (Py_ssize_t i = 0; i < n; i++) set_data((Node *)PyList_GET_ITEM(params, i), new_data[i]);
    PyMem_Free(new_data);
    int failed = 0;
    for (int j = 0; j < 3; j++) failed |= PyObject_SetAttrString(optimizer, names[j], values[j]) < 0;
    Py_DECREF(new_m);
    Py_DECREF(new_v);
    if (failed) return NULL;
    Py_RETURN_TRUE;
}

/* zero_grads(params): every parameter's grad set to 0.0, as `p.grad = 0.0` sets it; True when done,
 * None (nothing written) when params is not a list of plain compiled Values only: optim.py then
 * sets them one by one. */
static PyObject *
zero_grads(PyObject *module, PyObject *params)
{
    if (!fast_ops || !PyList_CheckExact(params)) Py_RETURN_NONE;
    Py_ssize_t n = PyList_GET_SIZE(params);
    for (Py_ssize_t i = 0; i < n; i++)
        if (Py_TYPE(PyList_GET_ITEM(params, i)) != node_type) Py_RETURN_NONE;
    for (Py_ssize_t i = 0; i < n; i++) ((Node *)PyList_GET_ITEM(params, i))->grad = 0.0;
    Py_RETURN_TRUE;
}

/* -- the module's functions ---------------------------------------------------------------- */

static PyObject *
install(PyObject *module, PyObject *args)
{
    PyTypeObject *type;
    Py_ssize_t pre;
    if (!PyArg_ParseTuple(args, "O!n:install", &PyType_Type, &type, &pre)) return NULL;
    if (node_type != NULL) {
        PyErr_SetString(PyExc_RuntimeError, "install() runs once, before the class has instances");
        return NULL;
    }
    if (!PyType_IS_GC(type) || type->tp_alloc != PyType_GenericAlloc || type->tp_itemsize != 0 ||
        (type->tp_flags & Py_TPFLAGS_HEAPTYPE) == 0 || pre < 0 || pre % 8 != 0) {
        PyErr_Format(PyExc_TypeError, "install() needs a class whose instances the collector tracks, of a fixed "
                     "size, allocated with PyType_GenericAlloc, got %R", (PyObject *)type);
        return NULL;
    }
    Py_INCREF(type);
    node_type = type;
    pre_size = pre;
    block_size = ((Py_ssize_t)sizeof(BlockHead) + pre + type->tp_basicsize + 7) & ~(Py_ssize_t)7;  /* doubles aligned */
    type->tp_alloc = slab_alloc;
    type->tp_free = slab_free;
    Py_RETURN_NONE;
}

/* Whether mypyc's struct is the Node struct: probe = a * b (made by the compiled __mul__) with
 * a = Value(1.25) and b = Value(-113.0), probe.grad set to -113.0 (the bitmap's bits set by mypyc). */
static PyObject *
layout_ok(PyObject *module, PyObject *args)
{
    PyObject *probe, *a, *b, *op, *leaf;
    if (!PyArg_ParseTuple(args, "OOOOO:layout_ok", &probe, &a, &b, &op, &leaf)) return NULL;
    if (node_type == NULL || node_type->tp_basicsize != (Py_ssize_t)sizeof(Node) ||
        Py_TYPE(probe) != node_type || Py_TYPE(a) != node_type || Py_TYPE(b) != node_type)
        Py_RETURN_FALSE;
    Node *n = (Node *)probe, *na = (Node *)a, *nb = (Node *)b;
    int ok = n->data == 1.25 * MARKER && (n->bitmap & DATA_BIT) == 0 && n->grad == MARKER && (n->bitmap & GRAD_BIT) &&
             n->x == a && n->y == b && n->dx == MARKER && (n->bitmap & DX_BIT) && n->dy == 1.25 &&
             (n->bitmap & DY_BIT) == 0 && n->operation == op && n->pending == 0 &&
             PyUnicode_Check(n->label) && PyUnicode_GET_LENGTH(n->label) == 0 &&
             na->data == 1.25 && na->x == Py_None && na->y == Py_None && na->operation == leaf &&
             nb->data == MARKER && (nb->bitmap & DATA_BIT) && na->vtable == n->vtable && nb->vtable == n->vtable;
    return PyBool_FromLong(ok);
}

static PyObject *
enable(PyObject *module, PyObject *args)
{
    PyObject *probe;
    if (!PyArg_ParseTuple(args, "OOOOO:enable", &probe, &leaf_op, &add_op, &sub_op, &mul_op)) return NULL;
    if (node_type == NULL || Py_TYPE(probe) != node_type || fast_ops) {
        PyErr_SetString(PyExc_RuntimeError, "enable() runs once, after install() and layout_ok()");
        return NULL;
    }
    empty_label = PyUnicode_New(0, 0);
    data_name = PyUnicode_InternFromString("data");
    grad_name = PyUnicode_InternFromString("grad");
    if (empty_label == NULL || data_name == NULL || grad_name == NULL) return NULL;
    Py_INCREF(leaf_op);
    Py_INCREF(add_op);
    Py_INCREF(sub_op);
    Py_INCREF(mul_op);
    value_vtable = ((Node *)probe)->vtable;
    PyNumberMethods *number = node_type->tp_as_number;
    compiled_add = number->nb_add;
    compiled_sub = number->nb_subtract;
    compiled_mul = number->nb_multiply;
    compiled_dealloc = node_type->tp_dealloc;
    number->nb_add = fast_add;
    number->nb_subtract = fast_sub;
    number->nb_multiply = fast_mul;
    node_type->tp_dealloc = fast_dealloc;
    compiled_getattro = node_type->tp_getattro;
    compiled_setattro = node_type->tp_setattro;
    node_type->tp_getattro = fast_getattro;
    node_type->tp_setattro = fast_setattro;
    PyType_Modified(node_type);
    fast_ops = 1;
    Py_RETURN_NONE;
}

static PyObject *
set_grad_everywhere(PyObject *module, PyObject *flag)
{
    grad_everywhere = PyObject_IsTrue(flag) == 1;
    Py_RETURN_NONE;
}

static PyObject *
set_tracked(PyObject *module, PyObject *args)
{
    PyTypeObject *type;
    int on;
    if (!PyArg_ParseTuple(args, "O!p:set_tracked", &PyType_Type, &type, &on)) return NULL;
    if (type != node_type) {
        PyErr_Format(PyExc_TypeError, "set_tracked() needs the class given to install(), got %R", (PyObject *)type);
        return NULL;
    }
    tracked = on;
    Py_RETURN_NONE;
}

static PyObject *
is_tracked_class(PyObject *module, PyObject *type)
{
    if (!PyType_Check(type)) {
        PyErr_Format(PyExc_TypeError, "is_tracked_class() needs a class, got %R", type);
        return NULL;
    }
    return PyBool_FromLong((PyTypeObject *)type != node_type || tracked);
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

static PyObject *
memory(PyObject *module, PyObject *unused)
{
    return Py_BuildValue("{s:n,s:n,s:n,s:n,s:n}", "nodes", n_live, "slabs", n_slabs, "empty_slabs", n_empty,
                         "empty_slabs_kept", (Py_ssize_t)EMPTY_CAP, "slab_bytes", (Py_ssize_t)(block_size * SLAB_NODES));
}

static PyMethodDef methods[] = {
    {"install", install, METH_VARARGS,
     "install(cls, pre_size): cls's instances in slabs, outside the collector; before it has any instance."},
    {"layout_ok", layout_ok, METH_VARARGS,
     "layout_ok(a * b, a, b, mul_op, leaf_op): True when the fields are where the Node struct reads them."},
    {"enable", enable, METH_VARARGS,
     "enable(probe, leaf_op, add_op, sub_op, mul_op): the C ops, freeing and walks, once layout_ok() said True."},
    {"set_grad_everywhere", set_grad_everywhere, METH_O,
     "set_grad_everywhere(flag): False while a no_grad() block is open somewhere (the ops then defer to the engine)."},
    {"count_consumers", count_consumers, METH_VARARGS, "count_consumers(root, leaves): engine._count_consumers in C."},
    {"chain_rule", chain_rule, METH_O, "chain_rule(root): engine._chain_rule in C."},
    {"activation_depth", activation_depth, METH_VARARGS,
     "activation_depth(root, memo): trace_values' _depth_below in C (the most activations on a path below root)."},
    {"grads_sum", grads_sum, METH_O, "grads_sum(leaves): the sum of their grads (backward's check that all are finite)."},
    {"set_tracked", set_tracked, METH_VARARGS,
     "set_tracked(cls, tracked): whether the collector tracks the nodes made from now on."},
    {"is_tracked_class", is_tracked_class, METH_O,
     "is_tracked_class(cls): False when cls makes its instances untracked."},
    {"new_instance", new_instance, METH_O, "new_instance(cls): cls.__new__(cls), called directly (no __init__)."},
    {"adam_update", adam_update, METH_VARARGS,
     "adam_update(m, v, grads, data, beta1, beta2, keep1, keep2, lr, c1, c2, eps): optim.Adam's numbers in C."},
    {"adam_nodes", adam_nodes, METH_VARARGS,
     "adam_nodes(optimizer, params, m, v, t, beta1, beta2, keep1, keep2, lr, c1, c2, eps): optim.Adam.step on the "
     "Values' own fields; True when written, False (not finite) or None (not plain Values): nothing written."},
    {"zero_grads", zero_grads, METH_O, "zero_grads(params): each grad 0.0; True, or None when not plain Values."},
    {"memory", memory, METH_NOARGS, "memory(): {nodes, slabs, empty_slabs, empty_slabs_kept, slab_bytes}: the slabs now."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module_def = {
    PyModuleDef_HEAD_INIT, "micrograd_it._nodes",
    "The compiled engine's nodes in C: their memory, the ops + - *, freeing, and backward's walks.", -1, methods,
};

PyMODINIT_FUNC
PyInit__nodes(void)
{
    if (empty_args == NULL) {
        empty_args = PyTuple_New(0);
        if (empty_args == NULL) return NULL;
    }
    return PyModule_Create(&module_def);
}
