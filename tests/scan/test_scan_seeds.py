"""The seeds' scan examples (003: A**k, polynomial, accumulation; 004: Jacobian, Hessian), as written.

The code is kept as close to the texts as Python 3 allows (``theano`` is
``theanolab``); the comment above each test names the seed.  003's
accumulation example is cut off in the seed: its code is the tutorial's
(triangular numbers with ``T.arange``).
"""

import numpy
import numpy as np

import theanolab as theano
import theanolab.tensor as T
from theanolab import function


def test_power_a_to_the_k_003():
    # 003: "Simple loop with accumulation: computing A**k"
    k = T.iscalar('k')
    A = T.vector('A')
    result, updates = theano.scan(fn=lambda prior_result, A: prior_result * A, outputs_info=T.ones_like(A),
                                  non_sequences=A, n_steps=k)
    final_result = result[-1]
    power = theano.function(inputs=[A, k], outputs=final_result, updates=updates)
    assert len(updates) == 0
    np.testing.assert_allclose(power(range(10), 2), np.arange(10.0) ** 2)
    np.testing.assert_allclose(power(range(10), 4), np.arange(10.0) ** 4)
    assert power(range(10), 2).dtype == theano.config.floatX


def test_polynomial_003():
    # 003: "Iterating over the first dimension of a tensor: Calculating a polynomial"
    coefficients = theano.tensor.vector("coefficients")
    x = T.scalar("x")
    max_coefficients_supported = 10000
    components, updates = theano.scan(fn=lambda coefficient, power, free_variable:
                                      coefficient * (free_variable ** power),
                                      outputs_info=None,
                                      sequences=[coefficients, theano.tensor.arange(max_coefficients_supported)],
                                      non_sequences=x)
    polynomial = components.sum()
    calculate_polynomial = theano.function(inputs=[coefficients, x], outputs=polynomial)
    test_coefficients = numpy.asarray([1, 0, 2], dtype=numpy.float32)
    test_value = 3
    assert float(calculate_polynomial(test_coefficients, test_value)) == 19.0
    assert 1.0 * (3 ** 0) + 0.0 * (3 ** 1) + 2.0 * (3 ** 2) == 19.0


def test_triangular_numbers_003():
    # 003: "Simple accumulation into a scalar, ditching lambda"
    up_to = T.iscalar("up_to")

    def accumulate_by_adding(arange_val, sum_to_date):
        return sum_to_date + arange_val

    seq = T.arange(up_to)
    outputs_info = T.as_tensor_variable(np.asarray(0, seq.dtype))
    scan_result, scan_updates = theano.scan(fn=accumulate_by_adding, outputs_info=outputs_info, sequences=seq)
    triangular_sequence = theano.function(inputs=[up_to], outputs=scan_result)
    some_num = 15
    assert triangular_sequence(some_num).tolist() == [n * (n + 1) // 2 for n in range(some_num)]


def test_jacobian_by_scan_004():
    # 004: "computing the Jacobian matrix - Manually, we can use scan"
    x = T.dvector('x')
    y = x ** 2
    J, updates = theano.scan(lambda i, y, x: T.grad(y[i], x), sequences=T.arange(y.shape[0]),
                             non_sequences=[y, x])
    f = function([x], J, updates=updates)
    assert f([4, 4]).tolist() == [[8.0, 0.0], [0.0, 8.0]]


def test_hessian_by_scan_004():
    # 004: "computing the Hessian matrix - Manually, we can use scan"
    x = T.dvector('x')
    y = x ** 2
    cost = y.sum()
    gy = T.grad(cost, x)
    H, updates = theano.scan(lambda i, gy, x: T.grad(gy[i], x), sequences=T.arange(gy.shape[0]),
                             non_sequences=[gy, x])
    f = function([x], H, updates=updates)
    assert f([4, 4]).tolist() == [[2.0, 0.0], [0.0, 2.0]]


def test_jacobian_and_hessian_helpers_003():
    # 003: theano.gradient.jacobian / hessian give the same matrices
    x = T.dvector('x')
    y = x ** 2
    assert function([x], theano.gradient.jacobian(y, x))([4, 4]).tolist() == [[8.0, 0.0], [0.0, 8.0]]
    assert function([x], theano.gradient.hessian(y.sum(), x))([4, 4]).tolist() == [[2.0, 0.0], [0.0, 2.0]]
