"""Tests of tensor creation and joining: alloc, zeros/ones(_like), fill, arange, eye,
join/concatenate, split, stack and as_tensor_variable of lists.

Values are compared with NumPy on several dtypes, with broadcasting and empty
arrays; shapes with ``check_infer_shape``; gradients with ``verify_grad``.
"""

import re

import numpy as np
import pytest
from helpers import check_infer_shape, random_array

import theanolab
import theanolab.tensor as T
from theanolab.gradient import Rop, grad, verify_grad
from theanolab.tensor.basic import ARange, Alloc, Join, Split
from theanolab.tensor.shape import MakeVector


def var(dtype, ndim, name=None):
    return T.TensorType(dtype, (False,) * ndim)(name)


def run(inputs, outputs, *values):
    return theanolab.function(inputs, outputs, on_unused_input="ignore")(*values)


# ---------------------------------------------------------------- alloc, zeros, ones

# (case, shape of the value, shape to allocate)
ALLOCS = [
    ("scalar to matrix", (), (3, 4)),
    ("vector to matrix", (4,), (3, 4)),
    ("row to matrix", (1, 4), (3, 4)),
    ("column to tensor3", (3, 1), (2, 3, 4)),
    ("same shape", (2, 3), (2, 3)),
    ("scalar to empty", (), (0, 4)),
    ("vector to empty rows", (4,), (0, 4)),
    ("scalar to scalar", (), ()),
]
ALLOC_IDS = [case for case, _, _ in ALLOCS]


@pytest.mark.parametrize("dtype", ["float64", "float32", "int8", "uint8", "bool"])
@pytest.mark.parametrize("case, value_shape, shape", ALLOCS, ids=ALLOC_IDS)
def test_alloc_matches_numpy_broadcast(case, value_shape, shape, dtype):
    value = var(dtype, len(value_shape), "value")
    sizes = [T.lscalar(f"n{i}") for i in range(len(shape))]
    out = T.alloc(value, *sizes)
    assert isinstance(out.owner.op, Alloc) and out.dtype == dtype
    value_data = random_array(value_shape, dtype)
    result = run([value, *sizes], out, value_data, *shape)
    np.testing.assert_array_equal(result, np.broadcast_to(value_data, shape))
    assert result.dtype == np.dtype(dtype) and result.flags.writeable


@pytest.mark.parametrize("case, value_shape, shape", ALLOCS, ids=ALLOC_IDS)
def test_alloc_infer_shape_and_r_op(case, value_shape, shape):
    value, direction = var("float64", len(value_shape), "value"), var("float64", len(value_shape), "v")
    sizes = [T.iscalar(f"n{i}") for i in range(len(shape))]
    out = T.alloc(value, *sizes)
    rng = np.random.default_rng(0)
    value_data, direction_data = rng.uniform(size=value_shape), rng.uniform(size=value_shape)
    check_infer_shape(out, [value, *sizes], [value_data, *shape])
    result = run([value, direction, *sizes], Rop(out, value, direction), value_data, direction_data, *shape)
    np.testing.assert_array_equal(result, np.broadcast_to(direction_data, shape))


# A length-1 dimension that the value's type does not mark broadcastable is stretched at run
# time; the gradient follows the types (as in Theano), so those cases are checked with a
# broadcastable value in the next test.
TYPE_BROADCAST_ALLOCS = [a for a in ALLOCS if a[0] not in ("row to matrix", "column to tensor3")]


@pytest.mark.parametrize("case, value_shape, shape", TYPE_BROADCAST_ALLOCS, ids=[a[0] for a in TYPE_BROADCAST_ALLOCS])
def test_alloc_gradient_wrt_value(case, value_shape, shape):
    verify_grad(lambda v: T.alloc(v, *shape), [np.random.default_rng(1).uniform(size=value_shape)], n_tests=1)


def test_alloc_gradient_sums_over_a_broadcastable_value_dimension():
    row = T.drow("row")
    g = grad(T.alloc(row, 3, 4).sum(), row)
    assert g.broadcastable == (True, False)
    np.testing.assert_array_equal(run([row], g, np.ones((1, 4))), np.full((1, 4), 3.0))
    verify_grad(lambda v: T.alloc(v.dimshuffle("x", 0), 3, 4), [np.arange(4.0)], n_tests=1)


def test_alloc_types_follow_theano():
    i = T.iscalar("i")
    assert T.alloc(0.0, 3, 4).type == T.TensorType("float32", (False, False))
    assert T.alloc(np.float32(1), 1, i).type == T.TensorType("float32", (True, False))
    assert T.alloc(T.drow(), 5, 1, 3).broadcastable == (False, True, False)
    assert str(T.alloc(0.0, 3).owner.op) == "Alloc"
    assert T.zeros((0, 1, 3)).broadcastable == (False, True, False)


@pytest.mark.parametrize("build, message, error", [
    (lambda: T.alloc(T.dmatrix("m"), 3), "has 2 dimensions, more than the 1", TypeError),
    (lambda: T.alloc(1.0, 2.5), "shape argument 0 must be an integer scalar", TypeError),
    (lambda: T.alloc(1.0, T.dscalar("d")), "got d", TypeError),
    (lambda: T.alloc(1.0, T.lvector("s")), "got s", TypeError),
    (lambda: T.alloc(1.0, 3, -2), "shape argument 1 is negative", ValueError),
], ids=["value of too many dims", "float shape", "float variable", "vector shape", "negative"])
def test_alloc_bad_arguments(build, message, error):
    with pytest.raises(error, match=message):
        build()


def test_alloc_run_time_mismatch_names_the_node():
    v, n = T.dvector("v"), T.lscalar("n")
    f = theanolab.function([v, n], T.alloc(v, n, 3))
    with pytest.raises(ValueError, match="cannot broadcast a value of shape \\(4,\\) to shape \\(2, 3\\)") as info:
        f(np.zeros(4), 2)
    assert re.search("Apply node that caused the error: (Gpu)?Alloc", str(info.value))  # Gpu: device=cuda


def _shapes_for_zeros():
    x, n = T.dmatrix("x"), T.lscalar("n")
    return [
        ("int", 3, (3,)),
        ("tuple", (2, 3), (2, 3)),
        ("list with a symbol", [n, 2], (4, 2)),
        ("empty", (0, 3), (0, 3)),
        ("scalar symbol", n, (4,)),
        ("x.shape", x.shape, (5, 6)),
        ("make_vector", T.stack([n, n]), (4, 4)),
        ("numpy array", np.array([2, 1]), (2, 1)),
        ("no dimensions", (), ()),
    ], x, n


@pytest.mark.parametrize("dtype", [None, "int32", "float32", "bool"])
@pytest.mark.parametrize("make, fill", [(T.zeros, 0), (T.ones, 1)], ids=["zeros", "ones"])
@pytest.mark.parametrize("index", range(9), ids=[c[0] for c in _shapes_for_zeros()[0]])
def test_zeros_and_ones(index, make, fill, dtype):
    cases, x, n = _shapes_for_zeros()
    _, shape, expected_shape = cases[index]
    out = make(shape, dtype=dtype)
    expected_dtype = dtype or theanolab.config.floatX
    assert out.dtype == expected_dtype and out.ndim == len(expected_shape)
    result = run([x, n], out, np.zeros((5, 6)), 4)
    np.testing.assert_array_equal(result, np.full(expected_shape, fill, dtype=expected_dtype))
    assert result.dtype == np.dtype(expected_dtype)


def test_zeros_of_an_unknown_length_vector_is_an_error():
    with pytest.raises(ValueError, match="length of the shape vector s is not known"):
        T.zeros(T.lvector("s"))


@pytest.mark.parametrize("dtype", ["float64", "float32", "int16", "bool"])
@pytest.mark.parametrize("shape", [(2, 3), (0,), ()], ids=["matrix", "empty", "scalar"])
def test_zeros_like_ones_like_and_fill(dtype, shape):
    x = var(dtype, len(shape), "x")
    value = random_array(shape, dtype)
    zeros, ones, filled = run([x], [T.zeros_like(x), T.ones_like(x), T.fill(x, 7)], value)
    np.testing.assert_array_equal(zeros, np.zeros_like(value))
    np.testing.assert_array_equal(ones, np.ones_like(value))
    assert zeros.dtype == ones.dtype == np.dtype(dtype)
    assert filled.shape == shape and np.all(filled == 7)
    assert T.zeros_like(x, dtype="int8").dtype == "int8"


# ---------------------------------------------------------------- arange


def test_arange_dtypes_follow_theano():
    # The dtypes Theano 1.0.5 gives (floatX=float64): integers widen to int64.
    cases = [
        (T.arange(10), "int64"), (T.arange(T.iscalar()), "int64"), (T.arange(T.lscalar()), "int64"),
        (T.arange(2.0), "float32"), (T.arange(T.dscalar()), "float64"), (T.arange(1, 10, 2), "int64"),
        (T.arange(T.bscalar()), "int64"), (T.arange(T.fscalar()), "float32"), (T.arange(0, 10, 0.5), "float32"),
        (T.arange(T.scalar(dtype="uint8")), "int64"), (T.arange(T.scalar(dtype="uint64")), "float64"),
        (T.arange(T.scalar(dtype="bool")), "int64"), (T.arange(T.iscalar(), T.fscalar()), "float64"),
        (T.arange(5, dtype="int32"), "int32"),
    ]
    for out, dtype in cases:
        assert out.dtype == dtype, (out, dtype)
    assert str(T.arange(10).owner.op) == "ARange{dtype='int64'}"


ARANGES = [(0, 10, 1), (3, 10, 2), (10, 0, -3), (5, 5, 1), (5, 0, 1), (-4, 4, 3), (0, -7, -2)]


@pytest.mark.parametrize("dtype", ["int64", "int32", "int8", "float64", "float32"])
def test_arange_values_and_infer_shape(dtype):
    start, stop, step = (T.TensorType(dtype, ())(n) for n in ("start", "stop", "step"))
    out = T.arange(start, stop, step)
    f = theanolab.function([start, stop, step], out)
    for bounds in ARANGES:
        values = [np.asarray(b, dtype=dtype) for b in bounds]
        expected = np.arange(*values, dtype=out.dtype)
        np.testing.assert_array_equal(f(*values), expected)
        check_infer_shape(out, [start, stop, step], values)


@pytest.mark.parametrize("bounds", [(0.0, 1.0, 0.1), (0.5, 2.0, 0.3), (2.0, -1.0, -0.7), (1.0, 1.0, 0.5)])
def test_float_arange_length_matches_numpy(bounds):
    start, stop, step = T.dscalars("start", "stop", "step")
    out = T.arange(start, stop, step)
    np.testing.assert_array_equal(run([start, stop, step], out, *bounds), np.arange(*bounds))
    check_infer_shape(out, [start, stop, step], list(bounds))


def test_arange_one_and_two_arguments():
    n = T.lscalar("n")
    np.testing.assert_array_equal(run([n], T.arange(n), 4), np.arange(4))
    np.testing.assert_array_equal(run([n], T.arange(2, n), 6), np.arange(2, 6))
    assert run([n], T.arange(n), 0).shape == (0,)


def test_arange_gradient_wrt_start_and_step():
    # Away from the points where the length changes, the output moves with start and step.
    verify_grad(lambda start, step: T.arange(start, 10.5, step) ** 2, [np.asarray(0.2), np.asarray(1.3)],
                n_tests=1)
    start = T.lscalar("start")
    g = grad(T.arange(start, 10).sum() * 1.0, start)
    assert g.dtype == theanolab.config.floatX and float(run([start], g, 2)) == 0.0


def test_arange_zero_step_names_the_node():
    step = T.lscalar("step")
    with pytest.raises(ValueError, match="step cannot be zero") as info:
        run([step], T.arange(0, 5, step), 0)
    assert "ARange" in str(info.value)


def test_arange_rejects_non_scalars():
    with pytest.raises(TypeError, match="stop must be a real scalar"):
        ARange("int64")(0, T.lvector("v"), 1)


# ---------------------------------------------------------------- eye


@pytest.mark.parametrize("n, m, k", [(3, None, 0), (2, 4, 1), (4, 2, -1), (0, 3, 0)])
@pytest.mark.parametrize("dtype", [None, "int32", "float32"])
def test_eye(n, m, k, dtype):
    ns = T.lscalars("n", "m", "k")
    out = T.eye(ns[0], None if m is None else ns[1], ns[2], dtype=dtype)
    assert out.dtype == (dtype or theanolab.config.floatX)
    result = run(list(ns), out, n, m or 0, k)
    np.testing.assert_array_equal(result, np.eye(n, m, k, dtype=out.dtype))
    check_infer_shape(out, list(ns), [n, m or 0, k])


def test_identity_like():
    x = T.fmatrix("x")
    out = T.identity_like(x)
    assert out.dtype == "float32" and str(out.owner.op) == "Eye{dtype='float32'}"
    np.testing.assert_array_equal(run([x], out, np.zeros((2, 3), "float32")), np.eye(2, 3))


# ---------------------------------------------------------------- join, concatenate, split

# (case, shapes of the inputs, axis)
JOINS = [
    ("rows", [(2, 3), (4, 3)], 0),
    ("columns", [(2, 3), (2, 1), (2, 2)], 1),
    ("negative axis", [(2, 3), (2, 2)], -1),
    ("vectors", [(3,), (0,), (2,)], 0),
    ("empty pieces", [(0, 3), (0, 3)], 0),
    ("tensor3 middle", [(2, 1, 3), (2, 2, 3)], 1),
    ("one tensor", [(2, 3)], 1),
]
JOIN_IDS = [case for case, _, _ in JOINS]


@pytest.mark.parametrize("dtypes", [("float64", "float64"), ("float32", "float32"), ("int8", "float32"),
                                    ("int16", "int64"), ("bool", "bool"), ("uint8", "int8")],
                         ids=lambda d: "-".join(d))
@pytest.mark.parametrize("case, shapes, axis", JOINS, ids=JOIN_IDS)
def test_join_matches_numpy(case, shapes, axis, dtypes):
    tensors = [var(dtypes[i % 2], len(s), f"t{i}") for i, s in enumerate(shapes)]
    values = [random_array(s, t.dtype) for s, t in zip(shapes, tensors)]
    expected = np.concatenate(values, axis=axis)
    for out in (T.join(axis, *tensors), T.concatenate(tensors, axis=axis)):
        result = run(tensors, out, *values)
        assert out.dtype == str(expected.dtype) == str(result.dtype)
        np.testing.assert_array_equal(result, expected)


@pytest.mark.parametrize("case, shapes, axis", JOINS, ids=JOIN_IDS)
def test_join_with_a_symbolic_axis(case, shapes, axis):
    tensors = [var("float64", len(s), f"t{i}") for i, s in enumerate(shapes)]
    values = [random_array(s, "float64") for s in shapes]
    a = T.lscalar("axis")
    out = T.join(a, *tensors)
    np.testing.assert_array_equal(run([a, *tensors], out, axis, *values), np.concatenate(values, axis=axis))
    if len(tensors) > 1:
        check_infer_shape(out, [a, *tensors], [axis, *values])


@pytest.mark.parametrize("case, shapes, axis", JOINS, ids=JOIN_IDS)
def test_join_infer_shape_strided_inputs_and_r_op(case, shapes, axis):
    tensors = [var("float64", len(s), f"t{i}") for i, s in enumerate(shapes)]
    directions = [t.type(f"v{i}") for i, t in enumerate(tensors)]
    rng = np.random.default_rng(2)
    values = [rng.uniform(size=tuple(2 * n for n in s))[tuple(slice(None, None, 2) for _ in s)] for s in shapes]
    out = T.join(axis, *tensors)
    np.testing.assert_array_equal(run(tensors, out, *values), np.concatenate(values, axis=axis))
    if len(tensors) > 1:
        check_infer_shape(out, tensors, values)
    direction_values = [rng.uniform(size=s) for s in shapes]
    # Directions for every input but the first: its part of the result is zero.
    jv = Rop(out, tensors[1:], directions[1:]) if len(tensors) > 1 else Rop(out, tensors, directions)
    result = run(tensors + directions, jv, *values, *direction_values)
    pieces = [np.zeros(s) for s in shapes[:1]] + direction_values[1:] if len(tensors) > 1 else direction_values
    np.testing.assert_array_equal(result, np.concatenate(pieces, axis=axis))


@pytest.mark.parametrize("case, shapes, axis", [j for j in JOINS if j[0] != "empty pieces"],
                         ids=[j[0] for j in JOINS if j[0] != "empty pieces"])
def test_join_gradient_wrt_each_input(case, shapes, axis):
    rng = np.random.default_rng(3)
    verify_grad(lambda *ts: T.join(axis, *ts), [rng.uniform(size=s) for s in shapes], n_tests=1)


def test_join_gradient_with_a_symbolic_axis():
    a, b, axis = T.dmatrix("a"), T.dmatrix("b"), T.lscalar("axis")
    weights = T.dmatrix("w")
    ga, gb = grad((T.join(axis, a, b) * weights).sum(), [a, b])
    w_value = np.arange(12.0).reshape(3, 4)
    ga_value, gb_value = run([a, b, axis, weights], [ga, gb], np.zeros((3, 1)), np.zeros((3, 3)), 1, w_value)
    np.testing.assert_array_equal(ga_value, w_value[:, :1])
    np.testing.assert_array_equal(gb_value, w_value[:, 1:])
    assert "Split{2}" in str(ga.owner)


def test_join_types_follow_theano():
    row, x = T.drow(), T.dmatrix()
    assert str(T.join(0, x, x).owner.op) == "Join"
    assert T.concatenate([row, row], axis=0).broadcastable == (False, False)
    assert T.concatenate([row, row], axis=1).broadcastable == (True, False)
    assert T.concatenate([row, x], axis=1).broadcastable == (True, False)
    assert T.join(T.iscalar(), row, x).broadcastable == (False, False)
    assert T.join(0, T.ivector(), T.dvector()).dtype == "float64"
    assert T.join(0, x) is x


@pytest.mark.parametrize("build, message, error", [
    (lambda: T.join(0, T.dvector(), T.dmatrix("m")), "input 1 \\(m\\) has 2", TypeError),
    (lambda: T.join(0, T.dscalar(), T.dscalar()), "cannot join scalars", TypeError),
    (lambda: T.join(2, T.dmatrix(), T.dmatrix()), "axis 2 is out of range", ValueError),
    (lambda: T.join(1.0, T.dmatrix(), T.dmatrix()), "axis must be an integer scalar", TypeError),
    (lambda: T.concatenate(T.dmatrix()), "takes a list or tuple", TypeError),
    (lambda: Join()(0), "at least one tensor", ValueError),
], ids=["ndim mismatch", "scalars", "axis out of range", "float axis", "not a list", "nothing"])
def test_join_bad_arguments(build, message, error):
    with pytest.raises(error, match=message):
        build()


def test_join_run_time_mismatch_names_the_node():
    a, b = T.dmatrices("a", "b")
    f = theanolab.function([a, b], T.join(0, a, b))
    with pytest.raises(ValueError, match="Apply node that caused the error: (Gpu)?Join"):
        f(np.zeros((2, 3)), np.zeros((2, 4)))


@pytest.mark.parametrize("sizes, axis", [([1, 3], 0), ([0, 2, 2], 1), ([4], -1)])
def test_split_values_shape_gradient_and_r_op(sizes, axis):
    x, splits = T.dmatrix("x"), T.lvector("splits")
    value = np.arange(16.0).reshape(4, 4)
    pieces = T.split(x, splits, len(sizes), axis=axis)
    assert all(isinstance(p.owner.op, Split) for p in pieces)
    expected = np.split(value, np.cumsum(sizes)[:-1], axis=axis)
    for got, want in zip(run([x, splits], pieces, value, sizes), expected):
        np.testing.assert_array_equal(got, want)
    check_infer_shape(pieces, [x, splits], [value, np.asarray(sizes)])
    verify_grad(lambda t: T.join(axis, *[p * (i + 1) for i, p in enumerate(T.split(t, sizes, len(sizes), axis))]),
                [np.random.default_rng(4).uniform(size=(4, 4))], n_tests=1)
    direction = T.dmatrix("v")
    jv = Rop(pieces, x, [direction])
    for got, want in zip(run([x, splits, direction], jv, value, sizes, value * 2), expected):
        np.testing.assert_array_equal(got, want * 2)


def test_split_lengths_that_do_not_add_up():
    x = T.dvector("x")
    f = theanolab.function([x], T.split(x, [1, 1], 2))
    with pytest.raises(ValueError, match="do not cut axis 0 of length 3"):
        f(np.zeros(3))


# ---------------------------------------------------------------- stack and as_tensor_variable


@pytest.mark.parametrize("axis", [0, 1, -1, 2])
@pytest.mark.parametrize("dtypes", [("float64", "float64"), ("int8", "float32"), ("bool", "int16")],
                         ids=lambda d: "-".join(d))
def test_stack_matches_numpy(axis, dtypes):
    a, b = var(dtypes[0], 2, "a"), var(dtypes[1], 2, "b")
    values = [random_array((2, 3), dtypes[0]), random_array((2, 3), dtypes[1])]
    out = T.stack([a, b], axis=axis)
    expected = np.stack(values, axis=axis)
    result = run([a, b], out, *values)
    assert out.dtype == str(expected.dtype)
    np.testing.assert_array_equal(result, expected)
    check_infer_shape(out, [a, b], values)


def test_stack_of_empty_tensors():
    a, b = T.dvectors("a", "b")
    assert run([a, b], T.stack([a, b], axis=1), np.zeros(0), np.zeros(0)).shape == (0, 2)


def test_stack_of_scalars_is_a_make_vector():
    i, l, d = T.iscalar("i"), T.lscalar("l"), T.dscalar("d")
    assert str(T.stack([i, l]).owner.op) == "MakeVector{dtype='int64'}"
    assert T.stack([1, i]).dtype == "int32"
    assert T.stack([1.5, i]).dtype == "float64"
    out = T.stack([d, 2, i])
    assert isinstance(out.owner.op, MakeVector)
    np.testing.assert_array_equal(run([d, i], out, 0.5, 7), [0.5, 2.0, 7.0])


def test_stack_call_forms():
    a, b = T.dvectors("a", "b")
    values = [np.arange(3.0), np.ones(3)]
    forms = [(T.stack(a, b), 0), (T.stack([a, b]), 0), (T.stack((a, b), 1), 1),
             (T.stack(tensors=[a, b], axis=1), 1), (T.stack([a, b], axis=-1), -1)]
    for out, axis in forms:
        np.testing.assert_array_equal(run([a, b], out, *values), np.stack(values, axis=axis))
    with pytest.raises(ValueError, match="at least one tensor"):
        T.stack([])
    with pytest.raises(TypeError, match="unexpected keyword"):
        T.stack([a], axes=0)


def test_stack_gradient_and_make_vector_gradient():
    rng = np.random.default_rng(5)
    verify_grad(lambda a, b: T.stack([a, b], axis=1), [rng.uniform(size=(2, 3)), rng.uniform(size=(2, 3))],
                n_tests=1)
    verify_grad(lambda a, b: T.stack([a, b * 2]), [np.asarray(0.3), np.asarray(-1.2)], n_tests=1)
    x, y = T.dscalars("x", "y")
    gx, gy = grad((T.stack([x, y]) * np.array([3.0, 5.0])).sum(), [x, y])
    assert float(gx.eval({x: 1.0, y: 2.0})) == 3.0 and float(gy.eval({x: 1.0, y: 2.0})) == 5.0


def test_as_tensor_variable_of_a_list_of_variables():
    x, n = T.dvector("x"), T.lscalar("n")
    shape = T.as_tensor_variable([n, 3])
    assert shape.type == T.lvector().type and isinstance(shape.owner.op, MakeVector)
    matrix = T.as_tensor_variable([x, x * 2])
    assert matrix.ndim == 2 and isinstance(matrix.owner.op, Join)
    np.testing.assert_array_equal(run([x], matrix, [1.0, 2.0]), [[1.0, 2.0], [2.0, 4.0]])
    np.testing.assert_array_equal(run([x, n], T.zeros(shape), [0.0], 2), np.zeros((2, 3)))
