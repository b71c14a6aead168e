"""Reductions vs NumPy: values and dtypes over axes x keepdims x dtypes, printing as in
Theano, errors, empty and strided inputs, shape inference, gradients and R_op."""

import warnings

import numpy as np
import pytest
from helpers import check_infer_shape, random_array

import theanolab
import theanolab.tensor as T
from theanolab import scalar as ts
from theanolab.gradient import Rop, verify_grad
from theanolab.tensor.reduce import CAReduce, MaxAndArgmax, Sum

AXES = [None, 0, -1, (0, 2), ()]
DTYPES = ["bool", "int8", "int32", "uint8", "float32", "float64"]


def _axes_tuple(axis, ndim):
    if axis is None:
        return tuple(range(ndim))
    axis = (axis,) if isinstance(axis, int) else axis
    return tuple(sorted(a % ndim for a in axis))


def _np_arg(pick):
    """NumPy's argmax/argmin extended to a tuple of axes (index in the flattened reduced axes)."""

    def reference(x, axis=None, keepdims=False):
        if axis is None or isinstance(axis, int):
            return pick(x, axis=axis, keepdims=keepdims)
        axes = _axes_tuple(axis, x.ndim)
        kept = tuple(d for d in range(x.ndim) if d not in axes)
        size = int(np.prod([x.shape[d] for d in axes]))
        flat = x.transpose(kept + axes).reshape(tuple(x.shape[d] for d in kept) + (size,))
        result = pick(flat, axis=-1)
        return np.expand_dims(result, axes) if keepdims else result

    return reference


# name: (the T.<name> function form, its NumPy reference); every one is meaningful on every dtype.
REDUCTIONS = {
    "sum": (T.sum, np.sum),
    "prod": (T.prod, np.prod),
    "mean": (T.mean, np.mean),
    "max": (T.max, np.max),
    "min": (T.min, np.min),
    "argmax": (T.argmax, _np_arg(np.argmax)),
    "argmin": (T.argmin, _np_arg(np.argmin)),
    "any": (T.any, np.any),
    "all": (T.all, np.all),
    "var": (T.var, np.var),
    "std": (T.std, np.std),
}
METHODS = ["sum", "prod", "mean", "max", "min", "argmax", "argmin", "any", "all", "var", "std"]
CASES = [(axis, keepdims) for axis in AXES for keepdims in (False, True)]


def _tensor3(dtype):
    return T.TensorType(dtype, (False, False, False))("x")


def _assert_matches(got, expected, dtype):
    expected = np.asarray(expected)
    assert got.dtype == expected.dtype, f"dtype {got.dtype}, NumPy gives {expected.dtype}"
    assert got.shape == expected.shape
    rtol = 1e-4 if dtype == "float32" or got.dtype == np.float32 else 1e-10
    np.testing.assert_allclose(got, expected, rtol=rtol, atol=rtol)


def _values(name, dtype, shape=(2, 3, 4)):
    value = random_array(shape, dtype)
    if name in ("argmax", "argmin") and dtype != "bool":
        # Distinct values: ties would make the expected position depend on float rounding.
        value = np.random.default_rng(1).permutation(np.arange(np.prod(shape))).reshape(shape)
        value = (value % 100).astype(dtype) if dtype == "int8" else value.astype(dtype)
    return value


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", METHODS)
def test_values_and_dtypes_vs_numpy(name, dtype):
    func, reference = REDUCTIONS[name]
    x = _tensor3(dtype)
    value = _values(name, dtype)
    outputs = [func(x, axis=axis, keepdims=keepdims) for axis, keepdims in CASES]
    methods = [getattr(x, name)(axis=axis, keepdims=keepdims) for axis, keepdims in CASES]
    computed = theanolab.function([x], outputs + methods)(value)
    for (axis, keepdims), got, via_method in zip(CASES, computed, computed[len(CASES):]):
        with np.errstate(all="ignore"):
            expected = reference(value, axis=axis, keepdims=keepdims)
        _assert_matches(got, expected, dtype)
        _assert_matches(via_method, expected, dtype)


@pytest.mark.parametrize("name", METHODS)
def test_symbolic_dtype_and_pattern(name):
    for dtype in DTYPES:
        x = _tensor3(dtype)
        for axis, keepdims in CASES:
            out = getattr(x, name)(axis=axis, keepdims=keepdims)
            with np.errstate(all="ignore"):
                expected = np.asarray(REDUCTIONS[name][1](_values(name, dtype), axis=axis, keepdims=keepdims))
            assert out.dtype == str(expected.dtype), (name, dtype, axis)
            assert out.ndim == expected.ndim
            if keepdims:
                axes = _axes_tuple(axis, 3)
                assert out.broadcastable == tuple(d in axes for d in range(3))


def test_theano_dtypes_of_sum_and_prod():
    # Theano's table (checked against Theano 1.0.5): small ints widen to 64 bits.
    table = {"bool": "int64", "int8": "int64", "int16": "int64", "int32": "int64", "int64": "int64",
             "uint8": "uint64", "uint16": "uint64", "uint32": "uint64", "float32": "float32",
             "float64": "float64"}
    for dtype, expected in table.items():
        x = T.TensorType(dtype, (False, False))("x")
        assert x.sum(axis=0).dtype == expected
        assert x.prod(axis=0).dtype == expected
        assert x.max(axis=0).dtype == dtype
        assert x.argmax().dtype == "int64"
        assert x.any().dtype == "bool"
        assert x.mean().dtype == (dtype if dtype.startswith("float") else "float64")


@pytest.mark.parametrize("build, text", [
    (lambda x: x.sum(), "Sum{acc_dtype=float64}"),
    (lambda x: x.sum(axis=(0, 2)), "Sum{axis=[0, 2], acc_dtype=float64}"),
    (lambda x: x.sum(axis=[2, 0]), "Sum{axis=[0, 2], acc_dtype=float64}"),
    (lambda x: x.sum(axis=-1), "Sum{axis=[2], acc_dtype=float64}"),
    (lambda x: x.sum(axis=()), "Sum{axis=[], acc_dtype=float64}"),
    (lambda x: x.sum(axis=1, keepdims=True), "InplaceDimShuffle{0,x,1}"),
    (lambda x: x.max(axis=1), "MaxAndArgmax{axis=(1,)}"),
    (lambda x: x.max(), "MaxAndArgmax{axis=(0, 1, 2)}"),
    (lambda x: x.max(axis=(0, 2)), "MaxAndArgmax{axis=(0, 2)}"),
    (lambda x: x.argmax(axis=1), "MaxAndArgmax{axis=(1,)}"),
    (lambda x: x.min(axis=1), "Elemwise{neg,no_inplace}"),
    (lambda x: x.prod(axis=0), "Prod{axis=(0,), dtype='float64', acc_dtype='float64'}"),
    (lambda x: x.prod(), "Prod{axis=None, dtype='float64', acc_dtype='float64'}"),
    (lambda x: x.any(axis=1), "Any{1}"),
    (lambda x: x.any(axis=(0, 2)), "Any{0, 2}"),
    (lambda x: x.all(), "All"),
    (lambda x: x.mean(), "Elemwise{true_div,no_inplace}"),
])
def test_printing_matches_theano(build, text):
    assert str(build(T.tensor3("x")).owner.op) == text


def test_printing_of_dtypes_and_names():
    assert str(T.fmatrix().sum().owner.op) == "Sum{acc_dtype=float64}"
    assert str(T.fmatrix().sum(acc_dtype="float32").owner.op) == "Sum{acc_dtype=float32}"
    assert str(T.bmatrix().sum().owner.op) == "Sum{acc_dtype=int64}"
    assert str(T.TensorType("uint8", (False,))().sum().owner.op) == "Sum{acc_dtype=uint64}"
    narrowed = T.imatrix().sum(dtype="int8")
    assert (narrowed.dtype, str(narrowed.owner.op)) == ("int8", "Sum{acc_dtype=int64}")
    x = T.dmatrix()
    names = [x.max().name, x.argmax().name, x.mean().name, x.var().name, x.std().name]
    assert names == ["max", "argmax", "mean", "var", "std"]
    maximum, position = T.max_and_argmax(x, axis=1)
    assert maximum.owner is position.owner


def test_seed_slide_example():
    tensor3 = T.TensorType(broadcastable=(False, False, False), dtype="float32")
    x = tensor3()
    total = x.sum()
    marginals = x.sum(axis=(0, 2))
    mx = x.max(axis=1)
    value = random_array((2, 3, 4), "float32")
    got = theanolab.function([x], [total, marginals, mx])(value)
    for result, expected in zip(got, [value.sum(), value.sum(axis=(0, 2)), value.max(axis=1)]):
        assert result.dtype == np.float32
        np.testing.assert_allclose(result, expected, rtol=1e-5)


def test_sigmoid_gradient_through_sum():
    x = T.dmatrix("x")
    g = theanolab.function([x], T.grad((1 / (1 + T.exp(-x))).sum(), x))([[0, 1], [-1, -2]])
    np.testing.assert_allclose(g, [[0.25, 0.19661193], [0.19661193, 0.10499359]], rtol=1e-7)


@pytest.mark.parametrize("axis", [3, -4, (0, 3), (1, -2)])
@pytest.mark.parametrize("name", METHODS)
def test_bad_axis_is_a_clear_error(name, axis):
    with pytest.raises(ValueError, match=r"axis (-?\d+) (is out of range for an input of 3 dimension|appears twice)"):
        getattr(T.tensor3("x"), name)(axis=axis)


def test_axis_forms():
    x = T.tensor3("x")
    value = random_array((2, 3, 4), "float64")
    forms = [x.sum(axis=[0, 2]), x.sum(axis=np.int64(1)), x.sum(axis=T.constant(1)), x.sum(axis=(-3, -1))]
    got = theanolab.function([x], forms)(value)
    for result, expected in zip(got, [value.sum(axis=(0, 2)), value.sum(axis=1), value.sum(axis=1),
                                      value.sum(axis=(0, 2))]):
        np.testing.assert_allclose(result, expected)
    with pytest.raises(TypeError, match="axis must be known"):
        x.sum(axis=T.lscalar())
    with pytest.raises(TypeError, match="axis must be an int"):
        x.sum(axis=1.5)


def test_acc_dtype_that_loses_precision_is_refused():
    with pytest.raises(TypeError, match="acc_dtype|accumulator"):
        T.fmatrix().sum(acc_dtype="int8")


def test_function_forms_on_python_values():
    assert theanolab.function([], T.sum([[1, 2], [3, 4]], axis=0))().tolist() == [4, 6]
    assert theanolab.function([], T.max(np.array([3.0, 7.0, 5.0])))() == 7.0


@pytest.mark.parametrize("axis", [None, 0, 1, 2, (0, 2)])
def test_empty_inputs(axis):
    x = T.tensor3("x")
    value = np.zeros((2, 0, 3))
    names = ["sum", "prod", "any", "all"]
    got = theanolab.function([x], [getattr(x, n)(axis=axis) for n in names])(value)
    for name, result in zip(names, got):
        _assert_matches(result, getattr(np, name)(value, axis=axis), "float64")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # NumPy warns about the mean of nothing
        np.testing.assert_array_equal(theanolab.function([x], x.mean(axis=axis))(value),
                                      value.mean(axis=axis))
    reaches_empty = axis is None or 1 in _axes_tuple(axis, 3)
    for name in ("max", "min", "argmax", "argmin"):
        f = theanolab.function([x], getattr(x, name)(axis=axis))
        if reaches_empty:
            with pytest.raises(ValueError, match="empty"):
                f(value)
        else:
            np.testing.assert_array_equal(f(value), REDUCTIONS[name][1](value, axis=axis))


def test_generic_careduce():
    x = T.tensor3("x")
    value = random_array((2, 3, 4), "float64")
    maximum = CAReduce(ts.maximum, (1,))(x)
    assert str(maximum.owner.op) == "CAReduce{maximum}{1}"
    np.testing.assert_array_equal(theanolab.function([x], maximum)(value), value.max(axis=1))
    with pytest.raises(ValueError, match="no identity"):
        theanolab.function([x], maximum)(np.zeros((2, 0, 3)))
    with pytest.raises(ValueError, match="commutative"):
        CAReduce(ts.sub)


def test_strided_input():
    x = T.tensor3("x")
    base = random_array((4, 6, 8), "float64")
    value = base[::2, ::-2, 1::3].transpose(2, 0, 1)
    assert not value.flags.c_contiguous
    outputs = [x.sum(axis=(0, 2)), x.prod(axis=1), x.max(axis=-1), x.argmin(axis=(0, 1)), x.var(axis=0)]
    got = theanolab.function([x], outputs)(value)
    expected = [value.sum(axis=(0, 2)), value.prod(axis=1), value.max(axis=-1),
                _np_arg(np.argmin)(value, axis=(0, 1)), value.var(axis=0)]
    for result, wanted in zip(got, expected):
        np.testing.assert_allclose(result, wanted)


def test_min_of_unsigned_and_bool():
    u = T.TensorType("uint8", (False,))("u")
    b = T.TensorType("bool", (False,))("b")
    got = theanolab.function([u, b], [u.min(), u.argmin(), b.min(), b.argmin()])(
        np.array([3, 1, 255], dtype="uint8"), np.array([True, False, True]))
    assert [v.item() for v in got] == [1, 1, False, 1]
    assert got[0].dtype == np.uint8 and got[2].dtype == np.bool_


@pytest.mark.parametrize("ddof, corrected", [(0, False), (1, False), (0, True), (2, True)])
def test_var_std_ddof_and_corrected(ddof, corrected):
    x = T.tensor3("x")
    value = random_array((2, 3, 4), "float64") + 1e3
    for axis in (None, 1, (0, 2)):
        got_var, got_std = theanolab.function([x], [x.var(axis=axis, ddof=ddof, corrected=corrected),
                                                    x.std(axis=axis, ddof=ddof, corrected=corrected)])(value)
        np.testing.assert_allclose(got_var, value.var(axis=axis, ddof=ddof), rtol=1e-9)
        np.testing.assert_allclose(got_std, value.std(axis=axis, ddof=ddof), rtol=1e-9)


def test_corrected_var_cancels_the_rounding_of_the_mean():
    x = T.fvector("x")
    value = (1e4 + np.random.default_rng(0).standard_normal(1000) * 0.1).astype("float32")
    plain, corrected = theanolab.function([x], [x.var(), x.var(corrected=True)])(value)
    exact = value.astype("float64").var()
    assert abs(corrected - exact) < abs(plain - exact)
    np.testing.assert_allclose(corrected, exact, rtol=1e-6)


@pytest.mark.parametrize("name", METHODS)
def test_infer_shape(name):
    x = T.tensor3("x")
    value = _values(name, "float64")
    for axis in AXES:
        out = getattr(x, name)(axis=axis)
        check_infer_shape(out, [x], [value])
    check_infer_shape(T.max_and_argmax(x, axis=(0, 2))[1], [x], [value])
    check_infer_shape(getattr(x, name)(axis=1), [x], [np.zeros((2, 3, 0))])


@pytest.mark.parametrize("name", ["sum", "prod", "max", "min", "mean", "var", "std"])
@pytest.mark.parametrize("axis", [None, 1, (0, 2), -1])
def test_verify_grad(name, axis):
    # Distinct values keep max/min away from ties, where they are not differentiable.
    value = np.random.default_rng(3).permutation(24).reshape(2, 3, 4) / 7.0 + 0.5
    verify_grad(lambda x: getattr(x, name)(axis=axis), [value], n_tests=1)


@pytest.mark.parametrize("value", [
    [[1.0, 0.0, 3.0], [2.0, 3.0, 4.0]],  # one zero in a row
    [[0.0, 0.0, 3.0], [2.0, 0.0, 4.0]],  # two zeros in a row, one in another
])
def test_prod_gradient_with_zeros(value):
    value = np.array(value)
    for axis in (None, 1, 0):
        verify_grad(lambda x: x.prod(axis=axis), [value], n_tests=1)


def test_prod_gradient_values_like_theano():
    m = T.dmatrix("m")
    f = theanolab.function([m], T.grad(m.prod(), m))
    np.testing.assert_array_equal(f(np.array([[1.0, 0], [3, 4]])), [[0, 12], [0, 0]])
    np.testing.assert_array_equal(f(np.array([[1.0, 0], [0, 4]])), [[0, 0], [0, 0]])


def test_max_min_gradient_goes_to_every_tie():
    m = T.dmatrix("m")
    value = np.array([[1.0, 1.0], [0.0, 4.0]])
    g_max, g_min = theanolab.function([m], [T.grad(m.max(axis=1).sum(), m), T.grad(m.min(axis=1).sum(), m)])(value)
    np.testing.assert_array_equal(g_max, [[1, 1], [0, 1]])
    np.testing.assert_array_equal(g_min, [[1, 1], [1, 0]])


@pytest.mark.parametrize("name", ["argmax", "argmin", "any", "all"])
def test_not_differentiable_reductions_give_zero_gradients(name):
    m = T.dmatrix("m")
    # any/all see m through `m != 0`, whose gradient the comparison op leaves disconnected.
    g = T.grad(getattr(m, name)(), m, disconnected_inputs="ignore")
    g = theanolab.function([m], g)(np.array([[1.0, 2.0], [2.0, 0.0]]))
    np.testing.assert_array_equal(g, np.zeros((2, 2)))


@pytest.mark.parametrize("name", ["sum", "prod"])
def test_integer_inputs_have_float_zero_gradients(name):
    i = T.imatrix("i")
    g = T.grad(getattr(i, name)(), i)
    assert g.dtype.startswith("float")
    np.testing.assert_array_equal(theanolab.function([i], g)(np.ones((2, 2), dtype="int32")), np.zeros((2, 2)))


@pytest.mark.parametrize("name", ["sum", "prod", "max", "min", "mean", "var", "std"])
@pytest.mark.parametrize("axis", [None, 0, (0, 2)])
def test_rop_vs_finite_differences(name, axis):
    x, v = T.tensor3("x"), T.tensor3("v")
    out = getattr(x, name)(axis=axis)
    value = np.random.default_rng(3).permutation(24).reshape(2, 3, 4) / 7.0 + 0.5
    direction = random_array((2, 3, 4), "float64", np.random.default_rng(5))
    if name == "prod":
        value[0, 1, 2] = 0.0  # the R_op must handle a zero factor
    got = theanolab.function([x, v], Rop(out, x, v), on_unused_input="ignore")(value, direction)
    f = theanolab.function([x], out)
    eps = 1e-6
    numeric = (f(value + eps * direction) - f(value - eps * direction)) / (2 * eps)
    np.testing.assert_allclose(got, numeric, rtol=1e-5, atol=1e-6)


def test_sum_rop_is_a_sum_of_the_direction():
    x, v = T.tensor3("x"), T.tensor3("v")
    rop = Rop(x.sum(axis=(0, 2)), x, v)
    assert isinstance(rop.owner.op, Sum) and rop.owner.inputs == [v]


def test_max_and_argmax_op_checks_axes():
    with pytest.raises(ValueError, match="axis 3 is out of range"):
        MaxAndArgmax((3,))(T.tensor3("x"))
