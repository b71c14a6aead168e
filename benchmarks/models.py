"""The benchmarked models, written once against Theano's API.

theanolab and PyTensor share Theano's API, so each builder takes the library
(``theanolab`` or ``pytensor``) and its tensor module and builds the same graph
on either.  The NumPy versions are the hand-derived forward and backward passes
the compiled functions are checked against.  The JAX versions take ``jax`` and
``jax.numpy`` (so that this module imports without JAX) and differentiate with
``jax.grad``; they write the cross-entropy from the logits, stably, since JAX
has no stability rewrites to do it for them.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "chain",
    "chain_coefficients",
    "fused_expression",
    "jax_chain_grad",
    "jax_logistic_step",
    "jax_mlp_step",
    "jax_rnn",
    "logistic_regression",
    "logistic_regression_data",
    "logistic_xent",
    "mlp",
    "mlp_data",
    "mlp_training",
    "numpy_chain_grad",
    "numpy_logistic_step",
    "numpy_mlp_step",
    "numpy_rnn",
    "rnn",
    "rnn_cost_and_grads",
    "rnn_data",
    "sigmoid_xent",
]

LEARNING_RATE = 0.1
L2 = 0.01


def logistic_regression_data(samples, features, seed=0):
    """The tutorial's data set: Gaussian inputs, random 0/1 targets, N(0, 1) initial weights.

    With these weights ``x . w`` reaches about 80, where ``p_1`` rounds to 1:
    the stability rewrites are what keep the cross-entropy finite (see
    theanolab/demo.py and :func:`numpy_logistic_step`).
    """
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((samples, features))
    y = rng.integers(0, 2, size=samples).astype("float64")
    w = rng.standard_normal(features)
    return x, y, w, 0.0


def logistic_regression(lib, T, w0, b0):
    """The tutorial's training step: returns ``(train, w, b)``; ``train(x, y)`` -> [prediction, xent]."""
    x = T.dmatrix("x")
    y = T.dvector("y")
    w = lib.shared(np.array(w0, copy=True), name="w")
    b = lib.shared(b0, name="b")
    p_1 = 1 / (1 + T.exp(-T.dot(x, w) - b))
    prediction = p_1 > 0.5
    xent = -y * T.log(p_1) - (1 - y) * T.log(1 - p_1)
    cost = xent.mean() + L2 * (w**2).sum()
    gw, gb = T.grad(cost, [w, b])
    train = lib.function(
        [x, y], [prediction, xent], updates=((w, w - LEARNING_RATE * gw), (b, b - LEARNING_RATE * gb))
    )
    return train, w, b


def numpy_logistic_step(x, y, w, b):
    """One step by hand: returns ``(prediction, xent, new_w, new_b)``.

    The cross-entropy is computed from the logits, ``-log(p_1) = softplus(-z)``
    and ``-log(1 - p_1) = softplus(z)``, so it is exact where ``p_1`` rounds
    to 0 or 1.  (PyTensor, like Theano, computes ``log1p(-sigmoid(z))`` there:
    -inf, so its cross-entropy does not match this one at the tutorial's weights.)
    """
    z = x @ w + b
    p_1 = 1 / (1 + np.exp(-z))
    xent = y * np.logaddexp(0, -z) + (1 - y) * np.logaddexp(0, z)
    residual = (p_1 - y) / len(y)  # d(mean xent)/d(x @ w + b)
    gw = x.T @ residual + 2 * L2 * w
    gb = residual.sum()
    return p_1 > 0.5, xent, w - LEARNING_RATE * gw, b - LEARNING_RATE * gb


def jax_logistic_step(jax, jnp):
    """The same step as a jitted JAX function: ``step((w, b), x, y)`` -> (prediction, xent, (new_w, new_b))."""

    def cost(params, x, y):
        w, b = params
        z = x @ w + b
        xent = y * jnp.logaddexp(0.0, -z) + (1 - y) * jnp.logaddexp(0.0, z)
        return xent.mean() + L2 * (w**2).sum(), (jax.nn.sigmoid(z) > 0.5, xent)

    def step(params, x, y):
        grads, (prediction, xent) = jax.grad(cost, has_aux=True)(params, x, y)
        return prediction, xent, tuple(p - LEARNING_RATE * g for p, g in zip(params, grads))

    return jax.jit(step)


def mlp_data(samples, features, hidden, seed=0):
    """Inputs, 0/1 targets and small random weights for a features-hidden-1 network."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((samples, features))
    y = rng.integers(0, 2, size=samples).astype("float64")
    w1 = rng.standard_normal((features, hidden)) / np.sqrt(features)
    w2 = rng.standard_normal(hidden) / np.sqrt(hidden)
    return x, y, (w1, np.zeros(hidden), w2, 0.0)


def mlp(lib, T, params):
    """A tanh hidden layer and a logistic output, one SGD step per call: ``train(x, y)`` -> cost."""
    x = T.dmatrix("x")
    y = T.dvector("y")
    shared = [lib.shared(np.array(p, copy=True), name=n) for p, n in zip(params, ("W1", "b1", "w2", "b2"))]
    cost, updates = mlp_training(T, x, y, shared)
    return lib.function([x, y], cost, updates=updates), shared


def mlp_training(T, x, y, shared):
    """The step's graph on any inputs ``x``, ``y`` and shared ``(W1, b1, w2, b2)``: ``(cost, updates)``.

    Apart from :func:`mlp` so that the GPU benchmark can feed it data that
    lives in GPU memory (shared variables through ``givens``).
    """
    w1, b1, w2, b2 = shared
    hidden = T.tanh(T.dot(x, w1) + b1)
    p_1 = 1 / (1 + T.exp(-T.dot(hidden, w2) - b2))
    cost = (-y * T.log(p_1) - (1 - y) * T.log(1 - p_1)).mean()
    grads = T.grad(cost, shared)
    return cost, [(p, p - LEARNING_RATE * g) for p, g in zip(shared, grads)]


def numpy_mlp_step(x, y, params):
    """One step by hand (backpropagation): returns ``(cost, new_params)``."""
    w1, b1, w2, b2 = params
    hidden = np.tanh(x @ w1 + b1)
    p_1 = 1 / (1 + np.exp(-(hidden @ w2) - b2))
    cost = (-y * np.log(p_1) - (1 - y) * np.log(1 - p_1)).mean()
    d_out = (p_1 - y) / len(y)
    d_hidden = np.outer(d_out, w2) * (1 - hidden**2)
    grads = (x.T @ d_hidden, d_hidden.sum(axis=0), hidden.T @ d_out, d_out.sum())
    return cost, tuple(p - LEARNING_RATE * g for p, g in zip(params, grads))


def jax_mlp_step(jax, jnp):
    """The same step as a jitted JAX function: ``step(params, x, y)`` -> (cost, new_params)."""

    def cost(params, x, y):
        w1, b1, w2, b2 = params
        z = jnp.tanh(x @ w1 + b1) @ w2 + b2
        return (y * jnp.logaddexp(0.0, -z) + (1 - y) * jnp.logaddexp(0.0, z)).mean()

    def step(params, x, y):
        value, grads = jax.value_and_grad(cost)(params, x, y)
        return value, tuple(p - LEARNING_RATE * g for p, g in zip(params, grads))

    return jax.jit(step)


def fused_expression(x, y, exp, tanh):
    """Nine elementwise operations that a fusing compiler runs as one loop."""
    return x * y + exp(-x) * tanh(y) - 0.5 * y**2


def rnn_data(steps, batch, inputs, hidden, dtype="float32", seed=0):
    """A sequence of inputs, an initial state and the weights ``(W, U, b)`` of a tanh RNN."""
    rng = np.random.default_rng(seed)
    xs = rng.standard_normal((steps, batch, inputs)).astype(dtype)
    h0 = np.zeros((batch, hidden), dtype=dtype)
    w_in = (rng.standard_normal((inputs, hidden)) / np.sqrt(inputs)).astype(dtype)
    w_h = (rng.standard_normal((hidden, hidden)) / np.sqrt(hidden)).astype(dtype)
    bias = np.zeros(hidden, dtype=dtype)
    return xs, h0, (w_in, w_h, bias)


def rnn(lib, T, dtype="float32"):
    """``train(xs, h0, W, U, b)`` -> ``[cost, dW, dU, db]`` through ``scan`` and ``T.grad`` (Theano's API).

    The step is ``h_t = tanh(x_t W + h_{t-1} U + b)``; the cost, ``0.5 *
    sum(h_t ** 2) / batch`` over every step, makes every state matter to the
    gradient, so the backward pass runs through all of them.
    """
    xs, h0 = T.tensor3("xs", dtype=dtype), T.matrix("h0", dtype=dtype)
    w_in, w_h, bias = T.matrix("W", dtype=dtype), T.matrix("U", dtype=dtype), T.vector("b", dtype=dtype)
    return lib.function([xs, h0, w_in, w_h, bias], rnn_cost_and_grads(lib, T, xs, h0, w_in, w_h, bias))


def rnn_cost_and_grads(lib, T, xs, h0, w_in, w_h, bias):
    """:func:`rnn`'s outputs ``[cost, dW, dU, db]`` on any inputs (the GPU benchmark gives shared ones)."""

    def step(x_t, h_prev, w_in, w_h, bias):
        return T.tanh(T.dot(x_t, w_in) + T.dot(h_prev, w_h) + bias)

    states, _ = lib.scan(step, sequences=xs, outputs_info=h0, non_sequences=[w_in, w_h, bias])
    cost = 0.5 * (states ** 2).sum() / T.cast(xs.shape[1], xs.dtype)
    return [cost, *T.grad(cost, [w_in, w_h, bias])]


def numpy_rnn(xs, h0, weights):
    """The same forward pass and a hand-written backward pass (backpropagation through time)."""
    w_in, w_h, bias = weights
    states = [h0]
    for x_t in xs:
        states.append(np.tanh(x_t @ w_in + states[-1] @ w_h + bias))
    batch = xs.shape[1]
    cost = 0.5 * sum((h.astype(np.float64) ** 2).sum() for h in states[1:]) / batch
    d_in, d_h, d_bias = np.zeros_like(w_in), np.zeros_like(w_h), np.zeros_like(bias)
    carried = np.zeros_like(h0)
    for t in range(len(xs), 0, -1):
        pre = (states[t] / batch + carried) * (1 - states[t] ** 2)
        d_in += xs[t - 1].T @ pre
        d_h += states[t - 1].T @ pre
        d_bias += pre.sum(axis=0)
        carried = pre @ w_h.T
    return [np.asarray(cost, dtype=xs.dtype), d_in, d_h, d_bias]


def jax_rnn(jax, jnp):
    """The same cost through ``jax.lax.scan``, its value and gradient jitted: ``run(xs, h0, W, U, b)``."""

    def cost(weights, xs, h0):
        w_in, w_h, bias = weights

        def step(h, x_t):
            h = jnp.tanh(x_t @ w_in + h @ w_h + bias)
            return h, h

        states = jax.lax.scan(step, h0, xs)[1]
        return 0.5 * (states ** 2).sum() / xs.shape[1]

    value_and_grad = jax.value_and_grad(cost)

    def run(xs, h0, w_in, w_h, bias):
        value, grads = value_and_grad((w_in, w_h, bias), xs, h0)
        return [value, *grads]

    return jax.jit(run)


def sigmoid_xent(T, z, y):
    """The tutorial's cross-entropy of a sigmoid, as a Theano user writes it (the rewrites make it stable)."""
    p_1 = 1 / (1 + T.exp(-z))
    return -y * T.log(p_1) - (1 - y) * T.log(1 - p_1)


def logistic_xent(z, y, xp):
    """The same numbers as a careful programmer writes them (``xp``: NumPy or jax.numpy).

    ``-y log s(z) - (1 - y) log(1 - s(z)) = max(z, 0) - y z + log1p(exp(-|z|))``:
    one ``exp`` and one ``log1p`` per element, exact where ``s(z)`` rounds to 0 or 1.
    """
    return xp.maximum(z, 0) - y * z + xp.log1p(xp.exp(-xp.abs(z)))


def chain_coefficients(depth, seed=0):
    """``depth`` pairs ``(w_i, b_i)`` of Python floats: the constants of :func:`chain`.

    Weights near 1 and small biases, so that 200 steps neither saturate ``tanh``
    nor make the gradient vanish (it stays between about 1e-8 and 1): the check
    against NumPy then compares real numbers, not zeros.
    """
    rng = np.random.default_rng(seed)
    weights, biases = 1 + 0.1 * rng.standard_normal(depth), 0.01 * rng.standard_normal(depth)
    return [(float(w), float(b)) for w, b in zip(weights, biases)]


def chain(x, coefficients, tanh):
    """``y = x``, then ``y = tanh(y * w_i + b_i)`` for each pair: a graph as deep as the list is long."""
    y = x
    for w, b in coefficients:
        y = tanh(y * w + b)
    return y


def numpy_chain_grad(x, coefficients):
    """The gradient of ``chain(x).sum()`` with respect to ``x``, by hand (forward, then back)."""
    states = [x]
    for w, b in coefficients:
        states.append(np.tanh(states[-1] * w + b))
    grad = np.ones_like(x)
    for (w, _), y in zip(reversed(coefficients), reversed(states[1:])):
        grad = grad * (1 - y**2) * w
    return grad


def jax_chain_grad(jax, jnp, coefficients):
    """``jax.jit(jax.grad(...))`` of the same sum: ``grad(x)``."""
    return jax.jit(jax.grad(lambda x: chain(x, coefficients, jnp.tanh).sum()))
