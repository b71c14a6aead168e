"""Canonicalization: one normal form for equivalent expressions, and the obvious simplifications.

Later phases (stability, specialization, fusion) match patterns; they can
only do so if equal things are written one way.  The normal form, which the
stabilization rules rely on:

- ``add`` and ``mul`` are n-ary (``(a + b) + c`` is ``add(a, b, c)``), with
  all their constants combined into ONE constant placed first;
- like terms are collected: ``z + z`` is ``2 * z``, ``2*z + z`` is ``3 * z``,
  ``x + -x`` vanishes;
- ``sub`` and ``true_div`` stay as they are (``x - y`` is not ``x + -y``);
- neutral elements and self-cancellations go: ``x*1``, ``x+0``, ``x-0``,
  ``x/1``, ``x-x``, ``x/x``, ``neg(neg(x))``, ``exp(log(x))``, ``log(exp(x))``;
- a ``dot`` with an all-zero operand is zeros (what ``Rop`` leaves behind);
- wrappers that do nothing go: a ``fill`` whose value already has the
  shape, an ``alloc`` of something of the right shape, a reshape to the same
  shape, a cast to the same dtype, an identity DimShuffle; consecutive
  DimShuffles become one and DimShuffles move up through elementwise ops;
- a node whose inputs are all constants becomes a constant.

Every replacement keeps the old variable's dtype (a cast is added) and its
shape (an ``alloc`` is added where the new expression's shape is not provably
the same): see :func:`stand_in`.

>>> import theanolab, theanolab.tensor as T
>>> x, y = T.dscalars('x', 'y')
>>> mode = theanolab.Mode(optimizer='fast_run').excluding('fusion')
>>> f = theanolab.function([x, y], (x + y) + (x + y), mode=mode)
>>> theanolab.pp(f.maker.fgraph.outputs[0])
'(2.0 * (x + y))'
"""

from __future__ import annotations

import functools

import numpy as np

from theanolab import scalar as ts
from theanolab.graph.basic import Constant
from theanolab.graph.rewriting import NodeRewriter, node_rewriter, register
from theanolab.graph.rewriting.basic import _caller_source
from theanolab.tensor import math as tm
from theanolab.tensor.basic import Alloc, alloc, cast
from theanolab.tensor.blas import BatchedDot, Dot
from theanolab.tensor.elemwise import DimShuffle, Elemwise
from theanolab.tensor.reduce import CAReduce, MaxAndArgmax
from theanolab.tensor.rewriting.shape import same_scalar, same_shape, shape_of
from theanolab.tensor.rewriting.utils import elemwise_scalar_op, is_elemwise, scalar_constant_value
from theanolab.tensor.shape import MakeVector, Reshape, Shape, reshape, shape_padleft
from theanolab.tensor.type import TensorType
from theanolab.tensor.variable import as_tensor_variable, constant

__all__ = ["stand_in", "known_value", "is_value", "CONSTANT_FOLDING_MAX_SIZE", "constant_folding",
           "max_without_argmax", "flatten_add_mul", "canonicalize_add_mul", "sub_self", "sub_zero", "div_self",
           "div_one", "dot_of_zeros", "CANCELLATIONS", "fill_useless", "dimshuffle_merge", "dimshuffle_identity",
           "dimshuffle_lift",
           "reshape_useless", "reshape_of_reshape", "alloc_useless", "broadcast_in_elemwise",
           "reduce_broadcastable_axes", "cast_useless", "cast_of_cast"]

#: Constant folding leaves alone results with more elements than this (a big constant
#: would be stored in the compiled function and copied by every rewrite that clones it).
CONSTANT_FOLDING_MAX_SIZE = 1_000_000


def _rule(*tags):
    """Register in canonicalize with ``tags`` (every rule is fast_run)."""
    return register("canonicalize", "fast_run", *tags)


# ----------------------------------------------------------------------------- helpers


def stand_in(fgraph, new, old):
    """``new`` made fit to replace ``old``: same dtype (cast), same rank and shape (alloc).

    The alloc is added only where ``new``'s shape is not provably ``old``'s,
    e.g. when ``x - x`` becomes zeros, which must still have x's shape.
    """
    new = as_tensor_variable(new)
    if new.ndim > old.ndim:
        raise ValueError(f"a replacement for {old} ({old.type}) has more dimensions: {new} ({new.type})")
    if isinstance(new, Constant):  # no cast or dimshuffle nodes for a value known now
        data = new.data.astype(old.dtype)
        new = constant(data.reshape((1,) * (old.ndim - data.ndim) + data.shape))
    new = cast(new, old.dtype)
    if new.ndim < old.ndim:
        new = shape_padleft(new, old.ndim - new.ndim)
    if _fits(new, old) and same_shape(fgraph, new, old):
        return new
    return alloc(new, *shape_of(fgraph, old))


def _fits(new, old):
    """True if ``new`` could replace ``old`` type-wise (broadcastable wherever ``old`` is)."""
    return new.ndim == old.ndim and all(n or not o for o, n in zip(old.broadcastable, new.broadcastable))


def known_value(var):
    """The value of ``var`` when it is a constant, or a constant broadcast (fill, alloc...).

    An ndarray for a Constant, a scalar when every element is known to be
    equal, else None.
    """
    if isinstance(var, Constant):
        return var.data
    if var.owner is not None and isinstance(var.owner.op, Alloc):
        return scalar_constant_value(var.owner.inputs[0])
    return scalar_constant_value(var)


def is_value(var, number):
    """True if every element of ``var`` is known to equal ``number``."""
    value = known_value(var)
    return value is not None and np.size(value) > 0 and bool(np.all(np.asarray(value) == number))


# ----------------------------------------------------------------------------- constants, dead code


def _evaluate(var, depth=16):
    """The value of a small all-constant expression (a folded node's shape), or None."""
    if isinstance(var, Constant):
        return var.data
    node = var.owner
    if node is None or depth == 0:
        return None
    values = [_evaluate(i, depth - 1) for i in node.inputs]
    if any(v is None for v in values):
        return None
    storage = [[None] for _ in node.outputs]
    node.op.perform(node, values, storage)
    return storage[var.index][0]


def _too_big(fgraph, node):
    for out in node.outputs:
        try:
            lengths = [_evaluate(entry) for entry in shape_of(fgraph, out)]
        except Exception:  # an invalid shape: perform will say so, at run time
            return False
        if all(n is not None for n in lengths) and np.prod([int(n) for n in lengths]) > CONSTANT_FOLDING_MAX_SIZE:
            return True
    return False


@_rule("fast_compile")
@node_rewriter()
def constant_folding(fgraph, node):
    """op(constants) -> the constant op.perform computes

    Why: every input is a constant, so the result is the same on every call: compute it once now.
    """
    if not node.inputs or not all(isinstance(i, Constant) for i in node.inputs):
        return None
    if node.op.destroy_map or not all(isinstance(o.type, TensorType) for o in node.outputs):
        return None
    if _too_big(fgraph, node):
        return None
    values = [i.data for i in node.inputs]
    storage = [[None] for _ in node.outputs]
    try:
        node.op.perform(node, values, storage)
    except Exception:  # leave the error to run time, where it names the user's node
        return None
    results = []
    for out, (value,) in zip(node.outputs, storage):
        value = np.asarray(value)
        if any(np.shares_memory(value, v) for v in values):
            value = value.copy()  # a view (DimShuffle, Subtensor) must not alias another constant
        results.append(out.type.make_constant(value))
    return results


@_rule()
@node_rewriter([MaxAndArgmax])
def max_without_argmax(fgraph, node):
    """MaxAndArgmax(x) whose argmax nobody uses -> CAReduce{maximum}(x)

    Why: nobody reads the argmax, so computing it is wasted work.
    """
    if fgraph.clients.get(node.outputs[1]):
        return None
    return {node.outputs[0]: CAReduce(ts.maximum, node.op.axis)(node.inputs[0])}


# ----------------------------------------------------------------------------- add and mul

_ADD_OR_MUL = elemwise_scalar_op(ts.Add, ts.Mul)


def _narrow_integer_steps(operands, dtype):
    """True if ``add``/``mul`` of ``operands``, left to right as NumPy does it, computes a step in
    an integer dtype other than ``dtype``: there it may wrap around, so regrouping would change it."""
    running = operands[0].dtype
    for var in operands[1:]:
        running = ts.upcast(running, var.dtype)
        if running != dtype and running in ts.DISCRETE:
            return True
    return False


@_rule()
@node_rewriter([_ADD_OR_MUL])
def flatten_add_mul(fgraph, node):
    """add(add(a, b), c) -> add(a, b, c) (and mul), when nothing else uses the inner sum

    Why: one n-ary sum puts every term side by side, so constants and like terms can be collected.
    """
    out = node.outputs[0]
    operands, flattened = [], False
    for inp in node.inputs:
        inner = inp.owner
        if (inner is not None and inner.op == node.op and inp.dtype == out.dtype
                and len(fgraph.clients[inp]) == 1):
            operands.extend(inner.inputs)
            flattened = True
        else:
            operands.append(inp)
    if not flattened or _narrow_integer_steps(operands, out.dtype):
        return None
    return [node.op(*operands)]


def _split_term(var):
    """``(coefficient, factors)`` with ``var == coefficient * prod(factors)``; coefficient 1 is None.

    Only products and negations computed in ``var``'s own dtype are split, so
    that adding coefficients is exact (modular for integers).
    """
    node = var.owner
    if node is not None and is_elemwise(node, ts.Neg) and node.inputs[0].dtype == var.dtype:
        coefficient, factors = _split_term(node.inputs[0])
        return -(1 if coefficient is None else coefficient), factors
    if node is not None and is_elemwise(node, ts.Mul):
        values = [known_value(i) for i in node.inputs]
        factors = tuple(i for i, v in zip(node.inputs, values) if v is None)
        numbers = [v for v in values if v is not None]
        if (factors and numbers and all(np.size(v) == 1 for v in numbers)
                and all(f.dtype == var.dtype for f in factors)):
            return functools.reduce(lambda a, b: a * b, [np.asarray(v).item() for v in numbers]), factors
    return None, (var,)


def _collect_terms(operands, dtype):
    """``add`` operands grouped by what they multiply: ``[(coefficient, factors, members)]``.

    An operand of another dtype than the sum's stays alone: its arithmetic differs.
    """
    groups = {}
    for var in operands:
        coefficient, factors = _split_term(var) if var.dtype == dtype else (None, (var,))
        key = tuple(sorted(id(f) for f in factors)) if var.dtype == dtype else ("alone", id(var))
        group = groups.setdefault(key, [0, factors, []])
        group[0] += 1 if coefficient is None else coefficient
        group[2].append(var)
    return list(groups.values())


def _rebuilt_terms(groups, dtype):
    """One operand per group: the original when alone, else ``coefficient * factors``."""
    terms = []
    for coefficient, factors, members in groups:
        if len(members) == 1:
            terms.append(members[0])
        elif coefficient == 1:
            terms.append(factors[0] if len(factors) == 1 else tm.mul(*factors))
        elif coefficient != 0:
            terms.append(tm.mul(constant(np.asarray(coefficient).astype(dtype)), *factors))
    return terms


def _combined_constant(node, constants):
    """The constant operands of ``node`` as one Constant (reusing it if there is one already)."""
    out = node.outputs[0]
    if len(constants) == 1 and isinstance(constants[0][0], Constant) and constants[0][0].ndim == out.ndim:
        return constants[0][0]
    ufunc = np.add if is_elemwise(node, ts.Add) else np.multiply
    with np.errstate(over="ignore", invalid="ignore"):
        values = [np.asarray(v).astype(out.dtype) for _, v in constants]
        combined = np.asarray(functools.reduce(ufunc, values)).astype(out.dtype)
    combined = combined.reshape((1,) * (out.ndim - combined.ndim) + combined.shape)
    return constant(combined)


@_rule()
@node_rewriter([_ADD_OR_MUL])
def canonicalize_add_mul(fgraph, node):
    """add(z, 2, 2*z, x, -x) -> add(2, 3*z): constants into one (first), like terms collected

    Why: one canonical form makes equal expressions look equal, and collected terms cost fewer operations.
    """
    out = node.outputs[0]
    # Bools add as "or"; a narrow integer step may wrap: no regrouping for either.
    if out.dtype == "bool" or _narrow_integer_steps(node.inputs, out.dtype):
        return None
    is_add = is_elemwise(node, ts.Add)
    constants, others = [], []
    for inp in node.inputs:
        value = known_value(inp)
        if value is not None:
            constants.append((inp, value))
        else:
            others.append(inp)
    operands = _rebuilt_terms(_collect_terms(others, out.dtype), out.dtype) if is_add else others
    identity = 0 if is_add else 1
    if constants:
        combined = _combined_constant(node, constants)
        if not (combined.data.size and np.all(combined.data == identity)) or not operands:
            operands.insert(0, combined)
    if len(operands) == len(node.inputs) and all(a is b for a, b in zip(operands, node.inputs)):
        return None
    if not operands:  # every term cancelled: x + -x
        result = constant(np.asarray(identity).astype(out.dtype))
    elif len(operands) == 1:
        result = operands[0]
    elif _narrow_integer_steps(operands, out.dtype):
        return None
    else:
        result = node.op(*operands)
    return [stand_in(fgraph, result, out)]


# ----------------------------------------------------------------------------- sub and div


@_rule()
@node_rewriter([elemwise_scalar_op(ts.Sub)])
def sub_self(fgraph, node):
    """x - x -> zeros like x

    Why: anything minus itself is zero; the graph no longer needs x at all.
    """
    x, y = node.inputs
    if x is not y:
        return None
    return [stand_in(fgraph, constant(np.zeros((), dtype=node.outputs[0].dtype)), node.outputs[0])]


@_rule()
@node_rewriter([elemwise_scalar_op(ts.Sub)])
def sub_zero(fgraph, node):
    """x - 0 -> x

    Why: subtracting zero changes nothing, so the node is pure overhead.
    """
    x, y = node.inputs
    return [stand_in(fgraph, x, node.outputs[0])] if is_value(y, 0) else None


@_rule()
@node_rewriter([elemwise_scalar_op(ts.TrueDiv)])
def div_self(fgraph, node):
    """x / x -> ones like x (so function([x], x/x)(0.) is 1.0, as the slides promise)

    Why: anything divided by itself is one; no division needs to run.
    """
    x, y = node.inputs
    if x is not y:
        return None
    return [stand_in(fgraph, constant(np.ones((), dtype=node.outputs[0].dtype)), node.outputs[0])]


@_rule()
@node_rewriter([elemwise_scalar_op(ts.TrueDiv)])
def div_one(fgraph, node):
    """x / 1 -> x

    Why: dividing by one changes nothing, so the node is pure overhead.
    """
    x, y = node.inputs
    return [stand_in(fgraph, x, node.outputs[0])] if is_value(y, 1) else None


# ----------------------------------------------------------------------------- products


@_rule()
@node_rewriter([Dot, BatchedDot])
def dot_of_zeros(fgraph, node):
    """dot(zeros, y) -> zeros of the product's shape (likewise dot(x, zeros))

    Why: a product with an all-zero factor is zero, so no product needs to run; Rop leaves such terms (dot(zeros_like(x), W)).

    Like ``x - x -> zeros``, the result is zero even where the other factor
    holds inf or NaN (where NumPy would give NaN), and a mismatch of the inner
    lengths is no longer reported: the product that would check it is gone.
    """
    if not any(is_value(operand, 0) for operand in node.inputs):
        return None
    out = node.outputs[0]
    return [stand_in(fgraph, constant(np.zeros((), dtype=out.dtype)), out)]


# ----------------------------------------------------------------------------- inverse functions


def _cancellation(outer, inner, why):
    """The rule ``outer(inner(x)) -> x``, named ``<outer>_of_<inner>``; ``why`` is the reason it fires."""

    def cancel(fgraph, node):
        below = node.inputs[0].owner
        if below is None or not is_elemwise(below, inner):
            return None
        return [stand_in(fgraph, below.inputs[0], node.outputs[0])]

    name = f"{outer.__name__.lower()}_of_{inner.__name__.lower()}"
    cancel.__name__ = name
    cancel.__doc__ = f"{outer.__name__.lower()}({inner.__name__.lower()}(x)) -> x\n\nWhy: {why}"
    # Its source is the line of CANCELLATIONS that names the pair, shown to students with the step.
    rule = NodeRewriter(cancel, tracks=[elemwise_scalar_op(outer)], name=name, source=_caller_source(2))
    return _rule()(rule)


CANCELLATIONS = [
    _cancellation(ts.Neg, ts.Neg, "two negations undo each other: neither needs to run."),  # neg(neg(x)) -> x
    _cancellation(ts.Exp, ts.Log, "exp undoes log, so both can go (x must be positive anyway)."),  # exp(log(x)) -> x
    _cancellation(ts.Log, ts.Exp, "log undoes exp, and exp(x) alone overflows for x > 709."),  # log(exp(x)) -> x
]


# ----------------------------------------------------------------------------- fill, dimshuffle


@_rule()
@node_rewriter([elemwise_scalar_op(ts.Second)])
def fill_useless(fgraph, node):
    """fill(a, b) -> b when b already has the shape of the result

    Why: the fill only gives b a shape it already has, so it copies for nothing.
    """
    _, value = node.inputs
    out = node.outputs[0]
    if _fits(value, out) and same_shape(fgraph, value, out):
        return [value]
    return None


@_rule("fast_compile")
@node_rewriter([DimShuffle])
def dimshuffle_merge(fgraph, node):
    """dimshuffle(dimshuffle(x)) -> one dimshuffle(x)

    Why: two reorderings in a row are one reordering, one node instead of two.
    """
    inner = node.inputs[0].owner
    if inner is None or not isinstance(inner.op, DimShuffle):
        return None
    order = tuple("x" if d == "x" else inner.op.new_order[d] for d in node.op.new_order)
    x = inner.inputs[0]
    return [DimShuffle(x.broadcastable, order)(x)]


@_rule("fast_compile")
@node_rewriter([DimShuffle])
def dimshuffle_identity(fgraph, node):
    """dimshuffle{0,1,...}(x) -> x (also when 'x' replaces a broadcastable axis in place)

    Why: a dimshuffle that keeps every axis in place changes nothing.
    """
    order = node.op.new_order
    pattern = node.op.input_broadcastable
    if len(order) != len(pattern):
        return None
    if all(d == i or (d == "x" and pattern[i]) for i, d in enumerate(order)):
        return [node.inputs[0]]
    return None


def _lifted(fgraph, var, order):
    """``dimshuffle(var)``, moved up through every elementwise op used only on the way."""
    node = var.owner
    if (node is not None and isinstance(node.op, Elemwise) and not node.op.inplace_pattern
            and len(node.outputs) == 1 and len(fgraph.clients.get(var, ())) == 1):
        return node.op(*[_lifted(fgraph, i, order) for i in node.inputs])
    return DimShuffle(var.broadcastable, order)(var)


@_rule()
@node_rewriter([DimShuffle])
def dimshuffle_lift(fgraph, node):
    """dimshuffle(elemwise(a, b)) -> elemwise(dimshuffle(a), dimshuffle(b)), the elemwise used once

    Why: moving the reordering onto the inputs lets it meet and cancel other dimshuffles there.
    """
    var = node.inputs[0]
    lifted = _lifted(fgraph, var, node.op.new_order)
    return None if lifted.owner.inputs[0] is var else [lifted]


# ----------------------------------------------------------------------------- reshape, alloc, cast


def _target_lengths(fgraph, vector):
    """The entries of a shape vector as int64 scalars, or None when they are not visible."""
    if isinstance(vector, Constant):
        return [constant(int(n), dtype="int64") for n in vector.data]
    owner = vector.owner
    if owner is not None and isinstance(owner.op, MakeVector):
        return [cast(i, "int64") for i in owner.inputs]
    if owner is not None and isinstance(owner.op, Shape):
        return list(shape_of(fgraph, owner.inputs[0]))
    return None


@_rule()
@node_rewriter([Reshape])
def reshape_useless(fgraph, node):
    """reshape(x, shape of x) -> x (one entry may be -1)

    Why: reshaping to the shape it already has changes nothing.
    """
    x, vector = node.inputs
    out = node.outputs[0]
    lengths = _target_lengths(fgraph, vector)
    if lengths is None or not _fits(x, out):
        return None
    unknown = [isinstance(n, Constant) and int(n.data) == -1 for n in lengths]
    if sum(unknown) > 1:
        return None
    if all(u or same_scalar(fgraph, n, own) for u, n, own in zip(unknown, lengths, shape_of(fgraph, x))):
        return [x]
    return None


@_rule()
@node_rewriter([Reshape])
def reshape_of_reshape(fgraph, node):
    """reshape(reshape(x, s1), s2) -> reshape(x, s2)

    Why: only the last reshape decides the shape, so the first is wasted.
    """
    inner = node.inputs[0].owner
    if inner is None or not isinstance(inner.op, Reshape):
        return None
    return [reshape(inner.inputs[0], node.inputs[1], ndim=node.op.ndim)]


@_rule()
@node_rewriter([Alloc])
def alloc_useless(fgraph, node):
    """alloc(v, *shape) -> v when v already has that shape

    Why: allocating an array of the shape v already has only copies v.
    """
    value = node.inputs[0]
    out = node.outputs[0]
    if _fits(value, out) and same_shape(fgraph, value, out):
        return [value]
    return None


def _broadcast_value(var):
    """What a broadcasting wrapper spreads: ``alloc(v, *shape)`` and ``fill(a, v)`` give ``v``."""
    owner = var.owner
    if owner is not None and isinstance(owner.op, Alloc):
        return owner.inputs[0]
    if owner is not None and is_elemwise(owner, ts.Second):
        return owner.inputs[1]
    return None


@_rule()
@node_rewriter([lambda op: isinstance(op, Elemwise)])
def broadcast_in_elemwise(fgraph, node):
    """elemwise(alloc(v, *shape of y), y) -> elemwise(v, y), and fill(a, v) likewise: y gives the shape

    Why: elementwise ops broadcast by themselves, so the explicit copy to full size is wasted memory.
    """
    for position, var in enumerate(node.inputs):
        value = _broadcast_value(var)
        if value is None:
            continue
        inputs = list(node.inputs)
        inputs[position] = shape_padleft(value, var.ndim - value.ndim)
        outputs = node.op.make_node(*inputs).outputs
        if all(new.dtype == old.dtype and _fits(new, old) and same_shape(fgraph, new, old)
               for new, old in zip(outputs, node.outputs)):
            return outputs
    return None


@_rule()
@node_rewriter([CAReduce])
def reduce_broadcastable_axes(fgraph, node):
    """sum(x, axis) over axes of length 1 -> x without those axes (also prod, max, any...)

    Why: reducing over an axis of length 1 only drops that axis, which costs nothing as a view.
    """
    x = node.inputs[0]
    axes = node.op.axes_of(x)
    if not all(x.broadcastable[d] for d in axes):
        return None
    kept = [d for d in range(x.ndim) if d not in axes]
    return [cast(DimShuffle(x.broadcastable, kept)(x), node.outputs[0].dtype)]


def _cast_dtype(node):
    return node.op.scalar_op.dtype


@_rule("fast_compile")
@node_rewriter([elemwise_scalar_op(ts.Cast)])
def cast_useless(fgraph, node):
    """cast(x, x.dtype) -> x

    Why: casting to the dtype it already has changes nothing.
    """
    x = node.inputs[0]
    return [x] if x.dtype == _cast_dtype(node) else None


@_rule()
@node_rewriter([elemwise_scalar_op(ts.Cast)])
def cast_of_cast(fgraph, node):
    """cast(cast(x, wider), t) -> cast(x, t) when the first cast loses nothing

    Why: when the first cast loses nothing, one cast gives the same values with one copy fewer.
    """
    inner = node.inputs[0].owner
    if inner is None or not is_elemwise(inner, ts.Cast):
        return None
    x = inner.inputs[0]
    if not np.can_cast(x.dtype, _cast_dtype(inner), "safe"):
        return None
    return [cast(x, _cast_dtype(node))]
