"""Reading and building the small expressions stability rules work with.

A rule recognises ``1 + x`` and ``1 - x`` in whatever form canonicalization
left them, negates an argument without piling up ``neg`` nodes
(``-(-a - b)`` is ``a + b``), and fits its replacement to the output it
replaces: the same dtype, and the same shape even where the replacement
lost the operand that carried it (``x / x`` broadcast to the shape of x).
"""

from __future__ import annotations

import numpy as np

from theanolab import scalar as ts
from theanolab.scalar.basic import FLOAT
from theanolab.tensor import math as tm
from theanolab.tensor.basic import cast
from theanolab.tensor.rewriting.utils import is_elemwise, scalar_constant_value
from theanolab.tensor.variable import constant

__all__ = ["is_float", "constant_like", "sum_of", "one_plus", "one_minus", "negated", "fit"]


def is_float(var):
    """True for a real floating-point tensor (the stability rules leave integers alone)."""
    return getattr(var.type, "dtype", None) in FLOAT


def constant_like(value, like):
    """``value`` as a broadcastable constant of ``like``'s dtype and rank (so it upcasts nothing)."""
    return constant(np.asarray(value, dtype=like.dtype), ndim=like.ndim)


def sum_of(terms):
    """``terms[0] + terms[1] + ...`` as one n-ary add (the term itself when there is one)."""
    return terms[0] if len(terms) == 1 else tm.add(*terms)


def _split_constants(node):
    """``(sum of the constant inputs, the other inputs)`` of an add node."""
    values = [scalar_constant_value(v) for v in node.inputs]
    rest = [v for v, value in zip(node.inputs, values) if value is None]
    return sum(value for value in values if value is not None), rest


def one_plus(var):
    """``x`` when ``var`` is ``1 + x`` (an n-ary add whose constants sum to 1), else None."""
    node = var.owner
    if node is None or not is_elemwise(node, ts.Add):
        return None
    total, rest = _split_constants(node)
    if not rest or len(rest) == len(node.inputs) or total != 1:
        return None
    return sum_of(rest)


def one_minus(var):
    """``x`` when ``var`` is ``1 - x``, else None."""
    node = var.owner
    if node is not None and is_elemwise(node, ts.Sub) and scalar_constant_value(node.inputs[0]) == 1:
        return node.inputs[1]
    return None


def negated(var):
    """``-var``, simplified where that is free: ``-(-a)`` is a, ``-(a - b)`` is ``b - a``,
    ``-(-a - b)`` is ``a + b``, ``-(c * a)`` is ``(-c) * a``, ``-(-a + -b)`` is ``a + b``."""
    value = scalar_constant_value(var)
    if value is not None and all(var.broadcastable):
        return constant_like(-value, var)
    node = var.owner
    if node is None or not is_elemwise(node, (ts.Neg, ts.Sub, ts.Add, ts.Mul)):
        return tm.neg(var)
    op = node.op.scalar_op
    if isinstance(op, ts.Neg):
        return node.inputs[0]
    if isinstance(op, ts.Sub):
        a, b = node.inputs
        inner = a.owner
        if inner is not None and is_elemwise(inner, ts.Neg):
            return tm.add(inner.inputs[0], b)
        return tm.sub(b, a)
    if isinstance(op, ts.Add):
        if all(v.owner is not None and is_elemwise(v.owner, ts.Neg) for v in node.inputs):
            return tm.add(*[v.owner.inputs[0] for v in node.inputs])
        return tm.neg(var)
    for i, v in enumerate(node.inputs):
        value = scalar_constant_value(v)
        if value is not None and all(v.broadcastable):
            inputs = list(node.inputs)
            inputs[i] = constant_like(-value, v)
            return tm.mul(*inputs)
    return tm.neg(var)


def fit(old, new, sources):
    """``new`` made to stand for ``old``: cast to ``old``'s dtype, and broadcast (``fill``) with
    one of ``sources`` over each dimension that ``old`` has and ``new`` lost; None if none can."""
    if new.ndim != old.ndim:
        return None
    for d in range(old.ndim):
        if new.broadcastable[d] and not old.broadcastable[d]:
            source = next((s for s in sources if s.ndim == old.ndim and not s.broadcastable[d]), None)
            if source is None:
                return None
            new = tm.second(source, new)
    return cast(new, old.dtype)
