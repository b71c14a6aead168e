"""Helpers for writing tensor rules: constant values, and registering pattern rules."""

from __future__ import annotations

import numpy as np

from theanolab.graph.basic import Constant
from theanolab.graph.rewriting import PatternRewriter, register
from theanolab.graph.rewriting.basic import _caller_source
from theanolab.tensor.elemwise import DimShuffle, Elemwise

__all__ = ["scalar_constant_value", "pattern_rule", "is_elemwise", "elemwise_scalar_op"]


def scalar_constant_value(var):
    """The single value every element of ``var`` is known to have, or None.

    Looks through the wrappers broadcasting adds around constants
    (DimShuffle, casts, ``fill``) so ``1 + x`` matches a pattern ``(add, 1, "x")``
    whatever the rank of x.
    """
    from theanolab import scalar as ts

    while True:
        if isinstance(var, Constant):
            data = var.data
            if data.size == 0:
                return None
            first = data.reshape(-1)[0]
            return first if (data == first).all() else None
        node = var.owner
        if node is None:
            return None
        if isinstance(node.op, DimShuffle):
            var = node.inputs[0]
        elif isinstance(node.op, Elemwise) and isinstance(node.op.scalar_op, ts.Cast):
            value = scalar_constant_value(node.inputs[0])
            return None if value is None else np.asarray(value).astype(node.op.scalar_op.dtype)[()]
        elif isinstance(node.op, Elemwise) and isinstance(node.op.scalar_op, ts.Second):
            var = node.inputs[1]
        else:
            return None


def is_elemwise(node, scalar_op_class):
    """True if ``node`` applies Elemwise of a scalar op of this class."""
    return isinstance(node.op, Elemwise) and isinstance(node.op.scalar_op, scalar_op_class)


def elemwise_scalar_op(*classes):
    """A ``tracks`` predicate for Elemwise nodes of the given scalar op classes."""

    def predicate(op):
        return isinstance(op, Elemwise) and isinstance(op.scalar_op, classes)

    predicate.__name__ = "elemwise_of_" + "_".join(c.__name__ for c in classes)
    return predicate


def pattern_rule(phase, name, pattern, replacement, *tags, constraint=None):
    """Register a pattern rule (``before -> after``) in ``phase`` with ``tags``."""
    rule = PatternRewriter(name, pattern, replacement, constraint=constraint,
                           constant_value=scalar_constant_value)
    rule.source = _caller_source(2)
    return register(phase, *(tags or ("fast_run",)))(rule)

