"""Lesson 9's exercises (notebooks/09_recurrent_network.ipynb): an Elman recurrent network with scan.

The network is ``h_t = tanh(x_t W_x + h_{t-1} W_h + b)``.  The checkers run
the student's answer on a small problem whose sizes all differ (5 steps, 2
inputs, 3 hidden units), so a weight used in the wrong place fails on a shape
and the hint can say which product has which shape; then they compare with a
NumPy loop and recognise the usual mistakes (no ``tanh``, no bias, only the
last state, the initial state included, the gradient of the wrong cost or
with respect to the wrong variable).
"""

import numpy as np

from theanolab.course.checking import Hint, exercise
from theanolab.course.probes import compiled, error_text, expect_close, symbolic

_STEPS, _N_IN, _N_HIDDEN = 5, 2, 3
_WEIGHT_SHAPES = f"W_x ({_N_IN}, {_N_HIDDEN}), W_h ({_N_HIDDEN}, {_N_HIDDEN}), b ({_N_HIDDEN},)"
#: the shapes a hint names: of one step's inputs (9.1), or of the whole loop's (9.2, 9.3)
_STEP_SHAPES = f"x_t has shape ({_N_IN},), h_prev ({_N_HIDDEN},), {_WEIGHT_SHAPES}"
_LOOP_SHAPES = f"x has shape ({_STEPS}, {_N_IN}) (one row per time step), h0 ({_N_HIDDEN},), {_WEIGHT_SHAPES}"


def _problem():
    """The checkers' inputs: x, h0, W_x, W_h, b (fixed, so a hint names the same numbers every time)."""
    rng = np.random.RandomState(9)
    return (rng.uniform(-1, 1, (_STEPS, _N_IN)), rng.uniform(-0.5, 0.5, _N_HIDDEN),
            rng.uniform(-1, 1, (_N_IN, _N_HIDDEN)), rng.uniform(-0.8, 0.8, (_N_HIDDEN, _N_HIDDEN)),
            rng.uniform(-0.5, 0.5, _N_HIDDEN))


def _numpy_states(x, h0, W_x, W_h, b, squash=np.tanh):
    """Every hidden state h_1 .. h_T of the network, by a NumPy loop."""
    h, states = h0, []
    for x_t in x:
        h = squash(x_t @ W_x + h @ W_h + b)
        states.append(h)
    return np.array(states)


def _numpy_input_gradient(x, h0, W_x, W_h, b, every_step=False):
    """d cost / d x by backpropagation through time; cost = h_T.sum(), or the sum of every h_t."""
    states = _numpy_states(x, h0, W_x, W_h, b)
    grad_x = np.zeros_like(x)
    grad_h = np.zeros(len(h0))
    for t in reversed(range(len(x))):
        if every_step or t == len(x) - 1:
            grad_h = grad_h + 1.0
        grad_pre = grad_h * (1 - states[t] ** 2)      # back through tanh
        grad_x[t] = grad_pre @ W_x.T
        grad_h = grad_pre @ W_h.T                      # on to the previous state
    return grad_x


def _call_with_shapes(f, args, what, shapes=_LOOP_SHAPES):
    """Call ``f(*args)``; its error becomes a hint that gives the problem's shapes (most errors here are shape
    mismatches, and the arrays themselves would only bury the message)."""
    try:
        return f(*args)
    except Exception as error:  # noqa: BLE001 (the student's error is the hint)
        raise Hint(f"calling {what} raised {error_text(error)}. In this check {shapes}: "
                   "the input term is T.dot(x_t, W_x), the recurrent one T.dot(h_prev, W_h)") from None


# -- 9.1 one step ---------------------------------------------------------------------------------

def _step():
    import theanolab.tensor as T

    def step(x_t, h_prev, W_x, W_h, b):
        # the input at time t, and the memory of everything before it, mixed and squashed into (-1, 1)
        return T.tanh(T.dot(x_t, W_x) + T.dot(h_prev, W_h) + b)
    return step


def _step_without_tanh():
    import theanolab.tensor as T
    return lambda x_t, h_prev, W_x, W_h, b: T.dot(x_t, W_x) + T.dot(h_prev, W_h) + b


def _step_with_sigmoid():
    import theanolab.tensor as T
    return lambda x_t, h_prev, W_x, W_h, b: T.nnet.sigmoid(T.dot(x_t, W_x) + T.dot(h_prev, W_h) + b)


def _step_without_bias():
    import theanolab.tensor as T
    return lambda x_t, h_prev, W_x, W_h, b: T.tanh(T.dot(x_t, W_x) + T.dot(h_prev, W_h))


def _step_weights_swapped():
    import theanolab.tensor as T
    return lambda x_t, h_prev, W_x, W_h, b: T.tanh(T.dot(x_t, W_h) + T.dot(h_prev, W_x) + b)


@exercise("9.1", "One step of the recurrent network", reference=_step,
          wrong_answers=(_step_without_tanh, _step_with_sigmoid, _step_without_bias, _step_weights_swapped))
def _check_step(answer):
    import theanolab as theano
    import theanolab.tensor as T
    from theanolab.compile.function import Function
    if isinstance(answer, Function) or not callable(answer):
        raise Hint(f"your answer is a {type(answer).__name__}; the exercise asks for the Python function itself, "
                   "def step(x_t, h_prev, W_x, W_h, b): ... (scan calls it with symbolic variables)")
    inputs = [T.dvector('x_t'), T.dvector('h_prev'), T.dmatrix('W_x'), T.dmatrix('W_h'), T.dvector('b')]
    try:
        h_t = answer(*inputs)
    except Exception as error:  # noqa: BLE001 (the student's error is the hint)
        raise Hint(f"calling step(x_t, h_prev, W_x, W_h, b) on symbolic variables raised "
                   f"{type(error).__name__}: {error}") from None
    h_t = symbolic(h_t, ndim=1, what="what your step returns")
    x, h0, W_x, W_h, b = _problem()
    got = _call_with_shapes(theano.function(inputs, h_t, on_unused_input="ignore"), (x[0], h0, W_x, W_h, b),
                            what="your step", shapes=_STEP_SHAPES)
    pre_activation = x[0] @ W_x + h0 @ W_h + b
    expect_close(got, np.tanh(pre_activation), what="your step", mistakes=(
        (pre_activation, "your step returns x_t·W_x + h_prev·W_h + b without the squashing: wrap it in T.tanh, "
                         "which keeps the state between -1 and 1 however long the sequence"),
        (1 / (1 + np.exp(-pre_activation)), "your step squashes with the logistic sigmoid, into (0, 1); the Elman "
                                            "step uses T.tanh, into (-1, 1), so a state component can also be "
                                            "negative"),
        (np.tanh(pre_activation - b), "your step leaves out the bias b: add it inside the tanh"),
    ))


# -- 9.2 the loop (the slides' exercise) -----------------------------------------------------------

def _recurrent_loop():
    import theanolab as theano
    import theanolab.tensor as T
    x = T.dmatrix('x')           # the input sequence, one row per time step
    h0 = T.dvector('h0')         # the state before the first step
    W_x = T.dmatrix('W_x')
    W_h = T.dmatrix('W_h')
    b = T.dvector('b')

    # scan passes: the sequence's row x_t, then the previous state h_prev, then the non-sequences
    def step(x_t, h_prev, W_x, W_h, b):
        return T.tanh(T.dot(x_t, W_x) + T.dot(h_prev, W_h) + b)

    h, updates = theano.scan(step,
                             sequences=x,                   # one step per row of x
                             outputs_info=h0,               # h_prev at the first step
                             non_sequences=[W_x, W_h, b])   # the same weights at every step
    # h stacks h_1 .. h_T (h0 is not included): one row per time step
    return theano.function([x, h0, W_x, W_h, b], h, updates=updates)


def _loop_with(step, result=lambda h, h0: h):
    """The reference's inputs and loop with another ``step`` or result: each mistake below changes only that."""
    import theanolab as theano
    import theanolab.tensor as T
    x, W_x, W_h = T.dmatrix('x'), T.dmatrix('W_x'), T.dmatrix('W_h')
    h0, b = T.dvector('h0'), T.dvector('b')
    h, updates = theano.scan(step, sequences=x, outputs_info=h0, non_sequences=[W_x, W_h, b])
    return theano.function([x, h0, W_x, W_h, b], result(h, h0), updates=updates)


def _elman_step(x_t, h_prev, W_x, W_h, b):
    import theanolab.tensor as T
    return T.tanh(T.dot(x_t, W_x) + T.dot(h_prev, W_h) + b)


def _recurrent_loop_last_only():
    return _loop_with(_elman_step, result=lambda h, h0: h[-1])


def _recurrent_loop_without_tanh():
    import theanolab.tensor as T
    return _loop_with(lambda x_t, h_prev, W_x, W_h, b: T.dot(x_t, W_x) + T.dot(h_prev, W_h) + b)


def _recurrent_loop_parameters_swapped():
    # the state first: scan gives it the row x_t instead
    return _loop_with(lambda h_prev, x_t, W_x, W_h, b: _elman_step(x_t, h_prev, W_x, W_h, b))


def _recurrent_loop_with_h0():
    import theanolab.tensor as T
    return _loop_with(_elman_step, result=lambda h, h0: T.concatenate([h0.dimshuffle('x', 0), h]))


@exercise("9.2", "The recurrent loop with scan", reference=_recurrent_loop,
          wrong_answers=(_recurrent_loop_last_only, _recurrent_loop_without_tanh, _recurrent_loop_parameters_swapped,
                         _recurrent_loop_with_h0))
def _check_recurrent_loop(answer):
    f = compiled(answer)
    problem = _problem()
    try:
        got = _call_with_shapes(f, problem, what="your function")
    except Hint as hint:
        raise Hint(f"{hint}. Remember the order in which scan passes the step's parameters: the sequence's "
                   "row x_t first, then the previous state h_prev, then the non-sequences") from None
    expected = _numpy_states(*problem)
    if np.shape(got) == (len(expected) + 1, expected.shape[1]):
        raise Hint(f"your result has {len(expected) + 1} rows for {len(expected)} time steps: scan's result "
                   "starts at h_1, the state after the first step; it does not need h0 in front")
    expect_close(got, expected, what="your function", mistakes=(
        (expected[-1], "your function returns only the last state h[-1]; the exercise asks for every state "
                       f"h_1 .. h_T, one row per time step (shape {expected.shape}): return scan's whole result"),
        (_numpy_states(*problem, squash=lambda a: a), "your states are not squashed: the step must return "
                                                      "T.tanh(...) of the sum"),
    ))


# -- 9.3 gradients through time ---------------------------------------------------------------------

def _input_gradient():
    import theanolab as theano
    import theanolab.tensor as T
    x, W_x, W_h = T.dmatrix('x'), T.dmatrix('W_x'), T.dmatrix('W_h')
    h0, b = T.dvector('h0'), T.dvector('b')
    h, updates = theano.scan(lambda x_t, h_prev, W_x, W_h, b: T.tanh(T.dot(x_t, W_x) + T.dot(h_prev, W_h) + b),
                             sequences=x, outputs_info=h0, non_sequences=[W_x, W_h, b])
    last = h[-1].sum()                    # the cost: the last state only
    # T.grad runs the loop backwards: row t of the result is d last / d x_t
    return theano.function([x, h0, W_x, W_h, b], T.grad(last, x), updates=updates)


def _input_gradient_of_every_state():
    import theanolab as theano
    import theanolab.tensor as T
    x, W_x, W_h = T.dmatrix('x'), T.dmatrix('W_x'), T.dmatrix('W_h')
    h0, b = T.dvector('h0'), T.dvector('b')
    h, updates = theano.scan(lambda x_t, h_prev, W_x, W_h, b: T.tanh(T.dot(x_t, W_x) + T.dot(h_prev, W_h) + b),
                             sequences=x, outputs_info=h0, non_sequences=[W_x, W_h, b])
    return theano.function([x, h0, W_x, W_h, b], T.grad(h.sum(), x), updates=updates)


def _initial_state_gradient():
    import theanolab as theano
    import theanolab.tensor as T
    x, W_x, W_h = T.dmatrix('x'), T.dmatrix('W_x'), T.dmatrix('W_h')
    h0, b = T.dvector('h0'), T.dvector('b')
    h, updates = theano.scan(lambda x_t, h_prev, W_x, W_h, b: T.tanh(T.dot(x_t, W_x) + T.dot(h_prev, W_h) + b),
                             sequences=x, outputs_info=h0, non_sequences=[W_x, W_h, b])
    return theano.function([x, h0, W_x, W_h, b], T.grad(h[-1].sum(), h0), updates=updates)


@exercise("9.3", "Gradients through time", reference=_input_gradient,
          wrong_answers=(_input_gradient_of_every_state, _initial_state_gradient))
def _check_input_gradient(answer):
    f = compiled(answer)
    problem = _problem()
    got = _call_with_shapes(f, problem, what="your function")
    if np.shape(got) != problem[0].shape:
        raise Hint(f"your result has shape {np.shape(got)}; a gradient with respect to x has x's shape "
                   f"{problem[0].shape}, one number per input element: T.grad(h[-1].sum(), x)")
    expect_close(got, _numpy_input_gradient(*problem), what="your function", mistakes=(
        (_numpy_input_gradient(*problem, every_step=True),
         "you differentiated the sum of every state, h.sum(); the exercise asks how the LAST state depends on "
         "each input: T.grad(h[-1].sum(), x)"),
    ))
