"""Scalar math functions (exp, log, trigonometry, rounding...), one class each.

Each op names its NumPy function, its output dtype rule and its gradient, on
one screen, so the forward and backward meaning can be read together.

Dtype rules follow Theano: transcendental functions turn integers into
floats (int8 -> float32, int32 -> float64, see ``upgrade_to_float``),
``abs_`` of a complex number is real, ``isnan``/``isinf`` give bools, and
rounding ops refuse integers (there is nothing to round).  Ops whose
derivative is zero almost everywhere (floor, sgn, isnan...) return zero
gradients, as Theano does, so ``T.grad(T.floor(x).sum(), x)`` is zeros and
not an error.
"""

from __future__ import annotations

import math

import numpy as np

from theanolab.scalar.basic import (
    BOOL,
    FLOAT,
    INTEGER,
    ScalarOp,
    _tensor,
    bool_out,
    real_out,
    same_out,
    upcast_out,
    upgrade_to_float,
    upgrade_to_float_out,
)

__all__ = [
    "FloatOp",
    "Exp", "Exp2", "Expm1", "Log", "Log2", "Log10", "Log1p", "Sqrt", "Sqr", "Inv",
    "Abs", "Sgn", "Sin", "Cos", "Tan", "ArcSin", "ArcCos", "ArcTan", "ArcTan2",
    "Sinh", "Cosh", "Tanh", "ArcSinh", "ArcCosh", "ArcTanh", "Erf", "Erfc",
    "Floor", "Ceil", "Trunc", "RoundHalfToEven", "RoundHalfAwayFromZero",
    "IsNan", "IsInf", "Clip",
    "exp", "exp2", "expm1", "log", "log2", "log10", "log1p", "sqrt", "sqr", "inv",
    "abs_", "sgn", "sin", "cos", "tan", "arcsin", "arccos", "arctan", "arctan2",
    "sinh", "cosh", "tanh", "arcsinh", "arccosh", "arctanh", "erf", "erfc",
    "floor", "ceil", "trunc", "round_half_to_even", "round_half_away_from_zero",
    "isnan", "isinf", "clip",
]

REAL = BOOL + INTEGER + FLOAT


def _restricted(rule, allowed, description):
    """The dtype ``rule``, refusing (TypeError) input dtypes outside ``allowed``."""

    def checked(*dtypes):
        for dtype in dtypes:
            if dtype not in allowed:
                raise TypeError(f"expects {description} inputs, got {dtype}")
        return rule(*dtypes)

    return staticmethod(checked)


#: Floats from real inputs only: NumPy (and math.erf) have no complex version.
_REAL_TO_FLOAT = _restricted(upgrade_to_float_out, REAL, "real (bool, integer or float)")


def _constant_like(value, var):
    """``value`` as a constant of ``var``'s float dtype, so float32 gradients stay float32."""
    return _tensor().constant(value, dtype=upgrade_to_float(var.dtype))


def _zero_grads(inputs):
    """Float zeros for every input: the gradient of a piecewise-constant function."""
    from theanolab.tensor.basic import zeros_like_float

    return [zeros_like_float(x) for x in inputs]


class FloatOp(ScalarOp):
    """A function whose result is float even for integer inputs (one input unless ``nin`` says).

    It computes in the output precision: NumPy alone would compute int8
    inputs in float16 (losing digits) and keep integers integer in floor.
    """

    nin = 1
    output_dtypes = staticmethod(upgrade_to_float_out)

    def impl(self, *values):
        values = [np.asarray(v) for v in values]
        dtype = self.output_dtypes(*[str(v.dtype) for v in values])[0]
        return self.nfunc(*[v.astype(dtype, copy=False) for v in values])


class _PiecewiseConstant(FloatOp):
    """Real-valued rounding to an integer-valued float; its gradient is zero."""

    output_dtypes = _REAL_TO_FLOAT

    def L_op(self, inputs, outputs, output_grads):
        return _zero_grads(inputs)


# ----------------------------------------------------------------- exponentials and logarithms


class Exp(FloatOp):
    name = "exp"
    nfunc = staticmethod(np.exp)

    def L_op(self, inputs, outputs, output_grads):
        return [output_grads[0] * outputs[0]]


class Exp2(FloatOp):
    name = "exp2"
    nfunc = staticmethod(np.exp2)

    def L_op(self, inputs, outputs, output_grads):
        return [output_grads[0] * outputs[0] * _constant_like(math.log(2), inputs[0])]


class Expm1(FloatOp):
    """``exp(x) - 1``, accurate for tiny ``x``."""

    name = "expm1"
    nfunc = staticmethod(np.expm1)

    def L_op(self, inputs, outputs, output_grads):
        return [output_grads[0] * (outputs[0] + 1)]


class Log(FloatOp):
    name = "log"
    nfunc = staticmethod(np.log)

    def L_op(self, inputs, outputs, output_grads):
        return [output_grads[0] / inputs[0]]


class Log2(FloatOp):
    name = "log2"
    nfunc = staticmethod(np.log2)

    def L_op(self, inputs, outputs, output_grads):
        return [output_grads[0] / (inputs[0] * _constant_like(math.log(2), inputs[0]))]


class Log10(FloatOp):
    name = "log10"
    nfunc = staticmethod(np.log10)

    def L_op(self, inputs, outputs, output_grads):
        return [output_grads[0] / (inputs[0] * _constant_like(math.log(10), inputs[0]))]


class Log1p(FloatOp):
    """``log(1 + x)``, accurate for tiny ``x``."""

    name = "log1p"
    nfunc = staticmethod(np.log1p)

    def L_op(self, inputs, outputs, output_grads):
        return [output_grads[0] / (inputs[0] + 1)]


# ----------------------------------------------------------------- powers and signs


class Sqrt(FloatOp):
    name = "sqrt"
    nfunc = staticmethod(np.sqrt)

    def L_op(self, inputs, outputs, output_grads):
        return [output_grads[0] * 0.5 / outputs[0]]


class Sqr(ScalarOp):
    """``x * x``; keeps the input dtype (bool stays bool, as in Theano)."""

    nin = 1
    name = "sqr"
    nfunc = staticmethod(np.square)
    output_dtypes = staticmethod(upcast_out)

    def impl(self, x):
        return x * x  # np.square turns bools into int8

    def L_op(self, inputs, outputs, output_grads):
        return [output_grads[0] * inputs[0] * 2]


class Inv(FloatOp):
    """``1 / x`` (float even for integers: NumPy's reciprocal would floor them)."""

    name = "inv"
    nfunc = staticmethod(np.reciprocal)

    def L_op(self, inputs, outputs, output_grads):
        return [-output_grads[0] * outputs[0] * outputs[0]]


class Abs(ScalarOp):
    """``|x|``; the modulus of a complex number is real."""

    nin = 1
    name = "abs_"
    nfunc = staticmethod(np.abs)
    output_dtypes = staticmethod(real_out)

    def L_op(self, inputs, outputs, output_grads):
        (x,) = inputs
        if x.dtype in BOOL:
            return _zero_grads(inputs)
        return [output_grads[0] * _tensor().sgn(x)]


class Sgn(ScalarOp):
    """-1, 0 or 1 with the sign of ``x``, in ``x``'s dtype."""

    nin = 1
    name = "sgn"
    nfunc = staticmethod(np.sign)
    output_dtypes = _restricted(same_out, INTEGER + FLOAT, "integer or float")

    def L_op(self, inputs, outputs, output_grads):
        return _zero_grads(inputs)


# ----------------------------------------------------------------- trigonometry


class Sin(FloatOp):
    name = "sin"
    nfunc = staticmethod(np.sin)

    def L_op(self, inputs, outputs, output_grads):
        return [output_grads[0] * _tensor().cos(inputs[0])]


class Cos(FloatOp):
    name = "cos"
    nfunc = staticmethod(np.cos)

    def L_op(self, inputs, outputs, output_grads):
        return [-output_grads[0] * _tensor().sin(inputs[0])]


class Tan(FloatOp):
    name = "tan"
    nfunc = staticmethod(np.tan)

    def L_op(self, inputs, outputs, output_grads):
        return [output_grads[0] * (outputs[0] * outputs[0] + 1)]


class ArcSin(FloatOp):
    name = "arcsin"
    nfunc = staticmethod(np.arcsin)

    def L_op(self, inputs, outputs, output_grads):
        (x,) = inputs
        return [output_grads[0] / _tensor().sqrt(1 - x * x)]


class ArcCos(FloatOp):
    name = "arccos"
    nfunc = staticmethod(np.arccos)

    def L_op(self, inputs, outputs, output_grads):
        (x,) = inputs
        return [-output_grads[0] / _tensor().sqrt(1 - x * x)]


class ArcTan(FloatOp):
    name = "arctan"
    nfunc = staticmethod(np.arctan)

    def L_op(self, inputs, outputs, output_grads):
        (x,) = inputs
        return [output_grads[0] / (x * x + 1)]


class ArcTan2(FloatOp):
    """``arctan2(y, x)``: the angle of the point (x, y), in (-pi, pi]."""

    nin = 2
    name = "arctan2"
    nfunc = staticmethod(np.arctan2)
    output_dtypes = _REAL_TO_FLOAT

    def L_op(self, inputs, outputs, output_grads):
        y, x = inputs
        (gz,) = output_grads
        radius2 = x * x + y * y
        return [gz * x / radius2, -gz * y / radius2]


class Sinh(FloatOp):
    name = "sinh"
    nfunc = staticmethod(np.sinh)

    def L_op(self, inputs, outputs, output_grads):
        return [output_grads[0] * _tensor().cosh(inputs[0])]


class Cosh(FloatOp):
    name = "cosh"
    nfunc = staticmethod(np.cosh)

    def L_op(self, inputs, outputs, output_grads):
        return [output_grads[0] * _tensor().sinh(inputs[0])]


class Tanh(FloatOp):
    name = "tanh"
    nfunc = staticmethod(np.tanh)

    def L_op(self, inputs, outputs, output_grads):
        return [output_grads[0] * (1 - outputs[0] * outputs[0])]


class ArcSinh(FloatOp):
    name = "arcsinh"
    nfunc = staticmethod(np.arcsinh)

    def L_op(self, inputs, outputs, output_grads):
        (x,) = inputs
        return [output_grads[0] / _tensor().sqrt(x * x + 1)]


class ArcCosh(FloatOp):
    name = "arccosh"
    nfunc = staticmethod(np.arccosh)

    def L_op(self, inputs, outputs, output_grads):
        (x,) = inputs
        return [output_grads[0] / _tensor().sqrt(x * x - 1)]


class ArcTanh(FloatOp):
    name = "arctanh"
    nfunc = staticmethod(np.arctanh)

    def L_op(self, inputs, outputs, output_grads):
        (x,) = inputs
        return [output_grads[0] / (1 - x * x)]


# ----------------------------------------------------------------- error function


class Erf(FloatOp):
    """The error function, ``2/sqrt(pi) * integral of exp(-t**2)`` from 0 to x.

    Computed element by element with :func:`math.erf`, so SciPy is not needed.
    """

    name = "erf"
    nfunc = staticmethod(np.frompyfunc(math.erf, 1, 1))
    output_dtypes = _REAL_TO_FLOAT

    def L_op(self, inputs, outputs, output_grads):
        (x,) = inputs
        slope = _constant_like(2 / math.sqrt(math.pi), x)
        return [output_grads[0] * slope * _tensor().exp(-x * x)]


class Erfc(FloatOp):
    """``1 - erf(x)``, accurate where erf(x) is close to 1 (computed with :func:`math.erfc`)."""

    name = "erfc"
    nfunc = staticmethod(np.frompyfunc(math.erfc, 1, 1))
    output_dtypes = _REAL_TO_FLOAT

    def L_op(self, inputs, outputs, output_grads):
        (x,) = inputs
        slope = _constant_like(-2 / math.sqrt(math.pi), x)
        return [output_grads[0] * slope * _tensor().exp(-x * x)]


# ----------------------------------------------------------------- rounding


class Floor(_PiecewiseConstant):
    name = "floor"
    nfunc = staticmethod(np.floor)


class Ceil(_PiecewiseConstant):
    name = "ceil"
    nfunc = staticmethod(np.ceil)


class Trunc(_PiecewiseConstant):
    """Round toward zero."""

    name = "trunc"
    nfunc = staticmethod(np.trunc)


class RoundHalfToEven(_PiecewiseConstant):
    """Round to nearest, ties to even (NumPy's ``round``: 0.5 -> 0, 1.5 -> 2)."""

    name = "round_half_to_even"
    nfunc = staticmethod(np.round)
    output_dtypes = _restricted(same_out, FLOAT, "float")


def _round_half_away_from_zero(x):
    # x - trunc(x) is exact, so ties are detected exactly (floor(x + 0.5) is
    # not: 0.49999999999999994 + 0.5 rounds up to 1.0).
    whole = np.trunc(x)
    return whole + np.where(np.abs(x - whole) >= 0.5, np.sign(x), 0).astype(x.dtype)


class RoundHalfAwayFromZero(_PiecewiseConstant):
    """Round to nearest, ties away from zero (school rounding: 0.5 -> 1, -2.5 -> -3)."""

    name = "round_half_away_from_zero"
    nfunc = staticmethod(_round_half_away_from_zero)
    output_dtypes = _restricted(same_out, FLOAT, "float")


# ----------------------------------------------------------------- tests and clipping


class IsNan(ScalarOp):
    nin = 1
    name = "isnan"
    nfunc = staticmethod(np.isnan)
    output_dtypes = staticmethod(bool_out)

    def L_op(self, inputs, outputs, output_grads):
        return _zero_grads(inputs)


class IsInf(ScalarOp):
    nin = 1
    name = "isinf"
    nfunc = staticmethod(np.isinf)
    output_dtypes = staticmethod(bool_out)

    def L_op(self, inputs, outputs, output_grads):
        return _zero_grads(inputs)


class Clip(ScalarOp):
    """``clip(x, min, max)``: x limited to [min, max].

    The gradient flows to ``x`` where it is inside the interval (bounds
    included, as in Theano) and to the bound that was applied elsewhere.
    """

    nin = 3
    name = "clip"
    nfunc = staticmethod(np.clip)
    output_dtypes = staticmethod(upcast_out)

    def L_op(self, inputs, outputs, output_grads):
        T = _tensor()
        x, low, high = inputs
        (gz,) = output_grads
        return [gz * T.and_(T.ge(x, low), T.le(x, high)), gz * T.lt(x, low), gz * T.gt(x, high)]


exp, exp2, expm1, log, log2, log10, log1p = Exp(), Exp2(), Expm1(), Log(), Log2(), Log10(), Log1p()
sqrt, sqr, inv, abs_, sgn = Sqrt(), Sqr(), Inv(), Abs(), Sgn()
sin, cos, tan, arcsin, arccos, arctan, arctan2 = Sin(), Cos(), Tan(), ArcSin(), ArcCos(), ArcTan(), ArcTan2()
sinh, cosh, tanh, arcsinh, arccosh, arctanh = Sinh(), Cosh(), Tanh(), ArcSinh(), ArcCosh(), ArcTanh()
erf, erfc = Erf(), Erfc()
floor, ceil, trunc = Floor(), Ceil(), Trunc()
round_half_to_even, round_half_away_from_zero = RoundHalfToEven(), RoundHalfAwayFromZero()
isnan, isinf, clip = IsNan(), IsInf(), Clip()
