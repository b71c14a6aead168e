"""Tests of ``T.nnet``: sigmoid, softplus, relu, softmax, log_softmax and the cross-entropies.

Values vs NumPy references on several dtypes, exact results at +-1000
(stability), output dtypes and printed names as Theano has them, shapes,
gradients (first and second order where the grad is an op), R_op, errors.
"""

import numpy as np
import pytest
from helpers import check_infer_shape, random_array

import theanolab
import theanolab.tensor as T
from theanolab.gradient import Rop, grad, verify_grad
from theanolab.tensor import nnet
from theanolab.tensor.nnet import crossentropy_categorical_1hot_grad, sigmoid, softmax_grad

EXTREMES = np.array([-1000.0, -30.0, -1.0, 0.0, 1.0, 30.0, 1000.0])


def reference_softplus(x):
    with np.errstate(invalid="ignore"):  # NaN in, NaN out
        return np.logaddexp(0, np.asarray(x, dtype="float64"))


def reference_sigmoid(x):
    return np.exp(-reference_softplus(-np.asarray(x, dtype="float64")))


def reference_softmax(x):
    e = np.exp(x - x.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def reference_log_softmax(x):
    shifted = x - x.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


def compile_unary(function, dtype, ndim):
    x = T.TensorType(dtype, (False,) * ndim)("x")
    return theanolab.function([x], function(x))


# --------------------------------------------------------------------------- sigmoid and softplus

UNARY = [("sigmoid", nnet.sigmoid, reference_sigmoid), ("softplus", nnet.softplus, reference_softplus)]
UNARY_IDS = [name for name, _, _ in UNARY]

# input dtype -> output dtype, as Theano's upgrade_to_float
FLOAT_OF = {"float64": "float64", "float32": "float32", "int8": "float32", "uint8": "float32",
            "int16": "float32", "int32": "float64", "int64": "float64", "bool": "float32"}


@pytest.mark.parametrize("dtype", sorted(FLOAT_OF))
@pytest.mark.parametrize("name, function, reference", UNARY, ids=UNARY_IDS)
def test_unary_values_and_dtypes(name, function, reference, dtype):
    value = random_array((3, 4), dtype, np.random.default_rng(0))
    result = compile_unary(function, dtype, 2)(value)
    assert result.dtype == FLOAT_OF[dtype]
    np.testing.assert_allclose(result, reference(value), rtol=1e-6 if FLOAT_OF[dtype] == "float32" else 1e-13)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name, function, reference", UNARY, ids=UNARY_IDS)
def test_unary_is_exact_at_the_extremes_without_overflow(name, function, reference, dtype):
    f = compile_unary(function, dtype, 1)
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        result = f(EXTREMES.astype(dtype))
    assert np.all(np.isfinite(result))
    np.testing.assert_allclose(result, reference(EXTREMES).astype(dtype), rtol=1e-6, atol=0)


def test_exact_extreme_values():
    s = compile_unary(nnet.sigmoid, "float64", 1)(np.array([-1000.0, 0.0, 1000.0]))
    p = compile_unary(nnet.softplus, "float64", 1)(np.array([-1000.0, 0.0, 1000.0]))
    assert s.tolist() == [0.0, 0.5, 1.0]
    assert p.tolist() == [0.0, np.log(2.0), 1000.0]


@pytest.mark.parametrize("name, function, reference", UNARY, ids=UNARY_IDS)
def test_unary_empty_and_infinite_inputs(name, function, reference):
    f = compile_unary(function, "float64", 1)
    assert f(np.zeros(0)).shape == (0,)
    np.testing.assert_array_equal(f(np.array([-np.inf, np.inf])), reference(np.array([-np.inf, np.inf])))
    assert np.isnan(f(np.array([np.nan]))).all()


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name, function, reference", UNARY, ids=UNARY_IDS)
def test_unary_gradient(name, function, reference, dtype):
    verify_grad(function, [random_array((3, 4), dtype)])
    x = T.TensorType(dtype, (False,))("x")
    assert grad(function(x).sum(), x).dtype == dtype


@pytest.mark.parametrize("name, function, reference", UNARY, ids=UNARY_IDS)
def test_unary_second_derivative(name, function, reference):
    verify_grad(lambda x: grad(function(x).sum(), x), [random_array((5,), "float64")])


def test_sigmoid_rop_and_infer_shape():
    x, v = T.dmatrix("x"), T.dmatrix("v")
    x_value, v_value = random_array((2, 3), "float64"), random_array((2, 3), "float64")
    jv = theanolab.function([x, v], Rop(nnet.sigmoid(x), x, v))(x_value, v_value)
    s = reference_sigmoid(x_value)
    np.testing.assert_allclose(jv, s * (1 - s) * v_value)
    check_infer_shape(nnet.softplus(x), [x], [x_value])


def test_names_and_module_paths():
    x = T.dvector("x")
    assert str(nnet.sigmoid(x).owner.op) == "Elemwise{sigmoid,no_inplace}"
    assert str(nnet.softplus(x).owner.op) == "Elemwise{softplus,no_inplace}"
    assert T.sigmoid is T.nnet.sigmoid is sigmoid
    for name in ("sigmoid", "softplus", "relu", "softmax", "log_softmax", "logsoftmax",
                 "binary_crossentropy", "categorical_crossentropy"):
        assert name in nnet.__all__ and getattr(T.nnet, name) is getattr(nnet, name)


# --------------------------------------------------------------------------- relu


@pytest.mark.parametrize("alpha", [0, 0.1, 0.5])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_relu_values(alpha, dtype):
    value = random_array((4, 5), dtype)
    result = compile_unary(lambda x: nnet.relu(x, alpha), dtype, 2)(value)
    np.testing.assert_allclose(result, np.where(value > 0, value, alpha * value), rtol=1e-6)


@pytest.mark.parametrize("x_type, alpha, expected", [
    (T.fvector, 0, "float32"),
    (T.dvector, 0, "float64"),
    (T.ivector, 0, "float64"),  # int32 * 0.5 (float32) is float64, as in Theano
    (T.fvector, 0.5, "float32"),
])
def test_relu_dtype_like_theano(x_type, alpha, expected):
    assert nnet.relu(x_type(), alpha).dtype == expected


def test_relu_with_symbolic_alpha_and_gradient():
    x, alpha = T.dvector("x"), T.dscalar("alpha")
    value = np.array([-2.0, -0.5, 0.5, 3.0])
    f = theanolab.function([x, alpha], [nnet.relu(x, alpha), grad(nnet.relu(x, alpha).sum(), x)])
    out, slope = f(value, 0.2)
    np.testing.assert_allclose(out, [-0.4, -0.1, 0.5, 3.0])
    np.testing.assert_allclose(slope, [0.2, 0.2, 1.0, 1.0])
    away_from_zero = np.array([[-2.0, -0.5], [0.7, 3.0]])
    verify_grad(lambda v: nnet.relu(v, 0.1), [away_from_zero])
    verify_grad(nnet.relu, [away_from_zero])


# --------------------------------------------------------------------------- softmax and log_softmax

ROWWISE = [("softmax", nnet.softmax, reference_softmax, "Softmax"),
           ("log_softmax", nnet.log_softmax, reference_log_softmax, "LogSoftmax")]
ROWWISE_IDS = [name for name, *_ in ROWWISE]


@pytest.mark.parametrize("shape", [(3, 5), (1, 4), (0, 3), (4, 1)])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name, function, reference, op_name", ROWWISE, ids=ROWWISE_IDS)
def test_rowwise_values(name, function, reference, op_name, dtype, shape):
    value = random_array(shape, dtype)
    result = compile_unary(function, dtype, 2)(value)
    assert result.dtype == dtype and result.shape == shape
    np.testing.assert_allclose(result, reference(value.astype("float64")), rtol=1e-5, atol=1e-6)


def test_softmax_rows_sum_to_one():
    result = compile_unary(nnet.softmax, "float64", 2)(random_array((6, 7), "float64", high=50))
    np.testing.assert_allclose(result.sum(axis=1), 1.0)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_rowwise_stability_at_1000(dtype):
    rows = np.array([[1000.0, 0.0, -1000.0], [-1000.0, -1000.0, -1000.0], [1000.0, 1000.0, 0.0]], dtype=dtype)
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        sm = compile_unary(nnet.softmax, dtype, 2)(rows)
        lsm = compile_unary(nnet.log_softmax, dtype, 2)(rows)
    np.testing.assert_array_equal(sm, np.array([[1, 0, 0], [1 / 3, 1 / 3, 1 / 3], [0.5, 0.5, 0]], dtype=dtype))
    log2, log3 = np.log(2.0), np.log(3.0)
    np.testing.assert_allclose(lsm, [[0, -1000, -2000], [-log3] * 3, [-log2, -log2, -1000 - log2]], rtol=1e-6)
    assert np.all(np.isfinite(lsm))


@pytest.mark.parametrize("name, function, reference, op_name", ROWWISE, ids=ROWWISE_IDS)
def test_rowwise_names_types_and_vector_padding(name, function, reference, op_name):
    m = T.fmatrix("m")
    out = function(m)
    assert str(out.owner.op) == op_name and out.type == m.type
    v = T.dvector("v")
    row = function(v)
    assert row.broadcastable == (True, False)  # Theano pads a vector to one row
    value = np.array([1.0, 2.0, 3.0])
    np.testing.assert_allclose(theanolab.function([v], row)(value), reference(value[None, :]))


@pytest.mark.parametrize("name, function, reference, op_name", ROWWISE, ids=ROWWISE_IDS)
@pytest.mark.parametrize("bad", [T.imatrix, T.dtensor3, T.dscalar])
def test_rowwise_refuses_non_float_matrices(name, function, reference, op_name, bad):
    with pytest.raises(TypeError, match="float|vector or a matrix"):
        function(bad("x"))


@pytest.mark.parametrize("name, function, reference, op_name", ROWWISE, ids=ROWWISE_IDS)
def test_rowwise_infer_shape(name, function, reference, op_name):
    m = T.dmatrix("m")
    check_infer_shape(function(m), [m], [random_array((3, 4), "float64")])
    check_infer_shape(function(m), [m], [random_array((0, 2), "float64")])


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name, function, reference, op_name", ROWWISE, ids=ROWWISE_IDS)
def test_rowwise_gradient(name, function, reference, op_name, dtype):
    verify_grad(function, [random_array((3, 4), dtype)])


@pytest.mark.parametrize("name, function, reference, op_name", ROWWISE, ids=ROWWISE_IDS)
def test_rowwise_second_derivative(name, function, reference, op_name):
    weights = random_array((3, 4), "float64", np.random.default_rng(7))
    verify_grad(lambda x: grad((function(x) * weights).sum(), x), [random_array((3, 4), "float64")])


def test_softmax_gradient_is_softmax_grad_op():
    m = T.dmatrix("m")
    g = grad((nnet.softmax(m) * 2).sum(), m)
    assert any(str(node.op) == "SoftmaxGrad" for node in theanolab.graph.basic.io_toposort([m], [g]))


def test_softmax_grad_op_gradients():
    dy, sm = random_array((3, 4), "float64"), reference_softmax(random_array((3, 4), "float64"))
    verify_grad(softmax_grad, [dy, sm])


@pytest.mark.parametrize("name, function, reference, op_name", ROWWISE, ids=ROWWISE_IDS)
def test_rowwise_rop_agrees_with_the_jacobian(name, function, reference, op_name):
    x, v = T.dmatrix("x"), T.dmatrix("v")
    x_value, v_value = random_array((2, 3), "float64"), random_array((2, 3), "float64")
    out = function(x)
    jv, jacobian = theanolab.function([x, v], [Rop(out, x, v), theanolab.gradient.jacobian(out, x)])(
        x_value, v_value)
    np.testing.assert_allclose(jv, np.tensordot(jacobian, v_value, axes=2), atol=1e-12)


# --------------------------------------------------------------------------- cross-entropies


def probabilities(shape, dtype="float64", seed=0):
    return reference_softmax(random_array(shape, "float64", np.random.default_rng(seed))).astype(dtype)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_binary_crossentropy_values(dtype):
    output = np.array([0.1, 0.5, 0.9, 0.99], dtype=dtype)
    target = np.array([0.0, 1.0, 1.0, 0.3], dtype=dtype)
    o, t = T.TensorType(dtype, (False,))("o"), T.TensorType(dtype, (False,))("t")
    result = theanolab.function([o, t], nnet.binary_crossentropy(o, t))(output, target)
    assert result.dtype == dtype
    o64, t64 = output.astype("float64"), target.astype("float64")
    np.testing.assert_allclose(result, -(t64 * np.log(o64) + (1 - t64) * np.log(1 - o64)), rtol=1e-5)


def test_binary_crossentropy_gradient():
    output = np.array([[0.2, 0.7], [0.4, 0.9]])
    target = np.array([[0.0, 1.0], [0.5, 1.0]])
    verify_grad(nnet.binary_crossentropy, [output, target])


@pytest.mark.parametrize("index_dtype", ["int32", "int64", "uint8"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_categorical_crossentropy_indices_equal_one_hot(dtype, index_dtype):
    coding_value = probabilities((4, 3), dtype)
    classes = np.array([2, 0, 1, 2], dtype=index_dtype)
    one_hot = np.eye(3, dtype=dtype)[classes]
    coding = T.TensorType(dtype, (False, False))("coding")
    y = T.TensorType(index_dtype, (False,))("y")
    t = T.TensorType(dtype, (False, False))("t")
    by_index = nnet.categorical_crossentropy(coding, y)
    by_rows = nnet.categorical_crossentropy(coding, t)
    assert str(by_index.owner.op) == "CrossentropyCategorical1Hot"
    assert by_index.dtype == by_rows.dtype == dtype
    a, b = theanolab.function([coding, y, t], [by_index, by_rows])(coding_value, classes, one_hot)
    expected = -np.log(coding_value.astype("float64")[np.arange(4), classes])
    np.testing.assert_allclose(a, expected, rtol=1e-6)
    np.testing.assert_allclose(b, expected, rtol=1e-6)


def test_categorical_crossentropy_with_soft_targets():
    coding_value, target = probabilities((3, 4), seed=1), probabilities((3, 4), seed=2)
    coding, t = T.dmatrices("coding", "t")
    result = theanolab.function([coding, t], nnet.categorical_crossentropy(coding, t))(coding_value, target)
    np.testing.assert_allclose(result, -(target * np.log(coding_value)).sum(axis=1))


def test_categorical_crossentropy_empty_batch():
    coding, y = T.dmatrix("coding"), T.lvector("y")
    result = theanolab.function([coding, y], nnet.categorical_crossentropy(coding, y))(
        np.zeros((0, 3)), np.zeros(0, dtype="int64"))
    assert result.shape == (0,)


def test_categorical_crossentropy_gradients():
    classes = np.array([1, 0, 2])
    verify_grad(lambda c: nnet.categorical_crossentropy(c, T.constant(classes)), [probabilities((3, 3))])
    one_hot = np.eye(3)[classes]
    verify_grad(lambda c: nnet.categorical_crossentropy(c, T.constant(one_hot)), [probabilities((3, 3))])
    coding, y = T.dmatrix("coding"), T.lvector("y")
    g = grad(nnet.categorical_crossentropy(coding, y).sum(), coding)
    assert str(g.owner.op) == "CrossentropyCategorical1HotGrad"
    value = probabilities((3, 3))
    expected = np.zeros((3, 3))
    expected[np.arange(3), classes] = -1 / value[np.arange(3), classes]
    np.testing.assert_allclose(theanolab.function([coding, y], g)(value, classes), expected)


def test_one_hot_grad_op_gradients():
    classes = T.constant(np.array([1, 0, 2, 1]))
    verify_grad(lambda g, c: crossentropy_categorical_1hot_grad(g, c, classes),
                [random_array((4,), "float64"), probabilities((4, 3)) + 0.1])


def test_categorical_crossentropy_infer_shape():
    coding, y = T.dmatrix("coding"), T.lvector("y")
    values = [probabilities((3, 4)), np.array([0, 3, 1])]
    check_infer_shape(nnet.categorical_crossentropy(coding, y), [coding, y], values)
    g = grad(nnet.categorical_crossentropy(coding, y).sum(), coding)
    check_infer_shape(g, [coding, y], values)


def test_categorical_crossentropy_errors():
    coding = T.dmatrix("coding")
    with pytest.raises(TypeError, match="integer vector"):
        nnet.categorical_crossentropy(coding, T.dvector("y"))
    with pytest.raises(TypeError, match="rank"):
        nnet.categorical_crossentropy(coding, T.dscalar("y"))
    y = T.lvector("y")
    f = theanolab.function([coding, y], nnet.categorical_crossentropy(coding, y))
    with pytest.raises(ValueError, match=r"class indices must lie in \[0, 3\)"):
        f(probabilities((2, 3)), np.array([0, 3]))
    with pytest.raises(ValueError, match="3 class indices for 2 rows"):
        f(probabilities((2, 3)), np.array([0, 1, 2]))


# --------------------------------------------------------------------------- the slides' networks


def test_logistic_regression_step_matches_numpy():
    rng = np.random.default_rng(3)
    x_value = rng.standard_normal((6, 4))
    y_value = rng.integers(0, 2, size=6).astype("float64")
    w_value, b_value = rng.standard_normal(4), 0.3
    x, y, w, b = T.dmatrix("x"), T.dvector("y"), T.dvector("w"), T.dscalar("b")
    p_1 = T.sigmoid(T.dot(x, w) - b)
    cost = nnet.binary_crossentropy(p_1, y).mean()
    gw, gb = grad(cost, [w, b])
    cost_value, gw_value, gb_value = theanolab.function([x, y, w, b], [cost, gw, gb])(
        x_value, y_value, w_value, b_value)
    p = 1 / (1 + np.exp(-(x_value @ w_value - b_value)))
    np.testing.assert_allclose(cost_value, np.mean(-(y_value * np.log(p) + (1 - y_value) * np.log(1 - p))))
    np.testing.assert_allclose(gw_value, x_value.T @ (p - y_value) / 6)
    np.testing.assert_allclose(gb_value, -np.mean(p - y_value))


def test_softmax_classifier_gradient_is_p_minus_one_hot():
    rng = np.random.default_rng(4)
    x_value, w_value = rng.standard_normal((5, 3)), rng.standard_normal((3, 4))
    classes = np.array([0, 3, 1, 1, 2])
    x, w, y = T.dmatrix("x"), T.dmatrix("w"), T.lvector("y")
    cost = nnet.categorical_crossentropy(nnet.softmax(T.dot(x, w)), y).sum()
    gw = theanolab.function([x, w, y], grad(cost, w))(x_value, w_value, classes)
    p = reference_softmax(x_value @ w_value)
    np.testing.assert_allclose(gw, x_value.T @ (p - np.eye(4)[classes]))
