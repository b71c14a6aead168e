"""Stability rewrites: forms that keep their digits where the naive one overflows or cancels.

A student writes the mathematics (``1 / (1 + exp(-z))``, ``log(1 - p)``,
``exp(a) / exp(a).sum()``); in floating point these lose everything at the
ends of their range: ``exp(800)`` is inf, ``1 - sigmoid(40)`` is exactly 0
so its log is -inf, and ``log(1 + 1e-20)`` is 0.  Each rule here replaces one
such form by an equivalent that stays finite and accurate there.

The phase runs after canonicalization (add and mul are n-ary with their
constants first; sub and true_div are left as written), and only on floats:
the trouble is a floating-point one, and integer arithmetic wraps instead.

Gradients matter as much as values: ``T.grad`` differentiates the naive
graph, so the gradient holds the naive pieces too (``g / (1 - p)``,
``exp(-z) / (1 + exp(-z))**2``).  The products of exponentials and sigmoids
are simplified by the algebra of :mod:`.sigmoid_products`.
"""

from __future__ import annotations

import numpy as np

from theanolab import scalar as ts
from theanolab.graph.rewriting import node_rewriter, register
from theanolab.graph.rewriting.basic import _source_of
from theanolab.tensor import math as tm
from theanolab.tensor import nnet
from theanolab.tensor.elemwise import DimShuffle
from theanolab.tensor.reduce import CAReduce, MaxAndArgmax, Sum
from theanolab.tensor.rewriting.forms import constant_like, fit, is_float, negated, one_minus, one_plus
from theanolab.tensor.rewriting.sigmoid_products import simplify_sigmoid_products
from theanolab.tensor.rewriting.utils import elemwise_scalar_op, is_elemwise, scalar_constant_value

__all__ = [
    "log1p", "log1p_neg", "softplus_of_log1p_exp", "sigmoid", "one_minus_sigmoid",
    "log_sigmoid", "log_one_minus_sigmoid", "sigmoid_products", "softmax", "log_softmax",
    "log_softmax_grad", "logsumexp",
]


def stabilize_rule(*classes, tracks=None):
    """Register a node rewriter in the ``stabilize`` phase (tag ``fast_run`` and its own name).

    ``classes`` are the scalar op classes of the Elemwise nodes it looks at
    (or ``tracks`` names other ops).  Its replacement is fitted to the old
    output (:func:`.forms.fit`: same dtype, same shape), and it only sees
    nodes whose output is a float.
    """

    def wrap(function):
        def transform(fgraph, node):
            old = node.outputs[0]
            if not is_float(old):
                return None
            new = function(node)
            new = None if new is None else fit(old, new, node.inputs)
            return None if new is None else [new]

        transform.__name__ = function.__name__
        transform.__doc__ = function.__doc__
        rule = node_rewriter(tracks or [elemwise_scalar_op(*classes)])(transform)
        rule.source = _source_of(function)
        return register("stabilize", "fast_run")(rule)

    return wrap


def _op_input(var, scalar_op_class):
    """The input of ``var`` if an Elemwise of ``scalar_op_class`` computes it, else None."""
    node = var.owner
    if node is not None and is_elemwise(node, scalar_op_class) and len(node.inputs) == 1:
        return node.inputs[0]
    return None


def _itemsize(var):
    return np.dtype(var.type.dtype).itemsize


def _sigmoid_input(var):
    """x if ``var`` is sigmoid(x), or sigmoid(x) widened to a larger float (float32 -> float64), else None.

    Looking through the widening cast lets ``log(np.float64(1) - sigmoid(x))``
    on a float32 x be stabilized too (the replacement is cast back by ``fit``).
    """
    widened = _op_input(var, ts.Cast)
    if widened is not None and is_float(widened) and is_float(var) and _itemsize(widened) <= _itemsize(var):
        var = widened
    return _op_input(var, nnet.ScalarSigmoid)


# --------------------------------------------------------------------------- logarithms


@stabilize_rule(ts.Log)
def log1p(node):
    """log(1 + x) -> log1p(x): for |x| < 1e-16, 1 + x rounds to 1 and the log to 0, not x."""
    x = one_plus(node.inputs[0])
    return tm.log1p(x) if x is not None and is_float(x) else None


@stabilize_rule(ts.Log)
def log1p_neg(node):
    """log(1 - x) -> log1p(-x): 1 - x loses every digit of a tiny x."""
    x = one_minus(node.inputs[0])
    if x is None or not is_float(x) or _sigmoid_input(x) is not None:  # log(1 - sigmoid) has its own, better rule
        return None
    return tm.log1p(negated(x))


@stabilize_rule(ts.Log1p)
def softplus_of_log1p_exp(node):
    """log1p(exp(x)) -> softplus(x): exp(800) is inf, softplus(800) is 800."""
    x = _op_input(node.inputs[0], ts.Exp)
    return None if x is None else nnet.softplus(x)


# --------------------------------------------------------------------------- sigmoid


@stabilize_rule(ts.TrueDiv)
def sigmoid(node):
    """1 / (1 + exp(z)) -> sigmoid(-z): exp(800) overflows, sigmoid(-800) is 0 without it."""
    numerator, denominator = node.inputs
    if scalar_constant_value(numerator) != 1:
        return None
    x = one_plus(denominator)
    z = None if x is None else _op_input(x, ts.Exp)
    return None if z is None else nnet.sigmoid(negated(z))


@stabilize_rule(ts.Sub)
def one_minus_sigmoid(node):
    """1 - sigmoid(x) -> sigmoid(-x): 1 - sigmoid(40) is exactly 0, sigmoid(-40) is 4e-18."""
    p = one_minus(node.outputs[0])
    x = None if p is None else _sigmoid_input(p)
    return None if x is None else nnet.sigmoid(negated(x))


@stabilize_rule(ts.Log)
def log_sigmoid(node):
    """log(sigmoid(x)) -> -softplus(-x): sigmoid(-800) is 0 and its log -inf; the answer is -800."""
    x = _sigmoid_input(node.inputs[0])
    return None if x is None else tm.neg(nnet.softplus(negated(x)))


@stabilize_rule(ts.Log)
def log_one_minus_sigmoid(node):
    """log(1 - sigmoid(x)) -> -softplus(x): 1 - sigmoid(40) is 0 and its log -inf; the answer is -40."""
    p = one_minus(node.inputs[0])
    x = None if p is None else _sigmoid_input(p)
    return None if x is None else tm.neg(nnet.softplus(x))


@stabilize_rule(ts.Mul, ts.TrueDiv, ts.Neg, ts.Inv, ts.Sqr, ts.Pow)
def sigmoid_products(node):
    """exp(z) / (1 + exp(z))**2 -> sigmoid(z) * sigmoid(-z), and any product of exp, sigmoid, 1 + exp likewise.

    Why: exp(800) is inf and inf / inf is nan, while sigmoid(800) * sigmoid(-800) is a tiny finite number.

    See :mod:`.sigmoid_products`: the product's exponentials and sigmoids of
    each argument are rewritten with as few factors as possible, none that
    overflows and no sigmoid in a denominator where that can be avoided.
    """
    return simplify_sigmoid_products(node.outputs[0])


# --------------------------------------------------------------------------- softmax and log-sum-exp


def _keepdims_order(ndim, axes):
    """The DimShuffle order that puts back the reduced ``axes`` of an ``ndim``-d input (keepdims)."""
    kept = iter(range(ndim - len(axes)))
    return tuple("x" if d in axes else next(kept) for d in range(ndim))


def _expanded_sum(var):
    """``(x, axes)`` when ``var`` is ``x.sum(axes)`` with the axes put back (keepdims), else None."""
    node = var.owner
    if node is None or not isinstance(node.op, DimShuffle):
        return None
    total = node.inputs[0]
    if total.owner is None or not isinstance(total.owner.op, Sum):
        return None
    x = total.owner.inputs[0]
    axes = total.owner.op.axes_of(x)
    return (x, axes) if node.op.new_order == _keepdims_order(x.ndim, axes) else None


def _rowwise(op, x, axes):
    """``op`` (a row-wise op on matrices) applied to ``x`` along ``axes`` of a vector or a matrix."""
    if x.ndim == 1:
        return DimShuffle((True, False), (1,))(op(x.dimshuffle("x", 0)))
    if axes == (1,):
        return op(x)
    return op(x.T).T


@stabilize_rule(ts.TrueDiv)
def softmax(node):
    """exp(a) / exp(a).sum(axis, keepdims=True) -> softmax(a): exp(800) is inf, and inf / inf nan."""
    numerator, denominator = node.inputs
    a = _op_input(numerator, ts.Exp)
    found = _expanded_sum(denominator)
    if a is None or found is None or found[0] is not numerator or a.ndim not in (1, 2) or not is_float(a):
        return None
    return _rowwise(nnet.softmax_op, a, found[1])


def _under_dimshuffle(var):
    """``(dimshuffle op, its input)`` if a DimShuffle computes ``var``, else ``(None, var)``.

    A log of a DimShuffle is the DimShuffle of the log, so the log rules look
    through one (the one a vector's softmax or a keepdims sum adds).
    """
    if var.owner is not None and isinstance(var.owner.op, DimShuffle):
        return var.owner.op, var.owner.inputs[0]
    return None, var


@stabilize_rule(ts.Log)
def log_softmax(node):
    """log(softmax(x)) -> log_softmax(x): a softmax underflows to 0 where its log is finite."""
    view, arg = _under_dimshuffle(node.inputs[0])
    if arg.owner is None or not isinstance(arg.owner.op, nnet.Softmax):
        return None
    result = nnet.log_softmax_op(arg.owner.inputs[0])
    return result if view is None else view(result)


@stabilize_rule(tracks=[nnet.SoftmaxGrad])
def log_softmax_grad(node):
    """SoftmaxGrad(g / sm, sm) -> g - sum(g) * sm: the gradient of log(softmax) without dividing by 0."""
    dy, sm = node.inputs
    if sm.owner is None or not isinstance(sm.owner.op, nnet.Softmax) or dy.owner is None:
        return None
    if not is_elemwise(dy.owner, ts.TrueDiv) or dy.owner.inputs[1] is not sm:
        return None
    g = dy.owner.inputs[0]
    return g - g.sum(axis=1, keepdims=True) * sm


def _is_max(op):
    return isinstance(op, MaxAndArgmax) or (isinstance(op, CAReduce) and isinstance(op.scalar_op, ts.Maximum))


def _shifted_by_max(var):
    """True when ``var`` is ``x - max(x)`` (as :func:`logsumexp` writes it), so it is not shifted twice."""
    node = var.owner
    if node is None or not is_elemwise(node, ts.Sub):
        return False
    x, shift = node.inputs
    frontier = [shift]
    for _ in range(4):
        owners = [v.owner for v in frontier if v.owner is not None]
        if any(_is_max(n.op) and n.inputs[0] is x for n in owners):
            return True
        frontier = [v for n in owners for v in n.inputs]
    return False


@stabilize_rule(ts.Log)
def logsumexp(node):
    """log(sum(exp(x), axis)) -> m + log(sum(exp(x - m), axis)) with m = max(x, axis): no exp overflows.

    Where the maximum is infinite the shift is 0, so a row of -inf gives
    -inf (as the naive form does) instead of nan.  Like NumPy's max, the
    maximum of an empty axis is an error when the function runs.
    """
    view, arg = _under_dimshuffle(node.inputs[0])
    if arg.owner is None or not isinstance(arg.owner.op, Sum):
        return None
    x = _op_input(arg.owner.inputs[0], ts.Exp)
    if x is None or not is_float(x) or _shifted_by_max(x):
        return None
    axes = arg.owner.op.axes_of(x)
    peak = MaxAndArgmax(axes)(x)[0]
    shift = tm.switch(tm.isinf(peak), constant_like(0, peak), peak)
    expanded = shift.dimshuffle(_keepdims_order(x.ndim, axes))
    result = shift + tm.log(arg.owner.op(tm.exp(x - expanded)))
    return result if view is None else view(result)
