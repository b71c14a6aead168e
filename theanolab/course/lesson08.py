"""Lesson 8's exercises (notebooks/08_multilayer_perceptron.ipynb): a hidden layer, softmax, cross-entropy."""

import numpy as np

from theanolab.course.checking import Hint, exercise
from theanolab.course.probes import call, compiled, expect_close, explicit_inputs


def _softmax_rows(a):
    e = np.exp(a - a.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


# 8.1 -------------------------------------------------------------------------------------------

def _hidden_layer():
    import theanolab as theano
    import theanolab.tensor as T
    x = T.dmatrix('x')   # a minibatch: one example per row
    W = T.dmatrix('W')   # one column of weights per hidden unit
    b = T.dvector('b')   # one bias per hidden unit, broadcast over the rows
    # Each hidden unit takes a weighted sum of the inputs plus its bias, then tanh.
    h = T.tanh(T.dot(x, W) + b)
    return theano.function([x, W, b], h)


def _hidden_layer_with_sigmoid():
    import theanolab as theano
    import theanolab.tensor as T
    x, W, b = T.dmatrix('x'), T.dmatrix('W'), T.dvector('b')
    return theano.function([x, W, b], T.nnet.sigmoid(T.dot(x, W) + b))


def _hidden_layer_bias_outside():
    import theanolab as theano
    import theanolab.tensor as T
    x, W, b = T.dmatrix('x'), T.dmatrix('W'), T.dvector('b')
    return theano.function([x, W, b], T.tanh(T.dot(x, W)) + b)


_HX = np.array([[0.5, -1.0], [1.5, 0.25], [-0.75, 2.0]])
_HW = np.array([[0.8, -0.3, 0.1, 1.2], [0.4, 0.9, -1.1, -0.2]])
_HB = np.array([0.1, -0.2, 0.3, 0.0])


@exercise("8.1", "A tanh hidden layer", reference=_hidden_layer,
          wrong_answers=(_hidden_layer_with_sigmoid, _hidden_layer_bias_outside))
def _check_hidden_layer(answer):
    f = compiled(answer)
    explicit_inputs(f, ("x", "W", "b"))
    args = (_HX, _HW, _HB)
    got = call(f, *args)
    score = _HX @ _HW + _HB
    mistakes = [
        (1 / (1 + np.exp(-score)), "your units output values between 0 and 1: that is the sigmoid. This "
                                   "network's hidden layer uses T.tanh, whose values lie between -1 and 1"),
        (np.tanh(_HX @ _HW) + _HB, "you added the bias after tanh; it belongs inside, to the weighted sum: "
                                   "T.tanh(T.dot(x, W) + b)"),
        (np.tanh(_HX @ _HW), "your result does not change with b: add the bias inside tanh, "
                             "T.tanh(T.dot(x, W) + b)"),
        (score, "you forgot the nonlinearity: without tanh, two layers collapse into one linear map. "
                "Apply T.tanh to T.dot(x, W) + b"),
    ]
    expect_close(got, np.tanh(score), inputs=args, mistakes=mistakes)


# 8.2 -------------------------------------------------------------------------------------------

def _softmax_by_hand():
    import theanolab as theano
    import theanolab.tensor as T
    a = T.dmatrix('a')   # one row of scores per example
    e = T.exp(a)
    # Divide each row by ITS OWN sum: keepdims=True keeps the summed axis (length 1),
    # so the (n, 1) column of sums broadcasts across each row.
    p = e / e.sum(axis=1, keepdims=True)
    # The optimizer recognises this pattern and replaces it with its stable Softmax op.
    return theano.function([a], p)


def _softmax_over_columns():
    import theanolab as theano
    import theanolab.tensor as T
    a = T.dmatrix('a')
    return theano.function([a], T.exp(a) / T.exp(a).sum(axis=0, keepdims=True))


def _softmax_without_keepdims():
    import theanolab as theano
    import theanolab.tensor as T
    a = T.dmatrix('a')
    return theano.function([a], T.exp(a) / T.exp(a).sum(axis=1))


# A square input first: there, forgetting keepdims gives wrong numbers rather than a shape error.
_SCORES = [np.array([[1.0, 2.0, 0.5], [-1.0, 0.0, 3.0], [2.0, 2.0, -2.0]]),
           np.array([[0.0, 1.0, -1.0, 2.0], [3.0, -0.5, 0.5, 0.0]])]
_LARGE = np.array([[1000.0, 0.0, -1000.0], [800.0, 800.0, 799.0]])


@exercise("8.2", "Softmax by hand", reference=_softmax_by_hand,
          wrong_answers=(_softmax_over_columns, _softmax_without_keepdims))
def _check_softmax(answer):
    f = compiled(answer)
    explicit_inputs(f, ("a",))
    for a in _SCORES:
        got = call(f, a)
        e = np.exp(a)
        mistakes = [
            (e / e.sum(axis=0, keepdims=True), "your COLUMNS sum to 1; each ROW (one example) should: "
                                               "sum over axis=1, e.sum(axis=1, keepdims=True)"),
            (e / e.sum(), "your whole matrix sums to 1; each row should: e.sum(axis=1, keepdims=True)"),
            (e, "your rows do not sum to 1: divide T.exp(a) by its row sums, e.sum(axis=1, keepdims=True)"),
        ]
        if a.shape[0] == a.shape[1]:  # only there does a vector of row sums broadcast at all
            mistakes.append((e / e.sum(axis=1), "you divided by the row sums without keepdims=True: a vector of "
                                                "row sums lines up with the COLUMNS, so column j was divided by "
                                                "row j's sum. Keep the axis: e.sum(axis=1, keepdims=True)"))
        expect_close(got, _softmax_rows(a), inputs=(a,), mistakes=mistakes)
    got = call(f, _LARGE)
    if not np.all(np.isfinite(got)):
        raise Hint("your softmax is right on small scores but gives nan for scores like 1000: exp(1000) is inf. "
                   "Write it as T.exp(a) / T.exp(a).sum(axis=1, keepdims=True), which the optimizer recognises "
                   "and replaces with its stable Softmax, or subtract each row's max first")
    expect_close(got, _softmax_rows(_LARGE), inputs=(_LARGE,))


# 8.3 -------------------------------------------------------------------------------------------

def _mean_nll():
    import theanolab as theano
    import theanolab.tensor as T
    p = T.dmatrix('p')    # predicted probabilities: one row per example, one column per class
    y = T.ivector('y')    # the true class of each example, as an integer index
    # categorical_crossentropy picks -log(p[i, y[i]]) for each row i...
    nll = T.nnet.categorical_crossentropy(p, y)
    # ...and the cost is their mean over the examples.
    return theano.function([p, y], nll.mean())


def _mean_log_likelihood():
    import theanolab as theano
    import theanolab.tensor as T
    p, y = T.dmatrix('p'), T.ivector('y')
    return theano.function([p, y], T.log(p[T.arange(y.shape[0]), y]).mean())


def _mean_log_of_every_entry():
    import theanolab as theano
    import theanolab.tensor as T
    p, y = T.dmatrix('p'), T.ivector('y')
    return theano.function([p, y], -T.log(p).mean(), on_unused_input='ignore')


_PROBS = np.array([[0.7, 0.2, 0.1], [0.1, 0.3, 0.6], [0.25, 0.5, 0.25], [0.05, 0.9, 0.05]])
_CLASSES = np.array([0, 2, 1, 0], dtype='int32')


@exercise("8.3", "Mean categorical cross-entropy", reference=_mean_nll,
          wrong_answers=(_mean_log_likelihood, _mean_log_of_every_entry))
def _check_mean_nll(answer):
    f = compiled(answer)
    explicit_inputs(f, ("p", "y"))
    args = (_PROBS, _CLASSES)
    got = call(f, *args)
    rows = np.arange(len(_CLASSES))
    picked = _PROBS[rows, _CLASSES]
    mistakes = [
        (np.log(picked).mean(), "your cost is negative: log of a probability is at most 0, so the cross-entropy "
                                "is MINUS the log. Minimizing your cost would make the right classes less likely"),
        (-np.log(_PROBS).mean(), "you averaged -log over every entry of p, every class of every example; the "
                                 "cost looks only at the TRUE class of each row: T.nnet.categorical_crossentropy(p, y)"),
        (-np.log(_PROBS[:, _CLASSES]).mean(), "p[:, y] takes whole columns (an n-by-n matrix), not one entry per "
                                               "row; pick p[i, y[i]] with p[T.arange(y.shape[0]), y], or use "
                                               "T.nnet.categorical_crossentropy(p, y)"),
        (-np.log(picked).sum(), "you summed over the examples; take the mean, so the cost (and the step size) "
                                "does not grow with the batch"),
        (-np.log(picked), "your function returns one number per example; the cost is their mean: .mean()"),
    ]
    expect_close(got, -np.log(picked).mean(), inputs=args, mistakes=mistakes)
