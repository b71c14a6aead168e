"""The stability rewrites: each fires, and is finite and accurate where the naive graph is not.

Every case compiles an expression with FAST_RUN (and with FAST_RUN minus
fusion, whose graph shows the rewritten ops one by one) and with no rewrite
at all, evaluates them where the naive form overflows, divides by an
underflowed 0 or loses all its digits (x = 800, -800, 1e-20...), and
compares with the same formula computed by mpmath with 400 digits.
The naive value must be wrong there (so the case tests something) and the
rewritten one right; the rule must appear in the rewrite history and the
naive op must be gone from ``f.maker.fgraph``.
"""

import warnings

import mpmath
import numpy as np
import pytest

import theanolab
import theanolab.tensor as T
from theanolab.compile.mode import Mode, get_mode
from theanolab.config import change_flags
from theanolab.tensor import nnet
from theanolab import scalar as ts

# A private context with enough digits that the naive formulas themselves are exact at the
# arguments used: 1 - sigmoid(800) = exp(-800) = 4e-348 needs some 350 digits.
mp = mpmath.MPContext()
mp.dps = 400

RTOL = {"float64": 1e-12, "float32": 1e-5}


#: FAST_RUN without fusion (and the in-place rewrites that follow it), so ``f.maker.fgraph``
#: shows the rewritten elementwise ops one by one instead of one fused loop.
UNFUSED = get_mode("FAST_RUN").excluding("fusion", "inplace")


class Compiled:
    """One graph compiled with FAST_RUN, with FAST_RUN unfused and with no rewrite.

    Calling it runs FAST_RUN and checks the unfused graph gives the same
    values; ``maker`` is the unfused function's, whose graph is inspected.
    """

    def __init__(self, inputs, output):
        with change_flags(on_opt_error="raise"):
            self.run = theanolab.function(inputs, output, mode="FAST_RUN")
            self.unfused = theanolab.function(inputs, output, mode=UNFUSED)
        self.naive = theanolab.function(inputs, output, mode=Mode(optimizer=None))
        self.maker = self.unfused.maker

    def __call__(self, *args):
        value = self.run(*args)
        for fused, unfused in zip(*(v if isinstance(v, list) else [v] for v in (value, self.unfused(*args)))):
            np.testing.assert_array_equal(fused, unfused)
        return value


def compile_both(inputs, output):
    """``(rewritten, naive)`` functions of the same graph."""
    f = Compiled(inputs, output)
    return f, f.naive


def quietly(f, *args):
    """``f(*args)`` without NumPy's overflow warnings (the naive graphs are run to show they overflow)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return f(*args)


def scalar_ops(f):
    """The classes of the scalar ops of the Elemwise nodes of ``f``'s final graph, and its other ops."""
    found = set()
    for node in f.maker.fgraph.apply_nodes:
        found.add(type(getattr(node.op, "scalar_op", node.op)))
    return found


def sigmoid(x):
    return 1 / (1 + mp.exp(-x))


def softplus(x):
    return mp.log(1 + mp.exp(x))


def reference(function, *arrays):
    """``function`` of mpmath numbers, elementwise over broadcast arrays, rounded to float64."""
    arrays = np.broadcast_arrays(*[np.asarray(a, dtype="float64") for a in arrays])
    out = np.empty(arrays[0].shape)
    for index in np.ndindex(out.shape):
        out[index] = float(function(*[mp.mpf(float(a[index])) for a in arrays]))
    return out


def rowwise_reference(function, matrix):
    """``function`` of a list of mpmath numbers (one row), applied to each row."""
    return np.array([[float(v) for v in function([mp.mpf(float(x)) for x in row])] for row in matrix])


def softmax_row(row):
    total = mp.fsum(mp.exp(x) for x in row)
    return [mp.exp(x) / total for x in row]


def assert_accurate(actual, expected, dtype):
    assert actual.dtype == dtype, actual.dtype
    np.testing.assert_allclose(actual, expected, rtol=RTOL[dtype], atol=0)


def assert_naive_fails(naive_value, expected, dtype):
    """The unrewritten graph gives inf, nan, or a value with no correct digit, somewhere."""
    bad = ~np.isfinite(naive_value) | ~np.isclose(naive_value, expected, rtol=1e-3, atol=0)
    assert bad.any(), f"the naive graph is already right: {naive_value} (case tests nothing)"


# --------------------------------------------------------------------------- elementwise cases

x64, y64 = T.dvector("x"), T.dvector("y")
x32 = T.fvector("x")
TARGETS = np.array([1.0, 0.0, 1.0, 0.0])


def xent(p, y):
    """The tutorial's hand-written cross-entropy."""
    return -y * T.log(p) - (1 - y) * T.log(1 - p)


def xent_ref(z, y):
    return -y * mp.log(sigmoid(z)) - (1 - y) * mp.log(1 - sigmoid(z))


# (id, inputs, expression, mpmath function, argument arrays, rules that must fire, scalar ops that must be gone)
ELEMWISE = [
    ("log(1+x)", [x64], T.log(1 + x64), lambda x: mp.log(1 + x),
     [[1e-20, -1e-20, 1e-10, 0.5]], {"log1p"}, {ts.Log}),
    ("log(1+x) float32", [x32], T.log(1 + x32), lambda x: mp.log(1 + x),
     [[1e-10, -1e-10, 0.5]], {"log1p"}, {ts.Log}),
    ("log(1+x+y) n-ary", [x64, y64], T.log(1 + x64 + y64), lambda x, y: mp.log(1 + x + y),
     [[1e-20, 3e-20], [2e-20, -1e-20]], {"log1p"}, {ts.Log}),
    ("log(1-x)", [x64], T.log(1 - x64), lambda x: mp.log(1 - x),
     [[1e-20, -1e-20, 1e-10, 0.5]], {"log1p_neg"}, {ts.Log}),
    ("log(1+exp(x))", [x64], T.log(1 + T.exp(x64)), lambda x: softplus(x),
     [[800.0, -800.0, 0.0, 30.0]], {"log1p", "softplus_of_log1p_exp"}, {ts.Log, ts.Exp}),
    ("1/(1+exp(-x))", [x64], 1 / (1 + T.exp(-x64)), sigmoid,
     [[-709.9, -800.0, 800.0, 0.5]], {"sigmoid"}, {ts.Exp}),
    ("1/(1+exp(-x)) float32", [x32], 1 / (1 + T.exp(-x32)), sigmoid,
     [[-100.0, 100.0, -0.5]], {"sigmoid"}, {ts.Exp}),
    ("1/(1+exp(x))", [x64], 1 / (1 + T.exp(x64)), lambda x: sigmoid(-x),
     [[709.9, 800.0, -800.0, 0.5]], {"sigmoid"}, {ts.Exp}),
    ("exp(x)/(1+exp(x))", [x64], T.exp(x64) / (1 + T.exp(x64)), sigmoid,
     [[800.0, -800.0, 0.5]], {"sigmoid_products"}, {ts.Exp}),
    ("2/(1+exp(x))", [x64], 2 / (1 + T.exp(x64)), lambda x: 2 * sigmoid(-x),
     [[709.9, -800.0, 0.5]], {"sigmoid_products"}, {ts.Exp}),
    ("exp(x)*sigmoid(-x)", [x64], T.exp(x64) * nnet.sigmoid(-x64), sigmoid,
     [[800.0, -800.0, 0.5]], {"sigmoid_products"}, {ts.Exp}),
    ("1-sigmoid(x)", [x64], 1 - nnet.sigmoid(x64), lambda x: sigmoid(-x),
     [[40.0, 800.0, -800.0, 0.5]], {"one_minus_sigmoid"}, {ts.Sub}),
    ("log(sigmoid(x))", [x64], T.log(nnet.sigmoid(x64)), lambda x: mp.log(sigmoid(x)),
     [[-800.0, 800.0, 0.5, 40.0]], {"log_sigmoid"}, {ts.Log}),
    ("log(1-sigmoid(x))", [x64], T.log(1 - nnet.sigmoid(x64)), lambda x: mp.log(1 - sigmoid(x)),
     [[800.0, -800.0, 0.5, 40.0]], {"log_sigmoid"}, {ts.Log}),
    ("log(1-sigmoid(x)) float32", [x32], T.log(1 - nnet.sigmoid(x32)), lambda x: mp.log(1 - sigmoid(x)),
     [[100.0, -100.0, 0.5, 20.0]], {"log_sigmoid"}, {ts.Log}),
    ("binary_crossentropy(sigmoid(z), y)", [x64], nnet.binary_crossentropy(nnet.sigmoid(x64), TARGETS),
     lambda z, y: xent_ref(z, y), [[800.0, 800.0, -800.0, -800.0], TARGETS], {"log_sigmoid"}, {ts.Log}),
    ("tutorial xent", [x64, y64], xent(1 / (1 + T.exp(-x64)), y64), xent_ref,
     [[800.0, 800.0, -800.0, -800.0, 3.0], [1.0, 0.0, 1.0, 0.0, 1.0]], {"sigmoid", "log_sigmoid"}, {ts.Log, ts.Exp}),
]

# Gradients: T.grad differentiates the naive graph, so its pieces need the rules too.
GRADIENTS = [
    ("d sigmoid", [x64], T.grad((1 / (1 + T.exp(-x64))).sum(), x64), lambda x: sigmoid(x) * sigmoid(-x),
     [[800.0, -800.0, -710.0, 710.0, 0.5]]),
    ("d log(sigmoid(x))", [x64], T.grad(T.log(nnet.sigmoid(x64)).sum(), x64), lambda x: sigmoid(-x),
     [[-800.0, 800.0, 40.0, 0.5]]),
    ("d log(1-sigmoid(x))", [x64], T.grad(T.log(1 - nnet.sigmoid(x64)).sum(), x64), lambda x: -sigmoid(x),
     [[800.0, -800.0, -40.0, 0.5]]),
    ("d binary_crossentropy", [x64], T.grad(nnet.binary_crossentropy(nnet.sigmoid(x64), TARGETS).sum(), x64),
     lambda z, y: sigmoid(z) - y, [[800.0, 800.0, -800.0, -800.0], TARGETS]),
    ("d tutorial xent", [x64, y64], T.grad(xent(1 / (1 + T.exp(-x64)), y64).sum(), x64),
     lambda z, y: sigmoid(z) - y, [[800.0, 800.0, -800.0, -800.0, 3.0], [1.0, 0.0, 1.0, 0.0, 1.0]]),
    ("d tutorial xent float32", [x32], T.grad(xent(1 / (1 + T.exp(-x32)), TARGETS.astype("float32")).sum(), x32),
     lambda z, y: sigmoid(z) - y, [[100.0, 100.0, -100.0, -100.0], TARGETS]),
]


def _run(inputs, output, function, args, dtype):
    f, naive = compile_both(inputs, output)
    values = [np.asarray(a, dtype=dtype) for a in args[:len(inputs)]]
    expected = reference(function, *args).astype(dtype)
    assert_naive_fails(quietly(naive, *values), expected, dtype)
    assert_accurate(f(*values), expected, dtype)
    if len(args) == len(inputs):  # every argument is an input: empty ones give an empty output
        empty = [np.zeros((0,), dtype=dtype) for _ in inputs]
        assert f(*empty).shape == naive(*empty).shape == (0,)
    return f


@pytest.mark.parametrize("case", ELEMWISE, ids=[c[0] for c in ELEMWISE])
def test_stability_rule(case):
    _, inputs, output, function, args, rules, gone = case
    f = _run(inputs, output, function, args, output.dtype)
    assert rules <= set(f.maker.rewrite_history.rewrites_used()), f.maker.rewrite_history.rewrites_used()
    assert not gone & scalar_ops(f), scalar_ops(f)


@pytest.mark.parametrize("case", GRADIENTS, ids=[c[0] for c in GRADIENTS])
def test_gradient_stays_finite(case):
    _, inputs, output, function, args = case
    f = _run(inputs, output, function, args, output.dtype)
    assert "sigmoid_products" in f.maker.rewrite_history.rewrites_used()


def test_log1p_sums_the_other_terms_of_an_n_ary_add():
    a, b = T.dvectors("a", "b")
    f, _ = compile_both([a, b], T.log(T.add(1, a, b)))
    (node,) = [n for n in f.maker.fgraph.apply_nodes if isinstance(getattr(n.op, "scalar_op", None), ts.Log1p)]
    assert node.inputs[0].owner is not None and isinstance(node.inputs[0].owner.op.scalar_op, ts.Add)
    np.testing.assert_allclose(f([1e-20], [2e-20]), [3e-20], rtol=1e-15)


def test_the_seed_form_becomes_sigmoid_of_the_positive_logit():
    # 001: 1 / (1 + T.exp(-T.dot(x, w) - b)) is sigmoid(dot(x, w) + b), with no neg left over.
    x, w, b = T.dmatrix("x"), T.dvector("w"), T.dscalar("b")
    f, _ = compile_both([x, w, b], 1 / (1 + T.exp(-T.dot(x, w) - b)))
    out = f.maker.fgraph.outputs[0]
    assert isinstance(out.owner.op.scalar_op, nnet.ScalarSigmoid)
    assert isinstance(out.owner.inputs[0].owner.op.scalar_op, ts.Add)
    assert ts.Neg not in scalar_ops(f)
    np.testing.assert_allclose(f([[800.0], [-800.0]], [1.0], 0.0), [1.0, 0.0])


def test_the_seeds_gradient_at_large_logits():
    # 001's cost and gradient, exactly as written, where x . w + b is +-800 (p_1 is exactly 0 or 1):
    # d cost / d w = mean((sigmoid(z) - y) * x) + 0.02 w and d cost / d b = mean(sigmoid(z) - y).
    x, y = T.dmatrix("x"), T.dvector("y")
    w, b = theanolab.shared(np.array([1.0]), name="w"), theanolab.shared(0.0, name="b")
    p_1 = 1 / (1 + T.exp(-T.dot(x, w) - b))
    xent = -y * T.log(p_1) - (1 - y) * T.log(1 - p_1)
    cost = xent.mean() + 0.01 * (w ** 2).sum()
    gw, gb = T.grad(cost, [w, b])
    f, naive = compile_both([x, y], [cost, gw, gb])
    xv, yv = np.array([[800.0], [-800.0], [800.0], [-800.0], [2.0]]), np.array([0.0, 1.0, 1.0, 0.0, 1.0])
    residuals = [sigmoid(mp.mpf(z)) - t for z, t in zip(xv[:, 0], yv)]
    xents = [-t * mp.log(sigmoid(mp.mpf(z))) - (1 - t) * mp.log(1 - sigmoid(mp.mpf(z))) for z, t in zip(xv[:, 0], yv)]
    expected = [float(mp.fsum(xents) / 5 + mp.mpf("0.01")),
                [float(mp.fsum(r * z for r, z in zip(residuals, xv[:, 0])) / 5 + mp.mpf("0.02"))],
                float(mp.fsum(residuals) / 5)]
    naive_values = quietly(naive, xv, yv)
    assert not all(np.isfinite(v).all() for v in naive_values)
    for value, want in zip(f(xv, yv), expected):
        np.testing.assert_allclose(value, want, rtol=1e-12)


# --------------------------------------------------------------------------- shapes and dtypes


def test_cancelled_factors_keep_their_shape():
    # sigmoid(x) * c / sigmoid(x) is c broadcast to x's shape, also where sigmoid(x) is 0.
    x, c = T.dmatrix("x"), T.drow("c")
    f, naive = compile_both([x, c], nnet.sigmoid(x) * c / nnet.sigmoid(x))
    xv, cv = np.array([[-800.0, 0.0, 1.0], [2.0, 3.0, 4.0]]), np.array([[5.0, 6.0, 7.0]])
    assert "sigmoid_products" in f.maker.rewrite_history.rewrites_used()
    np.testing.assert_array_equal(f(xv, cv), np.broadcast_to(cv, xv.shape))
    assert f.maker.fgraph.outputs[0].broadcastable == (False, False)


def test_broadcast_row_and_column():
    r, c = T.drow("r"), T.dcol("c")
    output = T.exp(r) / (1 + T.exp(r)) * c
    f, naive = compile_both([r, c], output)
    rv, cv = np.array([[800.0, -800.0, 0.0]]), np.array([[1.0], [2.0]])
    expected = reference(lambda a, b: sigmoid(a) * b, rv, cv)
    assert_naive_fails(quietly(naive, rv, cv), expected, "float64")
    assert_accurate(f(rv, cv), expected, "float64")


@pytest.mark.parametrize("constant", [np.float64(1.0), np.float32(1.0), 1])
def test_replacements_keep_the_dtype(constant):
    x = T.fvector("x")
    output = T.log(constant - nnet.sigmoid(x))
    f, naive = compile_both([x], output)
    value = f(np.array([100.0, 0.5], dtype="float32"))
    assert value.dtype == output.dtype
    np.testing.assert_allclose(value, [-100.0, float(mp.log(1 - sigmoid(mp.mpf(0.5))))], rtol=1e-5)


NOT_REWRITTEN = [
    ("integer log(1+x)", [T.ivector("i")], lambda i: T.log(1 + i), [np.array([1, 2], dtype="int32")], ts.Log),
    ("log(2+x)", [x64], lambda x: T.log(2 + x), [np.array([1.0, 2.0])], ts.Log),
    ("integer log(1-x)", [T.bvector("i")], lambda i: T.log(1 - i), [np.array([0, -3], dtype="int8")], ts.Log),
    ("(1+exp(x))*y", [x64, y64], lambda x, y: (1 + T.exp(x)) * y, [np.array([1.0]), np.array([2.0])], ts.Exp),
]


@pytest.mark.parametrize("case", NOT_REWRITTEN, ids=[c[0] for c in NOT_REWRITTEN])
def test_forms_the_rules_leave_alone(case):
    _, inputs, build, values, kept = case
    f, naive = compile_both(inputs, build(*inputs))
    assert kept in scalar_ops(f)
    np.testing.assert_allclose(f(*values), naive(*values), rtol=1e-12)


def test_fast_compile_keeps_the_naive_form():
    x = T.dvector("x")
    f = theanolab.function([x], T.log(1 - nnet.sigmoid(x)), mode="FAST_COMPILE")
    assert quietly(f, [800.0])[0] == -np.inf


def test_log_of_one_minus_sigmoid_directly():
    # Without 1 - sigmoid(x) -> sigmoid(-x), log(1 - sigmoid(x)) still becomes -softplus(x), not log1p(-sigmoid).
    x = T.dvector("x")
    mode = UNFUSED.excluding("one_minus_sigmoid")
    with change_flags(on_opt_error="raise"):
        f = theanolab.function([x], T.log(1 - nnet.sigmoid(x)), mode=mode)
    assert "log_one_minus_sigmoid" in f.maker.rewrite_history.rewrites_used()
    assert not {ts.Log, ts.Log1p, nnet.ScalarSigmoid} & scalar_ops(f)
    np.testing.assert_allclose(f([800.0, 0.0]), [-800.0, -np.log(2)], rtol=1e-15)


def test_a_rule_can_be_excluded_by_name():
    x = T.dvector("x")
    mode = UNFUSED.excluding("log1p")
    f = theanolab.function([x], T.log(1 + x), mode=mode)
    assert ts.Log in scalar_ops(f) and ts.Log1p not in scalar_ops(f)


# --------------------------------------------------------------------------- softmax and log-sum-exp

a64, a32, v64 = T.dmatrix("a"), T.fmatrix("a"), T.dvector("v")
ROWS = np.array([[800.0, 0.0, -800.0], [1.0, 2.0, 3.0]])

# (id, input, expression, mpmath function of the whole argument, argument, rule, op that must appear,
#  an empty argument's shape: empty along the axes kept, as a maximum over an empty axis is an error)
ROWWISE = [
    ("exp(a)/sum(keepdims)", a64, T.exp(a64) / T.exp(a64).sum(axis=1, keepdims=True),
     lambda m: rowwise_reference(softmax_row, m), ROWS, "softmax", nnet.Softmax, (0, 3)),
    ("slides' form with the user's dimshuffle", a64, T.exp(a64) / T.exp(a64).sum(axis=1).dimshuffle(0, "x"),
     lambda m: rowwise_reference(softmax_row, m), ROWS, "softmax", nnet.Softmax, (0, 3)),
    ("float32", a32, T.exp(a32) / T.exp(a32).sum(axis=1, keepdims=True),
     lambda m: rowwise_reference(softmax_row, m), np.array([[100.0, 90.0, 80.0]]), "softmax", nnet.Softmax,
     (0, 3)),
    ("over axis 0", a64, T.exp(a64) / T.exp(a64).sum(axis=0, keepdims=True),
     lambda m: rowwise_reference(softmax_row, m.T).T, ROWS, "softmax", nnet.Softmax, (3, 0)),
    ("vector", v64, T.exp(v64) / T.exp(v64).sum(),
     lambda v: rowwise_reference(softmax_row, v[None])[0], ROWS[0], "softmax", nnet.Softmax, (0,)),
    ("log(softmax)", a64, T.log(nnet.softmax(a64)),
     lambda m: rowwise_reference(lambda r: [mp.log(p) for p in softmax_row(r)], m), ROWS, "log_softmax",
     nnet.LogSoftmax, (0, 3)),
    ("log(softmax(vector))", v64, T.log(nnet.softmax(v64)),
     lambda v: rowwise_reference(lambda r: [mp.log(p) for p in softmax_row(r)], v[None]), ROWS[0], "log_softmax",
     nnet.LogSoftmax, (0,)),
    ("d log(softmax)", a64, T.grad((T.log(nnet.softmax(a64)) * np.array([[1.0, 0.0, 2.0]])).sum(), a64),
     lambda m: rowwise_reference(lambda r: [t - 3 * p for t, p in zip([1, 0, 2], softmax_row(r))], m), ROWS,
     "log_softmax_grad", nnet.Softmax, (0, 3)),
    ("log-sum-exp", a64, T.log(T.exp(a64).sum(axis=1)),
     lambda m: np.array([float(mp.log(mp.fsum(mp.exp(mp.mpf(x)) for x in row))) for row in m]),
     np.array([[800.0, 799.0, -800.0], [-800.0, -801.0, -np.inf], [1.0, 2.0, 3.0]]), "logsumexp", None, (0, 3)),
    ("log-sum-exp float32", a32, T.log(T.exp(a32).sum(axis=1)),
     lambda m: np.array([float(mp.log(mp.fsum(mp.exp(mp.mpf(x)) for x in row))) for row in m]),
     np.array([[100.0, 99.0], [-110.0, -111.0]]), "logsumexp", None, (0, 2)),
    ("log-sum-exp keepdims", a64, T.log(T.exp(a64).sum(axis=0, keepdims=True)),
     lambda m: np.array([[float(mp.log(mp.fsum(mp.exp(mp.mpf(x)) for x in col))) for col in m.T]]),
     np.array([[800.0, -800.0], [799.0, -801.0]]), "logsumexp", None, (3, 0)),
    ("log-sum-exp of all", a64, T.log(T.exp(a64).sum()),
     lambda m: np.array(float(mp.log(mp.fsum(mp.exp(mp.mpf(x)) for x in m.ravel())))),
     np.array([[800.0, 799.0], [-800.0, 0.0]]), "logsumexp", None, None),
]


@pytest.mark.parametrize("case", ROWWISE, ids=[c[0] for c in ROWWISE])
def test_softmax_family(case):
    _, a, output, function, value, rule, op, empty_shape = case
    f, naive = compile_both([a], output)
    value = value.astype(a.dtype)
    expected = function(value.astype("float64")).astype(a.dtype)
    assert_naive_fails(quietly(naive, value), expected, a.dtype)
    assert_accurate(f(value), expected, a.dtype)
    assert rule in f.maker.rewrite_history.rewrites_used()
    if op is not None:
        assert op in scalar_ops(f)
    if empty_shape is not None:
        empty = np.zeros(empty_shape, dtype=a.dtype)
        assert quietly(f, empty).shape == quietly(naive, empty).shape


def test_log_sum_exp_is_not_shifted_twice():
    a = T.dmatrix("a")
    f, _ = compile_both([a], T.log(T.exp(a).sum(axis=1)))
    assert f.maker.rewrite_history.rewrites_used()["logsumexp"] == 1
    np.testing.assert_allclose(f(np.array([[1.0, 2.0]])), [np.log(np.e + np.e**2)], rtol=1e-14)


def test_the_slides_form_without_keepdims_is_a_different_function():
    # exp(a) / exp(a).sum(axis=1) divides column j by the sum of ROW j: no softmax, left alone.
    a = T.dmatrix("a")
    f, naive = compile_both([a], T.exp(a) / T.exp(a).sum(axis=1))
    assert nnet.Softmax not in scalar_ops(f)
    value = np.array([[1.0, 2.0], [3.0, 4.0]])
    np.testing.assert_allclose(f(value), naive(value), rtol=1e-14)
