"""GPU reductions (backends/cuda/impls/reduce.py) against ``perform``: Sum and Prod with their
dtype rules, max/min (CAReduce{maximum/minimum}), any/all and MaxAndArgmax, over several axes,
dtypes and layouts, with NaNs, ties and empty inputs."""

import numpy as np
import pytest
from helpers import random_array
from impl_check import check_impl, check_same_error

import theanolab.tensor as T
from theanolab import scalar as ts
from theanolab.backends.cuda.dispatch import cuda_impl
from theanolab.tensor.reduce import CAReduce, MaxAndArgmax

AXES = [None, 0, 1, (0, 2), (), -1]
DTYPES = ["bool", "int8", "int32", "uint8", "float32", "float64"]

#: a reduction of a 3-d input: name -> function(x, axis) giving the reduced variable.
REDUCTIONS = {
    "sum": lambda x, axis: T.sum(x, axis=axis),
    "prod": lambda x, axis: T.prod(x, axis=axis),
    "sum_float32_out": lambda x, axis: T.sum(x, axis=axis, dtype="float32"),
    "prod_float64_acc": lambda x, axis: T.prod(x, axis=axis, acc_dtype="float64"),
    "maximum": lambda x, axis: CAReduce(ts.maximum, None if axis is None else np.atleast_1d(axis) % 3)(x),
    "minimum": lambda x, axis: CAReduce(ts.minimum, None if axis is None else np.atleast_1d(axis) % 3)(x),
    "plain_add": lambda x, axis: CAReduce(ts.add, None if axis is None else np.atleast_1d(axis) % 3)(x),
    "any": lambda x, axis: T.any(x, axis=axis),
    "all": lambda x, axis: T.all(x, axis=axis),
    "max_and_argmax": lambda x, axis: T.max_and_argmax(x, axis=axis)[0],
}


def _node(name, dtype, axis):
    return REDUCTIONS[name](T.TensorType(dtype, (False,) * 3)("x"), axis).owner


def _input_values(node, shape=(3, 4, 5), dtype=None):
    return random_array(shape, dtype or node.inputs[0].dtype, rng=np.random.default_rng(sum(shape)))


@pytest.mark.parametrize("axis", AXES)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", sorted(REDUCTIONS))
def test_reductions_match_perform(devices, name, dtype, axis):
    node = _node(name, dtype, axis)
    # any/all reduce the bool ``x != 0``: their node's input is that comparison.
    check_impl(node, [_input_values(node)], devices)


@pytest.mark.parametrize("layout", ["F", "strided"])
@pytest.mark.parametrize("name", ["sum", "maximum", "max_and_argmax", "all"])
def test_reductions_of_non_contiguous_inputs(devices, name, layout):
    node = _node(name, "float32", (0, 2))
    check_impl(node, [_input_values(node)], devices, layout=layout)


@pytest.mark.parametrize("name", ["maximum", "minimum", "max_and_argmax", "sum"])
def test_nan_propagates_and_argmax_finds_the_first_one(devices, name):
    node = _node(name, "float64", 1)
    values = _input_values(node)
    values[0, 2, :] = np.nan
    values[1, 3, 1] = np.nan
    values[2, :, 0] = 7.0  # ties: the first position wins
    check_impl(node, [values], devices)


@pytest.mark.parametrize("axis", [(0, 2), (2, 0), (1,), (), None])
def test_max_and_argmax_counts_in_the_flattened_axes_in_op_order(devices, axis):
    x = T.tensor3("x")
    node = MaxAndArgmax(range(3) if axis is None else axis)(x)[0].owner
    check_impl(node, [_input_values(node)], devices)


@pytest.mark.parametrize("name", ["sum", "prod", "any", "all", "plain_add"])
def test_an_empty_reduction_gives_the_identity(devices, name):
    node = _node(name, "float64", 1)
    check_impl(node, [np.zeros((3, 0, 2), dtype=node.inputs[0].dtype)], devices)


@pytest.mark.parametrize("name", ["maximum", "minimum", "max_and_argmax"])
def test_max_of_an_empty_axis_is_the_error_of_perform(devices, name):
    node = _node(name, "float64", 1)
    check_same_error(node, [np.zeros((3, 0, 2))], devices)
    check_impl(node, [np.zeros((0, 4, 2))], devices)  # empty elsewhere: an empty result


def test_bitwise_reductions_of_integers_stay_on_the_cpu(devices):
    x = T.imatrix("x")
    for scalar_op in (ts.and_, ts.or_, ts.xor):
        node = CAReduce(scalar_op, (0,))(x).owner
        assert cuda_impl(node.op, node, devices) is None
