"""Composite: a graph of scalar ops applied as ONE elementwise op.

Elementwise fusion (:mod:`theanolab.tensor.rewriting.fusion`) turns a tree of
Elemwise nodes, say ``(x + y) * z``, into a single ``Elemwise{Composite{((i0 +
i1) * i2)}}``: one loop over the data instead of one per operation, and no
full-size temporary for ``x + y``.

The inner graph is made of scalar variables (``i0, i1, ...`` stand for the
node's inputs) and scalar ops.  On arrays, :meth:`Composite.impl` evaluates it
**block by block**: contiguous inputs of one shape are cut into blocks of
:data:`BLOCK` elements, and every inner op runs on a block with NumPy's ufuncs
writing (``out=``) into a few reusable block-sized buffers that stay in the
CPU cache.  Only the outputs are full-size arrays.  Inputs that broadcast or
are strided are evaluated whole, node after node, exactly as the unfused graph
would.  Either way each inner node computes in its own output dtype with the
same NumPy function as the unfused Elemwise, so fusing never changes a value.

>>> from theanolab import scalar as ts
>>> x, y, z = ts.ScalarType('float64')(), ts.ScalarType('float64')(), ts.ScalarType('float64')()
>>> op = Composite([x, y, z], [ts.mul(ts.add(x, y), z)])
>>> op
Composite{((i0 + i1) * i2)}
>>> float(op.impl(1.0, 2.0, 4.0))
12.0
"""

from __future__ import annotations

import functools
import math
from typing import NamedTuple

import numpy as np

from theanolab.graph.basic import Constant, Tag, Variable, clone_get_equiv, graph_inputs, io_toposort
from theanolab.scalar import basic as sb
from theanolab.scalar import math as sm
from theanolab.scalar.basic import ScalarOp, ScalarType

__all__ = ["Composite", "BLOCK", "impl_in_place"]

#: Elements per block: a few buffers of this many float64 (128 KiB each) fit in the L2 cache,
#: and a block is long enough that the Python cost of one ufunc call per inner op is negligible.
BLOCK = 16384

#: Text of one inner expression is cut beyond this many characters, so a deep graph that
#: reuses subexpressions cannot make an exponentially long name.
_NAME_LIMIT = 1000


class Composite(ScalarOp):
    """A scalar op defined by a graph of scalar ops from ``inputs`` to ``outputs``.

    ``inputs`` are ScalarType variables without owner; ``outputs`` are
    computed from them (and constants) by scalar ops.  The graph is copied, so
    the op never changes afterwards; its inputs are renamed ``i0, i1...``.
    Two composites with the same graph structure are equal.
    """

    __props__ = ("structure",)

    def __init__(self, inputs, outputs):
        inputs, outputs = list(inputs), list(outputs)
        _check_inner_graph(inputs, outputs)
        equiv = clone_get_equiv(inputs, outputs, copy_inputs=True)
        self._inputs = [equiv[var] for var in inputs]
        self._outputs = [equiv[var] for var in outputs]
        for var in equiv.values():
            if isinstance(var, Variable) and not isinstance(var, Constant):
                var.tag = Tag()
                var.name = None
        for k, var in enumerate(self._inputs):
            var.name = f"i{k}"
        self.nin = len(self._inputs)
        self.nout = len(self._outputs)
        self.structure = _structure(self._inputs, self._outputs)
        self.name = f"Composite{{{', '.join(_expressions(self._inputs, self._outputs))}}}"
        self._program = None

    # ------------------------------------------------------------------ the inner graph

    @property
    def inner_inputs(self):
        """The inner graph's inputs (``i0, i1...``): inner input k stands for the node's input k."""
        return list(self._inputs)

    @property
    def inner_outputs(self):
        return list(self._outputs)

    def output_types(self, dtypes):
        expected = [var.type.dtype for var in self._inputs]
        if list(dtypes) != expected:
            raise TypeError(f"{self} takes inputs of dtypes ({', '.join(expected)}), "
                            f"got ({', '.join(map(str, dtypes))})")
        return [var.type.dtype for var in self._outputs]

    def __getstate__(self):
        state = dict(self.__dict__)
        state["_program"] = None  # closures over NumPy functions: rebuilt on first use
        return state

    # ------------------------------------------------------------------ evaluation

    def impl(self, *values):
        """The outputs for arrays (or numbers): one value, or a tuple of them when nout > 1."""
        results = self.evaluate([np.asarray(v) for v in values], {})
        return results[0] if self.nout == 1 else tuple(results)

    def evaluate(self, arrays, targets):
        """The outputs (a list) for the input ``arrays``.

        ``targets`` maps output indices to arrays the result may be written
        into (inputs the caller allows to be overwritten); a target that does
        not fit (shape, dtype, read-only) is left alone and a new array
        returned instead.
        """
        program = self._program
        if program is None:
            program = self._program = _Program(self)
        shape = _broadcast_shape(arrays)
        if targets:
            targets = {k: t for k, t in targets.items() if _fits(t, shape, program.output_dtypes[k])}
        if program.blockable:
            size = math.prod(shape)
            if size > BLOCK and not _partly_overlapping(arrays, targets):
                order = _block_order(arrays + list(targets.values()), shape, size)
                if order is not None:
                    return program.run_blocked(arrays, shape, size, order, targets)
        return program.run_whole(arrays, shape, targets)

    # ------------------------------------------------------------------ calculus

    def expand(self, inputs):
        """The inner graph rebuilt on tensor ``inputs``, one Elemwise per inner op (a list of outputs)."""
        from theanolab.tensor.elemwise import Elemwise
        from theanolab.tensor.variable import constant

        memo = dict(zip(self._inputs, inputs))
        for node in io_toposort(self._inputs, self._outputs):
            args = [memo[v] if v in memo else constant(v.data, dtype=v.type.dtype) for v in node.inputs]
            results = Elemwise(node.op)(*args)
            memo.update(zip(node.outputs, results if isinstance(results, list) else [results]))
        return [memo[v] if v in memo else constant(v.data, dtype=v.type.dtype) for v in self._outputs]

    def L_op(self, inputs, outputs, output_grads):
        """Gradients of the expanded graph: a fused graph stays differentiable (grad of f.maker.fgraph)."""
        from theanolab.gradient import grad

        expanded = self.expand(inputs)
        known = {out: g for out, g in zip(expanded, output_grads) if g is not None}
        return grad(None, list(inputs), known_grads=known, disconnected_inputs="ignore")


# ====================================================================== building


def _check_inner_graph(inputs, outputs):
    for k, var in enumerate(inputs):
        if not isinstance(var, Variable) or not isinstance(var.type, ScalarType) or var.owner is not None:
            raise TypeError(f"Composite: input {k} ({var!r}) must be a scalar variable without owner")
    if len(set(inputs)) != len(inputs):
        raise ValueError("Composite: an input appears twice")
    if not outputs:
        raise ValueError("Composite needs at least one output")
    for var in graph_inputs(outputs, blockers=inputs):
        if var not in inputs and not isinstance(var, Constant):
            raise ValueError(f"Composite: the outputs depend on {var}, which is neither an input nor a constant")
    for node in io_toposort(inputs, outputs):
        if not isinstance(node.op, ScalarOp):
            raise TypeError(f"Composite: the inner graph may hold only scalar ops, found {node.op}")


def _structure(inputs, outputs):
    """A hashable description of the graph: equal structures compute the same thing."""
    ref = {var: ("in", k) for k, var in enumerate(inputs)}

    def reference(var):
        return ref[var] if var in ref else ("const", var.signature())

    nodes = []
    for j, node in enumerate(io_toposort(inputs, outputs)):
        nodes.append((node.op, tuple(reference(v) for v in node.inputs)))
        for out in node.outputs:
            ref[out] = ("node", j, out.index)
    return (tuple(v.type.dtype for v in inputs), tuple(nodes), tuple(reference(v) for v in outputs))


#: Ops Theano writes as operators inside a composite's name: ``(i0 + i1)``.
_INFIX = {sb.Add: "+", sb.Sub: "-", sb.Mul: "*", sb.TrueDiv: "/", sb.IntDiv: "//", sb.Mod: "%", sb.Pow: "**"}
#: Ops Theano names by their class inside a composite (``Switch(GT(i0, i1), ...)``, ``Abs(i0)``).
_CLASS_NAMED = (sm.Abs, sb._Comparison, sb._Bitwise, sb.Switch, sm.IsNan, sm.IsInf,
                sm.RoundHalfToEven, sm.RoundHalfAwayFromZero)


def _format(op, args):
    symbol = _INFIX.get(type(op))
    if symbol is not None and len(args) >= 2:
        return f"({f' {symbol} '.join(args)})"
    if isinstance(op, sb.Neg):
        return f"(-{args[0]})"
    name = type(op).__name__ if isinstance(op, _CLASS_NAMED) else str(op)
    return f"{name}({', '.join(args)})"


def _expressions(inputs, outputs):
    """Theano's text of each output, every inner expression written out where it is used."""
    text = {var: var.name for var in inputs}

    def of(var):
        return text[var] if var in text else var.type.format_value(var.data)

    for node in io_toposort(inputs, outputs):
        body = _format(node.op, [of(v) for v in node.inputs])
        for out in node.outputs:
            label = body if len(node.outputs) == 1 else f"{body}.{out.index}"
            text[out] = label if len(label) <= _NAME_LIMIT else label[:_NAME_LIMIT - 3] + "..."
    return [of(var) for var in outputs]


# ====================================================================== kernels


class _Kernel(NamedTuple):
    """How one inner node runs on a block: ``run(env)`` reads and writes slots of ``env``.

    ``reads_first``: every input is read before the output is written, so the
    output may share memory with an input (NumPy's ufuncs guarantee it).
    ``pointwise``: each element depends only on the same element of the
    inputs, so evaluating block by block gives what one whole-array call gives.
    """

    run: object
    reads_first: bool = True
    pointwise: bool = True


@functools.lru_cache(maxsize=None)
def _natural_dtype(ufunc, dtypes):
    """The dtype ``ufunc`` gives for inputs of ``dtypes`` (None if it refuses them)."""
    if not isinstance(ufunc, np.ufunc) or ufunc.nout != 1:
        return None
    try:
        with np.errstate(all="ignore"):
            return str(ufunc(*[np.zeros(1, dtype) for dtype in dtypes]).dtype)
    except (TypeError, ValueError):
        return None


def _generic(op, ins, outs, pointwise=True):
    """``op.impl`` on the block, its result copied into the output slots (allocates per block)."""

    def run(env):
        results = op.impl(*[env[i] for i in ins])
        if len(outs) == 1:
            results = (results,)
        for slot, result in zip(outs, results):
            env[slot][...] = result

    return _Kernel(run, pointwise=pointwise)


def _ufunc(ufunc, ins, out, in_dtypes, out_dtype, cast_to=None):
    """``ufunc(*inputs, out=buffer)``, when NumPy would give exactly ``out_dtype`` anyway.

    ``cast_to``: first convert the inputs to that dtype (what FloatOp.impl does).
    """
    used = tuple(cast_to or d for d in in_dtypes)
    if _natural_dtype(ufunc, used) != out_dtype:
        return None
    casts = [cast_to is not None and d != cast_to for d in in_dtypes]
    if any(casts):
        def run(env):
            ufunc(*[env[i].astype(cast_to) if c else env[i] for i, c in zip(ins, casts)], out=env[out])
    else:
        def run(env):
            ufunc(*[env[i] for i in ins], out=env[out])
    return _Kernel(run)


def _default_kernel(op, ins, outs, in_dtypes, out_dtypes):
    """ScalarOp.impl is ``nfunc(*values)``."""
    return _ufunc(op.nfunc, ins, outs[0], in_dtypes, out_dtypes[0]) if len(outs) == 1 else None


def _float_kernel(op, ins, outs, in_dtypes, out_dtypes):
    """FloatOp.impl converts the inputs to the output dtype, then applies ``nfunc``."""
    return _ufunc(op.nfunc, ins, outs[0], in_dtypes, out_dtypes[0], cast_to=out_dtypes[0])


def _fold(ufunc):
    """Add.impl / Mul.impl: ``((v0 op v1) op v2) ...`` left to right."""

    def build(op, ins, outs, in_dtypes, out_dtypes):
        (out,), (dtype,) = outs, out_dtypes
        if len(ins) < 2:
            return _copy_kernel(op, ins, outs, in_dtypes, out_dtypes)
        partial = in_dtypes[0]
        for d in in_dtypes[1:]:  # every partial result must already have the final dtype
            partial = _natural_dtype(ufunc, (partial, d))
            if partial != dtype:
                return None
        first, rest = ins[:2], ins[2:]

        def run(env):
            target = env[out]
            ufunc(env[first[0]], env[first[1]], out=target)
            for i in rest:
                ufunc(target, env[i], out=target)

        return _Kernel(run, reads_first=not rest)

    return build


def _binary(ufunc):
    """Sub.impl is ``x - y``; Sqr.impl is ``x * x`` (the same ufunc on both inputs)."""

    def build(op, ins, outs, in_dtypes, out_dtypes):
        args = ins if len(ins) == 2 else (ins[0], ins[0])
        dtypes = in_dtypes if len(in_dtypes) == 2 else (in_dtypes[0], in_dtypes[0])
        return _ufunc(ufunc, args, outs[0], dtypes, out_dtypes[0])

    return build


def _pow_kernel(op, ins, outs, in_dtypes, out_dtypes):
    """Pow.impl switches integer bases to float64 when ANY exponent is negative: not pointwise."""
    if np.dtype(in_dtypes[0]).kind in "iub":
        return _generic(op, ins, outs, pointwise=False)
    return _ufunc(np.power, ins, outs[0], in_dtypes, out_dtypes[0])


def _copy_kernel(op, ins, outs, in_dtypes, out_dtypes):
    """Second (the second input broadcast), Identity, Cast and a one-input add: a converting copy."""
    source, target = ins[-1], outs[0]

    def run(env):
        np.copyto(env[target], env[source], casting="unsafe")

    return _Kernel(run)


def _switch_kernel(op, ins, outs, in_dtypes, out_dtypes):
    """Switch.impl is ``np.where(cond, a, b)``: copy b, then a where cond holds."""
    cond, a, b = ins
    out = outs[0]
    if sb.upcast(in_dtypes[1], in_dtypes[2]) != out_dtypes[0]:
        return None

    def run(env):
        target = env[out]
        mask = env[cond]
        np.copyto(target, env[b], casting="unsafe")
        np.copyto(target, env[a], casting="unsafe", where=mask if mask.dtype == bool else mask.astype(bool))

    return _Kernel(run, reads_first=False)


#: How each scalar op's ``impl`` runs on a block, keyed by the impl function itself, so a
#: subclass that redefines ``impl`` falls back to the generic kernel (impl, then a copy).
_KERNELS = {
    ScalarOp.impl: _default_kernel,
    sm.FloatOp.impl: _float_kernel,
    sb.Add.impl: _fold(np.add),
    sb.Mul.impl: _fold(np.multiply),
    sb.Sub.impl: _binary(np.subtract),
    sm.Sqr.impl: _binary(np.multiply),
    sb.Pow.impl: _pow_kernel,
    sb.Second.impl: _copy_kernel,
    sb.Identity.impl: _copy_kernel,
    sb.Cast.impl: _copy_kernel,
    sb.Switch.impl: _switch_kernel,
}


def _kernel(op, ins, outs, in_dtypes, out_dtypes):
    build = _KERNELS.get(type(op).impl)
    kernel = build(op, ins, outs, in_dtypes, out_dtypes) if build is not None else None
    return kernel or _generic(op, ins, outs)


# ====================================================================== running


class _Step(NamedTuple):
    op: ScalarOp
    ins: tuple
    outs: tuple
    out_dtypes: tuple
    kernel: _Kernel


class _Plan(NamedTuple):
    """One way to run the blocks: where each slot lives and which outputs need a final copy."""

    registers: dict  # {slot: register index}
    register_dtypes: list
    direct: list  # [(output index, slot)] written straight into the output array
    copied: list  # [(output index, slot)] copied into the output array after each block


class _Program:
    """The inner graph as steps over numbered slots: the inputs, then constants, then results."""

    def __init__(self, composite):
        inputs, outputs = composite.inner_inputs, composite.inner_outputs
        slot = {var: k for k, var in enumerate(inputs)}
        self.constants = {}
        self.dtypes = {}
        steps = []
        for node in io_toposort(inputs, outputs):
            for var in node.inputs:
                if var not in slot:
                    slot[var] = len(slot)
                    self.constants[slot[var]] = np.asarray(var.data)
            for var in node.outputs:
                slot[var] = len(slot)
                self.dtypes[slot[var]] = var.type.dtype
            ins = tuple(slot[v] for v in node.inputs)
            outs = tuple(slot[v] for v in node.outputs)
            out_dtypes = tuple(v.type.dtype for v in node.outputs)
            kernel = _kernel(node.op, ins, outs, tuple(v.type.dtype for v in node.inputs), out_dtypes)
            steps.append(_Step(node.op, ins, outs, out_dtypes, kernel))
        for var in outputs:
            if var not in slot:  # an output that is a constant
                slot[var] = len(slot)
                self.constants[slot[var]] = np.asarray(var.data)
        self.steps = steps
        self.whole_steps = [(step.op.impl, step.ins, step.outs, tuple(np.dtype(d) for d in step.out_dtypes))
                            for step in steps]
        self.n_slots = len(slot)
        self.template = [self.constants.get(k) for k in range(self.n_slots)]
        self.n_inputs = len(inputs)
        self.output_slots = [slot[var] for var in outputs]
        self.output_dtypes = [var.type.dtype for var in outputs]
        self.producer = {o: p for p, step in enumerate(steps) for o in step.outs}
        self.blockable = all(step.kernel.pointwise for step in steps)
        self.plans = {}

    # ------------------------------------------------------------------ whole arrays

    def run_whole(self, arrays, shape, targets):
        """Node after node on whole arrays: exactly what the unfused Elemwise nodes compute."""
        env = list(self.template)
        env[:self.n_inputs] = arrays
        for impl, ins, outs, dtypes in self.whole_steps:
            results = impl(*[env[i] for i in ins])
            if len(outs) == 1:
                env[outs[0]] = np.asarray(results, dtype=dtypes[0])
            else:
                for slot, result, dtype in zip(outs, results, dtypes):
                    env[slot] = np.asarray(result, dtype=dtype)
        outputs, seen = [], set()
        for k, slot in enumerate(self.output_slots):
            value = env[slot]
            if k in targets:
                np.copyto(targets[k], value)
                value = targets[k]
            elif (slot in seen or value.base is not None or value.shape != shape
                  or any(value is a for a in env[:self.n_inputs]) or slot in self.constants):
                # an input (or a view), a constant, a repeated output: hand out new memory only
                value = np.array(np.broadcast_to(value, shape), dtype=self.output_dtypes[k])
            seen.add(slot)
            outputs.append(value)
        return outputs

    # ------------------------------------------------------------------ blocks

    def run_blocked(self, arrays, shape, size, order, targets):
        flat = [a.reshape(-1, order=order) if a.size == size else a.reshape(1) for a in arrays]
        plan = self.plan(self._direct_outputs(arrays, targets))
        outputs = [targets[k] if k in targets else np.empty(shape, dtype=dtype, order=order)
                   for k, dtype in enumerate(self.output_dtypes)]
        flat_outputs = [out.reshape(-1, order=order) for out in outputs]
        registers = [np.empty(BLOCK, dtype=dtype) for dtype in plan.register_dtypes]
        env = list(self.template)
        for k, array in enumerate(flat):
            env[k] = array
        sliced = [k for k, array in enumerate(flat) if array.size == size]
        for slot, register in plan.registers.items():
            env[slot] = registers[register]
        runs = [step.kernel.run for step in self.steps]
        for start in range(0, size, BLOCK):
            stop = min(start + BLOCK, size)
            for k in sliced:
                env[k] = flat[k][start:stop]
            if stop - start < BLOCK:  # the last, shorter block
                for slot, register in plan.registers.items():
                    env[slot] = registers[register][:stop - start]
            for k, slot in plan.direct:
                env[slot] = flat_outputs[k][start:stop]
            for run in runs:
                run(env)
            for k, slot in plan.copied:
                flat_outputs[k][start:stop] = env[slot]
        return outputs

    def _direct_outputs(self, arrays, targets):
        """The outputs that can be computed straight into their output array.

        An output overwriting an input array is written directly only if its
        step reads before writing and no later step reads that input (or
        another input sharing its memory): otherwise a later step would see
        the new values.
        """
        direct, seen = [], set()
        for k, slot in enumerate(self.output_slots):
            step_index = self.producer.get(slot)
            if step_index is None or slot in seen:
                continue
            seen.add(slot)
            if k in targets:
                aliased = {i for i, a in enumerate(arrays) if np.may_share_memory(a, targets[k])}
                later_reads = {i for step in self.steps[step_index + 1:] for i in step.ins}
                if not self.steps[step_index].kernel.reads_first or aliased & later_reads:
                    continue
            direct.append(k)
        return tuple(direct)

    def plan(self, direct):
        if direct not in self.plans:
            self.plans[direct] = self._make_plan(direct)
        return self.plans[direct]

    def _make_plan(self, direct):
        direct_slots = {self.output_slots[k]: k for k in direct}
        copied = [(k, slot) for k, slot in enumerate(self.output_slots) if k not in direct]
        end = len(self.steps)
        last_use = {}
        for p, step in enumerate(self.steps):
            for i in step.ins:
                last_use[i] = p
        for _, slot in copied:
            last_use[slot] = end
        registers, register_dtypes, free = {}, [], {}
        for p, step in enumerate(self.steps):
            for slot in step.outs:
                if slot in direct_slots:
                    continue
                dtype = self.dtypes[slot]
                pool = free.setdefault(dtype, [])
                registers[slot] = pool.pop() if pool else len(register_dtypes)
                if registers[slot] == len(register_dtypes):
                    register_dtypes.append(dtype)
            for slot in set(step.ins) | set(step.outs):  # free what no later step reads
                if slot in registers and last_use.get(slot, p) <= p:
                    free[self.dtypes[slot]].append(registers[slot])
        return _Plan(registers, register_dtypes, [(k, self.output_slots[k]) for k in direct], copied)


def _broadcast_shape(arrays):
    """The shape of the result (the common case, all shapes equal, without NumPy's general rule)."""
    if not arrays:
        return ()
    shape = arrays[0].shape
    if all(a.shape == shape for a in arrays):
        return shape
    return np.broadcast_shapes(*(a.shape for a in arrays))


def _fits(target, shape, dtype):
    return (isinstance(target, np.ndarray) and target.shape == shape and target.dtype == dtype
            and target.flags.writeable)


def _partly_overlapping(arrays, targets):
    """True if an input shares memory with a target without being the very same elements:
    a block written early could then be read, already overwritten, by a later block."""
    for target in targets.values():
        for array in arrays:
            if np.may_share_memory(array, target) and not (
                    array.shape == target.shape and array.strides == target.strides
                    and array.__array_interface__["data"][0] == target.__array_interface__["data"][0]):
                return True
    return False


def _block_order(arrays, shape, size):
    """'C' or 'F' when every input is either a contiguous array of the full shape (in that
    order) or a single broadcast element, so all can be walked as flat vectors; else None."""
    full = [a for a in arrays if a.size != 1]
    if any(a.shape != shape for a in full):
        return None
    if all(a.flags.c_contiguous for a in full):
        return "C"
    if all(a.flags.f_contiguous for a in full):
        return "F"
    return None


# ====================================================================== in place


@functools.lru_cache(maxsize=256)
def _single(op, dtypes):
    """``op`` on inputs of ``dtypes`` as a one-node Composite (to reuse its evaluation)."""
    inputs = [ScalarType(dtype)() for dtype in dtypes]
    outputs = op.make_node(*inputs).outputs
    return Composite(inputs, outputs)


def impl_in_place(scalar_op, values, destroyed):
    """``scalar_op.impl(*values)``, writing output k into ``values[destroyed[k]]`` where it fits.

    What ``Elemwise(scalar_op, inplace_pattern=destroyed)`` computes: the
    result lands in the destroyed input's memory, block by block, without a
    full-size temporary.  Arrays of at most :data:`BLOCK` elements get new
    memory instead: there a fresh array costs less than the bookkeeping (the
    ``destroy_map`` allows overwriting, it does not require it).
    """
    arrays = [np.asarray(v) for v in values]
    if all(arrays[i].size <= BLOCK for i in destroyed.values()):
        return scalar_op.impl(*arrays)
    composite = scalar_op if isinstance(scalar_op, Composite) else \
        _single(scalar_op, tuple(a.dtype for a in arrays))
    results = composite.evaluate(arrays, {out: arrays[i] for out, i in destroyed.items()})
    return results[0] if composite.nout == 1 else tuple(results)
