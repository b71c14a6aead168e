"""Lesson 6's exercises (notebooks/06_loops_with_scan.ipynb): loops with scan, and gradients through them.

The checkers compare with NumPy, then look for the mistakes students make with
scan in particular: keeping only ``result[-1]`` when every step is asked for,
forgetting the previous state, giving the step function its parameters in
an order scan does not use (sequences, then previous states, then
non-sequences), and differentiating with respect to the wrong variable.
"""

import numpy as np

from theanolab.course.checking import Hint, exercise
from theanolab.course.probes import call, compiled, describe, expect_close


def _has_scan(function):
    """True when the compiled ``function`` runs a scan loop (on any device)."""
    from theanolab.graph.op import base_op
    from theanolab.scan.op import Scan
    return any(isinstance(base_op(node.op), Scan) for node in function.maker.fgraph.apply_nodes)


# -- 6.1 a running total ---------------------------------------------------------------------------

def _running_total():
    import theanolab as theano
    import theanolab.tensor as T
    x = T.dvector('x')
    # one step: the sequence's element comes first, then the total so far (the previous state)
    totals, updates = theano.scan(fn=lambda x_t, total_so_far: total_so_far + x_t,
                                  sequences=x,
                                  outputs_info=T.as_tensor_variable(np.asarray(0.0, x.dtype)))
    # every partial sum is asked for, so the whole result is the output (not totals[-1])
    return theano.function([x], totals, updates=updates)


def _running_total_last_only():
    import theanolab as theano
    import theanolab.tensor as T
    x = T.dvector('x')
    totals, updates = theano.scan(lambda x_t, total: total + x_t, sequences=x,
                                  outputs_info=T.as_tensor_variable(np.asarray(0.0, x.dtype)))
    return theano.function([x], totals[-1], updates=updates)


def _running_total_starting_at_first():
    import theanolab as theano
    import theanolab.tensor as T
    x = T.dvector('x')
    totals, updates = theano.scan(lambda x_t, total: total + x_t, sequences=x, outputs_info=x[0])
    return theano.function([x], totals, updates=updates)


def _running_total_forgetting_total():
    import theanolab as theano
    import theanolab.tensor as T
    x = T.dvector('x')
    totals, updates = theano.scan(lambda x_t, total: x_t, sequences=x,
                                  outputs_info=T.as_tensor_variable(np.asarray(0.0, x.dtype)))
    return theano.function([x], totals, updates=updates)


def _running_total_by_matrix():
    import theanolab as theano
    import theanolab.tensor as T
    x = T.dvector('x')
    lower = T.ones((x.shape[0], x.shape[0])) * (T.arange(x.shape[0]).dimshuffle(0, 'x')
                                               >= T.arange(x.shape[0]).dimshuffle('x', 0))
    return theano.function([x], T.dot(lower, x))


@exercise("6.1", "A running total with scan", reference=_running_total,
          wrong_answers=(_running_total_last_only, _running_total_starting_at_first, _running_total_forgetting_total,
                         _running_total_by_matrix))
def _check_running_total(answer):
    f = compiled(answer)
    for x in (np.array([1.0, 2.0, 3.0, 4.0]), np.array([0.5, -1.0, 2.25])):
        got = call(f, x)
        expected = np.cumsum(x)
        expect_close(got, expected, inputs=(x,), mistakes=(
            (expected[-1], f"for x = {describe(x)} your function returned only the final total {describe(got)}; "
                           "the exercise asks for every partial sum: return scan's whole result, not result[-1]"),
            (x, f"for x = {describe(x)} your function returned x itself: each step gives back x_t and drops the "
                "total so far. Return total_so_far + x_t, with the starting total 0.0 in outputs_info"),
            (expected + x[0], f"for x = {describe(x)} every total is too large by x[0] = {x[0]}: the loop starts "
                              "from x[0] and then adds x[0] again at its first step. Start the total from zero: "
                              "outputs_info=T.as_tensor_variable(np.asarray(0.0, x.dtype))"),
        ))
    if not _has_scan(f):
        raise Hint("your function computes the right numbers, but without a scan loop; this exercise practises "
                   "theano.scan: one step adds x_t to the total so far")


# -- 6.2 an exponential moving average ---------------------------------------------------------------

def _moving_average():
    import theanolab as theano
    import theanolab.tensor as T
    x = T.dvector('x')
    alpha = T.dscalar('alpha')

    # scan passes: sequences (x_t), then the previous state (s_prev), then non-sequences (alpha)
    def step(x_t, s_prev, alpha):
        return alpha * s_prev + (1 - alpha) * x_t

    smoothed, updates = theano.scan(step, sequences=x,
                                    outputs_info=T.zeros_like(alpha),   # s starts at 0.0 (a float64 scalar)
                                    non_sequences=alpha)
    return theano.function([x, alpha], smoothed, updates=updates)


def _moving_average_parameters_swapped():
    import theanolab as theano
    import theanolab.tensor as T
    x = T.dvector('x')
    alpha = T.dscalar('alpha')

    def step(s_prev, x_t, alpha):          # the state first: scan gives x_t to s_prev, and s_prev to x_t
        return alpha * s_prev + (1 - alpha) * x_t

    smoothed, updates = theano.scan(step, sequences=x, outputs_info=T.zeros_like(alpha), non_sequences=alpha)
    return theano.function([x, alpha], smoothed, updates=updates)


def _moving_average_last_only():
    import theanolab as theano
    import theanolab.tensor as T
    x = T.dvector('x')
    alpha = T.dscalar('alpha')
    smoothed, updates = theano.scan(lambda x_t, s, a: a * s + (1 - a) * x_t, sequences=x,
                                    outputs_info=T.zeros_like(alpha), non_sequences=alpha)
    return theano.function([x, alpha], smoothed[-1], updates=updates)


def _numpy_moving_average(x, alpha, swapped=False):
    s, out = 0.0, []
    for x_t in x:
        s = alpha * x_t + (1 - alpha) * s if swapped else alpha * s + (1 - alpha) * x_t
        out.append(s)
    return np.array(out)


@exercise("6.2", "An exponential moving average", reference=_moving_average,
          wrong_answers=(_moving_average_parameters_swapped, _moving_average_last_only))
def _check_moving_average(answer):
    f = compiled(answer)
    for x, alpha in ((np.array([2.0, 0.0, 4.0, -1.0]), 0.25), (np.array([4.0, 0.0, -2.0, 1.0, 3.0]), 0.75)):
        got = call(f, x, alpha)
        expected = _numpy_moving_average(x, alpha)
        expect_close(got, expected, inputs=(x, alpha), mistakes=(
            (expected[-1], f"for x = {describe(x)}, alpha = {alpha} you returned only the last average "
                           f"{describe(got)}; the exercise asks for the average after every step (the whole result)"),
            (_numpy_moving_average(x, alpha, swapped=True),
             f"for x = {describe(x)}, alpha = {alpha} you computed alpha * x_t + (1 - alpha) * s_prev: the element "
             "and the state trade places. scan passes the step's parameters in a fixed order, sequences first "
             "(x_t), then the previous state (s_prev), then non-sequences (alpha): write def step(x_t, s_prev, alpha)"),
        ))


# -- 6.3 the derivative of a polynomial, through the loop ---------------------------------------------

def _polynomial_derivative():
    import theanolab as theano
    import theanolab.tensor as T
    coefficients = T.dvector('coefficients')
    x = T.dscalar('x')
    # the lesson's polynomial: one term per coefficient, c_i * x**i, summed
    components, updates = theano.scan(lambda c, power, x: c * x ** power,
                                      sequences=[coefficients, T.arange(1000)],
                                      non_sequences=x)
    polynomial = components.sum()
    # T.grad goes back through the loop (a backward scan) to x
    return theano.function([coefficients, x], T.grad(polynomial, x), updates=updates)


def _polynomial_value():
    import theanolab as theano
    import theanolab.tensor as T
    coefficients = T.dvector('coefficients')
    x = T.dscalar('x')
    components, updates = theano.scan(lambda c, power, x: c * x ** power,
                                      sequences=[coefficients, T.arange(1000)], non_sequences=x)
    return theano.function([coefficients, x], components.sum(), updates=updates)


def _polynomial_gradient_wrt_coefficients():
    import theanolab as theano
    import theanolab.tensor as T
    coefficients = T.dvector('coefficients')
    x = T.dscalar('x')
    components, updates = theano.scan(lambda c, power, x: c * x ** power,
                                      sequences=[coefficients, T.arange(1000)], non_sequences=x)
    return theano.function([coefficients, x], T.grad(components.sum(), coefficients), updates=updates)


@exercise("6.3", "The derivative of a polynomial, through scan", reference=_polynomial_derivative,
          wrong_answers=(_polynomial_value, _polynomial_gradient_wrt_coefficients))
def _check_polynomial_derivative(answer):
    f = compiled(answer)
    for coefficients, x in ((np.array([1.0, 0.0, 2.0]), 3.0), (np.array([0.5, -2.0, 1.0, 0.25]), 1.5)):
        got = call(f, coefficients, x)
        powers = x ** np.arange(len(coefficients))
        derivative = np.polynomial.polynomial.polyval(x, np.polynomial.polynomial.polyder(coefficients))
        expect_close(got, derivative, inputs=(coefficients, x), mistakes=(
            (powers, f"for coefficients {describe(coefficients)} and x = {x} you got one number per coefficient, "
                     f"{describe(got)}: the gradient with respect to the coefficients. The exercise asks for the "
                     "derivative with respect to x: T.grad(polynomial, x)"),
            (coefficients @ powers, f"for coefficients {describe(coefficients)} and x = {x} you returned "
                                    f"{describe(got)}, the polynomial's value; the exercise asks for its derivative: "
                                    "T.grad(polynomial, x)"),
        ))
