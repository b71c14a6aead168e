"""theanolab.gradient: grad options, Lop/Rop, jacobian, hessian, verify_grad.

Expected values are closed forms or finite differences, so a wrong rule fails.
"""

import warnings

import numpy as np
import pytest

import theanolab as theano
import theanolab.tensor as T
from theanolab import function
from theanolab.gradient import (
    DisconnectedInputError,
    GradientError,
    Lop,
    Rop,
    disconnected_grad,
    grad,
    hessian,
    jacobian,
    verify_grad,
    zero_grad,
)
from theanolab.graph.basic import Apply
from theanolab.graph.op import Op

RNG = np.random.default_rng(7)


def evaluate(inputs, outputs, *values):
    return function(inputs, outputs, on_unused_input='ignore')(*values)


# --------------------------------------------------------------------------- grad options


def test_grad_with_a_list_returns_a_list_in_order():
    x, y, z = T.dscalars('x', 'y', 'z')
    cost = x * y ** 2 + T.exp(z)
    gx, gy, gz = grad(cost, [x, y, z])
    values = evaluate([x, y, z], [gx, gy, gz], 3.0, 2.0, 0.5)
    np.testing.assert_allclose(values, [4.0, 12.0, np.exp(0.5)])
    single = grad(cost, x)
    assert not isinstance(single, list)
    assert isinstance(grad(cost, (x,)), list)


def test_grad_names_results_after_the_cost():
    x = T.dscalar('x')
    cost = x ** 2
    cost.name = 'cost'
    assert grad(cost, x).name == '(dcost/dx)'


def test_consider_constant():
    x = T.dscalar('x')
    z = x ** 2
    cost = z * x
    assert float(evaluate([x], grad(cost, x, consider_constant=[z]), 2.0)) == 4.0
    assert float(evaluate([x], grad(cost, x), 2.0)) == 12.0


def test_known_grads_alone_and_with_a_cost():
    x, y = T.dscalars('x', 'y')
    z = x ** 2
    g = grad(None, x, known_grads={z: y})
    assert float(evaluate([x, y], g, 2.0, 3.0)) == 12.0
    both = grad(x * 5, x, known_grads={z: y})
    assert float(evaluate([x, y], both, 2.0, 3.0)) == 17.0
    with pytest.raises(ValueError, match="known_grads"):
        grad(None, x)


def test_zero_grad_and_disconnected_grad():
    x, y = T.dscalars('x', 'y')
    assert float(evaluate([x, y], grad(zero_grad(x) * y, x), 2.0, 3.0)) == 0.0
    assert float(evaluate([x, y], grad(zero_grad(x ** 2) * x, x), 2.0, 3.0)) == 4.0
    assert float(evaluate([x], zero_grad(x) * 1, 5.0)) == 5.0  # identity forward
    with pytest.raises(DisconnectedInputError, match="x"):
        grad(disconnected_grad(x) * y, x)
    g = grad(disconnected_grad(x) * y + x, x)
    assert float(evaluate([x, y], g, 2.0, 3.0)) == 1.0


def test_grad_of_shared_variable():
    w = theano.shared(np.array([1.0, -2.0]), name='w')
    x = T.dvector('x')
    gw = grad((w * x).sum() + (w ** 2).sum(), w)
    np.testing.assert_allclose(evaluate([x], gw, [3.0, 4.0]), [3.0 + 2.0, 4.0 - 4.0])


@pytest.mark.parametrize("dtype", ["int8", "int32", "int64"])
def test_grad_through_integer_casts_is_zero(dtype):
    x = T.dvector('x')
    rounded = T.cast(x, dtype)
    np.testing.assert_array_equal(evaluate([x], grad(rounded.sum(), x), [1.5, 2.5]), [0.0, 0.0])
    # The cast part is constant; the float part still has its gradient.
    mixed = grad((rounded * x).sum(), x)
    np.testing.assert_array_equal(evaluate([x], mixed, [1.5, 2.5]), [1.0, 2.0])


# Costs that depend on x only through a discrete value: Theano (1.0.5) gives zeros, not an error.
DISCRETE_PATHS = {
    "comparison": lambda x: (x > 0).sum() * 1.0,
    "cast to int": lambda x: T.cast(x, 'int32').sum(),
    "switch condition": lambda x: T.switch(x > 0, 1., 2.).sum(),
    "dimshuffle of an int": lambda x: T.cast(x, 'int8').dimshuffle('x', 0).sum(),
}


@pytest.mark.parametrize("path", sorted(DISCRETE_PATHS))
def test_grad_through_a_discrete_value_is_a_connected_zero(path):
    x = T.dvector('x')
    g = grad(DISCRETE_PATHS[path](x), x)
    assert g.dtype == "float64"
    np.testing.assert_array_equal(evaluate([x], g, [1.5, -2.5]), [0.0, 0.0])


def test_gradient_dtype_follows_the_variable():
    x = T.fvector('x')
    g = grad((x * 0.1).sum(), x)  # 0.1 is a float64 constant
    assert g.dtype == "float32"


# --------------------------------------------------------------------------- Lop and Rop


def outer(x):
    """y[i, j] = x[i] * x[j]: a non-diagonal Jacobian built from elementwise ops."""
    return x.dimshuffle(0, 'x') * x.dimshuffle('x', 0)


def test_rop_matches_the_jacobian_vector_product():
    x, v = T.dvectors('x', 'v')
    jv = Rop(outer(x), x, v)
    xv, vv = RNG.standard_normal(3), RNG.standard_normal(3)
    np.testing.assert_allclose(evaluate([x, v], jv, xv, vv), np.outer(vv, xv) + np.outer(xv, vv))


def test_rop_of_elementwise_chain_and_list():
    x, v = T.dvectors('x', 'v')
    y = T.tanh(x) * T.exp(x)
    w = x * 3
    jy, jw = Rop([y, w], [x], [v])
    xv, vv = RNG.standard_normal(4), RNG.standard_normal(4)
    derivative = (1 - np.tanh(xv) ** 2) * np.exp(xv) + np.tanh(xv) * np.exp(xv)
    got_y, got_w = evaluate([x, v], [jy, jw], xv, vv)
    np.testing.assert_allclose(got_y, derivative * vv)
    np.testing.assert_allclose(got_w, 3 * vv)


def test_lop_matches_the_vector_jacobian_product():
    x = T.dvector('x')
    u = T.dmatrix('u')
    uj = Lop(outer(x), x, u)
    xv, uv = RNG.standard_normal(3), RNG.standard_normal((3, 3))
    np.testing.assert_allclose(evaluate([x, u], uj, xv, uv), uv @ xv + uv.T @ xv)


def test_lop_and_rop_agree_with_jacobian():
    x = T.dvector('x')
    v, u = T.dvectors('v', 'u')
    y = T.exp(x) * (x + 1) + outer(x).sum(axis=0)  # a full (non-diagonal) Jacobian
    J = jacobian(y, x)
    xv, vv, uv = RNG.standard_normal(3), RNG.standard_normal(3), RNG.standard_normal(3)
    Jv = evaluate([x], J, xv)
    np.testing.assert_allclose(evaluate([x, v], Rop(y, x, v), xv, vv), Jv @ vv)
    np.testing.assert_allclose(evaluate([x, u], Lop(y, x, u), xv, uv), uv @ Jv)


def test_rop_errors():
    x, v = T.dvectors('x', 'v')
    with pytest.raises(ValueError, match="eval point"):
        Rop(x * 2, x, T.dmatrix('m'))
    y = T.dvector('y')
    # As in Theano: an input outside wrt, or a shape (no derivative), has no direction to return.
    for out in (y, x.shape):
        with pytest.raises(DisconnectedInputError, match="not computed from"):
            Rop(out, x, v)
    np.testing.assert_array_equal(evaluate([y], Rop(y, x, v, disconnected_outputs="ignore"), [1.0, 2.0]), [0, 0])


def test_rop_of_an_expression_without_wrt_is_zero():
    """Theano returns zeros (no DisconnectedInputError) when the output is computed without wrt."""
    x, v, y = T.dvectors('x', 'v', 'y')
    jv = Rop(y * 2, x, v)
    assert function([y], jv)([1.0, 2.0]).tolist() == [0.0, 0.0]
    # Through a shape no direction flows, and what is computed from it alone moves by zero.
    assert evaluate([x, v], Rop(x.shape[0] * 2.0, x, v), [1.0, 2.0, 3.0], [1.0, 1.0, 1.0]) == 0.0
    got = evaluate([x, v], Rop(x * T.arange(x.shape[0]), x, v), [1.0, 2.0, 3.0], [1.0, 1.0, 1.0])
    np.testing.assert_array_equal(got, [0.0, 1.0, 2.0])


def test_rop_tutorial_example():
    """The Theano tutorial's R-operator example runs unchanged, without on_unused_input."""
    W, V = T.dmatrices('W', 'V')
    x = T.dvector('x')
    y = T.dot(x, W)
    JV = T.Rop(y, W, V)
    assert theano.pp(JV) == "((fill(x, 0.0) \\dot W) + (x \\dot V))"  # Theano's graph: x gets a zero direction
    f = theano.function([W, V, x], JV)
    np.testing.assert_array_equal(f([[1, 1], [1, 1]], [[2, 2], [2, 2]], [0, 1]), [2.0, 2.0])
    # Lop is unchanged: v J needs only v and x, and listing W is an error (as in Theano).
    v = T.dvector('v')
    VJ = T.Lop(y, W, v)
    np.testing.assert_array_equal(theano.function([v, x], VJ)([2, 2], [0, 1]), [[0, 0], [2, 2]])
    with pytest.raises(theano.compile.UnusedInputError):
        theano.function([W, v, x], VJ)


S_VALUE = np.array([0.5, -2.0, 3.0])
SHARED = theano.shared(S_VALUE, name='s')
X, Y, V_POINT = T.dvectors('x', 'y', 'v')

# (case, expression, wrt, the inputs a function must list, d expression / d wrt at x, y as NumPy)
ROP_ZERO_DIRECTION_CASES = [
    ("product: y is used", lambda: X * Y, X, [X, Y, V_POINT], lambda x, y: y),
    ("exp times a shared variable", lambda: T.exp(X) * SHARED, X, [X, V_POINT], lambda x, y: np.exp(x) * S_VALUE),
    ("w.r.t. the shared variable", lambda: T.exp(X) * SHARED + T.tanh(Y), SHARED, [X, Y, V_POINT],
     lambda x, y: np.exp(x)),
    ("chain with a constant", lambda: T.tanh(X * Y + 2.0) / Y, X, [X, Y, V_POINT],
     lambda x, y: 1 - np.tanh(x * y + 2.0) ** 2),
    ("integer operand", lambda: X * T.cast(Y, 'int64'), X, [X, Y, V_POINT],
     lambda x, y: y.astype('int64')),
]


@pytest.mark.parametrize("case, build, wrt, inputs, derivative", ROP_ZERO_DIRECTION_CASES,
                         ids=[c[0] for c in ROP_ZERO_DIRECTION_CASES])
def test_rop_through_elementwise_ops_gives_other_inputs_a_zero_direction(case, build, wrt, inputs, derivative):
    x_value, y_value, v_value = np.array([0.3, -1.2, 2.0]), np.array([1.5, 2.5, -0.5]), np.array([1.0, -2.0, 0.25])
    f = function(inputs, Rop(build(), wrt, V_POINT))  # no on_unused_input: each listed input is used
    values = {X: x_value, Y: y_value, V_POINT: v_value}
    np.testing.assert_allclose(f(*[values[i] for i in inputs]), derivative(x_value, y_value) * v_value)


# --------------------------------------------------------------------------- jacobian and hessian


def test_jacobian_of_a_matrix_expression():
    x = T.dvector('x')
    W = T.dmatrix('W')
    y = x.dimshuffle(0, 'x') * W  # y[i, j] = x[i] W[i, j]
    Jx, JW = jacobian(y, [x, W])
    xv, Wv = RNG.standard_normal(2), RNG.standard_normal((2, 3))
    gx, gW = evaluate([x, W], [Jx, JW], xv, Wv)
    assert gx.shape == (2, 3, 2) and gW.shape == (2, 3, 2, 3)
    want_x = np.zeros((2, 3, 2))
    want_W = np.zeros((2, 3, 2, 3))
    for i in range(2):
        for j in range(3):
            want_x[i, j, i] = Wv[i, j]
            want_W[i, j, i, j] = xv[i]
    np.testing.assert_allclose(gx, want_x)
    np.testing.assert_allclose(gW, want_W)


def test_jacobian_of_a_scalar_is_the_gradient():
    x = T.dvector('x')
    J = jacobian((x ** 3).sum(), x)
    np.testing.assert_allclose(evaluate([x], J, [1.0, 2.0]), [3.0, 12.0])


def test_jacobian_of_an_empty_vector():
    x = T.dvector('x')
    J = jacobian(x * 2, x)
    assert evaluate([x], J, np.zeros(0)).shape == (0, 0)


def finite_difference_jacobian(f, x, eps=1e-6):
    columns = []
    for k in range(x.size):
        step = np.zeros_like(x)
        step[k] = eps
        columns.append((f(x + step) - f(x - step)) / (2 * eps))
    return np.stack(columns, axis=-1)


def test_hessian_of_a_non_quadratic_function():
    x = T.dvector('x')
    cost = (T.exp(x) * x ** 3).sum() + T.tanh(x.dimshuffle(0, 'x') * x.dimshuffle('x', 0)).sum()
    H = hessian(cost, x)
    gradient = function([x], grad(cost, x))
    xv = np.array([0.3, -0.7, 1.1])
    got = evaluate([x], H, xv)
    np.testing.assert_allclose(got, finite_difference_jacobian(gradient, xv), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(got, got.T, atol=1e-10)


def test_hessian_with_a_list_and_of_a_matrix():
    x, y = T.dvectors('x', 'y')
    cost = (x ** 2 * y).sum()
    Hx, Hy = hessian(cost, [x, y])
    hx, hy = evaluate([x, y], [Hx, Hy], [1.0, 2.0], [3.0, 4.0])
    np.testing.assert_allclose(hx, np.diag([6.0, 8.0]))
    np.testing.assert_allclose(hy, np.zeros((2, 2)))
    with pytest.raises(TypeError, match="vectors"):
        hessian(cost, T.dmatrix('m'))


# --------------------------------------------------------------------------- verify_grad


class Square(Op):
    """x ** 2, with a correct or a deliberately wrong gradient."""

    __props__ = ("wrong",)

    def __init__(self, wrong):
        self.wrong = wrong

    def make_node(self, x):
        x = T.as_tensor_variable(x)
        return Apply(self, [x], [x.type()])

    def perform(self, node, inputs, outputs):
        outputs[0][0] = inputs[0] ** 2

    def grad(self, inputs, output_grads):
        (x,), (gz,) = inputs, output_grads
        return [gz * x] if self.wrong else [gz * 2 * x]


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_verify_grad_accepts_a_correct_gradient(dtype):
    verify_grad(Square(wrong=False), [RNG.uniform(0.5, 2, size=(2, 3)).astype(dtype)])
    verify_grad(lambda a, b: T.exp(a) * b, [RNG.standard_normal(3), RNG.standard_normal(3)])


def test_verify_grad_rejects_a_wrong_gradient():
    with pytest.raises(GradientError, match="input 0") as info:
        verify_grad(Square(wrong=True), [RNG.uniform(0.5, 2, size=(2, 3))])
    assert info.value.arg == 0 and info.value.abs_err > 0.1


def test_verify_grad_checks_its_arguments():
    with pytest.raises(TypeError, match="float"):
        verify_grad(Square(wrong=False), [np.arange(3)])



# --------------------------------------------------------------------------- return_disconnected


def _are_float_zeros(grads, wrt, values):
    """'zero': zeros shaped like each wrt variable, float even for an integer one."""
    got = evaluate(wrt, grads, *values)
    return all(g.dtype == "float64" and g.shape == np.shape(v) and not g.any() for g, v in zip(got, values))


def _are_disconnected(grads, wrt, values):
    return all(isinstance(g.type, theano.gradient.DisconnectedType) and g.owner is None for g in grads)


RETURN_DISCONNECTED_CASES = {
    "zero": _are_float_zeros,
    "None": lambda grads, wrt, values: all(g is None for g in grads),
    "Disconnected": _are_disconnected,
}


@pytest.mark.parametrize("disconnected_inputs", ["ignore", "warn"])
@pytest.mark.parametrize("return_disconnected", sorted(RETURN_DISCONNECTED_CASES))
def test_return_disconnected_chooses_what_a_disconnected_gradient_is(return_disconnected, disconnected_inputs):
    x, b = T.dscalars('x', 'b')
    v, i = T.dvector('v'), T.iscalar('i')
    cost = x * 2
    cost.name = 'c'
    check = RETURN_DISCONNECTED_CASES[return_disconnected]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        gx, *disconnected = grad(cost, [x, v, i], disconnected_inputs=disconnected_inputs,
                                 return_disconnected=return_disconnected)
        single = grad(cost, b, disconnected_inputs=disconnected_inputs, return_disconnected=return_disconnected)
    assert len(caught) == (3 if disconnected_inputs == "warn" else 0)
    assert float(evaluate([x], gx, 5.0)) == 2.0 and gx.name == '(dc/dx)'
    assert check(disconnected, [v, i], [np.ones(3), 4])
    assert check([single], [b], [3.0])
    with pytest.raises(DisconnectedInputError, match="b"):
        grad(cost, [x, b], return_disconnected=return_disconnected)


def test_return_disconnected_rejects_an_unknown_value():
    x, b = T.dscalars('x', 'b')
    with pytest.raises(ValueError, match="return_disconnected must be 'zero', 'None' or 'Disconnected', got 'none'"):
        grad(x * 2, [x, b], disconnected_inputs='ignore', return_disconnected='none')
