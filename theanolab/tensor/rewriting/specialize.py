"""Specialization: general operations replaced by cheaper special cases.

``pow`` is the slowest elementwise op there is; with a known exponent it is
usually a multiplication, a square root or a reciprocal.  These rules run
after canonicalization and stabilization (which match the general forms) and
never produce a form that those phases would rewrite back.

=============  ===============
before         after
=============  ===============
``x ** 2``     ``sqr(x)``
``x ** 0.5``   ``sqrt(x)``
``x ** -1``    ``inv(x)``
``x ** -0.5``  ``inv(sqrt(x))``
``x ** 1``     ``x``
``x ** 0``     ones like x
``x * x``      ``sqr(x)``
``-1 * x``     ``neg(x)``
``-a * -b``    ``a * b``
=============  ===============

>>> import theanolab, theanolab.tensor as T
>>> x = T.dvector('x')
>>> f = theanolab.function([x], x ** 2)
>>> [str(node.op) for node in f.maker.fgraph.toposort()]
['Elemwise{sqr,no_inplace}']
"""

from __future__ import annotations

import numpy as np

from theanolab import scalar as ts
from theanolab.graph.rewriting import node_rewriter, register
from theanolab.tensor import math as tm
from theanolab.tensor.basic import cast
from theanolab.tensor.rewriting import canonicalize as canon
from theanolab.tensor.rewriting.canonicalize import is_value, known_value, stand_in
from theanolab.tensor.rewriting.utils import elemwise_scalar_op, is_elemwise
from theanolab.tensor.variable import constant

__all__ = ["POWERS", "CLEANUPS", "pow_specialize", "mul_self_to_sqr", "mul_minus_one_to_neg", "mul_of_negations"]

#: exponent -> what ``x ** exponent`` becomes (``x`` already cast to the result's dtype).
POWERS = {
    2: tm.sqr,
    0.5: tm.sqrt,
    -1: tm.inv,
    -0.5: lambda x: tm.inv(tm.sqrt(x)),
    1: lambda x: x,
    0: lambda x: constant(np.ones((), dtype=x.dtype)),
}


def _rule():
    return register("specialize", "fast_run")


# Stabilization and specialization leave work for some canonicalizations: the ones of
# x ** 0 to fold, the fills of gradients that the sigmoid rewrites move into new
# products, the negations of -softplus(-x) to cancel.  They run here again.
CLEANUPS = [canon.constant_folding, *canon.CANCELLATIONS, canon.fill_useless, canon.broadcast_in_elemwise,
            canon.alloc_useless, canon.reduce_broadcastable_axes, canon.dimshuffle_merge,
            canon.dimshuffle_identity, canon.cast_useless]
for _cleanup in CLEANUPS:
    _rule()(_cleanup)


def _exponent(var):
    """The single value of a constant exponent, if it is one of :data:`POWERS`."""
    value = known_value(var)
    if value is None or np.size(value) == 0:
        return None
    value = np.asarray(value)
    first = value.reshape(-1)[0]
    if not np.all(value == first):
        return None
    for exponent in POWERS:
        if first == exponent:
            return exponent
    return None


@_rule()
@node_rewriter([elemwise_scalar_op(ts.Pow)])
def pow_specialize(fgraph, node):
    """x ** 2 -> sqr(x), x ** 0.5 -> sqrt(x), x ** -1 -> inv(x), x ** 1 -> x, x ** 0 -> 1

    Why: a general power calls exp and log; squaring, square roots and inverses are one cheap instruction.
    """
    base, power = node.inputs
    exponent = _exponent(power)
    if exponent is None:
        return None
    out = node.outputs[0]
    return [stand_in(fgraph, POWERS[exponent](cast(base, out.dtype)), out)]


@_rule()
@node_rewriter([elemwise_scalar_op(ts.Mul)])
def mul_self_to_sqr(fgraph, node):
    """mul(x, x) -> sqr(x); mul(a, x, x) -> mul(a, sqr(x))

    Why: x * x reads x twice; sqr(x) reads it once and says what it means.
    """
    out = node.outputs[0]
    operands = list(node.inputs)
    for i, var in enumerate(operands):
        for j in range(i + 1, len(operands)):
            if operands[j] is var:
                square = tm.sqr(cast(var, out.dtype))
                rest = operands[:i] + [square] + operands[i + 1:j] + operands[j + 1:]
                result = rest[0] if len(rest) == 1 else tm.mul(*rest)
                return [stand_in(fgraph, result, out)]
    return None


@_rule()
@node_rewriter([elemwise_scalar_op(ts.Mul)])
def mul_minus_one_to_neg(fgraph, node):
    """mul(-1, x) -> neg(x); mul(-1, x, y) -> neg(mul(x, y))

    Why: negating flips a sign bit; multiplying by -1 is a full multiplication.
    """
    out = node.outputs[0]
    if out.dtype == "bool":
        return None
    rest = [i for i in node.inputs if not is_value(i, -1)]
    if len(rest) != len(node.inputs) - 1 or not rest:
        return None
    rest = [cast(var, out.dtype) for var in rest]  # the product in the result's dtype, as before
    product = rest[0] if len(rest) == 1 else tm.mul(*rest)
    return [stand_in(fgraph, tm.neg(product), out)]


@_rule()
@node_rewriter([elemwise_scalar_op(ts.Mul)])
def mul_of_negations(fgraph, node):
    """mul(neg(a), neg(b), c) -> mul(a, b, c): negations cancel in pairs

    Why: two minus signs cancel, so both negations are wasted work.
    """
    out = node.outputs[0]
    # Only negations computed in the product's dtype: -a of an unsigned a wraps around.
    negated = [i for i, var in enumerate(node.inputs) if var.owner is not None and is_elemwise(var.owner, ts.Neg)
               and var.dtype == var.owner.inputs[0].dtype == out.dtype]
    if len(negated) < 2:
        return None
    cancelled = set(negated[: len(negated) // 2 * 2])
    operands = [var.owner.inputs[0] if i in cancelled else var for i, var in enumerate(node.inputs)]
    return [stand_in(fgraph, tm.mul(*operands), out)]
