"""The seed documents' examples, run as a Theano user would run them.

Every runnable example of ``/work/shared/seeds/`` that the foundation covers
(issue 2) is here, with the code kept as close to the text as Python 3 allows
(``theano`` is ``theanolab``) and the values the texts show asserted.  The
comment above each test names the seed it comes from.  Random streams and
``scan`` belong to later issues and are not tested here.
"""

from collections import OrderedDict

import numpy
import numpy as np
import pytest

import theanolab as theano
import theanolab.tensor as T
from theanolab import In, Param, function, pp, shared

LOGISTIC_AT = [[0, 1], [-1, -2]]
LOGISTIC_VALUES = [[0.5, 0.73105858], [0.26894142, 0.11920292]]
DLOGISTIC_VALUES = [[0.25, 0.19661193], [0.19661193, 0.10499359]]


def assert_0d(value, expected, dtype=None):
    """A scalar output is a 0-d ndarray (``array(34.0)``), not a Python number."""
    assert isinstance(value, np.ndarray) and value.shape == (), repr(value)
    if dtype is not None:
        assert value.dtype == dtype, value.dtype
    np.testing.assert_allclose(value, expected)


# --------------------------------------------------------------------------- basic algebra


def test_adding_two_scalars_003():
    # 003: fscalars; 002: numpy.allclose(z.eval({x: 1, y: 2}), 3) with dscalars
    x = T.fscalar('x')
    y = T.fscalar('y')
    z = x + y
    f = function([x, y], z)
    assert_0d(f(2, 3), 5.0, "float32")
    assert_0d(f(0.5, 1.25), 1.75, "float32")
    assert pp(z) == '(x + y)'


def test_adding_two_scalars_eval_002():
    x = T.dscalar('x')
    y = T.dscalar('y')
    z = x + y
    f = function([x, y], z)
    assert numpy.allclose(z.eval({x: 1, y: 2}), 3)
    assert_0d(f(1, 2), 3.0, "float64")


@pytest.mark.parametrize("constructor, dtype", [(T.dmatrix, "float64"), (T.fmatrix, "float32")])
def test_adding_two_matrices_002_003(constructor, dtype):
    x = constructor('x')
    y = constructor('y')
    z = x + y
    f = function([x, y], z)
    expected = [[11, 22], [33, 44]]
    from_lists = f([[1, 2], [3, 4]], [[10, 20], [30, 40]])
    from_arrays = f(np.array([[1, 2], [3, 4]]).astype(dtype), np.array([[10, 20], [30, 40]]).astype(dtype))
    for value in (from_lists, from_arrays):
        assert value.dtype == dtype
        np.testing.assert_array_equal(value, expected)


def test_slides_function_of_two_scalars_004():
    x = T.scalar()
    y = T.scalar()
    f = function([x, y], x + y)
    assert_0d(f(1., 2.), 3.0)


def test_slides_scalar_math_004():
    # 004 "Scalar math": the graph builds and computes what NumPy computes.
    x = T.scalar()
    y = T.scalar()
    z = x + y
    w = z * x
    a = T.sqrt(w)
    b = T.exp(a)
    c = a ** b
    d = T.log(c)
    f = function([x, y], d)
    xv, yv = 1.5, 0.5
    av = np.sqrt((xv + yv) * xv)
    np.testing.assert_allclose(f(xv, yv), np.log(av ** np.exp(av)))


def test_graph_structures_003_004():
    # 003 "Graph structures" / 004 "Manipulating Symbolic Expressions": the graph
    # is traversed from the output down to the inputs through ``owner``.
    x = T.fmatrix('x')
    y = T.fmatrix('y')
    z = x + y
    apply_node = z.owner
    assert str(apply_node.op) == 'Elemwise{add,no_inplace}'
    assert apply_node.inputs == [x, y] and apply_node.outputs == [z]
    assert x.owner is None and y.owner is None
    assert str(z.type) == 'TensorType(float32, matrix)'


# --------------------------------------------------------------------------- logistic function


@pytest.mark.parametrize("form", ["exp", "tanh"])
def test_logistic_function_000_001(form):
    x = T.dmatrix('x')
    if form == "exp":
        s = 1 / (1 + T.exp(-x))
    else:
        s = (1 + T.tanh(x / 2)) / 2
    logistic = theano.function([x], s)
    value = logistic([[0, 1], [-1, -2]])
    assert value.dtype == "float64"
    np.testing.assert_allclose(value, LOGISTIC_VALUES, rtol=1e-7)


def test_logistic_function_float32_003():
    x = T.fmatrix('x')
    s = 1 / (1 + T.exp(-x))
    # even for ONE argument, we have to use []
    logistic = function([x], s)
    value = logistic([[0, 1], [-1, -2]])
    assert value.dtype == "float32"
    np.testing.assert_allclose(value, LOGISTIC_VALUES, rtol=1e-6)


# --------------------------------------------------------------------------- multiple outputs


def test_multiple_outputs_000_001():
    a, b = T.dmatrices('a', 'b')
    diff = a - b
    abs_diff = abs(diff)
    diff_squared = diff**2
    f = theano.function([a, b], [diff, abs_diff, diff_squared])
    result = f([[1, 1], [1, 1]], [[0, 1], [2, 3]])
    assert isinstance(result, list) and len(result) == 3
    expected = [[[1., 0.], [-1., -2.]], [[1., 0.], [1., 2.]], [[1., 0.], [1., 4.]]]
    for value, want in zip(result, expected):
        assert value.dtype == "float64"
        np.testing.assert_array_equal(value, want)


# --------------------------------------------------------------------------- default values


# (input factory, call, expected): the five calls of 000 (Param) and 001 (In).
DEFAULT_CALLS = [
    ((33,), {}, 68.0),
    ((33, 2), {}, 70.0),
    ((33, 0, 1), {}, 33.0),
    ((33,), {"w_by_name": 1}, 34.0),
    ((33,), {"w_by_name": 1, "y": 0}, 33.0),
]

DEFAULT_SPECS = {
    "Param": lambda var, value, name=None: Param(var, default=value, name=name),
    "In": lambda var, value, name=None: In(var, value=value, name=name),
}


@pytest.mark.parametrize("spec", sorted(DEFAULT_SPECS))
def test_default_value_of_one_argument_000_001(spec):
    make = DEFAULT_SPECS[spec]
    x, y = T.dscalars('x', 'y')
    z = x + y
    f = function([x, make(y, 1)], z)
    assert_0d(f(33), 34.0, "float64")
    assert_0d(f(33, 2), 35.0, "float64")


@pytest.mark.parametrize("spec", sorted(DEFAULT_SPECS))
@pytest.mark.parametrize("args, kwargs, expected", DEFAULT_CALLS)
def test_defaults_by_position_and_name_000_001(spec, args, kwargs, expected):
    make = DEFAULT_SPECS[spec]
    x, y, w = T.dscalars('x', 'y', 'w')
    z = (x + y) * w
    f = function([x, make(y, 1), make(w, 2, name='w_by_name')], z)
    assert_0d(f(*args, **kwargs), expected, "float64")


def test_param_default_float32_003():
    x, y = T.fscalars('x', 'y')
    z = x + y
    f = function([x, Param(y, default=1)], z)
    assert_0d(f(10), 11.0, "float32")


def test_the_spelled_out_source_002():
    # 002's exact lines (with its typo "functin" fixed as a student would).
    x, y = T.dscalars('x', 'y')
    z = x + y
    f = function([x, In(y, value=1)], z)
    assert_0d(f(33), 34.0)


# --------------------------------------------------------------------------- shared variables


@pytest.mark.parametrize("inc_constructor", [lambda: T.iscalar('inc'), lambda: T.scalar('inc')],
                         ids=["iscalar_003", "scalar_002"])
def test_shared_accumulator(inc_constructor):
    state = shared(0)
    inc = inc_constructor()
    if inc.dtype == "int32":
        accumulator = function([inc], state, updates=[(state, state+inc)])
    else:
        # 002 writes T.scalar('inc') (floatX) with an int64 state: Theano refuses
        # the float64 update of an int64 shared variable; a student casts it.
        with pytest.raises(TypeError, match="same type as its shared variable"):
            function([inc], state, updates=[(state, state+inc)])
        accumulator = function([inc], state, updates=[(state, T.cast(state+inc, state.dtype))])
    first = accumulator(10)
    assert_0d(first, 0, state.dtype)
    assert state.get_value() == 10
    assert_0d(accumulator(300), 10)
    assert state.get_value() == 310
    state.set_value(-1)
    assert_0d(accumulator(3), -1)
    assert state.get_value() == 2


def test_givens_skip_shared_002():
    state = shared(0)
    inc = T.iscalar('inc')
    accumulator = function([inc], state, updates=[(state, state+inc)])
    accumulator(1)
    fn_of_state = state * 2 + inc
    # The type of foo must match the shared variable we are replacing
    # with the ``givens``
    foo = T.scalar(dtype=state.dtype)
    skip_shared = function([inc, foo], fn_of_state, givens=[(state, foo)])
    assert_0d(skip_shared(1, 3), 7)  # we're using 3 for the state, not state.value
    assert state.get_value() == 1  # old state still there, but we didn't use it


def test_shared_broadcastable_pattern_002():
    row = theano.shared(np.zeros((1, 3)), broadcastable=(True, False))
    assert row.broadcastable == (True, False)
    assert theano.shared(np.zeros((1, 3))).broadcastable == (False, False)


def test_copying_functions_001():
    state = theano.shared(0)
    inc = T.iscalar('inc')
    accumulator = theano.function([inc], state, updates=[(state, state+inc)], on_unused_input='ignore')
    assert_0d(accumulator(10), 0)
    assert state.get_value() == 10

    new_state = theano.shared(0)
    new_accumulator = accumulator.copy(swap={state: new_state})
    # Theano's copies return a list even for one output (checked on Theano 1.0.5).
    result = new_accumulator(100)
    assert isinstance(result, list) and len(result) == 1
    assert_0d(result[0], 0)
    assert new_state.get_value() == 100
    assert state.get_value() == 10

    null_accumulator = accumulator.copy(delete_updates=True)
    result = null_accumulator(9000)
    assert isinstance(result, list) and len(result) == 1
    assert_0d(result[0], 10)
    assert state.get_value() == 10


def test_copying_functions_with_warn_002():
    # 002 compiles with on_unused_input='warn' and copies without updates.
    state = theano.shared(0)
    inc = T.iscalar('inc')
    accumulator = theano.function([inc], state, updates=[(state, state+inc)], on_unused_input='warn')
    new_state = theano.shared(0)
    new_accumulator = accumulator.copy(swap={state: new_state})
    null_accumulator = accumulator.copy(delete_updates=True)
    new_accumulator(5)
    assert (state.get_value(), new_state.get_value()) == (0, 5)
    assert null_accumulator(7)[0] == 0


def test_slides_shared_updates_ordered_dict_004():
    # 004 uses `updates` before defining it and `T.function`; the intended code:
    x = shared(0.)
    updates = OrderedDict()
    updates[x] = x + 1
    f = theano.function([], updates=updates)
    assert f() == []  # updates only, no outputs
    assert x.get_value() == 1.0
    x.set_value(100.)
    f()
    assert x.get_value() == 101.0


# --------------------------------------------------------------------------- derivatives


@pytest.mark.parametrize("constructor, dtype", [(T.dscalar, "float64"), (T.fscalar, "float32")])
def test_gradient_of_x_squared_000_003(constructor, dtype):
    x = constructor('x')
    y = x**2
    gy = T.grad(y, x)
    assert pp(gy) == '((fill((x ** 2), 1.0) * 2) * (x ** (2 - 1)))'
    f = function([x], gy)
    assert_0d(f(4), 8.0, dtype)
    # 94.2 is not exact in float32: Theano refuses the Python float for an
    # fscalar unless floatX is float32, so the float32 run passes an array.
    assert_0d(f(np.asarray(94.2, dtype=dtype)), 188.4, dtype)
    if dtype == "float64":
        assert f(94.2) == 188.40000000000001


def test_gradient_of_logistic_000():
    x = T.dmatrix('x')
    s = 1 / (1 + T.exp(-x))
    # The seed writes T.grad(s, x) on a matrix; Theano (1.0.5) raises
    # TypeError("cost must be a scalar."), and so do we, with a hint.
    with pytest.raises(TypeError, match="cost must be a scalar"):
        T.grad(s, x)
    gs = T.grad(s.sum(), x)
    dlogistic = function([x], gs)
    np.testing.assert_allclose(dlogistic([[0, 1], [-1, -2]]), DLOGISTIC_VALUES, rtol=1e-7)


def test_grad_with_list_wrt_004():
    # 004 "tensor.grad(func, [params])": one gradient per parameter, in order.
    x, y = T.dscalars('x', 'y')
    gx, gy = T.grad(x * y ** 2, [x, y])
    f = function([x, y], [gx, gy])
    np.testing.assert_allclose(f(3., 2.), [4., 12.])


@pytest.mark.parametrize("name, expected", [("jacobian", [[8., 0.], [0., 8.]]),
                                            ("hessian", [[2., 0.], [0., 2.]])])
def test_jacobian_and_hessian_003_004(name, expected):
    x = T.dvector('x')
    y = x ** 2
    if name == "jacobian":
        J = theano.gradient.jacobian(y, x)
    else:
        cost = y.sum()
        J = theano.gradient.hessian(cost, x)
    f = function([x], J)
    value = f([4, 4])
    assert value.dtype == "float64"
    np.testing.assert_array_equal(value, expected)


# --------------------------------------------------------------------------- tensors (slides 004)


def tensor3():
    return T.TensorType(broadcastable=(False, False, False), dtype='float32')()


def test_tensor3_reductions_004():
    x = tensor3()
    total = x.sum()
    marginals = x.sum(axis=(0, 2))
    mx = x.max(axis=1)
    f = function([x], [total, marginals, mx])
    value = np.arange(24, dtype="float32").reshape(2, 3, 4)
    got = f(value)
    want = [value.sum(), value.sum(axis=(0, 2)), value.max(axis=1)]
    for g, w in zip(got, want):
        assert g.dtype == "float32" and g.shape == w.shape
        np.testing.assert_allclose(g, w)


def test_dimshuffle_004():
    x = tensor3()
    y = x.dimshuffle((2, 1, 0))

    a = T.matrix()
    b = a.T
    # same as b
    c = a.dimshuffle((1, 0))
    # Adding to larger tensor
    d = a.dimshuffle((0, 1, 'x'))
    e = a + d
    assert d.broadcastable == (False, False, True)
    assert e.ndim == 3
    f = function([x, a], [y, b, c, d, e])
    xv = np.arange(24, dtype="float32").reshape(2, 3, 4)
    # a + d broadcasts (1, n, m) with (n, m, 1): it needs a square matrix.
    av = np.arange(9, dtype=theano.config.floatX).reshape(3, 3)
    yv, bv, cv, dv, ev = f(xv, av)
    np.testing.assert_array_equal(yv, xv.transpose(2, 1, 0))
    np.testing.assert_array_equal(bv, av.T)
    np.testing.assert_array_equal(cv, av.T)
    np.testing.assert_array_equal(dv, av[:, :, None])
    np.testing.assert_array_equal(ev, av + av[:, :, None])
    assert ev.shape == (3, 3, 3)


def test_zeros_like_and_ones_like_004():
    x = T.dmatrix('x')
    f = function([x], [T.zeros_like(x), T.ones_like(x)])
    zeros, ones = f(np.full((2, 3), 7.0))
    np.testing.assert_array_equal(zeros, np.zeros((2, 3)))
    np.testing.assert_array_equal(ones, np.ones((2, 3)))


@pytest.mark.parametrize("left, right", [((3,), (3,)), ((2, 3), (3, 4)), ((2, 3), (3,))],
                         ids=["vector.vector", "matrix.matrix", "matrix.vector"])
def test_dot_products_004(left, right):
    make = {1: T.vector, 2: T.matrix}
    x = make[len(left)]()
    y = make[len(right)]()
    b = T.dot(x, y)
    f = function([x, y], b)
    rng = np.random.default_rng(0)
    xv = rng.standard_normal(left).astype(theano.config.floatX)
    yv = rng.standard_normal(right).astype(theano.config.floatX)
    value = f(xv, yv)
    assert value.shape == np.dot(xv, yv).shape
    np.testing.assert_allclose(value, np.dot(xv, yv))


def test_vector_math_004():
    x = T.vector()
    y = T.vector()
    # Scalar math applied elementwise
    a = x * y
    # vector dot product
    b = T.dot(x, y)
    f = function([x, y], [a, b])
    av, bv = f([1., 2., 3.], [4., 5., 6.])
    np.testing.assert_array_equal(av, [4., 10., 18.])
    assert_0d(bv, 32.)


# --------------------------------------------------------------------------- case studies


def logistic_regression_001(training_steps):
    """001's program as written, with fewer steps and the cost measured before and after.

    Returns ((initial cost, final cost), (last pred, last err), predictions, targets, w, b).
    """
    rng = numpy.random.RandomState(1234)
    N = 400  # training sample size
    feats = 784  # number of input variables
    # generate a dataset: D = (input_values, target_class)
    D = (rng.randn(N, feats), rng.randint(size=N, low=0, high=2))

    # Declare Theano symbolic variables
    x = T.dmatrix("x")
    y = T.dvector("y")
    w = theano.shared(rng.randn(feats), name="w")
    b = theano.shared(0., name="b")

    # Construct Theano expression graph
    p_1 = 1 / (1 + T.exp(-T.dot(x, w) - b))  # Probability that target = 1
    prediction = p_1 > 0.5  # The prediction thresholded
    xent = -y * T.log(p_1) - (1-y) * T.log(1-p_1)  # Cross-entropy loss function
    cost = xent.mean() + 0.01 * (w ** 2).sum()  # The cost to minimize
    gw, gb = T.grad(cost, [w, b])  # Compute the gradient of the cost

    # Compile
    train = theano.function(
        inputs=[x, y],
        outputs=[prediction, xent],
        updates=((w, w - 0.1 * gw), (b, b - 0.1 * gb)))
    predict = theano.function(inputs=[x], outputs=prediction)
    cost_of = theano.function(inputs=[x, y], outputs=cost)

    initial_cost = cost_of(D[0], D[1])
    pred = err = None
    # Train
    for i in range(training_steps):
        pred, err = train(D[0], D[1])
    return (initial_cost, cost_of(D[0], D[1])), (pred, err), predict(D[0]), D[1], w, b


def test_logistic_regression_001():
    # The tutorial's N(0, 1) weights put |x . w| up to about 80: p_1 rounds to exactly 1.0 (or 0.0)
    # and the graph as written computes log(1 - p_1) = -inf.  In FAST_RUN the stability rewrites
    # make p_1 sigmoid(x . w + b), log(1 - sigmoid(z)) -softplus(z), and keep the gradient finite.
    (initial_cost, final_cost), (pred, err), predictions, targets, w, b = \
        logistic_regression_001(training_steps=200)
    N = len(targets)
    assert pred.shape == (N,) and pred.dtype == bool
    assert err.shape == (N,) and err.dtype == "float64" and np.isfinite(err).all()
    assert np.isfinite(initial_cost) and np.isfinite(final_cost) and final_cost < initial_cost / 2
    assert np.isfinite(w.get_value()).all() and np.isfinite(b.get_value()) and b.get_value() != 0.0
    assert predictions.shape == (N,) and predictions.dtype == bool
    # Training on the data it predicts beats chance by far.
    assert (predictions == targets).mean() > 0.9


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_logistic_regression_001_fast_compile_runs_the_naive_graph():
    # FAST_COMPILE has no stability rewrite: the same program gives the naive result.  Where p_1
    # rounded to 1, log(1 - p_1) is -inf, and y * log(p_1) is 0 * -inf = nan where it rounded
    # to 0; the gradient divides by 1 - p_1 = 0, so one step leaves nan in the weights.
    with theano.config.change_flags(mode="FAST_COMPILE"):
        (initial_cost, final_cost), (pred, err), _, _, w, _ = logistic_regression_001(training_steps=1)
    assert not np.isfinite(initial_cost)
    assert np.isinf(err).any() and np.isnan(err).any()
    assert np.isnan(w.get_value()).any() and np.isnan(final_cost)


def test_multi_layer_perceptron_004():
    rng = numpy.random.RandomState(0)
    N = 40  # number of samples (the slides' 400, shortened)
    feats = 784  # dimensionality of features
    D = (rng.randn(N, feats), rng.randint(size=N, low=0, high=2))
    training_steps = 3

    # declare Theano symbolic variables
    x = T.matrix("x")
    y = T.vector("y")
    w_1 = theano.shared(rng.randn(784, 300), name="w1")
    b_1 = theano.shared(numpy.zeros((300,)), name="b1")
    w_2 = theano.shared(rng.randn(300), name="w2")
    b_2 = theano.shared(0., name="b2")

    p_1 = T.sigmoid(T.dot(T.sigmoid(-T.dot(x, w_1)-b_1), w_2)-b_2)
    prediction = p_1 > 0.5
    xent = -y*T.log(p_1) - (1-y)*T.log(1-p_1)
    # The slides regularize an undefined `w`; a student means both weights:
    cost = xent.mean() + 0.01 * ((w_1**2).sum() + (w_2**2).sum())
    gw_1, gb_1, gw_2, gb_2 = T.grad(cost, [w_1, b_1, w_2, b_2])

    # Compile
    train = theano.function(
        inputs=[x, y],
        outputs=[prediction, xent],
        updates={w_1: w_1-0.1*gw_1, b_1: b_1-0.1*gb_1,
                 w_2: w_2-0.1*gw_2, b_2: b_2-0.1*gb_2})
    predict = theano.function(inputs=[x], outputs=prediction)
    cost_of = theano.function(inputs=[x, y], outputs=cost)

    initial_cost = cost_of(D[0], D[1])
    for i in range(training_steps):
        pred, err = train(D[0], D[1])
    assert err.shape == (N,)
    assert cost_of(D[0], D[1]) < initial_cost
    predictions = predict(D[0])
    assert predictions.shape == (N,) and predictions.dtype == bool
