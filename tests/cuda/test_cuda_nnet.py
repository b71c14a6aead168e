"""GPU softmax family and one-hot cross-entropy (backends/cuda/impls/nnet.py) against ``perform``:
float32/float64, extreme rows (no overflow), -inf, empty rows and columns, layouts, and the
errors of bad class indices."""

import numpy as np
import pytest
from helpers import random_array
from impl_check import check_impl, check_same_error

import theanolab.tensor as T
from theanolab.tensor import nnet

FLOATS = ["float32", "float64"]


def _matrix(dtype):
    return T.TensorType(dtype, (False, False))("x")


ROWWISE = {
    "softmax": lambda x: nnet.softmax_op(x),
    "log_softmax": lambda x: nnet.log_softmax_op(x),
}

MATRICES = {
    "random": lambda dtype: random_array((4, 5), dtype),
    "extreme": lambda dtype: np.array([[1000.0, 0.0, -1000.0], [-1e4, -1e4, -1e4], [3e3, 3e3 + 1, 0]], dtype=dtype),
    "minus_inf": lambda dtype: np.array([[-np.inf, 0.0, 1.0], [2.0, -np.inf, -np.inf]], dtype=dtype),
    "no_rows": lambda dtype: np.zeros((0, 3), dtype=dtype),
    "no_columns": lambda dtype: np.zeros((3, 0), dtype=dtype),
}


@pytest.mark.filterwarnings("ignore:divide by zero")  # log of an empty row's sum, as perform
@pytest.mark.parametrize("matrix", sorted(MATRICES))
@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("name", sorted(ROWWISE))
def test_rowwise_ops(devices, name, dtype, matrix):
    node = ROWWISE[name](_matrix(dtype)).owner
    check_impl(node, [MATRICES[matrix](dtype)], devices)


@pytest.mark.parametrize("layout", ["F", "strided"])
@pytest.mark.parametrize("name", sorted(ROWWISE))
def test_rowwise_ops_on_non_contiguous_inputs(devices, name, layout):
    node = ROWWISE[name](_matrix("float32")).owner
    check_impl(node, [MATRICES["random"]("float32")], devices, layout=layout)


@pytest.mark.parametrize("dtypes", [("float32", "float32"), ("float64", "float64"), ("float32", "float64")])
def test_softmax_grad(devices, dtypes):
    node = nnet.softmax_grad(_matrix(dtypes[0]), _matrix(dtypes[1])).owner
    rng = np.random.default_rng(1)
    sm = nnet._softmax_rows(random_array((4, 5), dtypes[1], rng=rng))
    check_impl(node, [random_array((4, 5), dtypes[0], rng=rng), sm.astype(dtypes[1])], devices)
    check_impl(node, [np.zeros((0, 5), dtypes[0]), np.zeros((0, 5), dtypes[1])], devices)
    check_same_error(node, [np.zeros((4, 5), dtypes[0]), np.zeros((4, 4), dtypes[1])], devices)


def _coding(rows, columns, dtype, seed=2):
    coding = nnet._softmax_rows(random_array((rows, columns), "float64", rng=np.random.default_rng(seed)))
    if rows:
        coding[0, 1] = 0.0  # -log(0) is inf, without a warning
    return coding.astype(dtype)


@pytest.mark.parametrize("y_dtype", ["int32", "int64", "uint8"])
@pytest.mark.parametrize("dtype", FLOATS)
def test_crossentropy_and_its_gradient(devices, dtype, y_dtype):
    y = T.TensorType(y_dtype, (False,))("y")
    coding = _matrix(dtype)
    forward = nnet.crossentropy_categorical_1hot(coding, y).owner
    backward = nnet.crossentropy_categorical_1hot_grad(T.TensorType(dtype, (False,))("g"), coding, y).owner
    classes = np.array([1, 0, 4, 4], dtype=y_dtype)
    g = random_array((4,), dtype)
    check_impl(forward, [_coding(4, 5, dtype), classes], devices)
    check_impl(backward, [g, _coding(4, 5, dtype), classes], devices)
    check_impl(forward, [_coding(0, 5, dtype), classes[:0]], devices)
    check_impl(backward, [g[:0], _coding(0, 5, dtype), classes[:0]], devices)


@pytest.mark.parametrize("classes", [[0, 5, 1, 2], [0, -1, 1, 2], [0, 1, 2]], ids=["too_big", "negative", "too_few"])
def test_bad_class_indices_are_the_errors_of_perform(devices, classes):
    y, coding = T.lvector("y"), _matrix("float64")
    forward = nnet.crossentropy_categorical_1hot(coding, y).owner
    backward = nnet.crossentropy_categorical_1hot_grad(T.dvector("g"), coding, y).owner
    classes = np.array(classes, dtype="int64")
    check_same_error(forward, [_coding(4, 5, "float64"), classes], devices)
    check_same_error(backward, [np.ones(4), _coding(4, 5, "float64"), classes], devices)
    check_same_error(backward, [np.ones(3), _coding(4, 5, "float64"), np.array([0, 1, 2, 3])], devices)
