"""GPU products (backends/cuda/impls/blas.py) against ``perform``: Dot on every rank pair and
several dtypes, BatchedDot, and the BLAS ops with constant and run-time coefficients, in place
and not, on C, Fortran and strided operands, with NaN in a ``z`` that ``beta == 0`` must not read."""

import numpy as np
import pytest
from helpers import random_array
from impl_check import check_impl, check_same_error

import theanolab.tensor as T
from theanolab.backends.cuda.dispatch import cuda_impl
from theanolab.tensor import blas

#: operand shapes of each kind: m matrix, v vector, s scalar coefficient.
SHAPES = {"m": (3, 4), "v": (4,), "s": ()}


def _values(dtypes_and_shapes, seed=0):
    rng = np.random.default_rng(seed)
    return [random_array(shape, dtype, rng=rng) for dtype, shape in dtypes_and_shapes]


@pytest.mark.parametrize("dtype", ["int8", "int32", "float32", "float64", "complex64"])
@pytest.mark.parametrize("ranks", [(1, 1), (2, 1), (1, 2), (2, 2)])
def test_dot_of_vectors_and_matrices(devices, dtype, ranks):
    a = T.TensorType(dtype, (False,) * ranks[0])("a")
    b = T.TensorType(dtype, (False,) * ranks[1])("b")
    node = T.dot(a, b).owner
    shapes = {(1, 1): [(4,), (4,)], (2, 1): [(3, 4), (4,)], (1, 2): [(4,), (4, 5)], (2, 2): [(3, 4), (4, 5)]}[ranks]
    check_impl(node, _values([(dtype, s) for s in shapes]), devices)


@pytest.mark.parametrize("layout", ["C", "F", "strided"])
@pytest.mark.parametrize("dtypes", [("float32", "float64"), ("int8", "float32"), ("int16", "int16")])
def test_dot_of_mixed_dtypes_and_layouts(devices, dtypes, layout):
    a, b = (T.TensorType(d, (False, False))() for d in dtypes)
    node = T.dot(a, b).owner
    check_impl(node, _values([(dtypes[0], (3, 4)), (dtypes[1], (4, 2))]), devices, layout=layout)


def test_dot_of_empty_operands_and_misaligned_shapes(devices):
    node = T.dot(T.dmatrix(), T.dmatrix()).owner
    check_impl(node, [np.zeros((3, 0)), np.zeros((0, 2))], devices)
    check_impl(node, [np.zeros((0, 4)), np.ones((4, 2))], devices)
    check_same_error(node, [np.zeros((3, 4)), np.zeros((3, 2))], devices)


def test_boolean_dot_stays_on_the_cpu(devices):
    node = T.dot(T.bmatrix().astype("bool"), T.TensorType("bool", (False, False))()).owner
    assert cuda_impl(node.op, node, devices) is None


@pytest.mark.parametrize("dtype", ["float32", "float64", "int32"])
def test_batched_dot(devices, dtype):
    a, b = T.TensorType(dtype, (False,) * 3)(), T.TensorType(dtype, (False,) * 3)()
    node = blas.BatchedDot()(a, b).owner
    check_impl(node, _values([(dtype, (2, 3, 4)), (dtype, (2, 4, 5))]), devices)
    check_same_error(node, _values([(dtype, (2, 3, 4)), (dtype, (3, 4, 5))]), devices)


#: op -> the kinds of its inputs (z first; coefficients are ``s``).
UPDATES = {
    blas.gemm_no_inplace: "msmms", blas.gemm_inplace: "msmms",
    blas.gemv_no_inplace: "vsmvs", blas.gemv_inplace: "vsmvs",
    blas.ger: "msvv", blas.ger_destructive: "msvv",
    blas.dot22: "mm", blas.dot22scalar: "mms",
}
#: the operand shapes of each op (z first), so that the product fits.
OPERANDS = {
    blas.Gemm: [(3, 5), (), (3, 4), (4, 5), ()], blas.Gemv: [(3,), (), (3, 4), (4,), ()],
    blas.Ger: [(3, 4), (), (3,), (4,)], blas.Dot22: [(3, 4), (4, 5)], blas.Dot22Scalar: [(3, 4), (4, 5), ()],
}
#: coefficients: run-time (None) or constants, including the 0 and 1 the implementation treats apart.
COEFFICIENTS = [None, 0.0, 1.0, 2.5]


def _update_node(op, dtype, coefficient):
    """``op`` applied to variables, its coefficients constants of value ``coefficient`` (None: variables)."""
    inputs = []
    for kind in UPDATES[op]:
        if kind == "s" and coefficient is not None:
            inputs.append(T.constant(np.asarray(coefficient, dtype=dtype)))
        else:
            inputs.append(T.TensorType(dtype, (False,) * "svm".index(kind))())
    return op(*inputs).owner


def _update_values(node, run_time_coefficient=-1.5, seed=0):
    """Values of the node's inputs: a constant's own, ``run_time_coefficient`` for a variable coefficient."""
    dtype = node.outputs[0].dtype
    values = _values([(dtype, s) for s in OPERANDS[type(node.op)]], seed)
    return [variable.data if isinstance(variable, T.TensorConstant) else
            np.asarray(run_time_coefficient, dtype=dtype) if variable.ndim == 0 else v
            for variable, v in zip(node.inputs, values)]


@pytest.mark.parametrize("coefficient", COEFFICIENTS)
@pytest.mark.parametrize("dtype", ["float32", "float64", "complex128"])
@pytest.mark.parametrize("op", list(UPDATES), ids=str)
def test_blas_ops(devices, op, dtype, coefficient):
    node = _update_node(op, dtype, coefficient)
    values = _update_values(node)
    for layout in ("C", "F", "strided"):
        check_impl(node, values, devices, layout=layout)


@pytest.mark.parametrize("coefficient", [None, 0.0])
@pytest.mark.parametrize("op", [blas.gemm_no_inplace, blas.gemm_inplace, blas.gemv_inplace], ids=str)
def test_beta_zero_does_not_read_z(devices, op, coefficient):
    """``z`` full of NaN and inf: with ``beta == 0`` (constant or at run time) the result is finite."""
    node = _update_node(op, "float64", coefficient)
    values = _update_values(node, run_time_coefficient=0.0)
    values[0] = np.full_like(values[0], np.nan)
    values[0].reshape(-1)[0] = np.inf
    (result,) = check_impl(node, values, devices)
    assert np.isfinite(result).all()


@pytest.mark.parametrize("op, cut", [(blas.gemm_inplace, 0), (blas.gemv_inplace, 2), (blas.ger_destructive, 0),
                                     (blas.dot22, 1), (blas.dot22scalar, 1)], ids=str)
def test_misfitting_shapes_are_the_errors_of_perform(devices, op, cut):
    node = _update_node(op, "float64", None)
    values = _update_values(node)
    values[cut] = values[cut][:2]  # one row short
    check_same_error(node, values, devices)


def test_coefficient_of_a_smaller_dtype(devices):
    z, x, y = T.fmatrix(), T.fmatrix(), T.fmatrix()
    node = blas.gemm_inplace(z, T.bscalar(), x, y, T.constant(np.int8(3))).owner
    values = _values([("float32", (3, 5)), ("int8", ()), ("float32", (3, 4)), ("float32", (4, 5)), ("int8", ())])
    check_impl(node, values, devices)
