"""Elementwise math on tensors: one function per scalar op, lifted by Elemwise.

>>> import theanolab.tensor as T
>>> x = T.dmatrix('x')
>>> T.exp(-x).owner.op
Elemwise{exp,no_inplace}
"""

from __future__ import annotations

from theanolab import scalar as ts
from theanolab.tensor.elemwise import Elemwise

__all__ = [
    "elemwise_function",
    # arithmetic
    "add", "sub", "mul", "true_div", "int_div", "floor_div", "mod", "pow", "neg", "inv",
    "reciprocal", "sqr", "sqrt", "abs_", "sgn", "maximum", "minimum", "clip",
    # filling and copying
    "second", "fill", "tensor_copy",
    # comparisons and logic
    "lt", "gt", "le", "ge", "eq", "neq", "isnan", "isinf",
    "and_", "or_", "xor", "invert", "bitwise_and", "bitwise_or", "bitwise_xor", "bitwise_not",
    "switch", "where",
    # exponentials, logarithms, trigonometry
    "exp", "exp2", "expm1", "log", "log2", "log10", "log1p",
    "sin", "cos", "tan", "arcsin", "arccos", "arctan", "arctan2",
    "sinh", "cosh", "tanh", "arcsinh", "arccosh", "arctanh", "erf", "erfc",
    # rounding
    "floor", "ceil", "trunc", "round", "round_half_to_even", "round_half_away_from_zero", "iround",
]


def elemwise_function(scalar_op, name, doc):
    """Make the user-facing function applying ``Elemwise(scalar_op)``."""
    op = Elemwise(scalar_op)

    def apply(*inputs):
        return op(*inputs)

    apply.__name__ = apply.__qualname__ = name
    apply.__doc__ = doc
    apply.op = op
    return apply


add = elemwise_function(ts.add, "add", "x + y + ... elementwise, with broadcasting.")
sub = elemwise_function(ts.sub, "sub", "x - y elementwise.")
mul = elemwise_function(ts.mul, "mul", "x * y * ... elementwise.")
true_div = elemwise_function(ts.true_div, "true_div", "x / y elementwise; integers give floats.")
int_div = elemwise_function(ts.int_div, "int_div", "x // y elementwise (floor division).")
floor_div = int_div
mod = elemwise_function(ts.mod, "mod", "x % y elementwise, with the sign of y as in Python.")
pow = elemwise_function(ts.pow, "pow", "x ** y elementwise.")
neg = elemwise_function(ts.neg, "neg", "-x elementwise.")
maximum = elemwise_function(ts.maximum, "maximum", "The larger of x and y, elementwise.")
minimum = elemwise_function(ts.minimum, "minimum", "The smaller of x and y, elementwise.")
second = elemwise_function(ts.second, "second", "y broadcast to the shape of x (``fill(x, y)``).")
fill = second
tensor_copy = elemwise_function(ts.identity, "tensor_copy", "A copy of x.")

lt = elemwise_function(ts.lt, "lt", "x < y elementwise (bool).")
gt = elemwise_function(ts.gt, "gt", "x > y elementwise (bool).")
le = elemwise_function(ts.le, "le", "x <= y elementwise (bool).")
ge = elemwise_function(ts.ge, "ge", "x >= y elementwise (bool).")
eq = elemwise_function(ts.eq, "eq", "x == y elementwise (bool).")
neq = elemwise_function(ts.neq, "neq", "x != y elementwise (bool).")
and_ = elemwise_function(ts.and_, "and_", "x & y: logical on bools, bitwise on integers.")
or_ = elemwise_function(ts.or_, "or_", "x | y: logical on bools, bitwise on integers.")
xor = elemwise_function(ts.xor, "xor", "x ^ y: logical on bools, bitwise on integers.")
invert = elemwise_function(ts.invert, "invert", "~x: logical not on bools, bitwise on integers.")
bitwise_and, bitwise_or, bitwise_xor, bitwise_not = and_, or_, xor, invert
switch = elemwise_function(ts.switch, "switch", "a where cond is true, else b (``numpy.where``).")
where = switch

inv = elemwise_function(ts.inv, "inv", "1 / x elementwise; integers give floats.")
reciprocal = inv
sqr = elemwise_function(ts.sqr, "sqr", "x * x elementwise, in the dtype of x.")
sqrt = elemwise_function(ts.sqrt, "sqrt", "Square root, elementwise.")
abs_ = elemwise_function(ts.abs_, "abs_", "``|x|`` elementwise (real for complex x); also ``abs(x)``.")
sgn = elemwise_function(ts.sgn, "sgn", "-1, 0 or 1 with the sign of x, elementwise.")
clip = elemwise_function(ts.clip, "clip", "x limited to [min, max]: ``clip(x, min, max)``.")
isnan = elemwise_function(ts.isnan, "isnan", "Whether x is NaN, elementwise (bool).")
isinf = elemwise_function(ts.isinf, "isinf", "Whether x is +inf or -inf, elementwise (bool).")

exp = elemwise_function(ts.exp, "exp", "e ** x elementwise.")
exp2 = elemwise_function(ts.exp2, "exp2", "2 ** x elementwise.")
expm1 = elemwise_function(ts.expm1, "expm1", "exp(x) - 1, accurate for x near 0.")
log = elemwise_function(ts.log, "log", "Natural logarithm, elementwise.")
log2 = elemwise_function(ts.log2, "log2", "Base-2 logarithm, elementwise.")
log10 = elemwise_function(ts.log10, "log10", "Base-10 logarithm, elementwise.")
log1p = elemwise_function(ts.log1p, "log1p", "log(1 + x), accurate for x near 0.")
sin = elemwise_function(ts.sin, "sin", "Sine (radians), elementwise.")
cos = elemwise_function(ts.cos, "cos", "Cosine (radians), elementwise.")
tan = elemwise_function(ts.tan, "tan", "Tangent (radians), elementwise.")
arcsin = elemwise_function(ts.arcsin, "arcsin", "Inverse sine, elementwise.")
arccos = elemwise_function(ts.arccos, "arccos", "Inverse cosine, elementwise.")
arctan = elemwise_function(ts.arctan, "arctan", "Inverse tangent, elementwise.")
arctan2 = elemwise_function(ts.arctan2, "arctan2", "The angle of the point (x, y): ``arctan2(y, x)``.")
sinh = elemwise_function(ts.sinh, "sinh", "Hyperbolic sine, elementwise.")
cosh = elemwise_function(ts.cosh, "cosh", "Hyperbolic cosine, elementwise.")
tanh = elemwise_function(ts.tanh, "tanh", "Hyperbolic tangent, elementwise.")
arcsinh = elemwise_function(ts.arcsinh, "arcsinh", "Inverse hyperbolic sine, elementwise.")
arccosh = elemwise_function(ts.arccosh, "arccosh", "Inverse hyperbolic cosine, elementwise.")
arctanh = elemwise_function(ts.arctanh, "arctanh", "Inverse hyperbolic tangent, elementwise.")
erf = elemwise_function(ts.erf, "erf", "The error function, elementwise.")
erfc = elemwise_function(ts.erfc, "erfc", "1 - erf(x), accurate where erf(x) is near 1.")

floor = elemwise_function(ts.floor, "floor", "The largest integer <= x (as a float), elementwise.")
ceil = elemwise_function(ts.ceil, "ceil", "The smallest integer >= x (as a float), elementwise.")
trunc = elemwise_function(ts.trunc, "trunc", "x rounded toward zero (as a float), elementwise.")
round_half_to_even = elemwise_function(
    ts.round_half_to_even, "round_half_to_even", "Round to nearest, ties to even (0.5 -> 0, 1.5 -> 2).")
round_half_away_from_zero = elemwise_function(
    ts.round_half_away_from_zero, "round_half_away_from_zero",
    "Round to nearest, ties away from zero (0.5 -> 1, -2.5 -> -3).")

_ROUNDING_MODES = {"half_to_even": round_half_to_even, "half_away_from_zero": round_half_away_from_zero}


def round(a, mode=None):
    """Round floats to the nearest integer (the result stays float).

    ``mode`` is ``'half_to_even'`` (the default: NumPy's rule, and Theano's
    since 0.10) or ``'half_away_from_zero'`` (Theano's older default).
    """
    mode = mode or "half_to_even"
    if mode not in _ROUNDING_MODES:
        raise ValueError(f"round: mode must be one of {sorted(_ROUNDING_MODES)}, got {mode!r}")
    return _ROUNDING_MODES[mode](a)


def iround(a, mode=None):
    """``round(a, mode)`` cast to int64."""
    from theanolab.tensor.basic import cast

    return cast(round(a, mode), "int64")
