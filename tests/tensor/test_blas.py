"""Tests of ``T.dot``, the ``Dot`` op and ``T.outer``: values and dtypes vs NumPy,
shapes, gradients of every rank combination, R_op, and errors."""

import numpy as np
import pytest
from helpers import check_infer_shape, random_array

import theanolab
import theanolab.tensor as T
from theanolab.gradient import Rop, grad, verify_grad
from theanolab.graph.fgraph import MissingInputError
from theanolab.tensor.blas import BatchedDot, Dot, Dot22, Dot22Scalar, Gemm, Gemv, Ger


def symbolic(dtype, ndim, name=None):
    return T.TensorType(dtype, (False,) * ndim)(name)


def run(a_value, b_value, build=T.dot):
    a = symbolic(a_value.dtype, a_value.ndim, "a")
    b = symbolic(b_value.dtype, b_value.ndim, "b")
    return theanolab.function([a, b], build(a, b))(a_value, b_value)


# (case, shape of a, shape of b): every rank combination np.dot accepts, empty dimensions included.
SHAPES = [
    ("vector.vector", (4,), (4,)),
    ("matrix.vector", (3, 4), (4,)),
    ("vector.matrix", (4,), (4, 2)),
    ("matrix.matrix", (3, 4), (4, 2)),
    ("empty rows", (0, 3), (3, 2)),
    ("empty inner", (2, 0), (0, 3)),
    ("empty vectors", (0,), (0,)),
    ("empty columns", (3,), (3, 0)),
    ("tensor3.vector", (2, 3, 4), (4,)),
    ("tensor3.matrix", (2, 3, 4), (4, 5)),
    ("vector.tensor3", (3,), (2, 3, 4)),
    ("matrix.tensor3", (5, 3), (2, 3, 4)),
    ("tensor3.tensor4", (2, 3, 4), (5, 2, 4, 3)),
    ("scalar.matrix", (), (2, 3)),
    ("vector.scalar", (3,), ()),
]
SHAPE_IDS = [case for case, _, _ in SHAPES]

DTYPE_PAIRS = [
    ("float64", "float64"),
    ("float32", "float32"),
    ("float32", "float64"),
    ("int8", "int8"),
    ("int32", "float32"),
    ("int64", "int16"),
    ("uint8", "int8"),
]


@pytest.mark.parametrize("dtypes", DTYPE_PAIRS, ids=lambda d: "-".join(d))
@pytest.mark.parametrize("case, a_shape, b_shape", SHAPES, ids=SHAPE_IDS)
def test_values_and_dtype_match_numpy(case, a_shape, b_shape, dtypes):
    rng = np.random.default_rng(1)
    a_value = random_array(a_shape, dtypes[0], rng)
    b_value = random_array(b_shape, dtypes[1], rng)
    expected = np.dot(a_value, b_value)
    value = run(a_value, b_value)
    assert value.dtype == expected.dtype
    assert value.shape == expected.shape
    np.testing.assert_allclose(value, expected, rtol=1e-5 if "float32" in dtypes else 1e-12)


@pytest.mark.parametrize("dtypes, expected", [
    (("float32", "float32"), "float32"),
    (("float32", "int32"), "float64"),
    (("int8", "int8"), "int8"),
    (("int8", "int16"), "int16"),
    (("bool", "bool"), "bool"),
    (("float64", "float32"), "float64"),
])
@pytest.mark.parametrize("ranks", [(1, 1), (2, 1), (1, 2), (2, 2)])
def test_output_dtype_is_the_upcast(dtypes, expected, ranks):
    out = T.dot(symbolic(dtypes[0], ranks[0]), symbolic(dtypes[1], ranks[1]))
    assert out.dtype == expected
    assert out.ndim == ranks[0] + ranks[1] - 2


@pytest.mark.parametrize("a_pattern, b_pattern, out_pattern", [
    ((False,), (False,), ()),
    ((True, False), (False, False), (True, False)),
    ((False, False), (False, True), (False, True)),
    ((True, False), (False,), (True,)),
    ((False,), (False, True), (True,)),
])
def test_broadcastable_pattern_follows_the_kept_dimensions(a_pattern, b_pattern, out_pattern):
    out = T.dot(T.TensorType("float64", a_pattern)(), T.TensorType("float64", b_pattern)())
    assert out.broadcastable == out_pattern


@pytest.mark.parametrize("transform", [
    lambda m: m.T,  # Fortran order
    lambda m: m[:, ::2],  # strided columns
    lambda m: m[::-1],  # negative strides
])
def test_non_contiguous_input_values(transform):
    rng = np.random.default_rng(2)
    a_value = transform(random_array((6, 6), "float64", rng))
    b_value = random_array((a_value.shape[1], 3), "float64", rng)
    assert not a_value.flags.c_contiguous
    np.testing.assert_allclose(run(a_value, b_value), np.dot(a_value, b_value))


def test_symbolic_transpose_inside_the_graph():
    x = T.dmatrix("x")
    value = random_array((3, 4), "float64")
    np.testing.assert_allclose(theanolab.function([x], T.dot(x.T, x))(value), value.T @ value)


def test_operator_and_method_spellings():
    x, y = T.dmatrices("x", "y")
    for out in (x @ y, x.dot(y), T.dot(x, y)):
        assert isinstance(out.owner.op, Dot)
    assert (np.ones((2, 2)) @ y).owner.inputs[1] is y


def test_op_prints_as_dot_and_compares_by_value():
    out = T.dot(T.dmatrix(), T.dvector())
    assert str(out.owner.op) == "dot"
    assert Dot() == Dot() and hash(Dot()) == hash(Dot())


@pytest.mark.parametrize("case, a_shape, b_shape", SHAPES, ids=SHAPE_IDS)
def test_infer_shape(case, a_shape, b_shape):
    rng = np.random.default_rng(3)
    values = [random_array(a_shape, "float64", rng), random_array(b_shape, "float64", rng)]
    a, b = symbolic("float64", len(a_shape)), symbolic("float64", len(b_shape))
    check_infer_shape(T.dot(a, b), [a, b], values)


# Empty shapes have nothing to differentiate; float32 is checked on the plain ranks only.
GRADIENT_CASES = [
    pytest.param(case, a_shape, b_shape, dtype, id=f"{case}-{dtype}")
    for case, a_shape, b_shape in SHAPES
    for dtype in ("float64", "float32")
    if 0 not in a_shape + b_shape and (dtype == "float64" or len(a_shape) + len(b_shape) <= 4)
]


@pytest.mark.parametrize("case, a_shape, b_shape, dtype", GRADIENT_CASES)
def test_gradient_of_every_rank_combination(case, a_shape, b_shape, dtype):
    rng = np.random.default_rng(4)
    verify_grad(T.dot, [random_array(a_shape, dtype, rng), random_array(b_shape, dtype, rng)], rng=rng)


@pytest.mark.parametrize("int_first", [True, False])
def test_gradient_through_an_integer_operand(int_first):
    x, n = T.dmatrix("x"), T.imatrix("n")
    cost = (T.dot(n, x) if int_first else T.dot(x, n)).sum()
    g = grad(cost, x)
    x_value, n_value = random_array((3, 3), "float64"), random_array((3, 3), "int32")
    ones = np.ones((3, 3))
    expected = n_value.T @ ones if int_first else ones @ n_value.T
    np.testing.assert_allclose(theanolab.function([x, n], g)(x_value, n_value), expected)
    assert g.dtype == "float64"


@pytest.mark.parametrize("a_shape, b_shape", [((4,), (4,)), ((3, 4), (4,)), ((4,), (4, 2)), ((3, 4), (4, 2))])
def test_rop_matches_the_product_rule(a_shape, b_shape):
    rng = np.random.default_rng(5)
    a, b = symbolic("float64", len(a_shape)), symbolic("float64", len(b_shape))
    va, vb = symbolic("float64", len(a_shape)), symbolic("float64", len(b_shape))
    values = [random_array(s, "float64", rng) for s in (a_shape, b_shape, a_shape, b_shape)]
    a_value, b_value, va_value, vb_value = values
    out = T.dot(a, b)
    both = theanolab.function([a, b, va, vb], Rop(out, [a, b], [va, vb]))(*values)
    np.testing.assert_allclose(both, np.dot(va_value, b_value) + np.dot(a_value, vb_value))
    # As in Theano, a (not in wrt) has the direction zero: dot(zeros_like(a), b) + dot(a, vb) uses b too.
    only_b = Rop(out, b, vb)
    np.testing.assert_allclose(theanolab.function([a, b, vb], only_b)(a_value, b_value, vb_value),
                               np.dot(a_value, vb_value))
    with pytest.raises(MissingInputError):
        theanolab.function([a, vb], only_b)


PRODUCT_OPS = (Dot, BatchedDot, Dot22, Dot22Scalar, Gemm, Gemv, Ger)

# The optimized Rop of a product: the zero direction's product is gone (rule dot_of_zeros).
ROP_OF_DOT = [
    ("tutorial: vector.matrix w.r.t. the matrix", (2,), (2, 2), "b"),
    ("matrix.vector w.r.t. the vector", (3, 4), (4,), "b"),
    ("matrix.matrix w.r.t. the first", (3, 4), (4, 2), "a"),
    ("empty rows", (0, 3), (3, 2), "b"),
    ("empty inner", (2, 0), (0, 3), "a"),
]


@pytest.mark.parametrize("case, a_shape, b_shape, wrt", ROP_OF_DOT, ids=[c[0] for c in ROP_OF_DOT])
def test_optimized_rop_of_dot_computes_one_product(case, a_shape, b_shape, wrt):
    rng = np.random.default_rng(11)
    a, b = symbolic("float64", len(a_shape), "a"), symbolic("float64", len(b_shape), "b")
    point_shape = a_shape if wrt == "a" else b_shape
    v = symbolic("float64", len(point_shape), "v")
    a_value, b_value, v_value = (random_array(s, "float64", rng) for s in (a_shape, b_shape, point_shape))
    f = theanolab.function([a, b, v], Rop(T.dot(a, b), a if wrt == "a" else b, v))
    expected = np.dot(v_value, b_value) if wrt == "a" else np.dot(a_value, v_value)
    got = f(a_value, b_value, v_value)
    assert got.shape == expected.shape
    np.testing.assert_allclose(got, expected)
    assert "dot_of_zeros" in f.maker.rewrite_history.rewrites_used()
    products = [n for n in f.maker.fgraph.toposort() if isinstance(n.op, PRODUCT_OPS)]
    assert len(products) == 1, theanolab.printing.debugprint(f, file="str")


def test_rop_agrees_with_the_jacobian():
    a, b, v = T.dmatrix("a"), T.dmatrix("b"), T.dmatrix("v")
    a_value, b_value, v_value = (random_array(s, "float64") for s in ((3, 4), (4, 2), (3, 4)))
    out = T.dot(a, b)
    f = theanolab.function([a, b, v], [Rop(out, a, v), theanolab.gradient.jacobian(out, a)])
    jv, jacobian = f(a_value, b_value, v_value)
    np.testing.assert_allclose(jv, np.tensordot(jacobian, v_value, axes=2))


@pytest.mark.parametrize("x_shape, y_shape", [((3,), (4,)), ((0,), (2,)), ((2, 2), (3,))])
def test_outer_values(x_shape, y_shape):
    rng = np.random.default_rng(6)
    x_value, y_value = random_array(x_shape, "float64", rng), random_array(y_shape, "float64", rng)
    value = run(x_value, y_value, build=T.outer)
    np.testing.assert_allclose(value, np.outer(x_value, y_value))
    assert value.shape == np.outer(x_value, y_value).shape


def test_outer_prints_as_dot_and_has_a_gradient():
    out = T.outer(T.fvector(), T.fvector())
    assert str(out.owner.op) == "dot" and out.dtype == "float32" and out.broadcastable == (False, False)
    verify_grad(T.outer, [random_array((3,), "float64"), random_array((2,), "float64")])


def test_dot_op_refuses_other_ranks():
    with pytest.raises(TypeError, match="first input .* 3 dimensions; expected 1 or 2"):
        Dot()(T.dtensor3(), T.dmatrix())
    with pytest.raises(TypeError, match="second input .* 0 dimensions"):
        Dot()(T.dvector(), T.dscalar())
    with pytest.raises(TypeError, match="BatchedDot: the second input .* expected 3"):
        BatchedDot()(T.dtensor3(), T.dmatrix())


def test_misaligned_shapes_name_both_shapes():
    x, y = T.dmatrix("x"), T.dvector("y")
    f = theanolab.function([x, y], T.dot(x, y))
    with pytest.raises(ValueError, match=r"\(2, 3\) and \(4,\) are not aligned"):
        f(np.ones((2, 3)), np.ones(4))


# --------------------------------------------------------------------------- tensordot

TENSORDOT = [
    ((2, 3, 4), (3, 4, 5), 2),
    ((2, 3), (3, 4), 1),
    ((2, 3), (4,), 0),
    ((3, 4), (3, 4), 2),
    ((4, 3, 2), (3, 4, 5), ([1, 0], [0, 1])),
    ((2, 3), (5, 3), ([-1], [1])),
    ((2, 3), (3, 2), (1, 0)),
    ((0, 3), (3, 2), 1),
    ((2, 0), (0, 3), 1),
]


@pytest.mark.parametrize("a_shape, b_shape, axes", TENSORDOT, ids=str)
def test_tensordot_values_shape_and_gradient(a_shape, b_shape, axes):
    rng = np.random.default_rng(7)
    a_value, b_value = random_array(a_shape, "float64", rng), random_array(b_shape, "float64", rng)
    a, b = symbolic("float64", len(a_shape)), symbolic("float64", len(b_shape))
    out = T.tensordot(a, b, axes)
    expected = np.tensordot(a_value, b_value, axes)
    value = theanolab.function([a, b], out)(a_value, b_value)
    assert value.shape == expected.shape
    np.testing.assert_allclose(value, expected)
    check_infer_shape(out, [a, b], [a_value, b_value])
    if a_value.size and b_value.size:
        verify_grad(lambda x, y: T.tensordot(x, y, axes), [a_value, b_value])


@pytest.mark.parametrize("axes, message", [
    (3, "axes=3"),
    (([0], [0, 1]), "1 axes of a but 2"),
    (([2], [0]), "out of range for a"),
    (([0, 0], [0, 1]), "repeated"),
    ("x", "pair of axis lists"),
])
def test_tensordot_axes_errors(axes, message):
    with pytest.raises((TypeError, ValueError), match=message):
        T.tensordot(T.dmatrix(), T.dmatrix(), axes)


# --------------------------------------------------------------------------- batched_dot

BATCHED = [
    ((4, 2, 3), (4, 3, 5)),
    ((4, 3), (4, 3)),
    ((4, 2, 3), (4, 3)),
    ((4, 3), (4, 3, 5)),
    ((4,), (4, 3)),
    ((4, 2, 3), (4,)),
    ((0, 2, 3), (0, 3, 5)),
]


def reference_batched_dot(a, b):
    if a.ndim == 1 or b.ndim == 1:
        pad = max(a.ndim, b.ndim) - 1
        return (a.reshape(a.shape + (1,) * pad) if a.ndim == 1 else a) * \
            (b.reshape(b.shape + (1,) * pad) if b.ndim == 1 else b)
    return np.stack([np.dot(x, y) for x, y in zip(a, b)]) if len(a) else \
        np.zeros(a.shape[:-1] + b.shape[2:])


@pytest.mark.parametrize("dtypes", [("float64", "float64"), ("float32", "float32"), ("int32", "float32")],
                         ids="-".join)
@pytest.mark.parametrize("a_shape, b_shape", BATCHED, ids=str)
def test_batched_dot_values_and_dtype(a_shape, b_shape, dtypes):
    rng = np.random.default_rng(8)
    a_value, b_value = random_array(a_shape, dtypes[0], rng), random_array(b_shape, dtypes[1], rng)
    a, b = symbolic(dtypes[0], len(a_shape)), symbolic(dtypes[1], len(b_shape))
    out = T.batched_dot(a, b)
    value = theanolab.function([a, b], out)(a_value, b_value)
    expected = reference_batched_dot(a_value, b_value)
    assert value.dtype == np.result_type(*dtypes) == out.dtype
    assert value.shape == expected.shape
    np.testing.assert_allclose(value, expected, rtol=1e-5)


@pytest.mark.parametrize("a_shape, b_shape", [s for s in BATCHED if s[0][0]], ids=str)
def test_batched_dot_gradient_and_infer_shape(a_shape, b_shape):
    rng = np.random.default_rng(9)
    values = [random_array(a_shape, "float64", rng), random_array(b_shape, "float64", rng)]
    verify_grad(T.batched_dot, values)
    a, b = symbolic("float64", len(a_shape)), symbolic("float64", len(b_shape))
    check_infer_shape(T.batched_dot(a, b), [a, b], values)


def test_batched_dot_op_rop_and_name():
    a, b, va = T.dtensor3("a"), T.dtensor3("b"), T.dtensor3("va")
    out = T.batched_dot(a, b)
    assert isinstance(out.owner.op, BatchedDot) and str(out.owner.op) == "BatchedDot"
    values = [random_array(s, "float64") for s in ((2, 3, 4), (2, 4, 5), (2, 3, 4))]
    jv = theanolab.function([a, b, va], Rop(out, a, va), on_unused_input="ignore")(*values)
    np.testing.assert_allclose(jv, np.matmul(values[2], values[1]))


def test_batched_dot_errors():
    with pytest.raises(TypeError, match="1 to 3 dimensions"):
        T.batched_dot(T.dscalar(), T.dvector())
    a, b = T.dtensor3("a"), T.dtensor3("b")
    f = theanolab.function([a, b], T.batched_dot(a, b))
    with pytest.raises(ValueError, match="do not fit"):
        f(np.ones((2, 3, 4)), np.ones((3, 4, 5)))


# --------------------------------------------------------------------------- the slides' examples


def test_slides_vector_dot_product():
    x = T.vector()
    y = T.vector()
    a = x * y
    b = T.dot(x, y)
    assert b.ndim == 0 and b.dtype == theanolab.config.floatX
    x_value = np.array([1, 2, 3], dtype=theanolab.config.floatX)
    y_value = np.array([4, 5, 6], dtype=theanolab.config.floatX)
    a_value, b_value = theanolab.function([x, y], [a, b])(x_value, y_value)
    np.testing.assert_allclose(a_value, [4, 10, 18])
    np.testing.assert_allclose(b_value, 32)


def test_slides_matrix_math():
    x = T.matrix()
    y = T.matrix()
    a = T.vector()
    b = T.dot(x, y)
    c = T.dot(x, a)
    assert (b.ndim, c.ndim) == (2, 1)
    x_value = np.arange(6, dtype=theanolab.config.floatX).reshape(2, 3)
    y_value = np.arange(12, dtype=theanolab.config.floatX).reshape(3, 4)
    a_value = np.array([1, -1, 2], dtype=theanolab.config.floatX)
    b_value, c_value = theanolab.function([x, y, a], [b, c])(x_value, y_value, a_value)
    np.testing.assert_allclose(b_value, x_value @ y_value)
    np.testing.assert_allclose(c_value, x_value @ a_value)
