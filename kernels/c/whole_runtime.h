/* whole_runtime.h: the Python side of whole-function drivers, built once for every driver.
 *
 * A driver (whole.h) is plain C and knows nothing of Python; this runtime
 * makes the state of one compiled function from a driver's graph and gives
 * Python two entry points, METH_FASTCALL functions bound to that state:
 *
 *   - `call(*args)`: the explicit arguments by position.  Each must be what
 *     TensorType.filter returns unchanged (an ndarray of the exact dtype,
 *     rank and broadcastable lengths, native and aligned) or a Python float
 *     or int standing for a float64 or int64 scalar (as filter converts it).
 *     Then the graph runs, the outputs are collected, the updates written
 *     into the shared variables' cells (after every output is computed) and
 *     the outputs returned.  For any other argument it returns
 *     NotImplemented and Python takes its general path (filtering, defaults,
 *     keywords).  It does not write the arguments into their cells.
 *   - `run()`: every input from its cell (values Python filtered, or
 *     converted here when the function trusts its input); returns every
 *     output and update value, as the virtual machine does.
 *
 * Any output that is not a fresh array of its own (a view, an input, a
 * constant, a repeated output) is copied.  On an error inside, the node's
 * index, message, inputs (copies) and status go to Python's `fail`, which
 * raises it naming the node.  The GIL is held throughout.
 *
 * One call at a time: the state (bound inputs, buffers) is the function's
 * own.  The GIL already keeps two threads apart, except where Python code
 * may run inside a call (a finalizer run by an allocation, `fail`), so a
 * `busy` flag marks a call in progress: `call` then answers NotImplemented
 * (Python's general path waits on the function's lock) and `run` waits,
 * without the GIL, until the other call is done.
 */
#ifndef THEANOLAB_WHOLE_RUNTIME_H
#define THEANOLAB_WHOLE_RUNTIME_H

#ifndef NPY_NO_DEPRECATED_API
#define NPY_NO_DEPRECATED_API NPY_1_7_API_VERSION
#endif
#include <Python.h>
#include <numpy/arrayobject.h>
#include "whole.h"

typedef char tl_npy_intp_is_int64[sizeof(npy_intp) == sizeof(int64_t) ? 1 : -1];

typedef union { double f; int64_t i; } tl_number;

/* One compiled function: the driver's state, then what only the runtime uses. */
typedef struct {
    tl_state s;                       /* first: a tl_state * is a tl_function * */
    PyObject **fresh;                 /* arrays made during this call, for the outputs */
    PyObject **held;                  /* per graph input: a reference held during this call (a conversion) */
    tl_number *numbers;               /* per graph input: a Python number passed by value */
    PyObject **results;               /* per graph output */
    PyObject *constants, *cells, *fail, *names;
    int nexplicit, nreturned, single;
    unsigned char *numbers_allowed;   /* per explicit input: may a Python float or int stand for it */
    int nupdates;
    int *update_output, *update_cell;
    int busy;                         /* a call is in progress (see above) */
} tl_function;

/* tl_state.fresh: a new C-contiguous NumPy array for variable v (its shape set), kept in fresh slot f. */
static int tl_new_fresh(tl_state *s, int v, int f)
{
    tl_function *fn = (tl_function *)s;
    const tl_var *info = &s->g->vars[v];
    PyObject *array = PyArray_SimpleNew(info->ndim, (npy_intp *)s->a[v].shape, info->typenum);
    if (array == NULL) {
        PyErr_Clear();
        return tl_out_of_memory(s, v, (size_t)(tl_size(&s->a[v]) * info->itemsize));
    }
    Py_XDECREF(fn->fresh[f]);
    fn->fresh[f] = array;
    s->a[v].data = PyArray_BYTES((PyArrayObject *)array);
    return 0;
}

/* ------------------------------------------------------------------ binding the inputs */

/* `object` (an ndarray) as input or constant i if it is exactly what TensorType.filter returns unchanged. */
static int tl_bind_array(tl_function *fn, int i, PyObject *object)
{
    const tl_var *info = &fn->s.g->vars[i];
    PyArrayObject *array = (PyArrayObject *)object;
    if (PyArray_NDIM(array) != info->ndim || !PyArray_ISNOTSWAPPED(array) || !PyArray_ISALIGNED(array)) return 0;
    const int typenum = PyArray_TYPE(array);
    if (typenum != info->typenum && !PyArray_EquivTypenums(typenum, info->typenum)) return 0;
    const npy_intp *dims = PyArray_DIMS(array);
    const uint64_t broadcastable = fn->s.g->broadcastable[i];
    for (int d = 0; d < info->ndim; d++)
        if (((broadcastable >> d) & 1) && dims[d] != 1) return 0;
    tl_array *a = &fn->s.a[i];
    memcpy((int64_t *)a->shape, dims, sizeof(int64_t) * (size_t)info->ndim);
    memcpy((int64_t *)a->strides, PyArray_STRIDES(array), sizeof(int64_t) * (size_t)info->ndim);
    a->data = PyArray_BYTES(array);
    return 1;
}

/* A Python float or int as the float64 or int64 scalar input i, as TensorType.filter converts it. */
static int tl_bind_number(tl_function *fn, int i, PyObject *object)
{
    const tl_var *info = &fn->s.g->vars[i];
    tl_number *number = &fn->numbers[i];
    if (info->ndim != 0) return 0;
    if (PyFloat_CheckExact(object)) {
        if (info->typenum != NPY_DOUBLE) return 0;
        number->f = PyFloat_AS_DOUBLE(object);
    } else if (PyLong_CheckExact(object)) {
        int overflow = 0;
        const long long value = PyLong_AsLongLongAndOverflow(object, &overflow);
        if (overflow || (value == -1 && PyErr_Occurred())) {
            PyErr_Clear();
            return 0;
        }
        if (info->typenum == NPY_DOUBLE) number->f = (double)value;
        else if (info->itemsize == 8 && PyTypeNum_ISSIGNED(info->typenum) && PyTypeNum_ISINTEGER(info->typenum))
            number->i = (int64_t)value;
        else return 0;
    } else {
        return 0;
    }
    fn->s.a[i].data = (char *)number;
    return 1;
}

/* Input i from `object`, converted if needed (the cells path).  0, or -1 with a Python exception set. */
static int tl_bind_converted(tl_function *fn, int i, PyObject *object)
{
    if (PyArray_Check(object) && tl_bind_array(fn, i, object)) return 0;
    const tl_var *info = &fn->s.g->vars[i];
    PyObject *array = PyArray_FROM_OTF(object, info->typenum, NPY_ARRAY_ALIGNED | NPY_ARRAY_NOTSWAPPED);
    if (array == NULL) return -1;
    Py_XDECREF(fn->held[i]);
    fn->held[i] = array;
    if (tl_bind_array(fn, i, array)) return 0;
    PyObject *shape = PyObject_GetAttrString(array, "shape");
    if (shape != NULL) {
        PyErr_Format(PyExc_TypeError, "input %d (%S) expects %d dimension(s) with the broadcastable pattern of "
                     "its type, got an array of shape %R", i, PyTuple_GET_ITEM(fn->names, i), info->ndim, shape);
        Py_DECREF(shape);
    }
    return -1;
}

static PyObject *tl_cell_value(tl_function *fn, int i)
{
    return PyList_GET_ITEM(PyList_GET_ITEM(fn->cells, i), 0);
}

/* The inputs from `first` on from their cells; 0, or -1 with a Python exception set. */
static int tl_bind_cells(tl_function *fn, int first)
{
    for (int i = first; i < fn->s.g->ninputs; i++)
        if (tl_bind_converted(fn, i, tl_cell_value(fn, i)) != 0) return -1;
    return 0;
}

/* ------------------------------------------------------------------ after a run */

static void tl_release(tl_function *fn)
{
    const tl_graph *g = fn->s.g;
    for (int i = 0; i < g->ninputs; i++) Py_CLEAR(fn->held[i]);
    for (int f = 0; f < g->nfresh; f++) Py_CLEAR(fn->fresh[f]);
    for (int p = 0; p < g->noutputs; p++) Py_CLEAR(fn->results[p]);
}

/* A new array holding a copy of a[v]. */
static PyObject *tl_copy_out(tl_function *fn, int v)
{
    const tl_var *info = &fn->s.g->vars[v];
    const tl_array *a = &fn->s.a[v];
    PyObject *array = PyArray_SimpleNew(info->ndim, (npy_intp *)a->shape, info->typenum);
    if (array != NULL) tl_copy_to_contiguous(PyArray_BYTES((PyArrayObject *)array), a, info->itemsize);
    return array;
}

/* fn->results: every graph output, a fresh array or a copy.  0, or -1 with a Python exception set. */
static int tl_collect(tl_function *fn)
{
    const tl_graph *g = fn->s.g;
    for (int p = 0; p < g->noutputs; p++) {
        const int f = g->fresh[p];
        if (f >= 0) {
            fn->results[p] = fn->fresh[f];
            fn->fresh[f] = NULL;
        } else if ((fn->results[p] = tl_copy_out(fn, g->outputs[p])) == NULL) {
            return -1;
        }
    }
    return 0;
}

/* A copy of node k's inputs, for the message Python writes (describe_node_failure). */
static PyObject *tl_node_inputs(tl_function *fn, int k)
{
    const tl_graph *g = fn->s.g;
    const int start = g->node_start[k], count = g->node_start[k + 1] - start;
    PyObject *inputs = PyTuple_New(count);
    for (int j = 0; inputs != NULL && j < count; j++) {
        PyObject *copy = tl_copy_out(fn, g->node_inputs[start + j]);
        if (copy == NULL) {
            Py_CLEAR(inputs);
            break;
        }
        PyTuple_SET_ITEM(inputs, j, copy);
    }
    return inputs;
}

/* Run the graph: 0, or -1 with the node's error raised (by fail(node, message, inputs, status)). */
static int tl_execute(tl_function *fn)
{
    tl_state *s = &fn->s;
    s->status = 0;
    s->error[0] = 0;
    const int failed = s->g->execute(s);
    if (failed == 0) return 0;
    PyObject *inputs = tl_node_inputs(fn, failed - 1);
    tl_release(fn);
    if (inputs == NULL) return -1;
    PyObject *result = PyObject_CallFunction(fn->fail, "isOi", failed - 1, s->error, inputs, s->status);
    Py_DECREF(inputs);
    if (result != NULL) {
        Py_DECREF(result);
        PyErr_SetString(PyExc_RuntimeError, s->error);
    }
    return -1;
}

/* ------------------------------------------------------------------ the entry points */

#define TL_CAPSULE "theanolab.whole_function"

static PyObject *tl_call_unguarded(tl_function *fn, PyObject *const *args, Py_ssize_t nargs);

static PyObject *tl_call(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    tl_function *fn = (tl_function *)PyCapsule_GetPointer(self, TL_CAPSULE);
    if (fn->busy) Py_RETURN_NOTIMPLEMENTED;
    fn->busy = 1;
    PyObject *result = tl_call_unguarded(fn, args, nargs);
    fn->busy = 0;
    return result;
}

static PyObject *tl_call_unguarded(tl_function *fn, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != fn->nexplicit) Py_RETURN_NOTIMPLEMENTED;
    for (int i = 0; i < fn->nexplicit; i++) {
        PyObject *arg = args[i];
        if (PyArray_CheckExact(arg) ? !tl_bind_array(fn, i, arg)
                                    : !(fn->numbers_allowed[i] && tl_bind_number(fn, i, arg)))
            Py_RETURN_NOTIMPLEMENTED;
    }
    if (tl_bind_cells(fn, fn->nexplicit) != 0 || tl_execute(fn) != 0 || tl_collect(fn) != 0) {
        tl_release(fn);
        return NULL;
    }
    for (int u = 0; u < fn->nupdates; u++) {  /* after every output is computed, as Function._finish */
        PyObject *cell = PyList_GET_ITEM(fn->cells, fn->update_cell[u]);
        PyObject *value = fn->results[fn->update_output[u]];
        fn->results[fn->update_output[u]] = NULL;
        PyList_SetItem(cell, 0, value);
    }
    PyObject *returned;
    if (fn->single) {
        returned = fn->results[0];
        fn->results[0] = NULL;
    } else {
        returned = PyList_New(fn->nreturned);
        for (int p = 0; returned != NULL && p < fn->nreturned; p++) {
            PyList_SET_ITEM(returned, p, fn->results[p]);
            fn->results[p] = NULL;
        }
    }
    tl_release(fn);
    return returned;
}

static PyObject *tl_run_unguarded(tl_function *fn);

static PyObject *tl_run(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    tl_function *fn = (tl_function *)PyCapsule_GetPointer(self, TL_CAPSULE);
    (void)args;
    (void)nargs;
    while (fn->busy) {  /* another thread's call is inside Python code: let it finish */
        Py_BEGIN_ALLOW_THREADS
        Py_END_ALLOW_THREADS
    }
    fn->busy = 1;
    PyObject *result = tl_run_unguarded(fn);
    fn->busy = 0;
    return result;
}

static PyObject *tl_run_unguarded(tl_function *fn)
{
    const int noutputs = fn->s.g->noutputs;
    if (tl_bind_cells(fn, 0) != 0 || tl_execute(fn) != 0 || tl_collect(fn) != 0) {
        tl_release(fn);
        return NULL;
    }
    PyObject *results = PyList_New(noutputs);
    for (int p = 0; results != NULL && p < noutputs; p++) {
        PyList_SET_ITEM(results, p, fn->results[p]);
        fn->results[p] = NULL;
    }
    tl_release(fn);
    return results;
}

static void tl_free_function(PyObject *capsule)
{
    tl_function *fn = (tl_function *)PyCapsule_GetPointer(capsule, TL_CAPSULE);
    if (fn == NULL) return;
    tl_state *s = &fn->s;
    if (fn->held != NULL && fn->fresh != NULL && fn->results != NULL) tl_release(fn);
    for (int b = 0; s->buffers != NULL && b < s->g->nbuffers; b++) free(s->buffers[b]);
    Py_XDECREF(fn->constants);
    Py_XDECREF(fn->cells);
    Py_XDECREF(fn->fail);
    Py_XDECREF(fn->names);
    free(s->a); free(s->meta); free(s->buffers); free(s->capacity); free(s->kernels); free(s->shapes);
    free(fn->fresh); free(fn->held); free(fn->numbers); free(fn->results); free(fn->numbers_allowed);
    free(fn->update_output); free(fn->update_cell);
    free(fn);
}

static PyMethodDef tl_call_def = {"call", (PyCFunction)(void (*)(void))tl_call, METH_FASTCALL,
                                  "call(*args): run with the explicit arguments (NotImplemented: the general path)"};
static PyMethodDef tl_run_def = {"run", (PyCFunction)(void (*)(void))tl_run, METH_FASTCALL,
                                 "run(): run with the values in the input cells; every output and update"};

/* calloc of at least one element, so an empty table is not mistaken for a failure. */
static void *tl_table(size_t count, size_t size)
{
    return calloc(count ? count : 1, size);
}

/* make((graph, kernels, constants, cells, fail, names, nexplicit, numbers_allowed, updates, nreturned,
 *       single)) -> (call, run).  graph: the driver's tl_graph address; kernels: addresses of the
 * kernels; constants: arrays, in variable order; cells: the graph inputs' storage cells (one-item
 * lists); numbers_allowed: per explicit input; updates: ((output position, cell index), ...). */
static PyObject *tl_make(PyObject *spec)
{
    PyObject *graph, *kernels, *constants, *cells, *fail, *names, *allowed, *updates;
    int nexplicit, nreturned, single;
    if (PyArray_API == NULL && _import_array() < 0) return NULL;
    if (!PyArg_ParseTuple(spec, "O!O!O!O!OO!iO!O!ip", &PyLong_Type, &graph, &PyTuple_Type, &kernels,
                          &PyTuple_Type, &constants, &PyList_Type, &cells, &fail, &PyTuple_Type, &names,
                          &nexplicit, &PyTuple_Type, &allowed, &PyTuple_Type, &updates, &nreturned, &single))
        return NULL;
    const tl_graph *g = (const tl_graph *)PyLong_AsVoidPtr(graph);
    if (g == NULL || PyTuple_GET_SIZE(kernels) != g->nkernels || PyTuple_GET_SIZE(constants) != g->nconstants
        || PyList_GET_SIZE(cells) != g->ninputs || PyTuple_GET_SIZE(names) != g->ninputs
        || PyTuple_GET_SIZE(allowed) != nexplicit || nexplicit > g->ninputs || nreturned > g->noutputs
        || (single && nreturned != 1)) {
        PyErr_SetString(PyExc_ValueError, "whole-function runtime: the specification does not fit the graph");
        return NULL;
    }
    tl_function *fn = calloc(1, sizeof(tl_function));
    if (fn == NULL) return PyErr_NoMemory();
    tl_state *s = &fn->s;
    s->g = g;
    s->fresh = tl_new_fresh;
    PyObject *capsule = PyCapsule_New(fn, TL_CAPSULE, tl_free_function);
    if (capsule == NULL) {
        free(fn);
        return NULL;
    }
    int64_t nmeta = 0;
    for (int v = 0; v < g->nvars; v++) nmeta += 2 * g->vars[v].ndim;
    const int nupdates = (int)PyTuple_GET_SIZE(updates);
    s->a = tl_table((size_t)g->nvars, sizeof(tl_array));
    s->meta = tl_table((size_t)nmeta, sizeof(int64_t));
    s->buffers = tl_table((size_t)g->nbuffers, sizeof(char *));
    s->capacity = tl_table((size_t)g->nbuffers, sizeof(size_t));
    s->kernels = tl_table((size_t)g->nkernels, sizeof(tl_kernel));
    s->shapes = tl_table((size_t)g->nshapes, sizeof(int64_t));
    fn->fresh = tl_table((size_t)g->nfresh, sizeof(PyObject *));
    fn->held = tl_table((size_t)g->ninputs, sizeof(PyObject *));
    fn->numbers = tl_table((size_t)g->ninputs, sizeof(tl_number));
    fn->results = tl_table((size_t)g->noutputs, sizeof(PyObject *));
    fn->numbers_allowed = tl_table((size_t)nexplicit, 1);
    fn->update_output = tl_table((size_t)nupdates, sizeof(int));
    fn->update_cell = tl_table((size_t)nupdates, sizeof(int));
    if (!s->a || !s->meta || !s->buffers || !s->capacity || !s->kernels || !s->shapes || !fn->fresh || !fn->held
        || !fn->numbers || !fn->results || !fn->numbers_allowed || !fn->update_output || !fn->update_cell) {
        Py_DECREF(capsule);
        return PyErr_NoMemory();
    }
    Py_INCREF(constants); fn->constants = constants;
    Py_INCREF(cells); fn->cells = cells;
    Py_INCREF(fail); fn->fail = fail;
    Py_INCREF(names); fn->names = names;
    fn->nexplicit = nexplicit;
    fn->nreturned = nreturned;
    fn->single = single;
    fn->nupdates = nupdates;
    int64_t offset = 0;
    for (int v = 0; v < g->nvars; v++) {
        s->a[v].ndim = g->vars[v].ndim;
        s->a[v].shape = s->meta + offset;
        s->a[v].strides = s->meta + offset + g->vars[v].ndim;
        offset += 2 * g->vars[v].ndim;
    }
    for (int k = 0; k < g->nkernels; k++) s->kernels[k] = (tl_kernel)PyLong_AsVoidPtr(PyTuple_GET_ITEM(kernels, k));
    for (int c = 0; c < g->nconstants; c++) {
        PyObject *constant = PyTuple_GET_ITEM(constants, c);
        if (!PyArray_Check(constant) || !tl_bind_array(fn, g->ninputs + c, constant)) {
            PyErr_Format(PyExc_ValueError, "whole-function runtime: constant %d does not fit its type", c);
            Py_DECREF(capsule);
            return NULL;
        }
    }
    for (int i = 0; i < nexplicit; i++) fn->numbers_allowed[i] = PyObject_IsTrue(PyTuple_GET_ITEM(allowed, i)) == 1;
    for (int u = 0; u < nupdates; u++) {
        PyObject *pair = PyTuple_GET_ITEM(updates, u);
        fn->update_output[u] = (int)PyLong_AsLong(PyTuple_GET_ITEM(pair, 0));
        fn->update_cell[u] = (int)PyLong_AsLong(PyTuple_GET_ITEM(pair, 1));
        if (fn->update_output[u] < 0 || fn->update_output[u] >= g->noutputs || fn->update_cell[u] < nexplicit
            || fn->update_cell[u] >= g->ninputs) {
            PyErr_SetString(PyExc_ValueError, "whole-function runtime: an update does not fit the graph");
        }
    }
    for (int i = 0; i < g->ninputs; i++) {
        PyObject *cell = PyList_GET_ITEM(cells, i);
        if (!PyList_Check(cell) || PyList_GET_SIZE(cell) != 1)
            PyErr_Format(PyExc_TypeError, "whole-function runtime: the cell of input %d is not a one-item list", i);
    }
    if (PyErr_Occurred()) {
        Py_DECREF(capsule);
        return NULL;
    }
    PyObject *call = PyCFunction_New(&tl_call_def, capsule);
    PyObject *run = PyCFunction_New(&tl_run_def, capsule);
    Py_DECREF(capsule);
    if (call == NULL || run == NULL) {
        Py_XDECREF(call);
        Py_XDECREF(run);
        return NULL;
    }
    return Py_BuildValue("(NN)", call, run);
}

#endif
