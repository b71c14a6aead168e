"""Tests of Theano's array functions: addbroadcast and friends, squeeze, transpose, swapaxes,
power, isclose/allclose, cumsum/cumprod, sort/argsort, diag/diagonal, tile, repeat, roll,
tri/tril/triu, ptp, fill_diagonal, and the matching tensor methods.

Values are compared with NumPy on several dtypes, with broadcastable inputs and empty
arrays; shapes with ``check_infer_shape``; gradients with ``verify_grad``; R_op with
finite differences.  Printed op names and types are those of Theano 1.0.
"""

import re

import numpy as np
import pytest
from helpers import check_infer_shape, random_array

import theanolab
import theanolab.tensor as T
from theanolab.gradient import Rop, grad, verify_grad
from theanolab.tensor import extra_ops
from theanolab.tensor.diagonals import AllocDiag, ExtractDiag, FillDiagonal
from theanolab.tensor.extra_ops import CumOp, RepeatOp
from theanolab.tensor.rebroadcast import Rebroadcast
from theanolab.tensor.sort import ArgSortOp, SortOp


def var(dtype, spec, name=None):
    """A variable for an input spec: a shape, or ``(shape, broadcastable)``."""
    shape, pattern = spec if spec and isinstance(spec[0], tuple) else (spec, (False,) * len(spec))
    return T.TensorType(dtype, pattern)(name)


def shape_of(spec):
    return spec[0] if spec and isinstance(spec[0], tuple) else spec


def run(inputs, outputs, *values):
    return theanolab.function(inputs, outputs, on_unused_input="ignore")(*values)


def distinct(shape, dtype, seed=0):
    """Values without ties (so sort's gradient is defined), in ``dtype``."""
    rng = np.random.default_rng(seed)
    size = int(np.prod(shape))
    return (rng.permutation(size) - size // 2).reshape(shape).astype(dtype)


def with_diagonal(a, value):
    a = a.copy()
    np.fill_diagonal(a, value)
    return a


ROW = ((1, 4), (True, False))
COL3 = ((2, 1, 3), (False, True, False))
EMPTY = (0, 3)
MATRICES = [(3, 4), (4, 2), ROW, EMPTY, (1, 1)]
TENSORS = MATRICES + [(2, 3, 4), COL3, (5,), (0,)]
FEW_MATRICES = [(3, 4), ROW, EMPTY]
FEW_TENSORS = FEW_MATRICES + [COL3, (5,)]
FLOATS_AND_INTS = ("float64", "float32", "int8", "uint8", "int64")
ALL = FLOATS_AND_INTS + ("bool",)
# Compositions of existing ops (whose kernels their own tests cover on every dtype) run on
# fewer dtypes: each new dtype and rank is a C kernel to build in the C pass.
COMPOSED = ("float64", "int8", "bool")
LAYOUT = ("float64", "int8")  # moving elements around does not depend on what they are
PTP_DTYPES = ("float32", "int8", "uint8")  # min is max of -x: unsigned values must not wrap

# (case, function of the symbolic inputs, NumPy reference, input specs per call, dtypes)
VALUE_CASES = [
    ("cumsum", lambda x: T.cumsum(x), lambda a: np.cumsum(a, dtype=a.dtype), TENSORS + [()], ALL),
    ("cumsum axis=0", lambda x: T.cumsum(x, 0), lambda a: np.cumsum(a, 0, dtype=a.dtype), TENSORS, ALL),
    ("cumsum axis=-1", lambda x: x.cumsum(-1), lambda a: np.cumsum(a, -1, dtype=a.dtype), TENSORS, FLOATS_AND_INTS),
    ("cumprod", lambda x: T.cumprod(x), lambda a: np.cumprod(a, dtype=a.dtype), TENSORS, ALL),
    ("cumprod axis=1", lambda x: x.cumprod(1), lambda a: np.cumprod(a, 1, dtype=a.dtype), MATRICES, FLOATS_AND_INTS),
    ("sort", lambda x: T.sort(x), lambda a: np.sort(a), TENSORS, ALL),
    ("sort axis=0", lambda x: x.sort(0), lambda a: np.sort(a, 0), TENSORS, FLOATS_AND_INTS),
    ("sort axis=None", lambda x: T.sort(x, None), lambda a: np.sort(a, None), TENSORS + [()], FLOATS_AND_INTS),
    ("sort mergesort", lambda x: T.sort(x, kind="mergesort"), lambda a: np.sort(a, kind="mergesort"), MATRICES,
     ("float64",)),
    ("argsort", lambda x: T.argsort(x), lambda a: np.argsort(a), TENSORS, ALL),
    ("argsort axis=0 stable", lambda x: x.argsort(0, kind="stable"), lambda a: np.argsort(a, 0, kind="stable"),
     TENSORS, FLOATS_AND_INTS),
    ("argsort axis=None", lambda x: T.argsort(x, None), lambda a: np.argsort(a, None), MATRICES, ("float64",)),
    ("diag of a vector", lambda x: T.diag(x), np.diag, [(4,), (0,), ((1,), (True,))], ALL),
    ("diag of a vector k=2", lambda x: T.diag(x, 2), lambda a: np.diag(a, 2), [(3,), (0,)], FLOATS_AND_INTS),
    ("diag of a vector k=-1", lambda x: T.diag(x, -1), lambda a: np.diag(a, -1), [(3,)], ("float32",)),
    ("diag of a matrix", lambda x: T.diag(x), np.diag, MATRICES, ALL),
    ("diag of a matrix k=1", lambda x: T.diag(x, 1), lambda a: np.diag(a, 1), MATRICES, FLOATS_AND_INTS),
    ("diag of a matrix k=-2", lambda x: T.diag(x, -2), lambda a: np.diag(a, -2), MATRICES, ("float64",)),
    ("diagonal of a tensor3", lambda x: T.diagonal(x, 1, 0, 2), lambda a: np.diagonal(a, 1, 0, 2),
     [(2, 3, 4), (3, 2, 2), COL3, (0, 2, 2)], FLOATS_AND_INTS),
    ("diagonal axes 2, 1", lambda x: x.diagonal(-1, 2, 1), lambda a: np.diagonal(a, -1, 2, 1),
     [(2, 3, 4)], ("float64",)),
    ("trace", lambda x: x.trace(), np.trace, [(3, 4), EMPTY], ("float64", "int64")),
    ("tile (2, 3)", lambda x: T.tile(x, (2, 3)), lambda a: np.tile(a, (2, 3)), FEW_MATRICES, COMPOSED),
    ("tile fewer reps", lambda x: T.tile(x, (3,)), lambda a: np.tile(a, (3,)), [(3, 4), COL3, (5,)], COMPOSED),
    ("tile more reps", lambda x: T.tile(x, (2, 1, 2)), lambda a: np.tile(a, (2, 1, 2)), [(4,), ROW, EMPTY],
     COMPOSED),
    ("tile zero reps", lambda x: T.tile(x, (0, 2)), lambda a: np.tile(a, (0, 2)), [(2, 3)], ("float64",)),
    ("repeat a count, axis=0", lambda x: T.repeat(x, 2, axis=0), lambda a: np.repeat(a, 2, 0), [(3, 4), ROW, (5,)],
     COMPOSED),
    ("repeat a count, axis=-1", lambda x: x.repeat(3, axis=-1), lambda a: np.repeat(a, 3, -1), [COL3, EMPTY],
     COMPOSED),
    ("repeat a count, flat", lambda x: T.repeat(x, 2), lambda a: np.repeat(a, 2), [(3, 4), COL3, ()], COMPOSED),
    ("repeat zero times", lambda x: T.repeat(x, 0, 1), lambda a: np.repeat(a, 0, 1), [(2, 3)], ("int8",)),
    ("repeat counts, axis=1", lambda x: T.repeat(x, [2, 0, 1, 3], axis=1),
     lambda a: np.repeat(a, [2, 0, 1, 3], 1), [(3, 4), (0, 4), ROW], ALL),
    ("repeat one count in a vector", lambda x: T.repeat(x, [2], axis=0), lambda a: np.repeat(a, [2], 0),
     MATRICES, ("float64",)),
    ("repeat counts, flat", lambda x: T.repeat(x, np.arange(6) % 3), lambda a: np.repeat(a, np.arange(6) % 3),
     [(2, 3), (3, 2)], FLOATS_AND_INTS),
    ("roll", lambda x: T.roll(x, 1, 0), lambda a: np.roll(a, 1, 0), FEW_TENSORS, LAYOUT),
    ("roll back, past the length", lambda x: T.roll(x, -7, -1), lambda a: np.roll(a, -7, -1), FEW_TENSORS,
     LAYOUT),
    ("roll flat", lambda x: T.roll(x, 5), lambda a: np.roll(a, 5), FEW_TENSORS, LAYOUT),
    ("tril", lambda x: T.tril(x), np.tril, FEW_MATRICES + [COL3], COMPOSED),
    ("tril k=-1", lambda x: T.tril(x, -1), lambda a: np.tril(a, -1), FEW_MATRICES, COMPOSED),
    ("triu", lambda x: T.triu(x), np.triu, FEW_MATRICES + [COL3], COMPOSED),
    ("triu k=2", lambda x: T.triu(x, 2), lambda a: np.triu(a, 2), FEW_MATRICES, COMPOSED),
    ("ptp", lambda x: T.ptp(x), np.ptp, [(3, 4), (2, 3, 4)], PTP_DTYPES),
    ("ptp axis=1", lambda x: x.ptp(1), lambda a: np.ptp(a, 1), [(3, 4), (0, 3)], PTP_DTYPES),
    ("fill_diagonal", lambda x: T.fill_diagonal(x, 5), lambda a: with_diagonal(a, 5), MATRICES, FLOATS_AND_INTS),
    ("fill_diagonal tensor3", lambda x: T.fill_diagonal(x, 1), lambda a: with_diagonal(a, 1),
     [(3, 3, 3), (0, 0, 0)], ("float64", "bool")),
    # Every length-1 dimension of these inputs is broadcastable, so NumPy's squeeze is the reference.
    ("squeeze", lambda x: T.squeeze(x), np.squeeze, [ROW, COL3, (2, 3), ((1, 1), (True, True))], LAYOUT),
    ("transpose", lambda x: T.transpose(x), np.transpose, FEW_TENSORS, LAYOUT),
    ("transpose axes", lambda x: T.transpose(x, (1, 2, 0)), lambda a: np.transpose(a, (1, 2, 0)),
     [(2, 3, 4), COL3], LAYOUT),
    ("swapaxes", lambda x: T.swapaxes(x, 0, -1), lambda a: np.swapaxes(a, 0, -1), FEW_TENSORS, LAYOUT),
    ("ravel", lambda x: x.ravel(), np.ravel, FEW_TENSORS, LAYOUT),
    ("addbroadcast", lambda x: T.addbroadcast(x, 0) + x, lambda a: a + a, [(1, 4), (1, 0)], LAYOUT),
    ("unbroadcast", lambda x: T.unbroadcast(x, 0), lambda a: a, [ROW], LAYOUT),
    ("patternbroadcast", lambda x: T.patternbroadcast(x, (False, True, False)), lambda a: a, [(2, 1, 3)],
     ("float64",)),
]


def _value_params():
    for case, build, ref, specs, dtypes in VALUE_CASES:
        for spec in specs:
            for dtype in dtypes:
                yield pytest.param(build, ref, spec, dtype, id=f"{case}-{spec}-{dtype}")


@pytest.mark.parametrize("build, ref, spec, dtype", list(_value_params()))
def test_values_match_numpy(build, ref, spec, dtype):
    x = var(dtype, spec, "x")
    value = random_array(shape_of(spec), dtype)
    out = build(x)
    result = run([x], out, value)
    expected = np.asarray(ref(value))
    assert result.shape == expected.shape
    np.testing.assert_allclose(result, expected, rtol=1e-6 if dtype == "float32" else 1e-12)
    assert result.dtype == expected.dtype, f"{out.owner.op} gave {result.dtype}, NumPy {expected.dtype}"
    assert out.dtype == result.dtype


def _shape_params():
    for case, build, _, specs, _ in VALUE_CASES:
        for spec in specs:
            yield pytest.param(build, spec, id=f"{case}-{spec}")


@pytest.mark.parametrize("build, spec", list(_shape_params()))
def test_infer_shape(build, spec):
    x = var("float64", spec, "x")
    out = build(x)
    # Shape inference does not depend on the backend: the reference one builds no kernels.
    check_infer_shape(out, [x], [random_array(shape_of(spec), "float64")], mode="FAST_COMPILE")


# ---------------------------------------------------------------- symbolic arguments


def test_symbolic_axis_shift_and_counts():
    x, axis, n, counts = T.dmatrix("x"), T.iscalar("axis"), T.lscalar("n"), T.lvector("counts")
    value = random_array((3, 4), "float64")
    f = theanolab.function([x, axis, n, counts],
                           [T.sort(x, axis), T.argsort(x, axis), T.roll(x, n, 1), T.repeat(x, n, 0),
                            T.repeat(x, counts, 0), T.tile(x, (n, 1)), T.tile(x, T.stack([n, n])),
                            T.tril(x, n), T.triu(x, n), T.tri(n, 4, -1, dtype="int32")])
    for a in (0, 1, -1):
        got = f(value, a, 2, [1, 0, 3])
        want = [np.sort(value, a), np.argsort(value, a), np.roll(value, 2, 1), np.repeat(value, 2, 0),
                np.repeat(value, [1, 0, 3], 0), np.tile(value, (2, 1)), np.tile(value, (2, 2)),
                np.tril(value, 2), np.triu(value, 2), np.tri(2, 4, -1, dtype="int32")]
        for g, w in zip(got, want):
            np.testing.assert_array_equal(g, w)
            assert g.dtype == w.dtype


def test_sort_gradient_and_r_op_with_a_symbolic_axis():
    """With an axis known only at run time, every dimension's index picks it with a switch."""
    x, v, axis = T.dtensor3("x"), T.dtensor3("v"), T.iscalar("axis")
    weights = np.arange(24.0).reshape(2, 3, 4)
    symbolic = theanolab.function([x, v, axis], [grad((T.sort(x, axis) * weights).sum(), x),
                                                 Rop(T.sort(x, axis), x, v)])
    point, direction = distinct((2, 3, 4), "float64"), random_array((2, 3, 4), "float64")
    for known in (0, 1, 2, -1, -3):
        constant = theanolab.function([x, v], [grad((T.sort(x, known) * weights).sum(), x),
                                               Rop(T.sort(x, known), x, v)])
        for got, want in zip(symbolic(point, direction, known), constant(point, direction)):
            np.testing.assert_array_equal(got, want)
    verify_grad(lambda t: T.sort(t, -2), [point], n_tests=1)


def test_tile_with_a_vector_of_counts_needs_ndim():
    x, reps = T.dmatrix("x"), T.lvector("reps")
    with pytest.raises(ValueError, match="pass ndim="):
        T.tile(x, reps)
    out = T.tile(x, reps, ndim=3)
    assert out.type == T.TensorType("float64", (False,) * 3)
    value = random_array((2, 3), "float64")
    np.testing.assert_array_equal(run([x, reps], out, value, [2, 1, 3]), np.tile(value, (2, 1, 3)))


def test_isclose_and_allclose_follow_numpy():
    a = np.array([1.0, 1.0, np.inf, np.inf, -np.inf, np.nan, np.nan, 1e10, 0.0, 1.0])
    b = np.array([1.0 + 1e-9, 1.1, np.inf, -np.inf, -np.inf, np.nan, 1.0, 1.00001e10, 1e-9, np.inf])
    x, y = T.dvector("x"), T.dvector("y")
    for kwargs in ({}, {"equal_nan": True}, {"rtol": 0.2}, {"atol": 0.0}):
        with np.errstate(all="raise"):  # no inf - inf is computed
            got_isclose, got_allclose = run([x, y], [T.isclose(x, y, **kwargs), T.allclose(x, y, **kwargs)], a, b)
        np.testing.assert_array_equal(got_isclose, np.isclose(a, b, **kwargs))
        assert got_allclose == np.allclose(a, b, **kwargs) and got_allclose.dtype == bool
    assert bool(run([x, y], T.allclose(x, y, equal_nan=True), a[5:7], a[5:7]))


@pytest.mark.parametrize("dtype_a, dtype_b", [("float32", "float32"), ("uint8", "uint8"), ("int64", "float64")])
def test_isclose_with_broadcasting_and_integers(dtype_a, dtype_b):
    """Integers are compared as floats: a uint8 difference must not wrap around."""
    x, y = var(dtype_a, (3, 4), "x"), var(dtype_b, ROW, "y")
    a, b = random_array((3, 4), dtype_a), random_array((1, 4), dtype_b)
    a[0] = b[0]
    out = T.isclose(x, y)
    assert out.type == T.TensorType("bool", (False, False))
    np.testing.assert_array_equal(run([x, y], out, a, b), np.isclose(a, b))
    assert run([x, y], T.isclose(x, y, atol=0), np.zeros((3, 4), dtype_a), np.ones((1, 4), dtype_b)).sum() == 0


@pytest.mark.parametrize("dtype", ["float64", "float32", "int8"])
def test_power_is_pow(dtype):
    x, y = var(dtype, (2, 3), "x"), var(dtype, ((1, 3), (True, False)), "y")
    out = T.power(x, y)
    assert out.owner.op == T.pow(x, y).owner.op
    a, b = np.abs(random_array((2, 3), dtype)), np.abs(random_array((1, 3), dtype))
    np.testing.assert_allclose(run([x, y], out, a, b), np.power(a, b), rtol=1e-6)


def test_cumsum_keeps_the_input_dtype_as_theano():
    """NumPy widens small integers; Theano's CumOp (and ours) keeps the input's dtype."""
    x = T.bmatrix("x")
    out = T.cumsum(x, 0)
    assert out.dtype == "int8"
    np.testing.assert_array_equal(run([x], out, np.full((3, 2), 100, "int8")),
                                  np.cumsum(np.full((3, 2), 100, "int8"), 0, dtype="int8"))


# ---------------------------------------------------------------- gradients and R_op

MATRIX_POINT = (3, 4)

# (case, function, shapes of the points), with values free of ties and zeros
GRADIENT_CASES = [
    ("cumsum", lambda x: T.cumsum(x), [MATRIX_POINT]),
    ("cumsum axis=0", lambda x: T.cumsum(x, 0), [MATRIX_POINT]),
    ("cumsum axis=-1 tensor3", lambda x: T.cumsum(x, -1), [(2, 3, 4)]),
    ("cumprod", lambda x: T.cumprod(x), [MATRIX_POINT]),
    ("cumprod axis=1", lambda x: T.cumprod(x, 1), [MATRIX_POINT]),
    ("cumsum of a scalar", lambda x: T.cumsum(x), [()]),
    ("sort", lambda x: T.sort(x), [MATRIX_POINT]),
    ("sort axis=0", lambda x: T.sort(x, 0), [(2, 3, 4)]),
    ("sort axis=None", lambda x: T.sort(x, None), [MATRIX_POINT]),
    ("sort vector", lambda x: T.sort(x), [(6,)]),
    ("diag of a vector", lambda x: T.diag(x, 1), [(3,)]),
    ("diag of a matrix", lambda x: T.diag(x, -1), [MATRIX_POINT]),
    ("diagonal of a tensor3", lambda x: T.diagonal(x, 1, 2, 0), [(3, 2, 4)]),
    ("trace", lambda x: x.trace(), [MATRIX_POINT]),
    ("fill_diagonal", lambda x, v: T.fill_diagonal(x, v), [MATRIX_POINT, ()]),
    ("fill_diagonal tensor3", lambda x, v: T.fill_diagonal(x, v), [(3, 3, 3), ()]),
    ("tile", lambda x: T.tile(x, (2, 1, 3)), [(2, 3)]),
    ("repeat a count", lambda x: T.repeat(x, 3, axis=1), [MATRIX_POINT]),
    ("repeat counts", lambda x: T.repeat(x, [0, 2, 1], axis=0), [MATRIX_POINT]),
    ("repeat counts flat", lambda x: T.repeat(x, [1, 2, 0, 3]), [(2, 2)]),
    ("roll", lambda x: T.roll(x, 2, 1), [MATRIX_POINT]),
    ("roll flat", lambda x: T.roll(x, -3), [MATRIX_POINT]),
    ("tril", lambda x: T.tril(x, 1), [MATRIX_POINT]),
    ("triu", lambda x: T.triu(x), [(2, 3, 3)]),
    ("ptp", lambda x: T.ptp(x, 0), [MATRIX_POINT]),
    ("swapaxes", lambda x: T.swapaxes(x, 0, 2), [(2, 3, 4)]),
    ("squeeze", lambda x: T.squeeze(T.addbroadcast(x, 0)), [(1, 4)]),
    ("addbroadcast", lambda x: T.addbroadcast(x, 1) * np.arange(1.0, 4.0), [(3, 1)]),
    ("power", lambda x, y: T.power(abs(x) + 1, y), [MATRIX_POINT, MATRIX_POINT]),
]


@pytest.mark.parametrize("fun, shapes", [pytest.param(f, s, id=c) for c, f, s in GRADIENT_CASES])
def test_gradients(fun, shapes):
    # Distinct values, none of them zero (cumprod's gradient divides by x, as in Theano).
    points = [(distinct(shape, "float64", seed=i) + 0.5) * 0.25 for i, shape in enumerate(shapes)]
    verify_grad(fun, points, n_tests=1)


def test_sort_gradient_in_float32():
    weights = np.arange(3, dtype="float32")[:, None]  # sorted rows weigh differently
    verify_grad(lambda x: T.sort(x, 0) * weights, [distinct((3, 4), "float32")], n_tests=1)


@pytest.mark.parametrize("fun", [T.argsort, lambda x: T.repeat(T.cast(x, "int64"), [1, 2])],
                         ids=["argsort", "of an integer"])
def test_discrete_paths_have_zero_gradients(fun):
    x = T.dvector("x")
    g = grad(T.cast(fun(x), "float64").sum(), x)
    np.testing.assert_array_equal(run([x], g, np.array([2.0, 1.0])), [0.0, 0.0])


# (case, function, shape): Rop compared with central differences
ROP_CASES = [
    ("cumsum", lambda x: T.cumsum(x, 1), (3, 4)),
    ("cumprod", lambda x: T.cumprod(x), (3, 4)),
    ("sort", lambda x: T.sort(x, 0), (3, 4)),
    ("AllocDiag", lambda x: T.diag(x, -1), (3,)),
    ("ExtractDiag", lambda x: T.diagonal(x, 1), (3, 4)),
    ("FillDiagonal", lambda x: T.fill_diagonal(x, x[0, 0]), (3, 4)),
    ("RepeatOp", lambda x: T.repeat(x, [2, 0, 1]), (3,)),
    ("Rebroadcast", lambda x: T.addbroadcast(x, 0), (1, 4)),
]


@pytest.mark.parametrize("fun, shape", [pytest.param(f, s, id=c) for c, f, s in ROP_CASES])
def test_r_op(fun, shape):
    x, v = var("float64", shape, "x"), var("float64", shape, "v")
    point = distinct(shape, "float64") + 20.0  # no ties, no zeros
    direction = random_array(shape, "float64", rng=np.random.default_rng(3))
    got = run([x, v], Rop(fun(x), x, v), point, direction)
    f = theanolab.function([x], fun(x))
    eps = 1e-6
    want = (f(point + eps * direction) - f(point - eps * direction)) / (2 * eps)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


# ---------------------------------------------------------------- Theano's types and printed names

# (expression, str of its op, its type) as Theano 1.0 gives them
x_, v_, t3_, r_, c_ = T.dmatrix("x"), T.dvector("v"), T.dtensor3("t"), T.drow("r"), T.dcol("c")
THEANO_FORMS = [
    (lambda: T.addbroadcast(x_, 0), "Rebroadcast{1}", T.drow),
    (lambda: T.addbroadcast(x_, 1), "Rebroadcast{?,1}", T.dcol),
    (lambda: T.addbroadcast(t3_, 2, 0), "Rebroadcast{1,?,1}", lambda: T.TensorType("float64", (True, False, True))),
    (lambda: T.unbroadcast(r_, 0), "Rebroadcast{0}", T.dmatrix),
    (lambda: T.patternbroadcast(x_, (True, False)), "Rebroadcast{1}", T.drow),
    (lambda: T.patternbroadcast(c_, (True, False)), "Rebroadcast{1,0}", T.drow),
    (lambda: T.squeeze(r_), "InplaceDimShuffle{1}", T.dvector),
    (lambda: T.squeeze(x_), "InplaceDimShuffle{0,1}", T.dmatrix),
    (lambda: T.transpose(t3_), "InplaceDimShuffle{2,1,0}", T.dtensor3),
    (lambda: T.transpose(v_), "InplaceDimShuffle{0}", T.dvector),
    (lambda: T.swapaxes(x_, -1, 0), "InplaceDimShuffle{1,0}", T.dmatrix),
    (lambda: T.power(x_, 2), "Elemwise{pow,no_inplace}", T.dmatrix),
    (lambda: T.isclose(x_, r_), "Elemwise{or_,no_inplace}", lambda: T.TensorType("bool", (False, False))),
    (lambda: T.allclose(x_, x_), "All", lambda: T.TensorType("bool", ())),
    (lambda: T.cumsum(x_), "CumOp{None, add}", T.dvector),
    (lambda: T.cumsum(x_, -1), "CumOp{-1, add}", T.dmatrix),
    (lambda: T.cumprod(r_, 0), "CumOp{0, mul}", T.drow),
    (lambda: T.cumsum(T.dscalar()), "CumOp{None, add}", T.dvector),
    (lambda: T.sort(x_), "SortOp{quicksort, None}", T.dmatrix),
    (lambda: T.sort(x_, kind="mergesort"), "SortOp{mergesort, None}", T.dmatrix),
    (lambda: T.sort(x_, None), "SortOp{quicksort, None}", T.dvector),
    (lambda: T.argsort(r_, 0), "ArgSortOp{quicksort, None}", lambda: T.TensorType("int64", (True, False))),
    (lambda: T.diag(v_, 1), "AllocDiag{offset=1, axis1=0, axis2=1}", T.dmatrix),
    (lambda: T.diag(x_), "ExtractDiag{offset=0, axis1=0, axis2=1, view=False}", T.dvector),
    (lambda: T.diag(r_), "ExtractDiag{offset=0, axis1=0, axis2=1, view=False}", T.dvector),
    (lambda: T.diagonal(t3_, 1, 0, 2), "ExtractDiag{offset=1, axis1=0, axis2=2, view=False}", T.dmatrix),
    (lambda: T.tile(x_, (2, 3)), "Reshape{2}", T.dmatrix),
    (lambda: T.tile(r_, (1, 1)), "Reshape{2}", T.drow),
    (lambda: T.tile(r_, (3, 1)), "Reshape{2}", T.dmatrix),
    (lambda: T.tile(x_, (2,), ndim=3), "Reshape{3}", lambda: T.TensorType("float64", (True, False, False))),
    (lambda: T.repeat(x_, 2, axis=0), "Reshape{2}", T.dmatrix),
    (lambda: T.repeat(r_, 1, axis=0), "Reshape{2}", T.drow),
    (lambda: T.repeat(x_, T.lvector(), axis=1), "RepeatOp{axis=1}", T.dmatrix),
    (lambda: T.repeat(x_, T.lvector()), "RepeatOp{axis=None}", T.dvector),
    (lambda: T.roll(x_, 1, 0), "Join", T.dmatrix),
    (lambda: T.roll(r_, 1, 1), "Join", T.drow),
    (lambda: T.roll(x_, 1), "Reshape{2}", T.dmatrix),
    (lambda: T.tri(3), "Tri{dtype='float64'}", T.dmatrix),
    (lambda: T.ptp(T.bmatrix()), "Elemwise{sub,no_inplace}", T.bscalar),
    (lambda: T.fill_diagonal(x_, 3.0), "FillDiagonal", T.dmatrix),
    (lambda: T.fill_diagonal(T.imatrix(), 2), "FillDiagonal", T.imatrix),
    (lambda: T.fill_diagonal(T.fmatrix(), 0.1), "FillDiagonal", T.fmatrix),
    (lambda: x_.ravel(), "Reshape{1}", T.dvector),
]


@pytest.mark.parametrize("build, name, type_", THEANO_FORMS, ids=[f[1] + f"-{i}" for i, f in enumerate(THEANO_FORMS)])
def test_ops_and_types_are_theanos(build, name, type_):
    out = build()
    expected = type_()  # a constructor (T.drow) or a TensorType
    assert str(out.owner.op) == name
    assert out.type == getattr(expected, "type", expected)


def test_printed_forms():
    assert theanolab.pp(T.addbroadcast(x_, 0)) == "Rebroadcast{1}(x)"
    assert theanolab.pp(T.sort(x_)) == "SortOp{quicksort, None}(x, -1)"
    assert theanolab.pp(T.cumsum(x_, 0)) == "CumOp{0, add}(x)"
    assert theanolab.pp(T.transpose(x_)) == "x.T"
    assert theanolab.pp(T.ptp(x_)) == "(MaxAndArgmax{axis=(0, 1)}(x) - (-MaxAndArgmax{axis=(0, 1)}((-x))))"


def test_no_op_broadcast_changes_return_the_input():
    assert T.unbroadcast(x_, 0, 1) is x_
    assert T.addbroadcast(r_, 0) is r_
    assert T.patternbroadcast(x_, (False, False)) is x_
    assert T.addbroadcast(x_, -2).owner.op == Rebroadcast((0, True))


def test_theano_import_paths():
    assert extra_ops.cumsum is T.cumsum and extra_ops.CumOp is CumOp
    assert extra_ops.repeat is T.repeat and extra_ops.RepeatOp is RepeatOp
    assert extra_ops.fill_diagonal is T.fill_diagonal and extra_ops.FillDiagonal is FillDiagonal
    assert extra_ops.squeeze is T.squeeze
    assert T.Rebroadcast is Rebroadcast and T.AllocDiag is AllocDiag and T.ExtractDiag is ExtractDiag
    from theanolab.tensor.sort import argsort, sort

    assert (sort, argsort) == (T.sort, T.argsort)
    assert isinstance(T.sort(x_).owner.op, SortOp) and isinstance(T.argsort(x_).owner.op, ArgSortOp)


# ---------------------------------------------------------------- errors

BUILD_ERRORS = [
    (lambda: T.addbroadcast(x_, 2), ValueError, "axis 2 does not exist in x, which has 2 dimension"),
    (lambda: T.unbroadcast(x_, -3), ValueError, "axis -3 does not exist"),
    (lambda: T.addbroadcast(x_, 0.5), TypeError, "axes must be integers"),
    (lambda: T.patternbroadcast(x_, (True,)), ValueError, r"the pattern \(True,\) has 1 entries but x has 2"),
    (lambda: Rebroadcast((3, True))(x_), ValueError, r"Rebroadcast\{\?,\?,\?,1\}: axis 3 does not exist"),
    (lambda: T.swapaxes(x_, 0, 2), ValueError, "swapaxes: axis 2 is out of range"),
    (lambda: T.cumsum(x_, 2), ValueError, r"CumOp\{2, add\}: axis 2 is out of range for x"),
    (lambda: T.cumprod(x_, -3), ValueError, "axis -3 is out of range"),
    (lambda: T.cumsum(x_, 0.5), TypeError, "axis must be an int or None"),
    (lambda: T.sort(x_, 2), ValueError, "axis 2 is out of range for x"),
    (lambda: T.sort(T.dscalar("s")), ValueError, "cannot sort the scalar s"),
    (lambda: T.sort(x_, T.dscalar("a")), TypeError, "the axis must be an integer scalar"),
    (lambda: T.sort(x_, kind="bogo"), ValueError, "kind must be one of"),
    (lambda: T.argsort(x_, order="f"), ValueError, "order is for arrays of records"),
    (lambda: T.diag(t3_), ValueError, "diag: the input must be a vector or a matrix"),
    (lambda: T.diag(v_, 0.5), TypeError, "the offset must be an int"),
    (lambda: T.diagonal(x_, 0, 1, -1), ValueError, r"axis1 and axis2 are the same axis \(1\)"),
    (lambda: T.diagonal(v_), ValueError, "must have at least 2 dimensions"),
    (lambda: t3_.trace(), ValueError, "trace: t must be a matrix"),
    (lambda: AllocDiag()(x_), TypeError, "the input must be a vector"),
    (lambda: T.fill_diagonal(v_, 1.0), TypeError, "must have at least 2 dimensions"),
    (lambda: T.fill_diagonal(x_, v_), TypeError, "the value must be a scalar"),
    (lambda: T.fill_diagonal(T.imatrix("m"), 2.5), TypeError, r"2.5 does not fit the dtype of m \(int32\)"),
    (lambda: T.fill_diagonal(T.fmatrix("f"), T.dscalar("d")), TypeError, r"must have the dtype of f \(float32\)"),
    (lambda: T.tile(x_, (2.5, 2)), TypeError, "count 0 must be an integer scalar"),
    (lambda: T.tile(x_, (-1, 2)), ValueError, "count 0 must not be negative"),
    (lambda: T.tile(x_, (2, 2, 2), ndim=2), ValueError, "ndim=2 is smaller"),
    (lambda: T.repeat(x_, T.dvector()), TypeError, "the counts must be integers"),
    (lambda: T.repeat(x_, T.lmatrix()), ValueError, "must be a scalar or a vector"),
    (lambda: T.repeat(x_, T.lvector(), 2), ValueError, "repeat: axis 2 is out of range"),
    (lambda: T.repeat(x_, -1, 0), ValueError, "the count must not be negative"),
    (lambda: T.roll(x_, 1.5, 0), TypeError, "the shift must be an integer scalar"),
    (lambda: T.roll(x_, 1, 2), ValueError, "roll: axis 2 is out of range"),
    (lambda: T.tril(v_), ValueError, "tril: v must have at least 2 dimensions"),
    (lambda: T.triu(x_, 0.5), TypeError, "k must be an integer scalar"),
]


@pytest.mark.parametrize("build, error, message", BUILD_ERRORS, ids=[e[2][:40] for e in BUILD_ERRORS])
def test_build_errors(build, error, message):
    with pytest.raises(error, match=message):
        build()


RUN_ERRORS = [
    (lambda x: T.addbroadcast(x, 0), np.zeros((2, 3)),
     r"Rebroadcast\{1\}: dimension 0 of the input must have length 1 .* got length 2", "Rebroadcast"),
    (lambda x: T.repeat(x, [1, -1], 0), np.zeros((2, 3)), "the counts must not be negative", "RepeatOp"),
    (lambda x: T.repeat(x, [1, 2, 3], 0), np.zeros((2, 3)), "got 3 counts for 2 positions", "RepeatOp"),
    (lambda x: T.fill_diagonal(x.dimshuffle(0, 1, "x"), 1.0), np.zeros((2, 3)),
     r"FillDiagonal: cannot fill the diagonal of an array of shape \(2, 3, 1\)", "FillDiagonal"),
]


@pytest.mark.parametrize("build, value, message, node", RUN_ERRORS,
                         ids=[e[3] + str(i) for i, e in enumerate(RUN_ERRORS)])
def test_run_time_errors_name_the_node(build, value, message, node):
    x = T.dmatrix("x")
    f = theanolab.function([x], build(x))
    with pytest.raises(ValueError, match=message) as info:
        f(value)
    assert re.search(f"Apply node that caused the error: {node}", str(info.value))
