"""The C expression of every scalar op: one table, shared by the C kernels (and a later CUDA renderer).

:func:`c_expression` is a ``functools.singledispatch`` table keyed by scalar
op class.  An entry renders the op's value from its arguments, each a
:class:`Value` (a side-effect-free C expression of exactly its dtype's C
type), and returns a Value, or None where C cannot give the reference's
value exactly (float16, complex, a dtype NumPy refuses): the node then runs
``perform``.  :func:`c_statements` turns an op into C statements assigning
its outputs; a :class:`~theanolab.scalar.composite.Composite` becomes one
local variable per inner node, each computed in that node's own dtype, which
is how the reference evaluates it, so fusing never changes a value.

Every expression means what the reference (``ScalarOp.impl`` on NumPy arrays)
computes, not what C would by default:

- each op computes in the dtype NumPy's ufunc picks for its inputs (int8 +
  int8 wraps in int8, int64 with uint64 goes through float64, ``/`` of
  integers is float64), then converts to the output dtype as ``astype`` does
  (to bool: nonzero; float to int: truncation);
- integer ``//`` and ``%`` follow Python's signs and give 0 when dividing by
  zero, float ones NumPy's fmod-based fix-up (helpers in ``kernels/c/scalar.h``);
- ``maximum``/``minimum``/``clip`` propagate NaN as NumPy does, comparisons of
  signed with unsigned integers are exact;
- an integer ``pow`` whose exponents include a negative one is computed in
  float64 for every element, as ``Pow.impl`` does: the kernel scans the
  exponent first (:attr:`Value.any_negative`).

Expressions use C99 ``<math.h>`` and the helpers of ``scalar.h`` only.

>>> from theanolab.scalar import basic as sb
>>> c_expression(sb.add, [Value("a", "int8"), Value("b", "int8")], "int8").expr
'((int8_t)(a + b))'
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Callable
from typing import NamedTuple

import numpy as np

from theanolab.backends.c.kernels.basic import C_TYPES
from theanolab.graph.basic import io_toposort
from theanolab.scalar import basic as sb
from theanolab.scalar import math as sm
from theanolab.scalar.composite import Composite, _natural_dtype
from theanolab.tensor.nnet import ScalarSigmoid, ScalarSoftplus

__all__ = ["HEADERS", "Value", "c_expression", "c_statements", "cast", "literal", "name_source"]

#: the files of ``kernels/c`` the expressions need.
HEADERS = ("scalar.h",)


class Value(NamedTuple):
    """A C expression of ``dtype``'s C type (exactly, so it can be used anywhere), free of side effects.

    ``any_negative``, where known, returns a C expression that is nonzero
    when some element of the whole operand is negative (or None if that
    cannot be known): only ``pow`` of integers asks.
    """

    expr: str
    dtype: str
    any_negative: Callable[[], str | None] | None = None


def _kind(dtype):
    return np.dtype(dtype).kind


def _converted(expr, dtype):
    """``expr`` converted to ``dtype`` as NumPy's astype converts (a bool is any nonzero, NaN included)."""
    if dtype == "bool":
        return f"((uint8_t)(({expr}) != 0))"
    return f"(({C_TYPES[dtype]})({expr}))"


def _value(expr, dtype):
    """A compound expression computed in C's types (int8 + int8 is an int), wrapped to ``dtype``."""
    return Value(_converted(expr, dtype), dtype)


def input_values(dtypes, flag_expression):
    """The Values ``x0, x1, ...`` of a kernel's inputs, and the list of inputs whose "some element is
    negative" flag the expressions asked for (filled while rendering; ``flag_expression(k)`` is the
    kernel's C expression of input k's flag)."""
    flagged = []

    def flag_of(k):
        def any_negative():
            if k not in flagged:
                flagged.append(k)
            return flag_expression(k)
        return any_negative if _kind(dtypes[k]) in "if" else None

    return [Value(f"x{k}", dtype, flag_of(k)) for k, dtype in enumerate(dtypes)], flagged


def cast(value, dtype):
    """``value`` as ``dtype``.

    A float becomes an 8 or 16-bit integer through int32, which is what NumPy's
    conversion does on x86 (-2.98 -> uint8 254, 300.5 -> int8 44, NaN -> 0).
    Converted straight, C leaves a value outside the narrow type undefined, and
    GCC folds ``(double)(uint8_t)x`` into the truncated ``x`` inside fused loops
    (found by the differential fuzzer, tests/fuzz/test_regressions.py).
    """
    if value.dtype == dtype:
        return value
    if _kind(value.dtype) == "f" and _kind(dtype) in "iu" and np.dtype(dtype).itemsize < 4:
        return _value(f"(int32_t)({value.expr})", dtype)
    return _value(value.expr, dtype)


def literal(data, dtype):
    """The C literal of the number ``data`` in ``dtype``, exact (floats in hexadecimal)."""
    number = np.asarray(data, dtype=dtype).item()
    ctype = C_TYPES[dtype]
    kind = _kind(dtype)
    if kind == "b":
        return f"((uint8_t){int(number)})"
    if kind == "i":
        bits = 8 * np.dtype(dtype).itemsize
        return f"(({ctype})INT{bits}_MIN)" if number == np.iinfo(dtype).min else f"(({ctype}){number}LL)"
    if kind == "u":
        return f"(({ctype}){number}ULL)"
    if np.isnan(number):
        return f"(({ctype})NAN)"
    if np.isinf(number):
        return f"(({ctype})({'-' if number < 0 else ''}INFINITY))"
    return f"(({ctype})({float(number).hex()}))"


def _constant(var):
    data = np.asarray(var.data)
    negative = "1" if np.any(data < 0) else "0"
    return Value(literal(data, var.type.dtype), var.type.dtype, lambda: negative)


def _math(name, dtype):
    """The C99 function ``name`` for ``dtype`` (``expf`` for float32)."""
    return name + "f" if dtype == "float32" else name


def name_source(prefix="t"):
    """A function giving fresh C identifiers ``t0, t1, ...``."""
    counter = itertools.count()
    return lambda: f"{prefix}{next(counter)}"


# ====================================================================== the table


@functools.singledispatch
def c_expression(op, args, out_dtype):
    """The Value of ``op`` applied to ``args`` (Values), to be converted to ``out_dtype``; None: no C."""


def _natural(ufunc, args):
    """The dtype NumPy's ``ufunc`` computes in for ``args``, or None where C cannot follow."""
    dtype = _natural_dtype(ufunc, tuple(a.dtype for a in args))
    return dtype if dtype in C_TYPES else None


def _ufunc_entry(ufunc, render):
    """An entry computing ``render(*args cast to the natural dtype)`` in that dtype."""

    def entry(op, args, out_dtype):
        dtype = _natural(ufunc, args)
        if dtype is None:
            return None
        return _value(render(dtype, *[cast(a, dtype).expr for a in args]), dtype)

    return entry


def _fold(ufunc, symbol):
    """Add and Mul: ``((v0 op v1) op v2) ...``, each partial result in its own natural dtype."""

    def entry(op, args, out_dtype):
        total = args[0]
        for arg in args[1:]:
            dtype = _natural(ufunc, (total, arg))
            if dtype is None:
                return None
            total = _value(f"{cast(total, dtype).expr} {symbol} {cast(arg, dtype).expr}", dtype)
        return total

    return entry


def _larger(a, b, dtype):
    """NumPy's maximum: ``a`` if it is greater or NaN, else ``b`` (so a NaN anywhere wins)."""
    return f"(({a} > {b}{f' || isnan({a})' if _kind(dtype) == 'f' else ''}) ? {a} : {b})"


def _smaller(a, b, dtype):
    return f"(({a} < {b}{f' || isnan({a})' if _kind(dtype) == 'f' else ''}) ? {a} : {b})"


def _float_sign(x, dtype):
    """NumPy's sign of a float: 1, -1, 0 for both zeros, NaN for NaN."""
    one, zero = literal(1, dtype), literal(0, dtype)
    return f"({x} > {zero} ? {one} : ({x} < {zero} ? -{one} : ({x} == {zero} ? {zero} : {x})))"


def _abs(dtype, x):
    kind = _kind(dtype)
    if kind == "f":
        return f"{_math('fabs', dtype)}({x})"
    return f"({x} < 0 ? -{x} : {x})" if kind == "i" else x


def _sign(dtype, x):
    kind = _kind(dtype)
    if kind == "f":
        return _float_sign(x, dtype)
    return f"(({x} > 0) - ({x} < 0))" if kind == "i" else f"({x} > 0)"


def _division(helper):
    """Floor division and remainder: the helpers of scalar.h, one per dtype."""
    return lambda dtype, a, b: f"{helper}_{dtype}({a}, {b})"


for _class, _entry in {
    sb.Add: _fold(np.add, "+"),
    sb.Mul: _fold(np.multiply, "*"),
    sb.Sub: _ufunc_entry(np.subtract, lambda d, a, b: f"{a} - {b}"),
    sb.TrueDiv: _ufunc_entry(np.true_divide, lambda d, a, b: f"{a} / {b}"),
    sb.IntDiv: _ufunc_entry(np.floor_divide, _division("tl_floor_divide")),
    sb.Mod: _ufunc_entry(np.mod, _division("tl_mod")),
    sb.Neg: _ufunc_entry(np.negative, lambda d, a: f"-{a}"),
    sb.Maximum: _ufunc_entry(np.maximum, lambda d, a, b: _larger(a, b, d)),
    sb.Minimum: _ufunc_entry(np.minimum, lambda d, a, b: _smaller(a, b, d)),
    sm.Abs: _ufunc_entry(np.abs, _abs),
    sm.Sgn: _ufunc_entry(np.sign, _sign),
    sb.AND: _ufunc_entry(np.bitwise_and, lambda d, a, b: f"{a} & {b}"),
    sb.OR: _ufunc_entry(np.bitwise_or, lambda d, a, b: f"{a} | {b}"),
    sb.XOR: _ufunc_entry(np.bitwise_xor, lambda d, a, b: f"{a} ^ {b}"),
    sb.Invert: _ufunc_entry(np.invert, lambda d, a: f"!{a}" if d == "bool" else f"~{a}"),
}.items():
    c_expression.register(_class)(_entry)


@c_expression.register(sm.Sqr)
def _sqr(op, args, out_dtype):
    return _fold(np.multiply, "*")(op, [args[0], args[0]], out_dtype)  # Sqr.impl is x * x


@c_expression.register(sb.Second)
def _second(op, args, out_dtype):
    return args[1]


@c_expression.register(sb.Identity)
def _identity(op, args, out_dtype):
    return args[0]


@c_expression.register(sb.Cast)
def _cast(op, args, out_dtype):
    return cast(args[0], op.dtype)


@c_expression.register(sb.Switch)
def _switch(op, args, out_dtype):
    cond, a, b = args  # np.where: any nonzero condition (NaN too) picks a
    return _value(f"{cond.expr} ? {cast(a, out_dtype).expr} : {cast(b, out_dtype).expr}", out_dtype)


@c_expression.register(sm.Clip)
def _clip(op, args, out_dtype):
    x, low, high = (cast(a, out_dtype).expr for a in args)  # NumPy: min(max(x, low), high)
    return _value(_smaller(_larger(x, low, out_dtype), high, out_dtype), out_dtype)


# ---------------------------------------------------------------------- comparisons

#: for ``a OP b`` with one side a negative signed integer and the other a uint64: the answer
#: when the negative side is a (then a < b), and when it is b.
_NEGATIVE_SIDE = {"<": ("1", "0"), "<=": ("1", "0"), ">": ("0", "1"), ">=": ("0", "1"),
                  "==": ("0", "0"), "!=": ("1", "1")}


def _comparison(symbol):
    """Floats compare in the promoted float dtype (as NumPy); integers exactly, whatever their signs."""

    def entry(op, args, out_dtype):
        a, b = args
        kinds = {_kind(a.dtype), _kind(b.dtype)}
        if "f" in kinds:
            dtype = sb.upcast(a.dtype, b.dtype)
            return _value(f"{cast(a, dtype).expr} {symbol} {cast(b, dtype).expr}", "bool")
        if kinds == {"i", "u"} and "uint64" in (a.dtype, b.dtype):
            if_a, if_b = _NEGATIVE_SIDE[symbol]
            signed, answer = (a, if_a) if _kind(a.dtype) == "i" else (b, if_b)
            return _value(f"{signed.expr} < 0 ? {answer} : ((uint64_t){a.expr} {symbol} (uint64_t){b.expr})",
                          "bool")
        common = "uint64" if kinds <= {"u", "b"} else "int64"  # int64 holds every narrower unsigned
        return _value(f"{cast(a, common).expr} {symbol} {cast(b, common).expr}", "bool")

    return entry


for _class, _symbol in {sb.LT: "<", sb.GT: ">", sb.LE: "<=", sb.GE: ">=", sb.EQ: "==", sb.NEQ: "!="}.items():
    c_expression.register(_class)(_comparison(_symbol))


# ---------------------------------------------------------------------- powers


@c_expression.register(sb.Pow)
def _pow(op, args, out_dtype):
    x, y = args
    dtype = _natural(np.power, args)
    if dtype is None:
        return None
    if _kind(dtype) == "f":
        usual = _value(f"{_math('pow', dtype)}({cast(x, dtype).expr}, {cast(y, dtype).expr})", dtype)
    else:
        usual = _value(f"tl_ipow((uint64_t){cast(x, dtype).expr}, (uint64_t){cast(y, dtype).expr})", dtype)
    if _kind(y.dtype) not in "if":
        return usual  # no negative exponent possible
    if x.dtype == "bool" and _kind(dtype) in "iu":
        return None  # NumPy refuses negative integer powers of bools: let perform say so
    if _kind(x.dtype) not in "iu" or dtype == "float64":
        return usual
    # Pow.impl: an integer base with ANY negative exponent goes through float64 for all elements.
    flag = y.any_negative() if y.any_negative is not None else None
    if flag is None:
        return None
    through_float = _value(f"pow({cast(x, 'float64').expr}, {cast(y, 'float64').expr})", "float64")
    return _value(f"{flag} ? {cast(through_float, out_dtype).expr} : {cast(usual, out_dtype).expr}", out_dtype)


# ---------------------------------------------------------------------- float functions

#: FloatOps that are one C99 function of their inputs converted to the output dtype.
_FUNCTIONS = {
    sm.Exp: "exp", sm.Exp2: "exp2", sm.Expm1: "expm1", sm.Log: "log", sm.Log2: "log2", sm.Log10: "log10",
    sm.Log1p: "log1p", sm.Sqrt: "sqrt", sm.Sin: "sin", sm.Cos: "cos", sm.Tan: "tan", sm.ArcSin: "asin",
    sm.ArcCos: "acos", sm.ArcTan: "atan", sm.ArcTan2: "atan2", sm.Sinh: "sinh", sm.Cosh: "cosh",
    sm.Tanh: "tanh", sm.ArcSinh: "asinh", sm.ArcCosh: "acosh", sm.ArcTanh: "atanh", sm.Floor: "floor",
    sm.Ceil: "ceil", sm.Trunc: "trunc", sm.RoundHalfToEven: "nearbyint",
}


def _float_entry(render):
    """FloatOp.impl converts the inputs to the (float) output dtype, then computes there."""

    def entry(op, args, out_dtype):
        if _kind(out_dtype) != "f":
            return None
        return render(op, out_dtype, *[cast(a, out_dtype).expr for a in args])

    return entry


def _function(name):
    return _float_entry(lambda op, dtype, *args: _value(f"{_math(name, dtype)}({', '.join(args)})", dtype))


for _class, _name in _FUNCTIONS.items():
    c_expression.register(_class)(_function(_name))


@c_expression.register(sm.Inv)
@_float_entry
def _inv(op, dtype, x):
    return _value(f"{literal(1, dtype)} / {x}", dtype)


@c_expression.register(sm.Erf)
@c_expression.register(sm.Erfc)
@_float_entry
def _erf(op, dtype, x):
    # Python's math.erf on each element: double precision, then rounded to the output dtype.
    name = "erf" if isinstance(op, sm.Erf) else "erfc"
    return _value(f"{name}((double){x})", "float64")


@c_expression.register(sm.RoundHalfAwayFromZero)
@_float_entry
def _round_half_away(op, dtype, x):
    # The reference's formula: trunc(x), plus the sign of x where the dropped part is at least 1/2.
    whole = f"{_math('trunc', dtype)}({x})"
    one, zero, half = literal(1, dtype), literal(0, dtype), literal(0.5, dtype)
    step = f"({_math('fabs', dtype)}({x} - {whole}) >= {half} ? ({x} > {zero} ? {one} : -{one}) : {zero})"
    return _value(f"{whole} + {step}", dtype)


@c_expression.register(ScalarSigmoid)
@_float_entry
def _sigmoid(op, dtype, x):
    # e = exp(-|x|) never overflows; x >= 0 ? 1 / (1 + e) : e / (1 + e), as nnet's impl.
    e = f"{_math('exp', dtype)}(-{_math('fabs', dtype)}({x}))"
    one, zero = literal(1, dtype), literal(0, dtype)
    return _value(f"{x} >= {zero} ? {one} / ({one} + {e}) : {e} / ({one} + {e})", dtype)


@c_expression.register(ScalarSoftplus)
@_float_entry
def _softplus(op, dtype, x):
    # maximum(x, 0) + log1p(exp(-|x|)), as nnet's impl.
    e = f"{_math('exp', dtype)}(-{_math('fabs', dtype)}({x}))"
    return _value(f"{_larger(x, literal(0, dtype), dtype)} + {_math('log1p', dtype)}({e})", dtype)


@c_expression.register(sm.IsNan)
@c_expression.register(sm.IsInf)
def _isnan(op, args, out_dtype):
    (x,) = args
    if _kind(x.dtype) != "f":
        return Value(literal(False, "bool"), "bool")  # integers are never NaN or infinite
    return _value(f"{'isnan' if isinstance(op, sm.IsNan) else 'isinf'}({x.expr})", "bool")


# ====================================================================== statements


def _has_entry(op):
    """True if the table's entry for ``op``'s class means what ``op`` computes: a subclass that
    redefines ``impl`` or ``nfunc`` computes something else, and gets no C."""
    cls = next(c for c in type(op).__mro__ if c in c_expression.registry)
    return cls is not object and all(getattr(cls, attribute, None) is getattr(type(op), attribute, None)
                                     for attribute in ("impl", "nfunc"))


def c_statements(op, args, outputs, fresh):
    """C statements assigning ``op``'s outputs, or None if C cannot compute them exactly.

    ``args`` are Values; ``outputs`` are Values naming declared locals (the
    statements assign them); ``fresh()`` gives new local names.
    """
    if any(v.dtype not in C_TYPES for v in (*args, *outputs)):
        return None
    if type(op) is Composite:
        return _composite_statements(op, args, outputs, fresh)
    if len(outputs) != 1 or not _has_entry(op):
        return None
    value = c_expression(op, list(args), outputs[0].dtype)
    if value is None:
        return None
    return [f"{outputs[0].expr} = {cast(value, outputs[0].dtype).expr};"]


def _composite_statements(op, args, outputs, fresh):
    """One local per inner node, in the inner graph's order, each in its node's dtype."""
    nodes = io_toposort(op.inner_inputs, op.inner_outputs)
    variables = {var for node in nodes for var in (*node.inputs, *node.outputs)} | set(op.inner_outputs)
    if any(var.type.dtype not in C_TYPES for var in variables):
        return None
    known = dict(zip(op.inner_inputs, args))

    def value_of(var):
        return known[var] if var in known else _constant(var)

    lines = []
    for node in nodes:
        results = [Value(fresh(), var.type.dtype) for var in node.outputs]
        body = c_statements(node.op, [value_of(v) for v in node.inputs], results, fresh)
        if body is None:
            return None
        lines += [f"{C_TYPES[r.dtype]} {r.expr};" for r in results] + body
        known.update(zip(node.outputs, results))
    for target, var in zip(outputs, op.inner_outputs):
        lines.append(f"{target.expr} = {cast(value_of(var), target.dtype).expr};")
    return lines
