"""Print and Assert: the value passes through unchanged (values, shapes, gradients), Print prints in
Theano's format each time the node is computed, Assert fails with its message, the node and the user's line."""

import doctest

import numpy as np
import pytest
from helpers import check_infer_shape

import theanolab
import theanolab.tensor as T
from theanolab.gradient import verify_grad
from theanolab.printing import Print
from theanolab.tensor import debug_ops
from theanolab.tensor.opt import Assert, assert_op


def test_the_tutorials_print_example(capsys):
    x = T.dvector('x')
    x_printed = Print('this is a very important value')(x)
    f = theanolab.function([x], x * 5)
    f_with_print = theanolab.function([x], x_printed * 5)
    assert np.all(f([1, 2, 3]) == [5, 10, 15])
    assert capsys.readouterr().out == ""
    assert np.all(f_with_print([1, 2, 3]) == [5, 10, 15])
    assert capsys.readouterr().out == "this is a very important value __str__ = [1. 2. 3.]\n"


def test_print_attributes_and_methods_every_call(capsys):
    x = T.dmatrix('x')
    f = theanolab.function([x], Print('x', attrs=('shape', 'sum'))(x).sum(axis=0))
    f(np.ones((2, 3)))
    f(np.ones((1, 2)))
    assert capsys.readouterr().out.splitlines() == ["x shape = (2, 3)", "x sum = 6.0", "x shape = (1, 2)",
                                                     "x sum = 2.0"]
    seen = []
    g = theanolab.function([x], Print('mine', global_fn=lambda op, value: seen.append((op.message, value.shape)))(x))
    g(np.zeros((4, 1)))
    assert seen == [("mine", (4, 1))]


def test_print_and_assert_are_the_identity_for_gradients_and_shapes():
    verify_grad(lambda v: (Print('v')(v) ** 2).sum(), [np.array([0.5, -1.5, 2.0])], rng=np.random.default_rng(0))
    verify_grad(lambda v: (assert_op(v, T.all(v > -10)) ** 3).sum(), [np.array([0.5, -1.5])],
                rng=np.random.default_rng(1))
    x = T.dmatrix('x')
    values = [np.ones((3, 2))]
    check_infer_shape([Print("x")(x)], [x], values)
    check_infer_shape([assert_op(x, x.sum() > 0)], [x], values)


def test_assert_passes_values_and_fails_with_its_message_the_node_and_the_line():
    x = T.dvector('x')
    checked = Assert("x must be positive")(x, T.all(x > 0), x.shape[0] > 0)
    f = theanolab.function([x], checked * 2)
    assert f([1.0, 2.0]).tolist() == [2.0, 4.0]
    with pytest.raises(AssertionError, match="x must be positive") as info:
        f([1.0, -2.0])
    message = str(info.value)
    assert "Apply node that caused the error: Assert{msg='x must be positive'}" in message
    assert "test_debug_ops.py" in message  # the line that built it
    with pytest.raises(AssertionError, match="Theano Assert failed!"):
        theanolab.function([x], assert_op(x, x.sum() > 0))([-1.0])


def test_assert_has_no_gradient_for_its_conditions():
    x, y = T.dvector('x'), T.dscalar('y')
    cost = assert_op(x, y > 0).sum()
    assert T.grad(cost, y, disconnected_inputs='ignore').eval({y: 1.0}) == 0.0
    with pytest.raises(TypeError, match="at least one condition"):
        assert_op(x)


def test_printing_of_the_ops():
    x = T.dvector('x')
    assert str(Assert("m")) == "Assert{msg='m'}"
    assert theanolab.pp(Assert("m")(x, x.sum() > 0)).startswith("Assert{msg='m'}(x, ")
    assert str(Print('p')).startswith("Print{message='p', attrs=('__str__',), global_fn=<function _print_fn")


def test_docstring_examples():
    failures, tried = doctest.testmod(debug_ops, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert tried > 0 and failures == 0
