"""Gradients through scan (backpropagation through time) against finite differences and unrolled loops."""

import numpy as np
import pytest

import theanolab
import theanolab.tensor as T
from theanolab.gradient import NullTypeGradError, verify_grad
from theanolab.scan_module import until

RNG = np.random.default_rng(11)


def normal(*shape, scale=1.0):
    return RNG.normal(size=shape) * scale


def tanh_rnn(x, h0, W, U, b, **kwargs):
    h, _ = theanolab.scan(lambda xt, hp, W, U, b: T.tanh(T.dot(xt, W) + T.dot(hp, U) + b),
                          sequences=x, outputs_info=h0, non_sequences=[W, U, b], **kwargs)
    return h


def test_verify_grad_tanh_rnn():
    # batch 3, input 4, hidden 5, 6 steps: gradients w.r.t. sequence, initial state and every weight
    verify_grad(tanh_rnn, [normal(6, 3, 4), normal(3, 5), normal(4, 5, scale=0.5), normal(5, 5, scale=0.5),
                           normal(5)])


def test_verify_grad_with_taps():
    def taps(x, h0, w):
        h, _ = theanolab.scan(lambda xm1, xp1, hm2, hm1, w: T.tanh(xm1 * hm2 + xp1 * hm1 * w),
                              sequences=dict(input=x, taps=[-1, 1]),
                              outputs_info=dict(initial=h0, taps=[-2, -1]), non_sequences=w)
        return h

    verify_grad(taps, [normal(7, 3), normal(2, 3), normal(3)])


def test_verify_grad_go_backwards_and_per_step_outputs():
    def backwards(x, h0):
        (h, y), _ = theanolab.scan(lambda xt, hp: (T.tanh(xt + 0.5 * hp), (xt * hp).sum()), sequences=x,
                                   outputs_info=[h0, None], go_backwards=True)
        return h.sum() + (y ** 2).sum()

    verify_grad(backwards, [normal(5, 3), normal(3)])


def test_gradient_of_a_shared_variable_used_inside():
    W = theanolab.shared(normal(3, 3, scale=0.5), name="W")
    x, h0 = T.dmatrix("x"), T.dvector("h0")
    h, _ = theanolab.scan(lambda xt, hp: T.tanh(T.dot(hp, W) + xt), sequences=x, outputs_info=h0)
    cost = (h ** 2).sum()
    grad_W = theanolab.function([x, h0], T.grad(cost, W))
    xv, h0v = normal(4, 3), normal(3)
    unrolled = h0
    terms = []
    for t in range(4):
        unrolled = T.tanh(T.dot(unrolled, W) + x[t])
        terms.append((unrolled ** 2).sum())
    reference = theanolab.function([x, h0], T.grad(sum(terms), W))
    np.testing.assert_allclose(grad_W(xv, h0v), reference(xv, h0v), rtol=1e-10)


@pytest.mark.parametrize("truncate", [1, 2, 4, 10])
def test_truncate_gradient_matches_hand_truncated_reference(truncate):
    # Theano's truncated BPTT: only the last `truncate` steps are backpropagated through.
    steps = 6
    x, h0, w, u = T.dmatrix("x"), T.dvector("h0"), T.dmatrix("w"), T.dmatrix("u")
    h = tanh_rnn(x, h0, w, u, T.zeros_like(h0), truncate_gradient=truncate)
    wrt = [x, h0, w, u]
    scanned = theanolab.function(wrt, T.grad((h ** 2).sum(), wrt))
    # reference: unrolled by hand; the state entering the window is a constant, earlier outputs are dropped
    first = max(steps - truncate, 0)
    state, cost = h0, 0
    for t in range(steps):
        if t == first and first > 0:
            state = theanolab.gradient.disconnected_grad(state)
        state = T.tanh(T.dot(x[t], w) + T.dot(state, u))
        if t >= first:
            cost = cost + (state ** 2).sum()
    reference = theanolab.function(wrt, T.grad(cost, wrt, disconnected_inputs="ignore"))
    values = [normal(steps, 3), normal(3), normal(3, 3, scale=0.5), normal(3, 3, scale=0.5)]
    for got, expected in zip(scanned(*values), reference(*values)):
        np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-12)


def test_second_derivative_through_scan():
    def gradient_of_cost(w):
        h, _ = theanolab.scan(lambda p, w: T.tanh(p * w), outputs_info=T.constant(np.ones(2)), non_sequences=w,
                              n_steps=3)
        return T.grad((h ** 2).sum(), w)

    verify_grad(gradient_of_cost, [np.array([0.3, -0.7])])


def test_nested_scan_gradient():
    def nested(x, w):
        def row(xr, w):
            inner, _ = theanolab.scan(lambda v, acc, w: T.tanh(acc * w + v), sequences=xr,
                                      outputs_info=T.zeros_like(w), non_sequences=w)
            return inner[-1]

        out, _ = theanolab.map(row, x, non_sequences=w)
        return out

    verify_grad(nested, [normal(3, 4), np.array(0.7)])


def test_jacobian_of_a_scan_output():
    x = T.dvector("x")
    cumulative, _ = theanolab.scan(lambda v, acc: acc + v ** 2, sequences=x, outputs_info=T.constant(np.asarray(0.0)))
    J = theanolab.function([x], theanolab.gradient.jacobian(cumulative, x))([1.0, 2.0, 3.0])
    np.testing.assert_allclose(J, np.tril(np.ones((3, 3))) * [2.0, 4.0, 6.0])


def test_rop_matches_finite_differences():
    x, h0, W = T.dmatrix("x"), T.dvector("h0"), T.dmatrix("W")
    V = T.dmatrix("V")
    h, _ = theanolab.scan(lambda xt, hp, W: T.tanh(T.dot(hp, W) + xt), sequences=x, outputs_info=h0,
                          non_sequences=W)
    rop = theanolab.function([x, h0, W, V], theanolab.gradient.Rop(h, W, V))
    forward = theanolab.function([x, h0, W], h)
    xv, h0v, Wv, Vv = normal(4, 3), normal(3), normal(3, 3, scale=0.5), normal(3, 3)
    eps = 1e-6
    numeric = (forward(xv, h0v, Wv + eps * Vv) - forward(xv, h0v, Wv - eps * Vv)) / (2 * eps)
    np.testing.assert_allclose(rop(xv, h0v, Wv, Vv), numeric, rtol=1e-6, atol=1e-8)


def test_gradients_that_do_not_exist_say_why():
    x = T.dscalar("x")
    doubles, _ = theanolab.scan(lambda p: (p * 2, until(p > 10)), outputs_info=x, n_steps=10)
    with pytest.raises(NullTypeGradError, match="until condition"):
        T.grad(doubles.sum(), x)
    counter = theanolab.shared(np.float64(1.0), name="counter")
    counter.default_update = counter + 1
    w = T.dscalar("w")
    out, _ = theanolab.scan(lambda p: p * counter * w, outputs_info=x, n_steps=3)
    with pytest.raises(NotImplementedError, match="counter.*carry the value through outputs_info"):
        T.grad(out.sum(), w)
