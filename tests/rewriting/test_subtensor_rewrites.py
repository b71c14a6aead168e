"""subtensor_of_inc_subtensor: reading back rows that inc_subtensor / set_subtensor wrote (tensor/rewriting/subtensor.py)."""

import numpy as np
import pytest

import theanolab
import theanolab.tensor as T
from theanolab.tensor.subtensor import IncSubtensor


def _has_inc(f):
    return any(isinstance(node.op, IncSubtensor) for node in f.maker.fgraph.toposort())


def _reference(x, c, y, set_=False):
    out = x.copy() if set_ else np.zeros_like(x)
    if set_:
        out[c:] = y
    else:
        out[c:] += y
    return out


SHAPES = [(0, 3), (1, 3), (2, 3), (6, 3)]


@pytest.mark.parametrize("read", [slice(1, None), slice(2, None), slice(3, -1), slice(1, -7), slice(4, 2),
                                  slice(9, None), slice(1, 100), slice(2, 3)])
def test_constant_slices_fire_and_keep_values(read):
    x = T.dmatrix("x")
    buf = T.inc_subtensor(T.zeros_like(x)[1:], 2 * x[1:])
    f = theanolab.function([x], buf[read])
    assert not _has_inc(f)
    for shape in SHAPES:
        xv = np.arange(np.prod(shape), dtype="float64").reshape(shape) + 1
        np.testing.assert_array_equal(f(xv), _reference(xv, 1, 2 * xv[1:])[read])


def test_symbolic_stop_fires_and_keeps_values():
    x, n = T.dmatrix("x"), T.lscalar("n")
    buf = T.inc_subtensor(T.zeros_like(x)[1:], 2 * x[1:])
    f = theanolab.function([x, n], [buf[1:1 + n][::-1], buf[2:n]])
    assert not _has_inc(f)
    for shape in SHAPES:
        xv = np.arange(np.prod(shape), dtype="float64").reshape(shape) + 1
        ref = _reference(xv, 1, 2 * xv[1:])
        for nv in (-9, -3, -1, 0, 1, 2, 5, 6, 20):
            got_a, got_b = f(xv, nv)
            np.testing.assert_array_equal(got_a, ref[1:1 + nv][::-1])
            np.testing.assert_array_equal(got_b, ref[2:nv])


def test_set_subtensor_any_base():
    x = T.dmatrix("x")
    buf = T.set_subtensor(x[2:], -x[2:])
    f = theanolab.function([x], buf[3:])
    assert not _has_inc(f)
    xv = np.arange(18.0).reshape(6, 3)
    np.testing.assert_array_equal(f(xv), _reference(xv, 2, -xv[2:], set_=True)[3:])


@pytest.mark.parametrize("case", ["nonzero_base", "read_before_write", "step", "unknown_shape", "broadcast_y"])
def test_does_not_fire(case):
    x, g = T.dmatrix("x"), T.dmatrix("g")
    inputs, read = [x], slice(2, None)
    if case == "nonzero_base":
        buf = T.inc_subtensor(x[1:], 2 * x[1:])
    elif case == "read_before_write":
        buf, read = T.inc_subtensor(T.zeros_like(x)[1:], 2 * x[1:]), slice(0, None)
    elif case == "step":
        buf, read = T.inc_subtensor(T.zeros_like(x)[1:], 2 * x[1:]), slice(1, None, 2)
    elif case == "unknown_shape":  # g may broadcast (one row) at run time: its shape is not provably x[1:]'s
        buf, inputs = T.inc_subtensor(T.zeros_like(x)[1:], g), [x, g]
    else:
        row = T.drow("r")
        buf, inputs = T.inc_subtensor(T.zeros_like(x)[1:], row), [x, row]
    f = theanolab.function(inputs, buf[read])
    assert _has_inc(f)
    xv = np.arange(15.0).reshape(5, 3)
    args = [xv] + ([np.ones((1, 3))] if len(inputs) == 2 else [])
    y = 2 * xv[1:] if case in ("read_before_write", "step") else args[-1] if len(inputs) == 2 else 2 * xv[1:]
    ref = (xv.copy() if case == "nonzero_base" else np.zeros_like(xv))
    ref[1:] += y
    np.testing.assert_array_equal(f(*args), ref[read])
