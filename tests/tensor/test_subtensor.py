"""Tests of indexing (``x[...]``) and ``set_subtensor`` / ``inc_subtensor``.

Every index is written once in a table, in NumPy's notation, where ``Sym(v)``
marks a part given at run time (a symbolic scalar, vector or mask) instead of
a constant: the same table drives values vs NumPy, shape inference,
gradients and R_op.
"""

import numpy as np
import pytest
from helpers import check_infer_shape, random_array

import theanolab
import theanolab.tensor as T
from theanolab.gradient import Rop, grad, verify_grad
from theanolab.tensor.subtensor import (AdvancedIncSubtensor, AdvancedIncSubtensor1, AdvancedSubtensor,
                                        AdvancedSubtensor1, IncSubtensor, Subtensor)


class Sym:
    """An index part that is a symbolic input of the compiled function, with this run-time value."""

    def __init__(self, value, dtype=None):
        self.value = np.asarray(value, dtype=dtype or ("bool" if np.asarray(value).dtype == bool else "int64"))


def symbolic_index(spec):
    """``(index for x[...], symbolic inputs, their values)`` from a table index."""
    inputs, values = [], []

    def convert(part):
        if isinstance(part, Sym):
            var = T.TensorType(part.value.dtype, (False,) * part.value.ndim)(f"i{len(inputs)}")
            inputs.append(var)
            values.append(part.value)
            return var
        if isinstance(part, slice):
            return slice(convert(part.start), convert(part.stop), convert(part.step))
        return part

    parts = spec if isinstance(spec, tuple) else (spec,)
    index = tuple(convert(p) for p in parts)
    return (index if isinstance(spec, tuple) else index[0]), inputs, values


def numpy_index(spec):
    def convert(part):
        if isinstance(part, Sym):
            return part.value
        if isinstance(part, slice):
            return slice(convert(part.start), convert(part.stop), convert(part.step))
        return part

    return tuple(convert(p) for p in spec) if isinstance(spec, tuple) else convert(spec)


def xvar(shape, dtype="float64"):
    return T.TensorType(dtype, (False,) * len(shape))("x")


MASK_34 = np.array([[True, False, True, False], [False, False, True, True], [True, True, False, False]])

# (case, shape of x, index, expected op class)
INDEXES = [
    ("int", (4, 5), 1, Subtensor),
    ("negative int", (4, 5), -1, Subtensor),
    ("two ints", (4, 5), (1, 2), Subtensor),
    ("slice", (4, 5), slice(1, 3), Subtensor),
    ("step", (4, 5), slice(None, None, 2), Subtensor),
    ("reverse", (4, 5), slice(None, None, -1), Subtensor),
    ("reverse range", (4, 5), slice(3, 0, -2), Subtensor),
    ("clipped slice", (4, 5), slice(-10, 10, 3), Subtensor),
    ("empty slice", (4, 5), slice(3, 1), Subtensor),
    ("slice and int", (4, 5), (slice(1, None), 0), Subtensor),
    ("column", (4, 5), (slice(None), 2), Subtensor),
    ("ellipsis", (2, 3, 4), (Ellipsis, 1), Subtensor),
    ("ellipsis middle", (2, 3, 4), (0, Ellipsis, slice(1, 3)), Subtensor),
    ("newaxis first", (4, 5), (None, 0), Subtensor),
    ("newaxis middle", (4, 5), (slice(None), None, slice(1, 3)), Subtensor),
    ("symbolic int", (4, 5), Sym(2), Subtensor),
    ("symbolic negative int", (4, 5), (0, Sym(-2)), Subtensor),
    ("symbolic slice", (4, 5), slice(Sym(1), Sym(-1)), Subtensor),
    ("symbolic step", (4, 5), (slice(None), slice(None, None, Sym(-2))), Subtensor),
    ("int list", (4, 5), [0, 0, 3], AdvancedSubtensor1),
    ("symbolic int vector", (4, 5), Sym([3, -1, 0, 3]), AdvancedSubtensor1),
    ("vector on a vector", (6,), Sym([5, 0, 5]), AdvancedSubtensor1),
    ("empty int vector", (4, 5), Sym(np.zeros(0, "int64")), AdvancedSubtensor1),
    ("int matrix", (4, 5), Sym([[0, 1], [3, 3]]), AdvancedSubtensor),
    ("columns", (4, 5), (slice(None), [4, 0, 4]), AdvancedSubtensor),
    ("pairs", (4, 5), (Sym([0, 1, 3]), Sym([1, 1, 4])), AdvancedSubtensor),
    ("broadcast pairs", (4, 5), (Sym([[0], [3]]), Sym([1, 2, 4])), AdvancedSubtensor),
    ("one broadcast against none", (4, 5), (Sym([2]), Sym(np.zeros(0, "int64"))), AdvancedSubtensor),
    ("int and vector", (4, 5), (2, [1, 3]), AdvancedSubtensor),
    ("separated", (2, 3, 4), (Sym([1, 0]), slice(None), Sym([3, 2])), AdvancedSubtensor),
    ("int, slice, vector", (2, 3, 4), (0, slice(1, None), [1, 3]), AdvancedSubtensor),
    ("slice then vector", (4, 5), (slice(1, 3), Sym([0, 4])), AdvancedSubtensor),
    ("mask", (3, 4), Sym(MASK_34), AdvancedSubtensor),
    ("constant mask", (3, 4), MASK_34, AdvancedSubtensor),
    ("row mask", (3, 4), Sym([True, False, True]), AdvancedSubtensor),
    ("column mask", (3, 4), (slice(None), Sym([False, True, True, False])), AdvancedSubtensor),
    ("mask of a tensor3", (3, 4, 2), Sym(MASK_34), AdvancedSubtensor),
    ("empty mask", (3, 4), Sym(np.zeros((3, 4), bool)), AdvancedSubtensor),
]
INDEX_IDS = [case for case, _, _, _ in INDEXES]

DTYPES = ["float64", "float32", "int8", "int64", "uint8", "bool"]


def compile_index(shape, spec, dtype="float64", build=lambda x, index: x[index]):
    x = xvar(shape, dtype)
    index, inputs, values = symbolic_index(spec)
    out = build(x, index)
    return out, [x, *inputs], values


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case, shape, spec, op_class", INDEXES, ids=INDEX_IDS)
def test_indexing_matches_numpy(case, shape, spec, op_class, dtype):
    out, inputs, values = compile_index(shape, spec, dtype)
    assert type(out.owner.op) is op_class
    value = random_array(shape, dtype)
    result = theanolab.function(inputs, out)(value, *values)
    expected = value[numpy_index(spec)]
    assert result.dtype == expected.dtype and result.shape == expected.shape
    np.testing.assert_array_equal(result, expected)
    assert out.ndim == expected.ndim
    for axis, broadcastable in enumerate(out.broadcastable):
        assert not broadcastable or expected.shape[axis] == 1


@pytest.mark.parametrize("case, shape, spec, op_class", INDEXES, ids=INDEX_IDS)
def test_indexing_strided_and_empty_inputs(case, shape, spec, op_class):
    out, inputs, values = compile_index(shape, spec)
    f = theanolab.function(inputs, out)
    strided = random_array(tuple(2 * n for n in shape), "float64")[tuple(slice(None, None, 2) for _ in shape)]
    np.testing.assert_array_equal(f(strided, *values), strided[numpy_index(spec)])
    if isinstance(spec, slice) or (isinstance(spec, tuple) and isinstance(spec[-1], slice)):
        # Slicing the last axis works on an empty last axis too.
        empty = np.zeros(shape[:-1] + (0,))
        np.testing.assert_array_equal(f(empty, *values), empty[numpy_index(spec)])


@pytest.mark.parametrize("case, shape, spec, op_class", INDEXES, ids=INDEX_IDS)
def test_indexing_infer_shape(case, shape, spec, op_class):
    out, inputs, values = compile_index(shape, spec)
    check_infer_shape(out, inputs, [random_array(shape, "float64"), *values])


DIFFERENTIABLE = [row for row in INDEXES if row[0] not in ("empty int vector", "empty mask")]


@pytest.mark.parametrize("case, shape, spec, op_class", DIFFERENTIABLE, ids=[r[0] for r in DIFFERENTIABLE])
def test_indexing_gradient(case, shape, spec, op_class):
    # verify_grad feeds only x; the index parts become constants of the graph.
    constant_index = numpy_index(spec)
    verify_grad(lambda x: x[constant_index], [random_array(shape, "float64")], n_tests=1)


@pytest.mark.parametrize("case, shape, spec, op_class", INDEXES, ids=INDEX_IDS)
def test_indexing_r_op(case, shape, spec, op_class):
    out, inputs, values = compile_index(shape, spec)
    direction = T.TensorType("float64", (False,) * len(shape))("v")
    jv = Rop(out, inputs[0], direction)
    v_value = random_array(shape, "float64", np.random.default_rng(5))
    f = theanolab.function([*inputs, direction], jv, on_unused_input="ignore")
    result = f(random_array(shape, "float64"), *values, v_value)
    np.testing.assert_array_equal(result, v_value[numpy_index(spec)])


def test_tutorial_negative_log_likelihood():
    # log(p)[arange(n), y]: the deeplearning.net tutorials' cost picks one entry per row.
    x, y = T.dmatrix("x"), T.lvector("y")
    log_p = x - T.log(T.exp(x).sum(axis=1, keepdims=True))
    nll = -T.mean(log_p[T.arange(y.shape[0]), y])
    rng = np.random.default_rng(9)
    x_value, y_value = rng.uniform(size=(4, 3)), np.array([2, 0, 2, 1])
    expected_log_p = x_value - np.log(np.exp(x_value).sum(axis=1, keepdims=True))
    np.testing.assert_allclose(theanolab.function([x, y], nll)(x_value, y_value),
                               -expected_log_p[np.arange(4), y_value].mean())
    verify_grad(lambda a: -T.mean((a - T.log(T.exp(a).sum(axis=1, keepdims=True)))[T.arange(4), y_value]),
                [x_value], n_tests=1)


def test_duplicate_indices_accumulate_in_the_gradient():
    x = T.dvector("x")
    g = grad(x[[0, 0, 2, 0]].sum(), x)
    np.testing.assert_array_equal(theanolab.function([x], g)(np.zeros(3)), [3.0, 0.0, 1.0])


def test_gradient_of_a_discrete_input_is_float_zeros():
    x = T.imatrix("x")
    g = grad(x[0].sum() * 1.5, x)
    assert g.dtype == theanolab.config.floatX
    np.testing.assert_array_equal(theanolab.function([x], g)(np.ones((2, 3), "int32")), np.zeros((2, 3)))


def test_mask_sum_gradient():
    x = T.dmatrix("x")
    g = grad(x[x > 0].sum(), x)
    value = np.array([[1.0, -2.0], [-1.0, 3.0]])
    np.testing.assert_array_equal(theanolab.function([x], g)(value), value > 0)


# ---------------------------------------------------------------- set_subtensor / inc_subtensor

# (case, shape of x, index, shape of y, expected op class)
UPDATES = [
    ("int row", (4, 5), 1, (5,), IncSubtensor),
    ("broadcast scalar", (4, 5), slice(1, 3), (), IncSubtensor),
    ("broadcast vector", (4, 5), slice(None, None, 2), (5,), IncSubtensor),
    ("reversed block", (4, 5), (slice(None, None, -1), slice(1, 3)), (4, 2), IncSubtensor),
    ("symbolic bounds", (4, 5), (Sym(2), slice(Sym(-3), None)), (3,), IncSubtensor),
    ("element", (4, 5), (Sym(-1), 0), (), IncSubtensor),
    ("newaxis", (4, 5), (None, 0), (1, 5), IncSubtensor),
    ("rows", (4, 5), [0, 2], (2, 5), AdvancedIncSubtensor1),
    ("repeated rows", (4, 5), Sym([3, 0, 3, 3]), (4, 5), AdvancedIncSubtensor1),
    ("repeated rows, broadcast", (4, 5), Sym([1, 1]), (5,), AdvancedIncSubtensor1),
    ("pairs", (4, 5), (Sym([0, 0, 3]), Sym([1, 1, 4])), (3,), AdvancedIncSubtensor),
    ("columns", (4, 5), (slice(None), [4, 0, 4]), (4, 3), AdvancedIncSubtensor),
    ("mask", (3, 4), Sym(MASK_34), (6,), AdvancedIncSubtensor),
    ("mask, scalar", (3, 4), Sym(MASK_34), (), AdvancedIncSubtensor),
    ("row mask", (3, 4), Sym([True, False, True]), (2, 4), AdvancedIncSubtensor),
]
UPDATE_IDS = [case for case, _, _, _, _ in UPDATES]


def numpy_update(x_value, spec, y_value, set_instead_of_inc):
    expected = x_value.copy()
    if set_instead_of_inc:
        expected[numpy_index(spec)] = y_value
    else:
        np.add.at(expected, numpy_index(spec), y_value)
    return expected


def build_update(shape, spec, y_shape, set_instead_of_inc, dtype="float64"):
    y = T.TensorType(dtype, (False,) * len(y_shape))("y")
    update = T.set_subtensor if set_instead_of_inc else T.inc_subtensor
    out, inputs, values = compile_index(shape, spec, dtype, build=lambda x, index: update(x[index], y))
    return out, [inputs[0], y, *inputs[1:]], values


@pytest.mark.parametrize("dtype", ["float64", "float32", "int16", "uint8"])
@pytest.mark.parametrize("set_instead_of_inc", [True, False], ids=["set", "inc"])
@pytest.mark.parametrize("case, shape, spec, y_shape, op_class", UPDATES, ids=UPDATE_IDS)
def test_updates_match_numpy(case, shape, spec, y_shape, op_class, set_instead_of_inc, dtype):
    out, inputs, values = build_update(shape, spec, y_shape, set_instead_of_inc, dtype)
    assert out.type == inputs[0].type
    assert type(out.owner.op) is op_class or case == "newaxis"
    rng = np.random.default_rng(3)
    x_value, y_value = random_array(shape, dtype, rng), random_array(y_shape, dtype, rng)
    result = theanolab.function(inputs, out)(x_value, y_value, *values)
    np.testing.assert_array_equal(result, numpy_update(x_value, spec, y_value, set_instead_of_inc))
    assert result.dtype == np.dtype(dtype)


@pytest.mark.parametrize("update", [T.set_subtensor, T.inc_subtensor])
def test_update_with_a_broadcastable_value(update):
    x, y = T.dmatrix("x"), T.drow("y")
    out = update(x[::2], y)
    rng = np.random.default_rng(8)
    x_value, y_value = rng.uniform(size=(4, 5)), rng.uniform(size=(1, 5))
    expected = numpy_update(x_value, slice(None, None, 2), y_value, update is T.set_subtensor)
    np.testing.assert_array_equal(theanolab.function([x, y], out)(x_value, y_value), expected)
    verify_grad(lambda a, b: update(a[::2], b.dimshuffle("x", 0)), [x_value, y_value[0]], n_tests=1)


def test_update_does_not_modify_its_input():
    x, y = T.dmatrix("x"), T.dvector("y")
    x_value = np.zeros((2, 3))
    theanolab.function([x, y], T.inc_subtensor(x[0], y))(x_value, np.ones(3))
    np.testing.assert_array_equal(x_value, np.zeros((2, 3)))


def test_update_of_strided_and_empty_inputs():
    x, y = T.dmatrix("x"), T.dscalar("y")
    f = theanolab.function([x, y], T.inc_subtensor(x[:, ::2], y))
    strided = np.arange(24.0).reshape(4, 6)[::2, 1::2]
    expected = strided.copy()
    expected[:, ::2] += 1.0
    np.testing.assert_array_equal(f(strided, 1.0), expected)
    np.testing.assert_array_equal(f(np.zeros((0, 3)), 1.0), np.zeros((0, 3)))


def test_set_casts_the_value_to_the_dtype_of_x():
    x, y = T.imatrix("x"), T.dvector("y")
    out = T.set_subtensor(x[0], y)
    assert out.dtype == "int32"
    result = theanolab.function([x, y], out)(np.zeros((2, 2), "int32"), [1.7, -2.2])
    np.testing.assert_array_equal(result, [[1, -2], [0, 0]])


@pytest.mark.parametrize("set_instead_of_inc", [True, False], ids=["set", "inc"])
@pytest.mark.parametrize("case, shape, spec, y_shape, op_class", UPDATES, ids=UPDATE_IDS)
def test_update_infer_shape(case, shape, spec, y_shape, op_class, set_instead_of_inc):
    out, inputs, values = build_update(shape, spec, y_shape, set_instead_of_inc)
    rng = np.random.default_rng(4)
    check_infer_shape(out, inputs, [random_array(shape, "float64", rng), random_array(y_shape, "float64", rng),
                                    *values])


# Set through repeated positions keeps one of the values: no gradient to check there.
REPEATED_POSITIONS = {"repeated rows", "repeated rows, broadcast", "pairs", "columns"}


@pytest.mark.parametrize("set_instead_of_inc, case, shape, spec, y_shape, op_class", [
    (set_instead_of_inc, *row) for set_instead_of_inc in (True, False) for row in UPDATES
    if not (set_instead_of_inc and row[0] in REPEATED_POSITIONS)],
    ids=[f"{'set' if s else 'inc'}-{row[0]}" for s in (True, False) for row in UPDATES
         if not (s and row[0] in REPEATED_POSITIONS)])
def test_update_gradient_wrt_x_and_y(case, shape, spec, y_shape, op_class, set_instead_of_inc):
    update = T.set_subtensor if set_instead_of_inc else T.inc_subtensor
    constant_index = numpy_index(spec)
    rng = np.random.default_rng(6)
    verify_grad(lambda x, y: update(x[constant_index], y),
                [random_array(shape, "float64", rng), random_array(y_shape, "float64", rng)], n_tests=1)


@pytest.mark.parametrize("set_instead_of_inc", [True, False], ids=["set", "inc"])
@pytest.mark.parametrize("case, shape, spec, y_shape, op_class", UPDATES, ids=UPDATE_IDS)
def test_update_r_op(case, shape, spec, y_shape, op_class, set_instead_of_inc):
    out, inputs, values = build_update(shape, spec, y_shape, set_instead_of_inc)
    x, y = inputs[:2]
    ex, ey = x.type("ex"), y.type("ey")
    jv = Rop(out, [x, y], [ex, ey])
    rng = np.random.default_rng(7)
    x_value, y_value = random_array(shape, "float64", rng), random_array(y_shape, "float64", rng)
    ex_value, ey_value = random_array(shape, "float64", rng), random_array(y_shape, "float64", rng)
    f = theanolab.function([*inputs, ex, ey], jv, on_unused_input="ignore")
    result = f(x_value, y_value, *values, ex_value, ey_value)
    np.testing.assert_allclose(result, numpy_update(ex_value, spec, ey_value, set_instead_of_inc))


# ---------------------------------------------------------------- names and types, as Theano prints them


def _names():
    x, v, i, iv = T.dmatrix("x"), T.dvector("v"), T.iscalar("i"), T.ivector("iv")
    return [
        (x[1:3], "Subtensor{int64:int64:}"),
        (x[0], "Subtensor{int64}"),
        (x[i], "Subtensor{int32}"),
        (x[i:], "Subtensor{int32::}"),
        (x[::2], "Subtensor{::int64}"),
        (x[1:3, 0], "Subtensor{int64:int64:, int64}"),
        (x[:, 1], "Subtensor{::, int64}"),
        (x[v.shape[0]:, i], "Subtensor{int64::, int32}"),
        (v[iv], "AdvancedSubtensor1"),
        (x[iv, iv], "AdvancedSubtensor"),
        (x[x > 0], "AdvancedBooleanSubtensor"),
        (T.set_subtensor(x[1:3], v), "IncSubtensor{Set;int64:int64:}"),
        (T.inc_subtensor(x[0], v), "IncSubtensor{Inc;int64}"),
        (T.inc_subtensor(x[iv], v), "AdvancedIncSubtensor1{no_inplace,inc}"),
        (T.set_subtensor(x[iv], v), "AdvancedIncSubtensor1{no_inplace,set}"),
        (T.inc_subtensor(x[iv, iv], 1.0), "AdvancedIncSubtensor{inplace=False,  set_instead_of_inc=False}"),
        (T.set_subtensor(x[x > 0], 0.0), "AdvancedBooleanIncSubtensor{inplace=False,  set_instead_of_inc=True}"),
    ]


@pytest.mark.parametrize("index", range(len(_names())))
def test_op_names_match_theano(index):
    out, name = _names()[index]
    assert str(out.owner.op) == name


def test_broadcastable_patterns():
    row, x, iv = T.drow("r"), T.dmatrix("x"), T.ivector("iv")
    assert row[0].type == T.dvector().type
    assert row[:, 0].broadcastable == (True,)
    assert row[0:1].broadcastable == (True, False)
    assert row[1:].broadcastable == (False, False)  # may be empty, so not known to have length 1
    assert x[0:1].broadcastable == (False, False)
    assert x[None, :, None].broadcastable == (True, False, True, False)
    assert T.col()[iv].broadcastable == (False, True)
    assert x[T.ivector().dimshuffle("x", 0), iv].broadcastable == (True, False)
    assert x[T.lcol(), T.lrow()].broadcastable == (False, False)
    assert x[T.TensorType("int32", (True,))(), 0].broadcastable == (True,)


def test_index_ops_are_merged_by_value():
    x = T.dmatrix("x")
    assert x[1:3].owner.op == x[2:4].owner.op
    assert hash(x[1:3].owner.op) == hash(x[2:4].owner.op)
    assert x[1:3].owner.op != x[1:].owner.op


def test_index_list_of_symbolic_scalars():
    x, i, j = T.dvector("x"), T.lscalar("i"), T.lscalar("j")
    out = x[[i, j]]
    assert isinstance(out.owner.op, AdvancedSubtensor1)
    np.testing.assert_array_equal(theanolab.function([x, i, j], out)(np.arange(4.0), 3, 1), [3.0, 1.0])


def test_shared_variables_can_be_indexed_and_updated():
    w = theanolab.shared(np.arange(6.0).reshape(2, 3), name="w")
    f = theanolab.function([], w[1, ::-1], updates=[(w, T.inc_subtensor(w[0], 1.0))])
    np.testing.assert_array_equal(f(), [5.0, 4.0, 3.0])
    np.testing.assert_array_equal(w.get_value()[0], [1.0, 2.0, 3.0])


# ---------------------------------------------------------------- symbolic slice lengths


def _slice_cases():
    bounds = [-7, -5, -1, 0, 1, 3, 7]
    return [(n, a, b, c) for n in range(0, 6) for a in bounds for b in bounds for c in (-3, -1, 1, 2)]


@pytest.mark.parametrize("omitted", ["", "start", "stop", "step", "start,stop", "start,step", "stop,step"])
def test_symbolic_slices_match_python_for_every_bound(omitted):
    x, a, b, c = T.dvector("x"), T.lscalar("a"), T.lscalar("b"), T.lscalar("c")
    parts = {"start": a, "stop": b, "step": c}
    out = x[slice(*(None if name in omitted.split(",") else var for name, var in parts.items()))]
    (length,) = out.owner.op.infer_shape(out.owner, [(x.shape[0],)] + [() for _ in out.owner.inputs[1:]])[0]
    f = theanolab.function([x, a, b, c], [out, length], on_unused_input="ignore")
    for n, start, stop, step in _slice_cases():
        if "step" in omitted.split(",") and step != 1:
            continue
        value = np.arange(float(n))
        got, got_length = f(value, start, stop, step)
        expected = value[slice(*(None if name in omitted.split(",") else v
                                 for name, v in zip(parts, (start, stop, step))))]
        np.testing.assert_array_equal(got, expected)
        assert int(got_length) == len(expected), (n, start, stop, step)


# ---------------------------------------------------------------- errors


def _error_cases():
    x, row = T.dmatrix("x"), T.drow("r")
    return [
        ("too many indices", lambda: x[0, 0, 0], IndexError, "too many indices for x"),
        ("too many with a mask", lambda: x[0, T.bmatrix() > 0], IndexError, "too many indices for x"),
        ("two ellipses", lambda: x[..., ...], IndexError, "single Ellipsis"),
        ("float", lambda: x[1.5], TypeError, "to index x"),
        ("string", lambda: x["a"], TypeError, "to index x"),
        ("float variable", lambda: x[T.fscalar("f")], TypeError, "f (TensorType(float32, scalar)) to index x"),
        ("float vector", lambda: x[T.dvector("d")], TypeError, "to index x"),
        ("float list", lambda: x[[1.5]], TypeError, "to index x"),
        ("python bool", lambda: x[True], TypeError, "cannot index x"),
        ("float slice bound", lambda: x[1.0:], TypeError, "slice indices must be integers"),
        ("vector slice bound", lambda: x[T.lvector():], TypeError, "integer scalars"),
        ("zero step", lambda: x[::0], ValueError, "slice step cannot be zero"),
        ("out of range on a broadcastable axis", lambda: row[1], IndexError, "axis 0 of r, which has length 1"),
        ("out of range in a constant", lambda: T.constant(np.zeros(3))[[0, 3]], IndexError,
         "index 3 is out of bounds for axis 0"),
        ("set on a non-subtensor", lambda: T.set_subtensor(x, 1.0), TypeError, "result of a subtensor"),
        ("value of too many dimensions", lambda: T.set_subtensor(x[0], T.dmatrix("y")), TypeError,
         "1-dimensional subtensor with a 2-dimensional value"),
        ("Subtensor given arrays", lambda: Subtensor([T.subtensor.ArraySpec(False)]), TypeError, "Advanced"),
        ("wrong index dtype for the op", lambda: Subtensor(["int64"])(x, T.iscalar()), TypeError,
         "expects an int64 scalar"),
        ("AdvancedSubtensor1 of a matrix index", lambda: AdvancedSubtensor1()(x, T.imatrix("m")), TypeError,
         "integer vector"),
        ("AdvancedSubtensor given a float array", lambda: AdvancedSubtensor([T.subtensor.ArraySpec(False)])(
            x, T.dvector("d")), TypeError, "integer array to index x"),
    ]


@pytest.mark.parametrize("index", range(len(_error_cases())), ids=[c[0] for c in _error_cases()])
def test_bad_indices_raise_clear_errors(index):
    _, build, error, message = _error_cases()[index]
    with pytest.raises(error, match=message.replace("(", r"\(").replace(")", r"\)")):
        build()


@pytest.mark.parametrize("build, value", [
    (lambda x, i: x[i], 5),
    (lambda x, i: x[[0, i]], -6),
    (lambda x, i: x[i, [0, 1]], 7),
    (lambda x, i: T.inc_subtensor(x[[i]], 1.0), 5),
], ids=["int", "vector", "pair", "increment"])
def test_run_time_out_of_range_names_the_node(build, value):
    x, i = T.dmatrix("x"), T.lscalar("i")
    f = theanolab.function([x, i], build(x, i))
    with pytest.raises(IndexError, match="out of bounds") as info:
        f(np.zeros((5, 2)), value)
    assert "Apply node that caused the error" in str(info.value)
    assert "test_subtensor.py" in str(info.value)


def test_run_time_mask_of_the_wrong_shape_names_the_node():
    x, m = T.dmatrix("x"), T.bmatrix("m")
    f = theanolab.function([x, m], x[m > 0])
    with pytest.raises(IndexError, match="Apply node that caused the error: (Gpu)?AdvancedBooleanSubtensor"):
        f(np.zeros((2, 2)), np.ones((3, 2), "int8"))


def test_run_time_value_of_the_wrong_shape():
    x, y = T.dmatrix("x"), T.dvector("y")
    f = theanolab.function([x, y], T.set_subtensor(x[0], y))
    with pytest.raises(ValueError, match="IncSubtensor"):
        f(np.zeros((2, 3)), np.zeros(4))
