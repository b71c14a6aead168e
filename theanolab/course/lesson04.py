"""Lesson 4's exercises (notebooks/04_derivatives.ipynb): T.grad, the Jacobian, a Hessian-vector product.

Each checker first looks for the mistakes students make with derivatives
(returning the expression instead of its derivative, a chain-rule factor
left out, the gradient of ``y.sum()`` where the Jacobian was asked for,
``H`` times ones instead of ``H`` times ``v``) and names the one it sees;
anything else gets the plain comparison of values.
"""

import numpy as np

from theanolab.course.checking import Hint, exercise
from theanolab.course.probes import call, compiled, describe, expect_close

__all__ = []


def _diagnose(got, mistakes, rtol=1e-4):
    """Raise the hint of the first ``(values, hint)`` in ``mistakes`` whose values ``got`` matches."""
    got = np.asarray(got)
    for values, hint in mistakes:
        values = np.asarray(values)
        if got.shape == values.shape and np.allclose(got, values, rtol=rtol, atol=1e-8):
            raise Hint(hint)


def _outputs(f, points, what="your function"):
    """``f`` called on each tuple of ``points``, each result as one array (several outputs: a hint)."""
    results = []
    for args in points:
        value = call(f, *args, what=what)
        if isinstance(value, (list, tuple)):
            raise Hint(f"{what} returned {len(value)} outputs; the exercise asks for one "
                       "(compile theano.function([...], one_expression))")
        results.append(np.asarray(value))
    return results


# ---------------------------------------------------------------- 4.1 the derivative of an expression


def _derivative_of_expression():
    import theanolab as theano
    import theanolab.tensor as T
    x = T.dscalar('x')
    y = x ** 3 + T.exp(-2 * x)
    # T.grad walks the graph of y back to x and applies the chain rule at every node:
    # dy/dx = 3 x**2 - 2 exp(-2 x).  We never write that formula ourselves.
    gy = T.grad(y, x)
    return theano.function([x], gy)


def _the_expression_itself():
    import theanolab as theano
    import theanolab.tensor as T
    x = T.dscalar('x')
    return theano.function([x], x ** 3 + T.exp(-2 * x))


def _chain_rule_forgotten():
    import theanolab as theano
    import theanolab.tensor as T
    x = T.dscalar('x')
    return theano.function([x], 3 * x ** 2 + T.exp(-2 * x))  # derived by hand, the -2 left out


_POINTS_4_1 = [(0.0,), (0.5,), (-1.0,), (2.0,)]


@exercise("4.1", "The derivative of x**3 + exp(-2x)", reference=_derivative_of_expression,
          wrong_answers=(_the_expression_itself, _chain_rule_forgotten,
                         lambda: _derivative_of_expression().maker.fgraph.outputs[0]))
def _check_derivative_of_expression(answer):
    f = compiled(answer)
    got = np.stack(_outputs(f, _POINTS_4_1))
    x = np.array([p[0] for p in _POINTS_4_1])
    cube, decay = x ** 3, np.exp(-2 * x)
    _diagnose(got, [
        (cube + decay, "your function returns the value of y = x**3 + exp(-2*x) itself, not its derivative: "
                       "build gy = T.grad(y, x) and compile that"),
        (3 * x ** 2 + decay, "the exp(-2*x) part of your derivative lacks the factor -2 that the chain rule "
                             "brings out of exp(-2*x); T.grad(y, x) applies the chain rule for you"),
        (3 * x ** 2 - decay, "the exp(-2*x) part of your derivative lacks the factor 2 of the chain rule; "
                             "T.grad(y, x) applies it for you"),
        (3 * x ** 2, "your derivative has the x**3 part (3x**2) but not the exp(-2*x) part"),
        (-2 * decay, "your derivative has the exp(-2*x) part but not the x**3 part (3x**2)"),
    ])
    for point, value, target in zip(x, got, 3 * x ** 2 - 2 * decay):
        expect_close(value, target, inputs=(point,), rtol=1e-4)


# ---------------------------------------------------------------- 4.2 the Jacobian of a vector function


def _jacobian_of_vector_function():
    import theanolab as theano
    import theanolab.tensor as T
    x = T.dvector('x')
    y = x * x.sum()                       # a vector: y[i] = x[i] * (x[0] + x[1] + ...)
    # Row i of the Jacobian is the gradient of the scalar y[i] with respect to x.
    J = theano.gradient.jacobian(y, x)
    return theano.function([x], J)


def _gradient_of_the_sum():
    import theanolab as theano
    import theanolab.tensor as T
    x = T.dvector('x')
    y = x * x.sum()
    return theano.function([x], T.grad(y.sum(), x))  # T.grad wants a scalar, so the student summed y


def _jacobian_transposed():
    import theanolab as theano
    import theanolab.tensor as T
    x = T.dvector('x')
    y = x * x.sum()
    return theano.function([x], theano.gradient.jacobian(y, x).T)


_POINTS_4_2 = [(np.array([1.0, 2.0, 3.0]),), (np.array([0.5, -1.0]),)]


def _jacobian_expected(x):
    return x.sum() * np.eye(len(x)) + x[:, None]


@exercise("4.2", "The Jacobian of y = x * x.sum()", reference=_jacobian_of_vector_function,
          wrong_answers=(_gradient_of_the_sum, _jacobian_transposed))
def _check_jacobian(answer):
    f = compiled(answer)
    for (x,), got in zip(_POINTS_4_2, _outputs(f, _POINTS_4_2)):
        expected = _jacobian_expected(x)
        _diagnose(got, [
            (x * x.sum(), f"for x = {describe(x)} your function returns y = x * x.sum() itself, not its "
                          "Jacobian: use theano.gradient.jacobian(y, x)"),
            (expected.sum(axis=0), f"for x = {describe(x)} your function returns a vector, the gradient of "
                                   "y.sum(): it adds up the Jacobian's rows. The Jacobian keeps one row per "
                                   "element of y: use theano.gradient.jacobian(y, x), or scan over "
                                   "T.grad(y[i], x)"),
            (expected.T, f"for x = {describe(x)} your matrix is the Jacobian with rows and columns swapped: "
                         "row i must be the gradient of y[i], so J[i, j] = dy[i]/dx[j]"),
        ])
        expect_close(got, expected, inputs=(x,))


# ---------------------------------------------------------------- 4.3 a Hessian-vector product


def _hessian_vector_product():
    import theanolab as theano
    import theanolab.tensor as T
    x = T.dvector('x')
    v = T.dvector('v')
    cost = x.sum() ** 2 + (x ** 3).sum()
    gy = T.grad(cost, x)
    # H v is the directional derivative of the gradient along v: T.Rop computes it
    # without ever building the n x n Hessian.  T.grad(T.sum(gy * v), x) gives the same.
    Hv = T.Rop(gy, x, v)
    return theano.function([x, v], Hv)


def _hessian_times_ones():
    import theanolab as theano
    import theanolab.tensor as T
    x, v = T.dvectors('x', 'v')
    gy = T.grad(x.sum() ** 2 + (x ** 3).sum(), x)
    return theano.function([x, v], T.grad(gy.sum(), x), on_unused_input='ignore')


def _gradient_only():
    import theanolab as theano
    import theanolab.tensor as T
    x, v = T.dvectors('x', 'v')
    return theano.function([x, v], T.grad(x.sum() ** 2 + (x ** 3).sum(), x), on_unused_input='ignore')


def _whole_hessian():
    import theanolab as theano
    import theanolab.tensor as T
    x, v = T.dvectors('x', 'v')
    return theano.function([x, v], theano.gradient.hessian(x.sum() ** 2 + (x ** 3).sum(), x),
                           on_unused_input='ignore')


def _inputs_swapped():
    import theanolab as theano
    import theanolab.tensor as T
    x, v = T.dvectors('x', 'v')
    gy = T.grad(x.sum() ** 2 + (x ** 3).sum(), x)
    return theano.function([v, x], T.Rop(gy, x, v))


_POINTS_4_3 = [(np.array([1.0, 2.0, 3.0]), np.array([0.5, -1.0, 2.0])),
               (np.array([-0.5, 1.5]), np.array([1.0, 3.0]))]


@exercise("4.3", "A Hessian-vector product", reference=_hessian_vector_product,
          wrong_answers=(_hessian_times_ones, _gradient_only, _whole_hessian, _inputs_swapped))
def _check_hessian_vector_product(answer):
    f = compiled(answer)
    for (x, v), got in zip(_POINTS_4_3, _outputs(f, _POINTS_4_3)):
        n = len(x)
        hessian = 2 * np.ones((n, n)) + np.diag(6 * x)
        where = f"for x = {describe(x)}, v = {describe(v)}"
        _diagnose(got, [
            (2 * x.sum() + 3 * x ** 2, f"{where} your function returns the gradient of the cost; H v is one "
                                       "derivative further: differentiate the gradient along v"),
            (hessian.sum(axis=1), f"{where} your function returns H times a vector of ones (the derivative of "
                                  "gy.sum()): multiply the gradient by v before differentiating, "
                                  "T.grad(T.sum(gy * v), x), or use T.Rop(gy, x, v)"),
            (hessian, f"{where} your function returns the whole Hessian matrix; the exercise asks for H times v "
                      "(T.dot(H, v), or without building H: T.Rop(gy, x, v))"),
            (2 * x.sum() + 6 * v * x, f"{where} your function computes H v with x and v swapped: compile it "
                                      "with its inputs in the order theano.function([x, v], ...)"),
        ])
        expect_close(got, hessian @ v, inputs=(x, v))
