"""The GPU MRG31k3p kernel against ``mrg_uniform.perform``: the same bits, the same new states, the same errors."""

from __future__ import annotations

import numpy as np
import pytest

import theanolab.tensor as T
from theanolab.backends.cuda.dispatch import cuda_impl
from theanolab.random import mrg31k3p
from theanolab.random.mrg import mrg_uniform


def _node(dtype, ndim):
    return mrg_uniform.new(T.imatrix("states"), ndim, dtype, T.lvector("size"))[0].owner


def _states(n_streams):
    return mrg31k3p.substreams(mrg31k3p.validated_seed(234), n_streams)


def _perform(node, states, size):
    cells = [[None], [None]]
    node.op.perform(node, [states, size], cells)
    return [cell[0] for cell in cells]


def _gpu(device, node, states, size):
    cells = [[None], [None]]
    cuda_impl(node.op, node, device)([device.to_device(states), device.to_device(size)], cells)
    return [device.to_host(cell[0]) for cell in cells]


#: (dtype, number of streams, size): more samples than streams (uneven), fewer, none, one dimension.
CASES = [("float32", 7, (5, 9)), ("float64", 7, (5, 9)), ("float32", 100, (3, 4)), ("float64", 4, (0, 3)),
         ("float64", 15, (61,))]


@pytest.mark.parametrize("dtype,n_streams,size", CASES)
def test_same_bits_as_perform(devices, dtype, n_streams, size):
    node = _node(dtype, len(size))
    states = _states(n_streams)
    before = states.copy()
    size = np.array(size, dtype="int64")
    new_states, sample = _gpu(devices, node, states, size)
    want_states, want_sample = _perform(node, states, size)
    assert sample.dtype == want_sample.dtype and sample.shape == want_sample.shape
    np.testing.assert_array_equal(sample.view(f"u{sample.itemsize}"), want_sample.view(f"u{sample.itemsize}"))
    np.testing.assert_array_equal(new_states, want_states)
    assert new_states.dtype == np.int32 and new_states.flags.c_contiguous
    np.testing.assert_array_equal(states, before)


def test_strided_states(devices):
    """States in any layout (a transposed copy here) draw what contiguous ones do."""
    node = _node("float32", 1)
    states = np.asfortranarray(_states(5))
    size = np.array([17], dtype="int64")
    for got, want in zip(_gpu(devices, node, states, size), _perform(node, states, size)):
        np.testing.assert_array_equal(got, want)


BAD = {
    "size of the wrong length": (_states(3), [2, 2]),
    "negative size": (_states(3), [-1]),
    "too many samples": (_states(3), [2**31]),
    "states of the wrong shape": (np.zeros((3, 5), dtype="int32"), [4]),
    "no streams": (np.zeros((0, 6), dtype="int32"), [4]),
}


@pytest.mark.parametrize("case", BAD)
def test_errors_are_performs(devices, case):
    states, size = BAD[case]
    node = _node("float64", 1)
    size = np.array(size, dtype="int64")
    with pytest.raises(ValueError) as reference:
        _perform(node, states, size)
    with pytest.raises(ValueError) as gpu:
        _gpu(devices, node, states, size)
    assert str(gpu.value) == str(reference.value)
