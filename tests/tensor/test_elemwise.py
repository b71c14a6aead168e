"""Elementwise ops: values vs NumPy, Theano's dtypes, broadcasting, shapes, gradients.

One table (``CASES``) says, for every elementwise function of
``theanolab.tensor.math``, what NumPy computes, where its inputs may be
drawn from, which dtypes to try and whether it is differentiable; each test
walks the table.  Expected dtypes in ``THEANO_DTYPES`` were read off the
reference Theano.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import numpy as np
import pytest

import theanolab
import theanolab.tensor as T
from helpers import check_infer_shape, random_array
from theanolab.gradient import Rop, verify_grad
from theanolab.tensor.type import TensorType

ALL = ("bool", "int8", "int32", "int64", "uint8", "float32", "float64")
NO_BOOL = ALL[1:]
SIGNED = ("int8", "int32", "int64", "float32", "float64")
DISCRETE = ALL[:5]
FLOATS = ("float32", "float64")


# ----------------------------------------------------------------- input domains
# A domain draws valid inputs of any dtype: (shape, dtype, rng) -> array.


def _floats_or_ints(float_low, float_high, int_low, int_high):
    def draw(shape, dtype, rng):
        kind = np.dtype(dtype).kind
        if kind == "b":
            if int_low > 0:
                return np.ones(shape, dtype=bool)
            return rng.integers(0, 2, size=shape).astype(bool)
        if kind in "iu":
            low = max(int_low, 0) if kind == "u" else int_low
            return rng.integers(low, int_high + 1, size=shape).astype(dtype)
        return rng.uniform(float_low, float_high, size=shape).astype(dtype)

    return draw


def real(shape, dtype, rng):
    return random_array(shape, dtype, rng)


def nonzero(shape, dtype, rng):
    """Away from zero (divisors): magnitude in [0.5, 3] with a random sign."""
    magnitude = _floats_or_ints(0.5, 3, 1, 3)(shape, dtype, rng)
    if np.dtype(dtype).kind in "bu":
        return magnitude
    return np.where(rng.integers(0, 2, size=shape) == 1, magnitude, -magnitude).astype(dtype)


positive = _floats_or_ints(0.5, 3, 1, 3)
unit = _floats_or_ints(-0.9, 0.9, -1, 1)  # inside (-1, 1) for floats: arcsin, arctanh
above_one = _floats_or_ints(1.1, 3, 2, 3)  # arccosh
exponent = _floats_or_ints(-2, 2, 0, 3)  # no negative integer powers


def with_specials(shape, dtype, rng):
    """Random values with nan, inf and -inf mixed in (for isnan/isinf)."""
    values = random_array(shape, dtype, rng)
    if np.dtype(dtype).kind == "f":
        flat = values.reshape(-1)
        flat[::3] = np.resize([np.nan, np.inf, -np.inf], flat[::3].size)
    return values


# ----------------------------------------------------------------- references


def _round_half_away(x):
    return np.sign(x) * np.floor(np.abs(x) + 0.5)


_erf = np.vectorize(math.erf, otypes=["float64"])
_erfc = np.vectorize(math.erfc, otypes=["float64"])


def _fill(a, b):
    return np.broadcast_to(b, np.broadcast_shapes(np.shape(a), np.shape(b)))


@dataclass
class Case:
    """One elementwise function: ``function(*tensors)`` should equal ``reference(*arrays)``."""

    name: str
    function: Callable
    reference: Callable
    domains: tuple
    dtypes: tuple = ALL
    differentiable: bool = True

    def __str__(self):
        return self.name


CASES = [
    # arithmetic
    Case("add", T.add, np.add, (real, real)),
    Case("add3", lambda a, b, c: T.add(a, b, c), lambda a, b, c: a + b + c, (real, real, real)),
    Case("sub", T.sub, np.subtract, (real, real), NO_BOOL),
    Case("mul", T.mul, np.multiply, (real, real)),
    Case("true_div", T.true_div, np.true_divide, (real, nonzero)),
    Case("int_div", T.int_div, np.floor_divide, (real, nonzero), NO_BOOL, differentiable=False),
    Case("mod", T.mod, np.mod, (real, nonzero), NO_BOOL),
    Case("pow", T.pow, np.power, (positive, exponent), NO_BOOL),
    Case("neg", T.neg, np.negative, (real,), SIGNED),
    Case("inv", T.inv, np.reciprocal, (nonzero,)),
    Case("sqr", T.sqr, lambda x: x * x, (real,)),
    Case("sqrt", T.sqrt, np.sqrt, (positive,)),
    Case("abs_", T.abs_, np.abs, (nonzero,)),
    Case("sgn", T.sgn, np.sign, (real,), NO_BOOL, differentiable=False),
    Case("maximum", T.maximum, np.maximum, (real, real)),
    Case("minimum", T.minimum, np.minimum, (real, real)),
    Case("clip", T.clip, np.clip, (real, _floats_or_ints(-2, -1, -2, 0), _floats_or_ints(1, 2, 1, 2)), NO_BOOL),
    Case("fill", T.fill, _fill, (real, real)),
    Case("switch", T.switch, np.where, (real, real, real)),
    # comparisons and logic
    Case("lt", T.lt, np.less, (real, real), differentiable=False),
    Case("gt", T.gt, np.greater, (real, real), differentiable=False),
    Case("le", T.le, np.less_equal, (real, real), differentiable=False),
    Case("ge", T.ge, np.greater_equal, (real, real), differentiable=False),
    Case("eq", T.eq, np.equal, (real, real), differentiable=False),
    Case("neq", T.neq, np.not_equal, (real, real), differentiable=False),
    Case("and_", T.and_, np.bitwise_and, (real, real), DISCRETE, differentiable=False),
    Case("or_", T.or_, np.bitwise_or, (real, real), DISCRETE, differentiable=False),
    Case("xor", T.xor, np.bitwise_xor, (real, real), DISCRETE, differentiable=False),
    Case("invert", T.invert, np.invert, (real,), DISCRETE, differentiable=False),
    Case("isnan", T.isnan, np.isnan, (with_specials,), differentiable=False),
    Case("isinf", T.isinf, np.isinf, (with_specials,), differentiable=False),
    # exponentials and logarithms
    Case("exp", T.exp, np.exp, (real,)),
    Case("exp2", T.exp2, np.exp2, (real,)),
    Case("expm1", T.expm1, np.expm1, (real,)),
    Case("log", T.log, np.log, (positive,)),
    Case("log2", T.log2, np.log2, (positive,)),
    Case("log10", T.log10, np.log10, (positive,)),
    Case("log1p", T.log1p, np.log1p, (positive,)),
    # trigonometry
    Case("sin", T.sin, np.sin, (real,)),
    Case("cos", T.cos, np.cos, (real,)),
    Case("tan", T.tan, np.tan, (unit,)),
    Case("arcsin", T.arcsin, np.arcsin, (unit,)),
    Case("arccos", T.arccos, np.arccos, (unit,)),
    Case("arctan", T.arctan, np.arctan, (real,)),
    Case("arctan2", T.arctan2, np.arctan2, (nonzero, nonzero)),
    Case("sinh", T.sinh, np.sinh, (real,)),
    Case("cosh", T.cosh, np.cosh, (real,)),
    Case("tanh", T.tanh, np.tanh, (real,)),
    Case("arcsinh", T.arcsinh, np.arcsinh, (real,)),
    Case("arccosh", T.arccosh, np.arccosh, (above_one,)),
    Case("arctanh", T.arctanh, np.arctanh, (unit,), FLOATS),
    Case("erf", T.erf, _erf, (real,)),
    Case("erfc", T.erfc, _erfc, (real,)),
    # rounding (gradients are zero: see test_piecewise_constant_gradients_are_zero)
    Case("floor", T.floor, np.floor, (real,), differentiable=False),
    Case("ceil", T.ceil, np.ceil, (real,), differentiable=False),
    Case("trunc", T.trunc, np.trunc, (real,), differentiable=False),
    Case("round", T.round, np.round, (real,), FLOATS, differentiable=False),
    Case("round_half_away_from_zero", T.round_half_away_from_zero, _round_half_away, (real,), FLOATS,
         differentiable=False),
]

DIFFERENTIABLE = [c for c in CASES if c.differentiable]


def _rng(case, salt=""):
    return np.random.default_rng(sum(map(ord, case.name + salt)))


def _draw(case, shapes, dtype, rng):
    return [domain(shape, dtype, rng) for domain, shape in zip(case.domains, shapes)]


def _variables(values):
    return [TensorType(v.dtype, tuple(n == 1 for n in v.shape))(f"in{i}") for i, v in enumerate(values)]


def _expected(case, values, out_dtype):
    """NumPy's answer, computed in the output precision when the output is float.

    So an op that computed int8 inputs in float16 (NumPy's choice) would fail.
    """
    if np.dtype(out_dtype).kind == "f":
        values = [v.astype(out_dtype) for v in values]
    return np.asarray(case.reference(*values))


def _check(case, values):
    variables = _variables(values)
    out = case.function(*variables)
    result = theanolab.function(variables, out)(*values)
    assert result.dtype == out.dtype, f"{case}: computed {result.dtype}, declared {out.dtype}"
    expected = _expected(case, values, out.dtype)
    assert result.shape == expected.shape
    tol = 1e-6 if out.dtype == "float32" else 1e-12
    np.testing.assert_allclose(result, expected.astype(result.dtype), rtol=tol, atol=tol,
                               err_msg=f"{case} on {[v.dtype for v in values]}")
    return out


# ----------------------------------------------------------------- values and dtypes


@pytest.mark.parametrize("case", CASES, ids=str)
def test_values_match_numpy_for_every_dtype(case):
    rng = _rng(case)
    for dtype in case.dtypes:
        _check(case, _draw(case, [(3, 4)] * len(case.domains), dtype, rng))


THEANO_DTYPES = [
    ("add", ("int8", "int8"), "int8"), ("add", ("uint8", "int8"), "int16"),
    ("add", ("int32", "float32"), "float64"), ("add", ("int64", "float32"), "float64"),
    ("add", ("bool", "bool"), "bool"), ("add", ("bool", "int8"), "int8"),
    ("mul", ("int8", "float32"), "float32"), ("mul", ("bool", "bool"), "bool"),
    ("sub", ("uint8", "uint8"), "uint8"),
    ("true_div", ("int32", "int32"), "float64"), ("true_div", ("int8", "int8"), "float64"),
    ("true_div", ("bool", "bool"), "float64"), ("true_div", ("int8", "float32"), "float32"),
    ("true_div", ("int32", "float32"), "float64"),
    ("int_div", ("int8", "int8"), "int8"), ("int_div", ("float32", "int8"), "float32"),
    ("mod", ("int32", "int8"), "int32"), ("pow", ("int8", "int8"), "int8"),
    ("pow", ("float32", "int32"), "float64"), ("pow", ("bool", "bool"), "int8"),
    ("maximum", ("int8", "float32"), "float32"), ("minimum", ("uint8", "int8"), "int16"),
    ("lt", ("int8", "float64"), "bool"), ("eq", ("bool", "bool"), "bool"),
    ("and_", ("int8", "int32"), "int32"), ("or_", ("bool", "bool"), "bool"),
    ("xor", ("uint8", "int8"), "int16"), ("invert", ("bool",), "bool"), ("invert", ("uint8",), "uint8"),
    ("switch", ("bool", "int8", "float32"), "float32"), ("switch", ("int8", "int32", "int32"), "int32"),
    ("fill", ("float64", "int8"), "int8"),
    ("exp", ("int8",), "float32"), ("exp", ("int32",), "float64"), ("exp", ("uint8",), "float32"),
    ("exp", ("bool",), "float32"), ("sqrt", ("int64",), "float64"), ("log", ("float32",), "float32"),
    ("arctan2", ("int8", "int8"), "float32"), ("arctan2", ("int32", "float32"), "float64"),
    ("abs_", ("complex64",), "float32"), ("abs_", ("complex128",), "float64"), ("abs_", ("int8",), "int8"),
    ("sqr", ("bool",), "bool"), ("sqr", ("int8",), "int8"), ("sgn", ("uint8",), "uint8"),
    ("floor", ("int8",), "float32"), ("ceil", ("int32",), "float64"), ("trunc", ("float32",), "float32"),
    ("round", ("float32",), "float32"), ("isnan", ("int8",), "bool"), ("isinf", ("float32",), "bool"),
    ("clip", ("int8", "int8", "int8"), "int8"), ("clip", ("int32", "float32", "float32"), "float64"),
    ("clip", ("float32", "float64", "float64"), "float64"), ("inv", ("int8",), "float32"),
    ("erf", ("int8",), "float32"), ("erfc", ("float32",), "float32"), ("log1p", ("uint8",), "float32"),
    ("neg", ("int8",), "int8"), ("cosh", ("int32",), "float64"),
]


@pytest.mark.parametrize("name, dtypes, expected", THEANO_DTYPES)
def test_output_dtype_matches_theano(name, dtypes, expected):
    inputs = [T.vector(dtype=d) for d in dtypes]
    assert getattr(T, name)(*inputs).dtype == expected


PYTHON_NUMBER_DTYPES = [
    (T.fvector, lambda x: x + 1.5, "float32"), (T.fvector, lambda x: x + 0.1, "float64"),
    (T.bvector, lambda x: x + 2, "int8"), (T.bvector, lambda x: x + 300, "int16"),
    (T.ivector, lambda x: x * 2.5, "float64"), (T.fvector, lambda x: x * 2, "float32"),
    (T.bvector, lambda x: x / 2, "float64"), (T.bvector, lambda x: x ** 2, "int8"),
    (T.fvector, lambda x: x ** 2, "float32"), (T.bvector, lambda x: x // 2, "int8"),
    (T.bvector, lambda x: 1 / x, "float64"),
]


@pytest.mark.parametrize("constructor, build, expected", PYTHON_NUMBER_DTYPES)
def test_python_numbers_promote_like_theano(constructor, build, expected):
    assert build(constructor("x")).dtype == expected


@pytest.mark.parametrize("build, dtype, message", [
    (lambda: T.round(T.ivector("x")), "int32", "expects float inputs"),
    (lambda: T.sgn(T.vector("x", dtype="bool")), "bool", "expects integer or float inputs"),
    (lambda: T.and_(T.dvector("x"), T.dvector("y")), "float64", "needs bool or integer inputs"),
    (lambda: T.erf(T.vector("x", dtype="complex128")), "complex128", "expects real"),
])
def test_unsupported_dtypes_raise_type_error_naming_the_op(build, dtype, message):
    with pytest.raises(TypeError, match=message) as info:
        build()
    assert "Elemwise{" in str(info.value) and dtype in str(info.value)


def test_rounding_modes():
    x = T.dvector("x")
    ties = [0.5, 1.5, 2.5, -0.5, -2.5, 0.49999999999999994, -0.49999999999999994]
    f = theanolab.function([x], [T.round(x), T.round(x, "half_away_from_zero"), x.round(),
                                 T.iround(x, "half_away_from_zero")])
    to_even, away, method, integers = f(ties)
    np.testing.assert_array_equal(to_even, [0, 2, 2, -0, -2, 0, -0])
    np.testing.assert_array_equal(away, [1, 2, 3, -1, -3, 0, -0])
    np.testing.assert_array_equal(method, to_even)
    assert integers.dtype == "int64" and integers.tolist() == [1, 2, 3, -1, -3, 0, 0]
    assert str(T.round(x).owner.op) == "Elemwise{round_half_to_even,no_inplace}"
    with pytest.raises(ValueError, match="half_to_even"):
        T.round(x, "half_up")


def test_transcendental_of_integers_computes_in_float32_not_float16():
    b = T.bvector("b")
    result = theanolab.function([b], T.sqrt(b))(np.array([7], dtype="int8"))
    assert result.dtype == "float32"
    assert result[0] == np.sqrt(np.float32(7))  # float16 would give 2.646


def test_abs_of_complex_is_real():
    z = T.vector("z", dtype="complex128")
    result = theanolab.function([z], abs(z))(np.array([3 + 4j, -1j]))
    assert result.dtype == "float64" and result.tolist() == [5.0, 1.0]


def test_operator_methods_use_these_functions():
    x = T.dmatrix("x")
    assert str(abs(x).owner.op) == "Elemwise{abs_,no_inplace}"
    assert str(x.clip(0, 1).owner.op) == "Elemwise{clip,no_inplace}"
    assert str(x.copy().owner.op.scalar_op) == "identity"
    assert T.floor_div is T.int_div and T.where is T.switch and T.reciprocal is T.inv


# ----------------------------------------------------------------- broadcasting, empty, strided

BROADCAST_SHAPES = {
    "row_col": [(1, 4), (3, 1), (1, 1)],
    "scalar_matrix": [(), (3, 4), ()],
    "vector_matrix": [(4,), (3, 4), (4,)],
}


@pytest.mark.parametrize("pattern", list(BROADCAST_SHAPES))
@pytest.mark.parametrize("case", [c for c in CASES if len(c.domains) > 1], ids=str)
def test_broadcasting(case, pattern):
    dtype = case.dtypes[-1]
    shapes = BROADCAST_SHAPES[pattern][: len(case.domains)]
    values = _draw(case, shapes, dtype, _rng(case, pattern))
    out = _check(case, values)
    assert out.broadcastable == (False, False)


def test_broadcastable_pattern_of_output():
    row, col = T.drow("r"), T.dcol("c")
    assert (row + row).broadcastable == (True, False)
    assert (row + col).broadcastable == (False, False)
    assert (T.dscalar("s") + T.dvector("v")).broadcastable == (False,)
    assert T.exp(T.dscalar("s")).broadcastable == ()


@pytest.mark.parametrize("case", CASES, ids=str)
def test_empty_arrays(case):
    values = _draw(case, [(0, 3)] * len(case.domains), case.dtypes[-1], _rng(case))
    _check(case, values)


@pytest.mark.parametrize("case", CASES, ids=str)
def test_non_contiguous_inputs(case):
    """Transposed and sliced views, as a user gets from ``a.T`` or ``a[:, ::2]``."""
    rng = _rng(case, "strided")
    values = _draw(case, [(6, 6)] * len(case.domains), case.dtypes[-1], rng)
    views = [v.T[:, ::2] if i % 2 == 0 else v[::2, :].T for i, v in enumerate(values)]
    assert not any(v.flags.c_contiguous for v in views)
    _check(case, views)


@pytest.mark.parametrize("case", CASES, ids=str)
def test_infer_shape(case):
    shapes = BROADCAST_SHAPES["row_col"] if len(case.domains) > 1 else [(3, 4)]
    values = _draw(case, shapes[: len(case.domains)], case.dtypes[-1], _rng(case))
    variables = _variables(values)
    check_infer_shape(case.function(*variables), variables, values)


def test_shape_mismatch_at_run_time_names_node_and_user_line():
    x, y = T.dvector("x"), T.dvector("y")
    z = x + y  # the line the error must point at
    f = theanolab.function([x, y], z)
    with pytest.raises(ValueError) as info:
        f([1.0, 2.0], [1.0, 2.0, 3.0])
    message = str(info.value)
    assert "Elemwise{add,no_inplace}" in message
    assert "test_elemwise.py" in message and "z = x + y" in message


# ----------------------------------------------------------------- gradients


@pytest.mark.parametrize("case", DIFFERENTIABLE, ids=str)
def test_verify_grad_float64(case):
    values = _draw(case, [(2, 3)] * len(case.domains), "float64", _rng(case, "grad"))
    verify_grad(case.function, values, n_tests=1)


@pytest.mark.parametrize("case", [c for c in DIFFERENTIABLE if c.name in ("tanh", "mul", "erf")], ids=str)
def test_verify_grad_float32(case):
    values = _draw(case, [(2, 3)] * len(case.domains), "float32", _rng(case, "grad32"))
    verify_grad(case.function, values, n_tests=1)


def test_verify_grad_through_broadcasting():
    """The gradient of a broadcast input is summed over the broadcast dimensions."""
    rng = np.random.default_rng(3)
    verify_grad(lambda m, v: T.arctan2(m, v.dimshuffle("x", 0)), [rng.uniform(1, 2, (3, 4)),
                                                                  rng.uniform(1, 2, (4,))], n_tests=1)


@pytest.mark.parametrize("function", [T.floor, T.ceil, T.trunc, T.round, T.round_half_away_from_zero,
                                      T.sgn, T.isnan, T.isinf], ids=lambda f: f.__name__)
def test_piecewise_constant_gradients_are_zero(function):
    """As in Theano: zeros of x's dtype, not an error and not a disconnected input."""
    x = T.fvector("x")
    g = T.grad(function(x).sum(), x)
    assert g.dtype == "float32"
    assert theanolab.function([x], g)(np.array([1.5, -2.25], "float32")).tolist() == [0.0, 0.0]


def test_abs_gradient_is_sign():
    x = T.dvector("x")
    g = theanolab.function([x], T.grad(abs(x).sum(), x))([-2.0, 3.0])
    assert g.tolist() == [-1.0, 1.0]


def test_clip_gradient_flows_inside_bounds_included():
    x, low, high = T.dvector("x"), T.dscalar("low"), T.dscalar("high")
    cost = T.clip(x, low, high).sum()
    f = theanolab.function([x, low, high], T.grad(cost, [x, low, high]))
    gx, glow, ghigh = f([-2.0, 0.0, 0.5, 1.0, 3.0, 4.0], 0.0, 1.0)
    assert gx.tolist() == [0.0, 1.0, 1.0, 1.0, 0.0, 0.0]
    assert float(glow) == 1.0 and float(ghigh) == 2.0


def test_rop_of_elemwise():
    x, y = T.dvector("x"), T.dvector("y")
    vx, vy = T.dvector("vx"), T.dvector("vy")
    rng = np.random.default_rng(7)
    xs, ys, vxs, vys = (rng.uniform(0.5, 2, 4) for _ in range(4))

    jvp_exp = theanolab.function([x, vx], Rop(T.exp(x), x, vx))(xs, vxs)
    np.testing.assert_allclose(jvp_exp, np.exp(xs) * vxs)

    jvp_mul = theanolab.function([x, y, vx, vy], Rop(x * y, [x, y], [vx, vy]))(xs, ys, vxs, vys)
    np.testing.assert_allclose(jvp_mul, vxs * ys + xs * vys)

    # arctan2 against central finite differences along (vx, vy).
    jvp = theanolab.function([x, y, vx, vy], Rop(T.arctan2(x, y), [x, y], [vx, vy]))(xs, ys, vxs, vys)
    eps = 1e-6
    numeric = (np.arctan2(xs + eps * vxs, ys + eps * vys) - np.arctan2(xs - eps * vxs, ys - eps * vys)) / (2 * eps)
    np.testing.assert_allclose(jvp, numeric, rtol=1e-6)
