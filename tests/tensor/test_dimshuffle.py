"""DimShuffle: reorder dimensions, add broadcastable ones ('x'), drop broadcastable ones.

Each pattern in ``PATTERNS`` is checked against NumPy (transpose + reshape),
for its broadcastable pattern, its printed name (as Theano prints it), its
shape inference and its gradient.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import theanolab
import theanolab.tensor as T
from helpers import check_infer_shape
from theanolab.gradient import Rop, verify_grad
from theanolab.tensor.elemwise import DimShuffle
from theanolab.tensor.type import TensorType


def _numpy_dimshuffle(value, order):
    kept = [d for d in order if d != "x"]
    dropped = [d for d in range(value.ndim) if d not in kept]
    moved = value.transpose(kept + dropped)
    return moved.reshape([1 if d == "x" else value.shape[d] for d in order])


# (input shape, input broadcastable, new order, output broadcastable, printed name)
PATTERNS = [
    ((3, 4), (False, False), (1, 0), (False, False), "InplaceDimShuffle{1,0}"),
    ((4,), (False,), ("x", 0), (True, False), "InplaceDimShuffle{x,0}"),
    ((4,), (False,), (0, "x"), (False, True), "InplaceDimShuffle{0,x}"),
    ((3, 4), (False, False), (1, "x", 0), (False, True, False), "InplaceDimShuffle{1,x,0}"),
    ((1, 4), (True, False), (1,), (False,), "InplaceDimShuffle{1}"),
    ((3, 1), (False, True), (0,), (False,), "InplaceDimShuffle{0}"),
    ((1, 4), (True, False), ("x", 1, "x"), (True, False, True), "InplaceDimShuffle{x,1,x}"),
    ((), (), ("x", "x"), (True, True), "InplaceDimShuffle{x,x}"),
    ((2, 3, 4), (False, False, False), (2, 0, 1), (False, False, False), "InplaceDimShuffle{2,0,1}"),
    ((0, 3), (False, False), (1, "x", 0), (False, True, False), "InplaceDimShuffle{1,x,0}"),
]


def _case_id(case):
    return f"{case[0]}->{case[2]}"


def _input(shape, broadcastable):
    return TensorType("float64", broadcastable)("x")


@pytest.mark.parametrize("case", PATTERNS, ids=_case_id)
def test_values_pattern_and_name(case):
    shape, broadcastable, order, out_broadcastable, name = case
    x = _input(shape, broadcastable)
    y = x.dimshuffle(*order)
    assert str(y.owner.op) == name
    assert y.broadcastable == out_broadcastable
    value = np.random.default_rng(0).uniform(size=shape)
    result = theanolab.function([x], y)(value)
    np.testing.assert_array_equal(result, _numpy_dimshuffle(value, list(order)))


@pytest.mark.parametrize("case", PATTERNS, ids=_case_id)
def test_infer_shape(case):
    shape, broadcastable, order = case[:3]
    x = _input(shape, broadcastable)
    check_infer_shape(x.dimshuffle(*order), [x], [np.ones(shape)])


def _restore(broadcastable):
    """The pattern giving a squeezed input back its broadcastable (length-1) dimensions."""
    positions = itertools.count()
    return ["x" if b else next(positions) for b in broadcastable]


@pytest.mark.parametrize("case", [c for c in PATTERNS if 0 not in c[0]], ids=_case_id)
def test_verify_grad(case):
    shape, broadcastable, order = case[:3]
    squeezed = np.random.default_rng(1).uniform(size=[n for n, b in zip(shape, broadcastable) if not b])
    # verify_grad declares its inputs non-broadcastable, so the input is built from a
    # squeezed one; dropping a dimension is only legal on broadcastable dimensions.
    verify_grad(lambda s: s.dimshuffle(*_restore(broadcastable)).dimshuffle(*order), [squeezed], n_tests=1)


def test_transpose_and_T():
    x = T.dmatrix("x")
    value = np.arange(6.0).reshape(2, 3)
    f = theanolab.function([x], [x.T, x.transpose(), x.transpose(1, 0)])
    for result in f(value):
        np.testing.assert_array_equal(result, value.T)
    assert str(x.T.owner.op) == "InplaceDimShuffle{1,0}"
    t3 = T.dtensor3("t")
    assert str(t3.T.owner.op) == "InplaceDimShuffle{2,1,0}"
    assert t3.transpose(1, 0, 2).broadcastable == (False, False, False)


def test_dimshuffle_is_a_view_of_a_strided_input():
    x = T.dmatrix("x")
    value = np.arange(12.0).reshape(3, 4)[:, ::2]
    result = theanolab.function([x], x.dimshuffle(1, "x", 0))(value)
    np.testing.assert_array_equal(result, value.T[:, None, :])


def test_gradient_of_added_and_dropped_dimensions():
    v = T.dvector("v")
    row = v.dimshuffle("x", 0)
    g = T.grad((row * np.array([[1.0, 2.0, 3.0]])).sum(), v)
    assert g.broadcastable == (False,)
    assert theanolab.function([v], g)(np.zeros(3)).tolist() == [1.0, 2.0, 3.0]
    r = T.drow("r")
    g = T.grad((r.dimshuffle(1) * np.array([1.0, 2.0])).sum(), r)
    assert g.broadcastable == (True, False)
    assert theanolab.function([r], g)(np.zeros((1, 2))).tolist() == [[1.0, 2.0]]


def test_rop():
    x, v = T.dmatrix("x"), T.dmatrix("v")
    value = np.arange(6.0).reshape(2, 3)
    jvp = Rop(x.dimshuffle(1, "x", 0), x, v)
    result = theanolab.function([x, v], jvp, on_unused_input="ignore")(value, value * 2)
    np.testing.assert_array_equal(result, (value * 2).T[:, None, :])


@pytest.mark.parametrize("broadcastable, order, message", [
    ((False, False), (0,), "cannot drop dimension 1, which is not broadcastable"),
    ((False, False), (1,), "cannot drop dimension 0, which is not broadcastable"),
    ((False, False), (0, 0), "dimension appears twice"),
    ((False, False), (2, 0), "dimension 2 does not exist"),
    ((False,), (-1,), "dimension -1 does not exist"),
])
def test_invalid_patterns_raise_value_error(broadcastable, order, message):
    x = TensorType("float64", broadcastable)("x")
    with pytest.raises(ValueError, match=message):
        x.dimshuffle(*order)


def test_wrong_input_rank_is_a_type_error():
    op = DimShuffle((False, False), (1, 0))
    with pytest.raises(TypeError, match="expects an input of 2 dimensions"):
        op(T.dvector("v"))
