"""Lesson 7's exercises (notebooks/07_logistic_regression.ipynb): the pieces of the logistic-regression program."""

import numpy as np

from theanolab.course.checking import Hint, exercise
from theanolab.course.probes import call, compiled, describe, expect_close, explicit_inputs


def _logistic(z):
    return 1 / (1 + np.exp(-z))


# 7.1 -------------------------------------------------------------------------------------------

def _probability():
    import theanolab as theano
    import theanolab.tensor as T
    x = T.dmatrix('x')   # one example per row, one feature per column
    w = T.dvector('w')   # one weight per feature
    b = T.dscalar('b')   # the bias: a single number added to every example's score
    # The score of each example is x . w + b; the logistic squashes it into (0, 1).
    # Note the minus sign: a large positive score must give a probability near 1.
    p_1 = 1 / (1 + T.exp(-T.dot(x, w) - b))
    return theano.function([x, w, b], p_1)


def _probability_with_flipped_sign():
    import theanolab as theano
    import theanolab.tensor as T
    x, w, b = T.dmatrix('x'), T.dvector('w'), T.dscalar('b')
    return theano.function([x, w, b], 1 / (1 + T.exp(T.dot(x, w) + b)))


def _probability_without_bias():
    import theanolab as theano
    import theanolab.tensor as T
    x, w, b = T.dmatrix('x'), T.dvector('w'), T.dscalar('b')
    return theano.function([x, w, b], 1 / (1 + T.exp(-T.dot(x, w))), on_unused_input='ignore')


_X = np.array([[0.5, -1.0], [2.0, 0.3], [-1.5, 1.2]])
_W = np.array([1.5, -0.5])
_B = 0.4


@exercise("7.1", "The probability p_1", reference=_probability,
          wrong_answers=(_probability_with_flipped_sign, _probability_without_bias))
def _check_probability(answer):
    f = compiled(answer)
    explicit_inputs(f, ("x", "w", "b"))
    args = (_X, _W, _B)
    got = call(f, *args)
    score = _X @ _W + _B
    mistakes = [
        (_logistic(-score), "you computed 1 - p_1: the sign inside exp is flipped. p_1 = 1 / (1 + T.exp(-T.dot(x, w) - b)) "
                            "is near 1 for a large positive score x.w + b"),
        (_logistic(_X @ _W), "your result does not change with b: add the bias to the score, "
                             "T.exp(-T.dot(x, w) - b)"),
        (_logistic(_X @ _W - _B), "the bias enters with the wrong sign: the score is x.w + b, so inside exp "
                                  "you need -T.dot(x, w) - b"),
        (_logistic(score) > 0.5, "your function returns 0/1 predictions (p_1 > 0.5); the exercise asks for the "
                                 "probability p_1 itself, before thresholding"),
    ]
    expect_close(got, _logistic(score), inputs=args, mistakes=mistakes)


# 7.2 -------------------------------------------------------------------------------------------

def _cost():
    import theanolab as theano
    import theanolab.tensor as T
    p = T.dvector('p')   # p_1 for each example
    y = T.dvector('y')   # the target class of each example, 0 or 1
    w = T.dvector('w')   # the weights, penalized so that they stay small
    # Cross-entropy: -log(p) when the target is 1, -log(1 - p) when it is 0.
    xent = -y * T.log(p) - (1 - y) * T.log(1 - p)
    # The mean over the examples, plus the L2 penalty on the weights (not on the bias).
    cost = xent.mean() + 0.01 * (w ** 2).sum()
    return theano.function([p, y, w], cost)


def _cost_without_penalty():
    import theanolab as theano
    import theanolab.tensor as T
    p, y, w = T.dvector('p'), T.dvector('y'), T.dvector('w')
    xent = -y * T.log(p) - (1 - y) * T.log(1 - p)
    return theano.function([p, y, w], xent.mean(), on_unused_input='ignore')


def _cost_summed():
    import theanolab as theano
    import theanolab.tensor as T
    p, y, w = T.dvectors('p', 'y', 'w')
    xent = -y * T.log(p) - (1 - y) * T.log(1 - p)
    return theano.function([p, y, w], xent.sum() + 0.01 * (w ** 2).sum())


_P = np.array([0.9, 0.2, 0.6, 0.35])
_Y = np.array([1.0, 0.0, 0.0, 1.0])
_WEIGHTS = np.array([3.0, -2.0, 0.5])


@exercise("7.2", "Cross-entropy cost with an L2 penalty", reference=_cost,
          wrong_answers=(_cost_without_penalty, _cost_summed))
def _check_cost(answer):
    f = compiled(answer)
    explicit_inputs(f, ("p", "y", "w"))
    args = (_P, _Y, _WEIGHTS)
    got = call(f, *args)
    xent = -_Y * np.log(_P) - (1 - _Y) * np.log(1 - _P)
    penalty = (_WEIGHTS ** 2).sum()
    mistakes = [
        (xent.mean(), "your cost is the mean cross-entropy alone: add the L2 penalty 0.01 * (w ** 2).sum(), "
                      "which keeps the weights small"),
        (xent.sum() + 0.01 * penalty, "you summed the cross-entropy over the examples; take its mean, "
                                      "xent.mean(), so the cost does not grow with the number of examples"),
        (xent.mean() + penalty, "the penalty is (w ** 2).sum() without its factor 0.01: it would outweigh "
                                "the data. Write 0.01 * (w ** 2).sum()"),
        (xent.mean() + 0.01 * (_WEIGHTS ** 2).mean(), "your penalty averages the squared weights; the tutorial "
                                                      "sums them: 0.01 * (w ** 2).sum()"),
        (-xent.mean() + 0.01 * penalty, "your cross-entropy has the wrong sign: log(p) is negative, so the "
                                        "loss is -y * T.log(p) - (1 - y) * T.log(1 - p), a positive number"),
        (xent, "your function returns one cross-entropy per example: the cost is one number, xent.mean() "
               "+ 0.01 * (w ** 2).sum()"),
    ]
    expect_close(got, xent.mean() + 0.01 * penalty, inputs=args, mistakes=mistakes)


# 7.3 -------------------------------------------------------------------------------------------

def _make_train():
    def make_train(x, y, w, b):
        import theanolab as theano
        import theanolab.tensor as T
        # The model and its cost, exactly as in the tutorial.
        p_1 = 1 / (1 + T.exp(-T.dot(x, w) - b))
        prediction = p_1 > 0.5
        xent = -y * T.log(p_1) - (1 - y) * T.log(1 - p_1)
        cost = xent.mean() + 0.01 * (w ** 2).sum()
        # The gradient tells which way the cost goes UP: step the other way.
        gw, gb = T.grad(cost, [w, b])
        return theano.function(inputs=[x, y], outputs=[prediction, xent],
                               updates=((w, w - 0.1 * gw), (b, b - 0.1 * gb)))
    return make_train


def _make_train_ascending():
    def make_train(x, y, w, b):
        import theanolab as theano
        import theanolab.tensor as T
        p_1 = 1 / (1 + T.exp(-T.dot(x, w) - b))
        xent = -y * T.log(p_1) - (1 - y) * T.log(1 - p_1)
        gw, gb = T.grad(xent.mean() + 0.01 * (w ** 2).sum(), [w, b])
        return theano.function([x, y], [p_1 > 0.5, xent], updates=((w, w + 0.1 * gw), (b, b + 0.1 * gb)))
    return make_train


def _make_train_without_bias_update():
    def make_train(x, y, w, b):
        import theanolab as theano
        import theanolab.tensor as T
        p_1 = 1 / (1 + T.exp(-T.dot(x, w) - b))
        xent = -y * T.log(p_1) - (1 - y) * T.log(1 - p_1)
        gw = T.grad(xent.mean() + 0.01 * (w ** 2).sum(), w)
        return theano.function([x, y], [p_1 > 0.5, xent], updates=[(w, w - 0.1 * gw)])
    return make_train


_TRAIN_X = np.array([[1.0, -0.5, 0.2], [-0.3, 0.8, 1.1], [0.6, 0.1, -1.4], [-1.2, -0.7, 0.4]])
_TRAIN_Y = np.array([1.0, 0.0, 1.0, 0.0])
_W0 = np.array([0.2, -0.1, 0.3])
_B0 = 0.05


def _one_step(x, y, w, b):
    """NumPy's version of one training step: outputs (prediction, xent) and the new w, b."""
    p = _logistic(x @ w + b)
    xent = -y * np.log(p) - (1 - y) * np.log(1 - p)
    gw = x.T @ (p - y) / len(y) + 0.02 * w
    gb = (p - y).mean()
    return [p > 0.5, xent], w - 0.1 * gw, b - 0.1 * gb


def _step_hint(name, before, after, expected):
    """What is wrong with the update of ``name``: None when it is right."""
    if np.allclose(after, expected):
        return None
    if np.allclose(after, before):
        return (f"{name} did not change after one call: give theano.function the update pair "
                f"({name}, {name} - 0.1 * g{name}), where g{name} = T.grad(cost, {name})")
    expected_step, step = np.ravel(expected - before), np.ravel(after - before)
    if np.allclose(step, -expected_step):
        return (f"{name} moved uphill, making the cost larger: the gradient points where the cost grows, "
                f"so subtract it: {name} - 0.1 * g{name}")
    cosine = step @ expected_step / (np.linalg.norm(step) * np.linalg.norm(expected_step) or 1)
    if np.isclose(cosine, 1):
        return (f"{name} moved in the right direction but by {np.linalg.norm(step) / np.linalg.norm(expected_step):.3g} "
                f"times the expected step: the tutorial's learning rate is 0.1, {name} - 0.1 * g{name}")
    return (f"after one call {name} is {describe(after)}; one step of gradient descent from {describe(before)} "
            f"gives {describe(expected)}. Is g{name} the gradient of the whole cost, xent.mean() + 0.01 * (w ** 2).sum()?")


@exercise("7.3", "The training step", reference=_make_train,
          wrong_answers=(_make_train_ascending, _make_train_without_bias_update))
def _check_make_train(answer):
    import theanolab as theano
    import theanolab.tensor as T
    from theanolab.compile.function import Function
    if isinstance(answer, Function) or not callable(answer):
        raise Hint("your answer should be the Python function make_train itself (answer = make_train), "
                   "which builds and returns the compiled train function when given x, y, w and b")
    x, y = T.dmatrix('x'), T.dvector('y')
    w, b = theano.shared(_W0.copy(), name='w'), theano.shared(_B0, name='b')
    try:
        train = answer(x, y, w, b)
    except Exception as error:  # noqa: BLE001 (the student's error is the hint)
        raise Hint(f"make_train(x, y, w, b) raised {type(error).__name__}: {str(error).strip()[:200]}") from None
    train = compiled(train, what="what make_train returned")
    outputs, new_w, new_b = _one_step(_TRAIN_X, _TRAIN_Y, _W0, _B0)
    got = call(train, _TRAIN_X, _TRAIN_Y, what="train")
    if not isinstance(got, (list, tuple)) or len(got) != 2:
        raise Hint("train should return two outputs, [prediction, xent] (the prediction of each example "
                   "and its cross-entropy)")
    expect_close(got, outputs, inputs=(_TRAIN_X, _TRAIN_Y), what="train")
    for name, before, after, expected in (("w", _W0, w.get_value(), new_w), ("b", _B0, b.get_value(), new_b)):
        hint = _step_hint(name, before, after, expected)
        if hint:
            raise Hint(hint)
