"""Whole-function compilation: a function whose every node has C runs as ONE generated C function.

When each node of a compiled graph has a C kernel with a C shape rule (or C
view code), :func:`build_whole_runner` generates a driver for the graph: one
C function that runs every node in order, so a call of the compiled function
is one call from Python into C, with no Python per node.  Otherwise the
function runs on the mixed machine (:mod:`theanolab.backends.c.linker`), and
``build_whole_runner`` returns None.  ``Function.one_c_function`` and a line
of ``debugprint`` say which.

The driver (generated here; the C it uses is in ``kernels/c/whole.h``):

- gives every variable a ``tl_array`` in a per-function state, and every
  intermediate a buffer, grown when a call needs more and kept for the next
  call (a function's intermediates stay allocated between calls, as with
  ``allow_gc=False``);
- per node, runs its shape rule, places its outputs (a fresh NumPy array for
  a function output, which the caller then owns; the buffer; the destroyed
  input for an in-place node, which the destroy handler guarantees nobody
  else reads; the input itself for a view) and calls its kernel;
- copies out any output that is not a fresh array of its own (a view, an
  input, a constant, a repeated output), so no output ever aliases state
  that the next call reuses, nor another output;
- on an error, hands the node's index, message and inputs to Python, which
  raises it as the mixed machine does (``raise_with_node``: the node, its
  inputs' shapes and the user's line).

What costs compile time is shared.  The kernels are the very ones the mixed
machine runs, cached under their own keys (built, when missing, in one
bundle with the driver: :func:`theanolab.backends.c.build.load_pieces`),
called through a table of function pointers filled when the state is made,
so a kernel used by many functions (and processes) is built once.  The Python side of every driver
(binding arguments, collecting outputs, writing updates:
``kernels/c/whole_runtime.h``) is one module built once.  A driver itself is
plain C: its node sequence, the shape rules and the ``inline`` kernels
(views, shape lookups); it compiles in a few hundredths of a second, so it
joins the bundle of the function's missing kernels rather than pay a
compiler run of its own.  Its
source is its cache key (:func:`theanolab.backends.c.build.load_module`), so
identical functions reuse one build.

Calls.  The runtime's entry points are CPython functions (METH_FASTCALL,
NumPy's C API), not cffi calls: marshaling arrays through cffi costs more
than the whole budget of a call (``f(x, y) = x + y`` in well under a
microsecond).  ``call(*args)`` checks each explicit argument as
``TensorType.filter`` would accept it unchanged (an ndarray of the exact
dtype, rank and broadcastable lengths; a Python float or int for a float64
or int64 scalar), runs, writes the updates and returns the outputs; for any
other argument it returns ``NotImplemented`` and ``Function.__call__`` takes
its general path (filtering, defaults, keywords), then calls ``run()``, which
runs from the input cells.  The checks are a few comparisons, so
``trust_input`` changes nothing on the fast path.  The runtime is a cffi
build like any other; its make function is reached through ``ctypes``
because it takes and returns Python objects.
"""

from __future__ import annotations

import ctypes
import functools
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from theanolab.backends.c import build
from theanolab.backends.c.dispatch import c_kernel
from theanolab.backends.c.kernels.basic import C_TYPES
from theanolab.backends.c.thunk import TL_ARRAY_CDEF, kernel_modules
from theanolab.backends.py.vm import raise_with_node
from theanolab.graph.basic import Constant

__all__ = ["WholeFunction", "build_whole_runner", "whole_kernels", "driver_source"]

#: headers every driver includes (what the generated code and the shape rules use).
_HEADERS = ("theanolab.h", "reduce.h", "whole.h")
_MAX_RANK = 64  # the broadcastable pattern of an input is a 64-bit mask


def _register_kernels():
    import theanolab.backends.c.kernels  # noqa: F401  (fills the c_kernel table)


def _fits(var):
    """True if ``var`` is a tensor the driver can hold (a dtype the kernels know, rank <= 64)."""
    dtype = getattr(var.type, "dtype", None)
    return dtype in C_TYPES and len(getattr(var.type, "broadcastable", ())) <= _MAX_RANK


def whole_kernels(fgraph):
    """``{node: CKernel}`` if every node of ``fgraph`` can run in a driver, else None.

    A node can when its kernel has a C shape rule or is a view, and every
    variable is a tensor of a dtype the kernels compute.
    """
    _register_kernels()
    kernels = {}
    for node in fgraph.toposort():
        kernel = c_kernel(node.op, node)
        if kernel is None or not (kernel.view or kernel.c_shapes is not None):
            return None
        if not all(_fits(var) for var in (*node.inputs, *node.outputs)):
            return None
        kernels[node] = kernel
    if not all(_fits(var) for var in (*fgraph.inputs, *fgraph.outputs)):
        return None
    return kernels


class _Plan:
    """Where each variable lives and what each node does, numbered for the generated C.

    Variables are numbered graph inputs first, then constants, then node
    outputs in the order the nodes run (a node's outputs are consecutive, so
    its kernel gets them as one array).
    """

    def __init__(self, fgraph, kernels):
        self.fgraph, self.kernels = fgraph, kernels
        self.nodes = list(kernels)
        outputs = list(fgraph.outputs)
        constants = []
        for var in [v for node in self.nodes for v in node.inputs] + outputs:
            if isinstance(var, Constant) and var not in constants:
                constants.append(var)
        self.constants = constants
        self.variables = list(fgraph.inputs) + constants + [v for node in self.nodes for v in node.outputs]
        self.index = {var: i for i, var in enumerate(self.variables)}
        self._place(set(outputs))
        self.fresh_of_output = []  # per output position: the fresh slot it takes, or -1 (a copy)
        taken = set()
        for var in outputs:
            slot = self.fresh.get(var, -1)
            self.fresh_of_output.append(-1 if var in taken else slot)
            taken.add(var)
        # Distinct kernels called through pointers, distinct code compiled into the driver.
        self.pointer_kernels = list({k.name: k for k in kernels.values() if not k.inline}.values())
        self.slot = {k.name: i for i, k in enumerate(self.pointer_kernels)}

    def _place(self, outputs):
        """Kinds: ``fresh`` (a function output), ``view``, ``destroys`` (in place), ``buffer``."""
        self.kind, self.fresh, self.buffer, self.destroys = {}, {}, {}, {}
        owned = set()  # variables whose memory is the state's (a buffer): the only memory written in place
        for node in self.nodes:
            kernel = self.kernels[node]
            destroy_map = getattr(node.op, "destroy_map", {}) or {}
            for j, var in enumerate(node.outputs):
                if kernel.view:
                    self.kind[var] = "view"
                    if node.inputs[0] in owned:
                        owned.add(var)
                elif var in outputs:
                    self.kind[var] = "fresh"
                    self.fresh[var] = len(self.fresh)
                    continue
                elif j in destroy_map and node.inputs[destroy_map[j][0]] in owned:
                    self.kind[var] = "destroys"
                    self.destroys[var] = destroy_map[j][0]
                    owned.add(var)
                else:
                    self.kind[var] = "buffer"
                    owned.add(var)
                self.buffer[var] = len(self.buffer)  # a view's copy, an in-place node's fallback

    def shape_room(self):
        """How many int64 the shape rules write at most (every output dimension of one node)."""
        return max([sum(v.ndim for v in node.outputs) for node in self.nodes] + [1])


def _c_list(values):
    values = list(values) or [0]  # C has no empty initializer
    return f"{{{', '.join(str(v) for v in values)}}}"


def _node_code(plan, k, node):
    """The C of node ``k``: shape rule, storage of its outputs, kernel call; ``return k + 1`` on failure."""
    kernel = plan.kernels[node]
    index = plan.index
    fail = f"return {k + 1};"
    checked = "(s->status = {}) != 0".format  # a rule's or kernel's failure, and what kind
    call = kernel.name if kernel.inline else f"s->kernels[{plan.slot[kernel.name]}]"
    inputs = ", ".join(f"a[{index[v]}]" for v in node.inputs)
    lines = [f"    /* {k}: {str(node.op).replace('*/', '* /')} */", "    {",
             f"        const tl_array in[] = {{{inputs}}};" if node.inputs else "        const tl_array *in = NULL;"]
    first = index[node.outputs[0]]
    if kernel.view:
        var = node.outputs[0]
        v, b = index[var], plan.buffer[var]
        lines += [f"        a[{v}].data = NULL;",
                  f"        if ({checked(f'{call}(in, &a[{v}], error)')}) {fail}",
                  f"        if (a[{v}].data == NULL) {{  /* no view: a contiguous copy */",
                  f"            tl_contiguous_strides(&a[{v}], {np.dtype(var.dtype).itemsize});",
                  f"            if (tl_use_buffer(s, {v}, {b}) || {checked(f'{call}(in, &a[{v}], error)')}) {fail}",
                  "        }"]
    else:
        lines.append(f"        if ({checked(f'{kernel.c_shapes.name}(in, shapes, error)')}) {fail}")
        offset = 0
        for var in node.outputs:
            v = index[var]
            lines.append(f"        tl_set_shape(s, {v}, shapes + {offset});")
            offset += var.ndim
            kind = plan.kind[var]
            if kind == "fresh":
                lines.append(f"        if (tl_use_fresh(s, {v}, {plan.fresh[var]})) {fail}")
            elif kind == "destroys":
                lines.append(f"        if (!tl_use_destroyed(s, {v}, &in[{plan.destroys[var]}]) "
                             f"&& tl_use_buffer(s, {v}, {plan.buffer[var]})) {fail}")
            else:
                lines.append(f"        if (tl_use_buffer(s, {v}, {plan.buffer[var]})) {fail}")
        lines.append(f"        if ({checked(f'{call}(in, &a[{first}], error)')}) {fail}")
    lines.append("    }")
    return "\n".join(lines)


def driver_source(plan):
    """The C source of the driver of ``plan`` (deterministic: it is the build's cache key)."""
    nodes = plan.nodes
    headers = list(_HEADERS)
    for kernel in plan.kernels.values():
        if kernel.inline:
            headers += [h for h in kernel.headers if h not in headers]
    pieces = {}
    for kernel in plan.kernels.values():
        if kernel.inline:
            pieces.setdefault(kernel.name, kernel.code)
        if kernel.c_shapes is not None:
            pieces.setdefault(kernel.c_shapes.name, kernel.c_shapes.code)
    variables = [f"{{{v.ndim}, {np.dtype(v.dtype).num}, {np.dtype(v.dtype).itemsize}}}" for v in plan.variables]
    masks = [sum(1 << d for d, b in enumerate(v.type.broadcastable) if b)
             for v in [*plan.fgraph.inputs, *plan.constants]]
    starts, flat = [0], []
    for node in nodes:
        flat += [plan.index[v] for v in node.inputs]
        starts.append(len(flat))
    fg = plan.fgraph
    body = "\n".join(_node_code(plan, k, node) for k, node in enumerate(nodes))
    return "\n".join([
        f"/* Whole-function driver: {len(nodes)} node(s), {len(plan.variables)} variable(s). */",
        "".join(f'#include "{h}"\n' for h in headers),
        *pieces.values(),
        "static int tl_graph_execute(tl_state *s)\n{",
        "    tl_array *a = s->a;\n    char *error = s->error;\n    int64_t *shapes = s->shapes;",
        "    (void)a; (void)error; (void)shapes;",
        body,
        "    return 0;\n}\n",
        f"static const tl_var tl_graph_vars[] = {_c_list(variables)};",
        f"static const uint64_t tl_graph_broadcastable[] = {_c_list(f'{m}ULL' for m in masks)};",
        f"static const int tl_graph_outputs[] = {_c_list(plan.index[v] for v in fg.outputs)};",
        f"static const int tl_graph_fresh[] = {_c_list(plan.fresh_of_output)};",
        f"static const int tl_graph_node_inputs[] = {_c_list(flat)};",
        f"static const int tl_graph_node_start[] = {_c_list(starts)};",
        "static const tl_graph tl_this_graph = {",
        f"    {len(plan.variables)}, {len(fg.inputs)}, {len(plan.constants)}, {len(plan.buffer)}, {len(plan.fresh)}, "
        f"{len(fg.outputs)}, {len(plan.pointer_kernels)}, {len(nodes)}, {plan.shape_room()},",
        "    tl_graph_vars, tl_graph_broadcastable, tl_graph_outputs, tl_graph_fresh, tl_graph_node_inputs,",
        "    tl_graph_node_start, tl_graph_execute,",
        "};\n",
        "void *tl_driver_graph(void) { return (void *)&tl_this_graph; }",
    ])


#: the runtime module's source: whole_runtime.h and the function making a compiled function's state; with
#: them (one build, not two) scan_loop.h and the function making a scan's C loop (backends/c/scan_loop.py).
_RUNTIME = ('#include "whole_runtime.h"\n#include "scan_loop.h"\n'
            'PyObject *tl_whole_make(PyObject *spec) { return tl_make(spec); }\n'
            'PyObject *tl_scan_loop_make(PyObject *spec) { return tl_loop_make(spec); }\n')


@functools.cache
def _runtime(name="tl_whole_make"):
    """The runtime's ``name`` (``tl_whole_make``), built once for every driver.  It takes and returns
    Python objects, so it is called through ``ctypes.PyDLL`` (the GIL held, exceptions propagated)."""
    # The full CPython API (cffi would restrict a module to the limited one) and NumPy's.
    module = build.load_module("", _RUNTIME, description="the whole-function runtime", include_dirs=(np.get_include(),),
                               define_macros=(("_CFFI_NO_LIMITED_API", None),))
    make = getattr(ctypes.PyDLL(module.__file__), name)
    make.restype = ctypes.py_object
    make.argtypes = [ctypes.py_object]
    return make


class WholeFunction:
    """The runner of a function compiled into one C function (see the module docstring).

    Calling it runs the graph on the values in the input cells and returns
    every output and update value, as the virtual machine does;
    ``fast_call(*args)`` is the one-call path ``Function.__call__`` tries
    first (None when the function has updates of explicit inputs, which
    change its defaults).  ``cells`` maps the graph inputs to their cells.
    """

    one_c_function = True

    def __init__(self, fgraph, nodes, input_cells, call, run, fast):
        self.fgraph, self.nodes = fgraph, nodes
        self.cells = dict(zip(fgraph.inputs, input_cells))
        self.fast_call = call if fast else None
        self._run = run

    def __call__(self):
        return self._run()


#: the exception of each status a driver reports (``TL_*_ERROR`` in whole.h); any other: ValueError.
_ERRORS = {2: IndexError, 3: MemoryError}


def _failure(nodes):
    """What the driver calls on an error: raise it as the mixed machine does, naming the node."""

    def fail(index, message, inputs, status):
        node = nodes[index]
        error = _ERRORS.get(status, ValueError)(message or f"the C kernel of {node.op} failed")
        raise_with_node(error, node, index, list(inputs))

    return fail


def build_whole_runner(maker, input_cells):
    """A :class:`WholeFunction` running ``maker.fgraph``, or None if some node has no C for it."""
    fgraph = maker.fgraph
    kernels = whole_kernels(fgraph)
    if kernels is None or not build.compiler_available():
        return None
    plan = _Plan(fgraph, kernels)
    source = driver_source(plan)
    description = f"the whole-function driver of {len(plan.nodes)} node(s)"
    driver = build.Piece("tl_driver_graph", "void *tl_driver_graph(void);", source, typedefs=TL_ARRAY_CDEF,
                         description=description, portable=True)
    with ThreadPoolExecutor(max_workers=1) as pool:  # the compiler runs as a subprocess: both build at once
        runtime = pool.submit(_runtime)
        *modules, module = kernel_modules(plan.pointer_kernels, [driver])
        make = runtime.result()
    addresses = tuple(int(m.ffi.cast("uintptr_t", m.ffi.addressof(m.lib, k.name)))
                      for m, k in zip(modules, plan.pointer_kernels))
    explicit = [spec for spec in maker.inputs if not spec.implicit]
    nexplicit = len(explicit)
    updates = tuple((out, cell) for out, cell in sorted(maker.update_map.items()) if cell >= nexplicit)
    fast = len(updates) == len(maker.update_map)  # In(update=) changes defaults: the general path does that
    constants = tuple(np.require(np.asarray(c.data, dtype=c.type.dtype), requirements="A") for c in plan.constants)
    graph = int(module.ffi.cast("uintptr_t", module.lib.tl_driver_graph()))
    spec = (graph, addresses, constants, list(input_cells), _failure(plan.nodes), tuple(str(v) for v in fgraph.inputs),
            nexplicit, tuple(not given.strict for given in explicit), updates, maker.n_outputs, maker.single_output)
    call, run = make(spec)
    return WholeFunction(fgraph, plan.nodes, input_cells, call, run, fast)
