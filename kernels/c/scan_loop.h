/* scan_loop.h: a Scan's whole loop in one C call (theanolab/backends/c/scan_loop.py).
 *
 * The body of the loop is a whole-function driver (whole.h), made into a
 * compiled function by the whole-function runtime (whole_runtime.h).  One
 * call of `loop(n, sequences, buffers, shared, non_sequences)` runs every
 * step with no Python in between:
 *
 *   - the body's inputs are bound to views, never copies: a sequence's
 *     input to row t of the sequence, a tap k of a state of lag L to row
 *     (L + t + k) mod R of the state's buffer (R rows: L + n for the whole
 *     history, fewer when a rewrite keeps only the last rows and uses them
 *     circularly), a shared value to its current value, a non-sequence to
 *     itself (bound once);
 *   - the driver places the body's outputs through the state's `fresh`
 *     hook, which this loop replaces while it runs: a new state goes
 *     straight into row (L + t) mod R of its buffer, a per-step output into
 *     row t mod R of its buffer (made when step 0 tells its shape; R: n, or
 *     the rows a rewrite keeps), a new shared
 *     value and the until condition into new arrays as usual.  An output
 *     the driver does not compute into a fresh place (a view, an input, a
 *     repeated output) is copied into its row;
 *   - a shared value is carried from step to step (the new array becomes
 *     the next step's input), and an `until` condition is read after each
 *     step.
 *
 * Memory.  A call allocates large arrays (the buffers, n rows each; the
 * nodes around a scan work on whole sequences too), and glibc hands freed
 * memory of that size back to the system at once, to page-fault it in
 * again on the next call: on the benchmark RNN that costs more than the
 * loop's arithmetic.  So the first loop made raises glibc's thresholds
 * (mallopt): blocks up to 32 MB come from the heap, and up to 256 MB of
 * freed heap is kept for reuse instead of being trimmed.
 *
 * The caller (Python) allocates the state buffers with their initial rows.
 * A failure calls Python's `fail(step, node, message, inputs, status)`:
 * node >= 0 for an error inside the body's node (inputs: copies of its
 * inputs), -1 for an output whose shape changed (message: which output,
 * inputs: (shape, expected shape)).  The GIL is held throughout.
 */
#ifndef THEANOLAB_SCAN_LOOP_H
#define THEANOLAB_SCAN_LOOP_H

#include "whole_runtime.h"
#ifdef __GLIBC__
#include <malloc.h>
#endif

#define TL_PLACE_NEW 0    /* a new array: a shared value, the until condition */
#define TL_PLACE_STATE 1  /* row (L + t) mod R of a state's buffer */
#define TL_PLACE_STEP 2   /* row t of a per-step output's buffer */

typedef struct {
    PyObject *body;                   /* the capsule of the body's compiled function (a reference) */
    tl_function *fn;
    PyObject *fail;
    int nseq, ntaps, nstates, nstep, nshared, nnonseq, as_while;
    int *lags;                        /* per state */
    int64_t *step_rows;               /* per per-step output: the rows it keeps (circularly), 0: all, -1: all,
                                       * step t at row n - 1 - t (ScanInfo.reversed_rows) */
    int *tap_state, *tap_offset;      /* per tap input: its state, and L + k */
    int *place_kind, *place_index;    /* per body output: TL_PLACE_*, and which state / per-step output */
    /* during a call */
    PyArrayObject **buffers;          /* per state (borrowed) */
    PyObject **per_step;              /* per per-step output: its buffer, once step 0 made it */
    PyObject **shared;                /* per shared value: the current one (a reference) */
    int *slot_output;                 /* per fresh slot of the body: the output it places */
    int64_t n, t;
    int bad_output;                   /* the output whose shape did not fit, or -1 */
} tl_loop;

/* The loop running now (loops do not nest: a body holding a loop is no whole-function driver). */
static tl_loop *tl_running_loop;

/* Row `time_row` (L + t + k) of state j's buffer, whose R rows are used circularly. */
static inline char *tl_state_row(const tl_loop *loop, int j, int64_t time_row)
{
    PyArrayObject *buffer = loop->buffers[j];
    return PyArray_BYTES(buffer) + (time_row % PyArray_DIM(buffer, 0)) * PyArray_STRIDE(buffer, 0);
}

/* Where output p goes at the current step (a per-step output's buffer made first, at step 0): its row,
 * or NULL with loop->bad_output set when `shape` is not the row's shape (or a Python error: memory). */
static char *tl_output_row(tl_loop *loop, int p, const tl_var *info, const int64_t *shape)
{
    const int index = loop->place_index[p];
    PyArrayObject *buffer;
    char *row;
    if (loop->place_kind[p] == TL_PLACE_STATE) {
        buffer = loop->buffers[index];
        row = tl_state_row(loop, index, loop->lags[index] + loop->t);
    } else {
        const int64_t kept = loop->step_rows[index], rows = kept > 0 && kept < loop->n ? kept : loop->n;
        if (loop->per_step[index] == NULL) {
            npy_intp dims[NPY_MAXDIMS + 1];
            dims[0] = (npy_intp)rows;
            for (int d = 0; d < info->ndim; d++) dims[d + 1] = (npy_intp)shape[d];
            loop->per_step[index] = PyArray_SimpleNew(info->ndim + 1, dims, info->typenum);
            if (loop->per_step[index] == NULL) return NULL;
        }
        buffer = (PyArrayObject *)loop->per_step[index];
        row = PyArray_BYTES(buffer) + (kept < 0 ? loop->n - 1 - loop->t : loop->t % rows) * PyArray_STRIDE(buffer, 0);
    }
    if (memcmp(PyArray_DIMS(buffer) + 1, shape, sizeof(int64_t) * (size_t)info->ndim) != 0) {
        loop->bad_output = p;
        return NULL;
    }
    return row;
}

/* The body's `fresh` hook while the loop runs: a state or per-step output is computed in its row. */
static int tl_loop_fresh(tl_state *s, int v, int f)
{
    tl_loop *loop = tl_running_loop;
    const int p = loop->slot_output[f];
    if (loop->place_kind[p] == TL_PLACE_NEW) return tl_new_fresh(s, v, f);
    char *row = tl_output_row(loop, p, &s->g->vars[v], s->a[v].shape);
    if (row == NULL) {  /* a shape that does not fit (loop->bad_output says which), or no memory */
        if (!PyErr_Occurred()) return 1;
        PyErr_Clear();
        return tl_out_of_memory(s, v, (size_t)(tl_size(&s->a[v]) * s->g->vars[v].itemsize) * (size_t)loop->n);
    }
    s->a[v].data = row;  /* the buffers are C-contiguous, as tl_set_shape's strides say */
    return 0;
}

/* The truth of a 0-d array's value (the until condition), as Python's bool(). */
static int tl_truth(const char *data, int typenum)
{
    switch (typenum) {
    case NPY_BOOL: case NPY_INT8: case NPY_UINT8: return *(const uint8_t *)data != 0;
    case NPY_INT16: case NPY_UINT16: return *(const uint16_t *)data != 0;
    case NPY_INT32: case NPY_UINT32: return *(const uint32_t *)data != 0;
    case NPY_FLOAT32: return *(const float *)data != 0;
    case NPY_FLOAT64: return *(const double *)data != 0;
    default: return *(const uint64_t *)data != 0;  /* the 8-byte integers */
    }
}

/* ------------------------------------------------------------------ binding the inputs */

/* `object` as the array whose rows input i of the body takes (checked once per call: dtype, rank, the
 * broadcastable dimensions of a row); its shape and strides, less the first, set.  0, or -1 (TypeError). */
static int tl_bind_rows(tl_loop *loop, int i, PyObject *object, const char *what)
{
    tl_function *fn = loop->fn;
    const tl_var *info = &fn->s.g->vars[i];
    int fits = PyArray_Check(object);
    PyArrayObject *array = (PyArrayObject *)object;
    if (fits) {
        const int typenum = PyArray_TYPE(array);
        fits = PyArray_NDIM(array) == info->ndim + 1 && PyArray_ISNOTSWAPPED(array) && PyArray_ISALIGNED(array)
               && (typenum == info->typenum || PyArray_EquivTypenums(typenum, info->typenum));
        for (int d = 0; fits && d < info->ndim; d++)
            if (((fn->s.g->broadcastable[i] >> d) & 1) && PyArray_DIM(array, d + 1) != 1) fits = 0;
    }
    if (!fits) {
        PyErr_Format(PyExc_TypeError, "scan loop: the %s read by input %d (%S) of the body must be an aligned "
                     "array of its dtype with one more dimension than that input", what, i,
                     PyTuple_GET_ITEM(fn->names, i));
        return -1;
    }
    tl_array *a = &fn->s.a[i];
    memcpy((int64_t *)a->shape, PyArray_DIMS(array) + 1, sizeof(int64_t) * (size_t)info->ndim);
    memcpy((int64_t *)a->strides, PyArray_STRIDES(array) + 1, sizeof(int64_t) * (size_t)info->ndim);
    return 0;
}

static PyObject *tl_shape_tuple(const int64_t *shape, int ndim)
{
    PyObject *tuple = PyTuple_New(ndim);
    for (int d = 0; tuple != NULL && d < ndim; d++) PyTuple_SET_ITEM(tuple, d, PyLong_FromLongLong(shape[d]));
    return tuple;
}

/* Report a failure at step t to Python's fail (which raises); always -1. */
static int tl_loop_failed(tl_loop *loop, int failed)
{
    tl_function *fn = loop->fn;
    tl_state *s = &fn->s;
    PyObject *inputs;
    int node = -1;
    if (PyErr_Occurred()) return -1;
    if (loop->bad_output >= 0) {
        const int p = loop->bad_output, v = s->g->outputs[p];
        PyArrayObject *buffer = loop->place_kind[p] == TL_PLACE_STATE ? loop->buffers[loop->place_index[p]]
                                                                      : (PyArrayObject *)loop->per_step[loop->place_index[p]];
        inputs = Py_BuildValue("(NN)", tl_shape_tuple(s->a[v].shape, s->g->vars[v].ndim),
                               tl_shape_tuple(PyArray_DIMS(buffer) + 1, s->g->vars[v].ndim));
        snprintf(s->error, TL_ERROR_SIZE, "%s %d", loop->place_kind[p] == TL_PLACE_STATE ? "state" : "per-step output",
                 loop->place_index[p]);
    } else {
        node = failed - 1;
        inputs = tl_node_inputs(fn, node);
    }
    if (inputs == NULL) return -1;
    PyObject *result = PyObject_CallFunction(loop->fail, "LisOi", (long long)loop->t, node, s->error, inputs,
                                             s->status);
    Py_DECREF(inputs);
    if (result != NULL) {
        Py_DECREF(result);
        PyErr_SetString(PyExc_RuntimeError, s->error);
    }
    return -1;
}

/* After a step: copy what the driver did not compute in place, carry the shared values, read the
 * condition.  0 (go on), 1 (the condition holds: stop), or -1 (failed: loop->bad_output or a Python error). */
static int tl_after_step(tl_loop *loop)
{
    tl_function *fn = loop->fn;
    tl_state *s = &fn->s;
    const tl_graph *g = s->g;
    const int first_shared = loop->nstates + loop->nstep;
    int stop = 0;
    for (int p = 0; p < g->noutputs; p++) {
        const int v = g->outputs[p], f = g->fresh[p];
        const tl_var *info = &g->vars[v];
        if (loop->place_kind[p] != TL_PLACE_NEW) {
            if (f >= 0) continue;  /* computed in its row */
            char *row = tl_output_row(loop, p, info, s->a[v].shape);
            if (row == NULL) return -1;
            tl_copy_to_contiguous(row, &s->a[v], info->itemsize);
        } else if (p < first_shared + loop->nshared) {
            PyObject *value = f >= 0 ? fn->fresh[f] : tl_copy_out(fn, v);
            if (value == NULL) return -1;
            if (f >= 0) fn->fresh[f] = NULL;
            Py_SETREF(loop->shared[p - first_shared], value);
        } else {
            stop = tl_truth(s->a[v].data, info->typenum);
            if (f >= 0) Py_CLEAR(fn->fresh[f]);
        }
    }
    return stop;
}

/* ------------------------------------------------------------------ the entry point */

#define TL_LOOP_CAPSULE "theanolab.scan_loop"

/* The steps; 0, or -1 with a Python error set.  *steps_run: how many ran. */
static int tl_run_steps(tl_loop *loop, PyObject *sequences, int64_t *steps_run)
{
    tl_function *fn = loop->fn;
    tl_state *s = &fn->s;
    const int first_tap = loop->nseq, first_shared = first_tap + loop->ntaps;
    *steps_run = loop->n;
    for (int64_t t = 0; t < loop->n; t++) {
        loop->t = t;
        for (int i = 0; i < loop->nseq; i++) {
            PyArrayObject *sequence = (PyArrayObject *)PyTuple_GET_ITEM(sequences, i);
            s->a[i].data = PyArray_BYTES(sequence) + t * PyArray_STRIDE(sequence, 0);
        }
        for (int k = 0; k < loop->ntaps; k++)
            s->a[first_tap + k].data = tl_state_row(loop, loop->tap_state[k], loop->tap_offset[k] + t);
        for (int i = 0; i < loop->nshared; i++)
            if (tl_bind_converted(fn, first_shared + i, loop->shared[i]) != 0) return -1;
        s->status = 0;
        s->error[0] = 0;
        const int failed = s->g->execute(s);
        if (failed != 0) return tl_loop_failed(loop, failed);
        const int after = tl_after_step(loop);
        if (after < 0) return tl_loop_failed(loop, 0);
        if (after == 1) {
            *steps_run = t + 1;
            break;
        }
    }
    return 0;
}

/* loop(n, sequences, buffers, shared, non_sequences) -> (steps run, per-step buffers, final shared values). */
static PyObject *tl_loop_call(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    tl_loop *loop = (tl_loop *)PyCapsule_GetPointer(self, TL_LOOP_CAPSULE);
    tl_function *fn = loop->fn;
    if (nargs != 5 || !PyLong_Check(args[0]) || !PyTuple_Check(args[1]) || !PyTuple_Check(args[2])
        || !PyTuple_Check(args[3]) || !PyTuple_Check(args[4]) || PyTuple_GET_SIZE(args[1]) != loop->nseq
        || PyTuple_GET_SIZE(args[2]) != loop->nstates || PyTuple_GET_SIZE(args[3]) != loop->nshared
        || PyTuple_GET_SIZE(args[4]) != loop->nnonseq) {
        PyErr_SetString(PyExc_TypeError, "scan loop: expected (n, sequences, buffers, shared, non_sequences)");
        return NULL;
    }
    const int first_tap = loop->nseq, first_non_seq = first_tap + loop->ntaps + loop->nshared;
    PyObject *sequences = args[1], *buffers = args[2];
    loop->n = PyLong_AsLongLong(args[0]);
    loop->bad_output = -1;
    int status = 0;
    for (int i = 0; status == 0 && i < loop->nseq; i++)
        status = tl_bind_rows(loop, i, PyTuple_GET_ITEM(sequences, i), "sequence");
    for (int j = 0; status == 0 && j < loop->nstates; j++) {
        PyObject *buffer = PyTuple_GET_ITEM(buffers, j);
        if (!PyArray_Check(buffer) || !PyArray_IS_C_CONTIGUOUS((PyArrayObject *)buffer)
            || !PyArray_ISWRITEABLE((PyArrayObject *)buffer) || PyArray_DIM((PyArrayObject *)buffer, 0) <= loop->lags[j]) {
            PyErr_Format(PyExc_TypeError, "scan loop: the buffer of state %d must be a writeable C-contiguous "
                         "array of more than %d rows", j, loop->lags[j]);
            status = -1;
            break;
        }
        loop->buffers[j] = (PyArrayObject *)buffer;
    }
    for (int k = 0; status == 0 && k < loop->ntaps; k++)
        status = tl_bind_rows(loop, first_tap + k, PyTuple_GET_ITEM(buffers, loop->tap_state[k]), "state buffer");
    for (int i = 0; status == 0 && i < loop->nnonseq; i++)
        status = tl_bind_converted(fn, first_non_seq + i, PyTuple_GET_ITEM(args[4], i));
    for (int i = 0; i < loop->nshared; i++) {
        loop->shared[i] = PyTuple_GET_ITEM(args[3], i);
        Py_INCREF(loop->shared[i]);
    }
    for (int m = 0; m < loop->nstep; m++) loop->per_step[m] = NULL;
    int64_t steps_run = 0;
    if (status == 0) {
        tl_loop *outer = tl_running_loop;
        tl_running_loop = loop;
        fn->s.fresh = tl_loop_fresh;
        status = tl_run_steps(loop, sequences, &steps_run);
        fn->s.fresh = tl_new_fresh;
        tl_running_loop = outer;
    }
    tl_release(fn);
    PyObject *per_step = PyList_New(loop->nstep), *shared = PyList_New(loop->nshared);
    for (int m = 0; m < loop->nstep; m++) {
        PyObject *buffer = loop->per_step[m] != NULL ? loop->per_step[m] : Py_NewRef(Py_None);
        if (per_step != NULL) PyList_SET_ITEM(per_step, m, buffer);
        else Py_DECREF(buffer);
        loop->per_step[m] = NULL;
    }
    for (int i = 0; i < loop->nshared; i++) {
        if (shared != NULL) PyList_SET_ITEM(shared, i, loop->shared[i]);
        else Py_DECREF(loop->shared[i]);
        loop->shared[i] = NULL;
    }
    for (int j = 0; j < loop->nstates; j++) loop->buffers[j] = NULL;
    if (status != 0 || per_step == NULL || shared == NULL) {
        Py_XDECREF(per_step);
        Py_XDECREF(shared);
        return NULL;
    }
    return Py_BuildValue("(LNN)", (long long)steps_run, per_step, shared);
}

static void tl_free_loop(PyObject *capsule)
{
    tl_loop *loop = (tl_loop *)PyCapsule_GetPointer(capsule, TL_LOOP_CAPSULE);
    if (loop == NULL) return;
    Py_XDECREF(loop->body);
    Py_XDECREF(loop->fail);
    free(loop->lags); free(loop->step_rows); free(loop->tap_state); free(loop->tap_offset); free(loop->place_kind);
    free(loop->place_index); free(loop->buffers); free(loop->per_step); free(loop->shared); free(loop->slot_output);
    free(loop);
}

static PyMethodDef tl_loop_def = {"loop", (PyCFunction)(void (*)(void))tl_loop_call, METH_FASTCALL,
                                  "loop(n, sequences, buffers, shared, non_sequences): every step of the scan"};

static int tl_int_at(PyObject *tuple, Py_ssize_t k)
{
    return (int)PyLong_AsLong(PyTuple_GET_ITEM(tuple, k));
}

/* make((run, fail, (nseq, nstates, nstep, nshared, nnonseq, as_while), lags, tap_states, tap_offsets,
 *       place_kinds, place_indices, step_rows)) -> loop.  run: the body's `run` (bound to its compiled function). */
static void tl_keep_freed_memory(void)
{
#ifdef __GLIBC__
    static int done;
    if (!done) {
        mallopt(M_MMAP_THRESHOLD, 32 << 20);
        mallopt(M_TRIM_THRESHOLD, 256 << 20);
        done = 1;
    }
#endif
}

static PyObject *tl_loop_make(PyObject *spec)
{
    PyObject *run, *fail, *counts, *lags, *tap_states, *tap_offsets, *kinds, *indices, *step_rows;
    if (PyArray_API == NULL && _import_array() < 0) return NULL;
    tl_keep_freed_memory();
    if (!PyArg_ParseTuple(spec, "OOO!O!O!O!O!O!O!", &run, &fail, &PyTuple_Type, &counts, &PyTuple_Type, &lags,
                          &PyTuple_Type, &tap_states, &PyTuple_Type, &tap_offsets, &PyTuple_Type, &kinds,
                          &PyTuple_Type, &indices, &PyTuple_Type, &step_rows))
        return NULL;
    PyObject *body = PyCFunction_Check(run) ? PyCFunction_GET_SELF(run) : NULL;
    tl_function *fn = body != NULL ? (tl_function *)PyCapsule_GetPointer(body, TL_CAPSULE) : NULL;
    if (fn == NULL || PyTuple_GET_SIZE(counts) != 6) {
        PyErr_Clear();
        PyErr_SetString(PyExc_ValueError, "scan loop: the body is not a whole-function driver's run");
        return NULL;
    }
    const tl_graph *g = fn->s.g;
    tl_loop *loop = calloc(1, sizeof(tl_loop));
    if (loop == NULL) return PyErr_NoMemory();
    PyObject *capsule = PyCapsule_New(loop, TL_LOOP_CAPSULE, tl_free_loop);
    if (capsule == NULL) {
        free(loop);
        return NULL;
    }
    Py_INCREF(body); loop->body = body;
    Py_INCREF(fail); loop->fail = fail;
    loop->fn = fn;
    loop->nseq = tl_int_at(counts, 0);
    loop->nstates = tl_int_at(counts, 1);
    loop->nstep = tl_int_at(counts, 2);
    loop->nshared = tl_int_at(counts, 3);
    loop->nnonseq = tl_int_at(counts, 4);
    loop->as_while = tl_int_at(counts, 5);
    loop->ntaps = (int)PyTuple_GET_SIZE(tap_states);
    loop->lags = tl_table((size_t)loop->nstates, sizeof(int));
    loop->step_rows = tl_table((size_t)loop->nstep, sizeof(int64_t));
    loop->tap_state = tl_table((size_t)loop->ntaps, sizeof(int));
    loop->tap_offset = tl_table((size_t)loop->ntaps, sizeof(int));
    loop->place_kind = tl_table((size_t)g->noutputs, sizeof(int));
    loop->place_index = tl_table((size_t)g->noutputs, sizeof(int));
    loop->buffers = tl_table((size_t)loop->nstates, sizeof(PyArrayObject *));
    loop->per_step = tl_table((size_t)loop->nstep, sizeof(PyObject *));
    loop->shared = tl_table((size_t)loop->nshared, sizeof(PyObject *));
    loop->slot_output = tl_table((size_t)g->nfresh, sizeof(int));
    if (!loop->lags || !loop->step_rows || !loop->tap_state || !loop->tap_offset || !loop->place_kind || !loop->place_index
        || !loop->buffers || !loop->per_step || !loop->shared || !loop->slot_output) {
        Py_DECREF(capsule);
        return PyErr_NoMemory();
    }
    const int noutputs = loop->nstates + loop->nstep + loop->nshared + (loop->as_while ? 1 : 0);
    if (PyTuple_GET_SIZE(lags) != loop->nstates || PyTuple_GET_SIZE(step_rows) != loop->nstep || PyTuple_GET_SIZE(tap_offsets) != loop->ntaps
        || PyTuple_GET_SIZE(kinds) != g->noutputs || PyTuple_GET_SIZE(indices) != g->noutputs
        || noutputs != g->noutputs || loop->nseq + loop->ntaps + loop->nshared + loop->nnonseq != g->ninputs) {
        PyErr_SetString(PyExc_ValueError, "scan loop: the layout does not fit the body");
        Py_DECREF(capsule);
        return NULL;
    }
    for (int j = 0; j < loop->nstates; j++) loop->lags[j] = tl_int_at(lags, j);
    for (int m = 0; m < loop->nstep; m++) loop->step_rows[m] = tl_int_at(step_rows, m);
    for (int k = 0; k < loop->ntaps; k++) {
        loop->tap_state[k] = tl_int_at(tap_states, k);
        loop->tap_offset[k] = tl_int_at(tap_offsets, k);
    }
    for (int p = 0; p < g->noutputs; p++) {
        loop->place_kind[p] = tl_int_at(kinds, p);
        loop->place_index[p] = tl_int_at(indices, p);
        if (g->fresh[p] >= 0) loop->slot_output[g->fresh[p]] = p;
    }
    if (PyErr_Occurred()) {
        Py_DECREF(capsule);
        return NULL;
    }
    PyObject *call = PyCFunction_New(&tl_loop_def, capsule);
    Py_DECREF(capsule);
    return call;
}

#endif
