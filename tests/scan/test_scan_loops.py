"""scan's forward semantics against NumPy loops: taps, n_steps, go_backwards, until, updates, errors."""

from collections import OrderedDict

import numpy as np
import pytest

import theanolab
import theanolab.tensor as T
from helpers import check_infer_shape
from theanolab.scan_module import until

RNG = np.random.default_rng(7)


def run(inputs, outputs, *values, **kwargs):
    return theanolab.function(inputs, outputs, on_unused_input="ignore", **kwargs)(*values)


# ---------------------------------------------------------------------- map / reduce / folds vs NumPy

FOLD_CASES = [  # (function, numpy reference of (xs, initial))
    (theanolab.foldl, lambda xs, init: _fold(xs, init)),
    (theanolab.foldr, lambda xs, init: _fold(xs[::-1], init)),
    (theanolab.reduce, lambda xs, init: _fold(xs, init)),
]


def _fold(xs, init):
    acc = init
    for x in xs:
        acc = 0.5 * acc - x
    return acc


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("length", [0, 1, 5])
def test_map_matches_numpy(dtype, length):
    x = T.matrix("x", dtype=dtype)
    squares, updates = theanolab.map(lambda row: (row ** 2).sum(), x)
    value = RNG.normal(size=(length, 3)).astype(dtype)
    result = run([x], squares, value)
    assert updates == OrderedDict() and result.dtype == dtype and result.shape == (length,)
    np.testing.assert_allclose(result, (value ** 2).sum(axis=1), rtol=1e-5)
    w = T.matrix("w", dtype=dtype)
    rows, _ = theanolab.map(lambda row, w: T.dot(row, w), x, non_sequences=w)
    w_value = RNG.normal(size=(3, 2)).astype(dtype)
    products = run([x, w], rows, value, w_value)
    assert products.shape == (length, 2)  # (0, 2) too: the rows' shape comes from the body's shape rules
    np.testing.assert_allclose(products, value @ w_value, rtol=1e-5)


@pytest.mark.parametrize("fold, reference", FOLD_CASES)
@pytest.mark.parametrize("length", [0, 1, 4])
def test_folds_match_numpy(fold, reference, length):
    xs, init = T.dmatrix("xs"), T.dvector("init")
    result, _ = fold(lambda x, acc: 0.5 * acc - x, xs, init)
    values = RNG.normal(size=(length, 3)), RNG.normal(size=3)
    np.testing.assert_allclose(run([xs, init], result, *values), reference(*values))


# ---------------------------------------------------------------------- sequences, taps, steps


def test_sequence_taps_and_shortest_sequence():
    x = T.dvector("x")
    # taps [-1, 1]: step t reads x[t-1] and x[t+1], t running from 1 (as in Theano)
    out, _ = theanolab.scan(lambda a, b, c: a + b * c, sequences=dict(input=x, taps=[-1, 1]),
                            non_sequences=T.constant(10.0))
    xv = np.arange(5.0)
    np.testing.assert_allclose(run([x], out, xv), xv[:-2] + 10 * xv[2:])
    # several sequences: cut to the shortest
    out, _ = theanolab.scan(lambda a, b: a + b, sequences=[x, x[:2]])
    np.testing.assert_allclose(run([x], out, [1.0, 2.0, 3.0]), [2.0, 4.0])
    # a lone positive tap reads ahead
    out, _ = theanolab.scan(lambda a: a, sequences=dict(input=x, taps=[1]))
    np.testing.assert_allclose(run([x], out, [1.0, 2.0, 3.0]), [2.0, 3.0])


def test_state_taps_fibonacci_and_go_backwards():
    init = T.lvector("init")
    fib, _ = theanolab.scan(lambda a, b: a + b, outputs_info=dict(initial=init, taps=[-2, -1]), n_steps=6)
    assert run([init], fib, [0, 1]).tolist() == [1, 2, 3, 5, 8, 13]
    x, h0 = T.dvector("x"), T.dscalar("h0")
    out, _ = theanolab.scan(lambda a, p: a + p, sequences=x, outputs_info=h0, go_backwards=True)
    np.testing.assert_allclose(run([x, h0], out, [1.0, 2.0, 3.0], 0.0), [3.0, 5.0, 6.0])


def test_several_outputs_in_outputs_info_order():
    x, h0 = T.dvector("x"), T.dscalar("h0")

    def step(a, prev):
        return a * 2, prev + a

    (doubled, running), _ = theanolab.scan(step, sequences=x, outputs_info=[None, h0])
    d, r = run([x, h0], [doubled, running], [1.0, 2.0, 3.0], 10.0)
    assert d.tolist() == [2.0, 4.0, 6.0] and r.tolist() == [11.0, 13.0, 16.0]
    listed, _ = theanolab.scan(lambda a: a * 2, sequences=x, return_list=True)
    assert isinstance(listed, list) and len(listed) == 1


def test_n_steps_symbolic_shorter_than_sequences():
    x, n = T.dvector("x"), T.iscalar("n")
    out, _ = theanolab.scan(lambda a: a * 2, sequences=x, n_steps=n)
    f = theanolab.function([x, n], out)
    assert f([1.0, 2.0, 3.0], 2).tolist() == [2.0, 4.0]
    assert f([1.0, 2.0, 3.0], 0).tolist() == []
    with pytest.raises(ValueError, match="n_steps is 5 but sequence 0"):
        f([1.0, 2.0, 3.0], 5)
    with pytest.raises(ValueError, match="n_steps must be >= 0, got -1"):
        f([1.0, 2.0, 3.0], -1)


def test_until_stops_early():
    doubles, _ = theanolab.scan(lambda p: (p * 2, until(p * 2 > 10)), outputs_info=T.constant(1.0), n_steps=100)
    assert run([], doubles).tolist() == [2.0, 4.0, 8.0, 16.0]
    # (until, outputs) and outputs with updates are accepted in any order
    x = T.dvector("x")
    out, _ = theanolab.scan(lambda a: (until(a > 2), a + 1), sequences=x)
    assert run([x], out, [1.0, 3.0, 0.0]).tolist() == [2.0, 4.0]


# ---------------------------------------------------------------------- shared variables


def test_updates_returned_by_fn_and_implicit_shared():
    total = theanolab.shared(np.float64(0.0), name="total")
    scale = theanolab.shared(np.float64(3.0), name="scale")
    x = T.dvector("x")
    out, updates = theanolab.scan(lambda a: (a * scale, {total: total + a}), sequences=x)
    assert list(updates) == [total]
    f = theanolab.function([x], out, updates=updates)
    assert f([1.0, 2.0]).tolist() == [3.0, 6.0] and float(total.get_value()) == 3.0
    assert f([1.0]).tolist() == [3.0] and float(total.get_value()) == 4.0
    scale.set_value(np.float64(-1.0))  # a shared variable read inside is an input, not a constant
    assert f([2.0]).tolist() == [-2.0]


def test_default_update_is_carried_by_the_loop():
    counter = theanolab.shared(np.float64(1.0), name="counter")
    counter.default_update = counter + 1
    x = T.dvector("x")
    out, updates = theanolab.scan(lambda a: a * counter, sequences=x)
    assert list(updates) == [counter]
    f = theanolab.function([x], out, updates=updates)
    assert f([1.0, 1.0, 1.0]).tolist() == [1.0, 2.0, 3.0]
    assert float(counter.get_value()) == 4.0


def test_free_variables_and_strict():
    x, w = T.dvector("x"), T.dscalar("w")
    out, _ = theanolab.scan(lambda a: a * w, sequences=x)
    assert run([x, w], out, [1.0, 2.0], 3.0).tolist() == [3.0, 6.0]
    with pytest.raises(ValueError, match="strict=True.*w"):
        theanolab.scan(lambda a: a * w, sequences=x, strict=True)
    out, _ = theanolab.scan(lambda a, w: a * w, sequences=x, non_sequences=w, strict=True)
    assert run([x, w], out, [1.0], 2.0).tolist() == [2.0]


# ---------------------------------------------------------------------- errors


def test_build_errors_are_clear():
    x = T.dvector("x")
    with pytest.raises(ValueError, match="n_steps must be >= 0, got -2"):
        theanolab.scan(lambda a: a, sequences=x, n_steps=-2)
    with pytest.raises(ValueError, match="give n_steps"):
        theanolab.scan(lambda p: p, outputs_info=T.dscalar())
    with pytest.raises(TypeError, match="n_steps must be an integer scalar"):
        theanolab.scan(lambda a: a, sequences=x, n_steps=T.dscalar())
    with pytest.raises(TypeError, match="same dtype"):
        theanolab.scan(lambda p: p * 1.5, outputs_info=T.constant(np.int64(1)), n_steps=3)
    with pytest.raises(ValueError, match="2 output.*outputs_info has 1"):
        theanolab.scan(lambda a, p: (a, p), sequences=x, outputs_info=[T.dscalar()])
    with pytest.raises(ValueError, match="taps .* must be negative"):
        theanolab.scan(lambda p: p, outputs_info=dict(initial=x, taps=[1]), n_steps=2)
    with pytest.raises(TypeError, match="is a scalar; a sequence needs an axis"):
        theanolab.scan(lambda a: a, sequences=T.dscalar())


def test_run_errors_name_the_problem():
    init = T.dvector("init")
    grows, _ = theanolab.scan(lambda p: T.concatenate([p, p]), outputs_info=init, n_steps=2)
    with pytest.raises(ValueError, match="state 0 has shape .* must keep its shape"):
        run([init], grows, [1.0])
    fib, _ = theanolab.scan(lambda a, b: a + b, outputs_info=dict(initial=init, taps=[-2, -1]), n_steps=2)
    with pytest.raises(ValueError, match="needs 2 row"):
        run([init], fib, [1.0])


# ---------------------------------------------------------------------- shapes


def test_infer_shape():
    x, h0, w = T.dmatrix("x"), T.dvector("h0"), T.dmatrix("w")
    (h, y), _ = theanolab.scan(lambda a, p, w: (T.tanh(T.dot(p, w) + a), (a * 2).sum()),
                               sequences=x, outputs_info=[h0, None], non_sequences=w)
    values = [RNG.normal(size=(4, 3)), RNG.normal(size=3), RNG.normal(size=(3, 3))]
    check_infer_shape([h.owner.inputs[0], y], [x, h0, w], values)
    shape = theanolab.function([x, h0, w], h.shape)(*values)
    assert shape.tolist() == [4, 3]


def test_random_draws_inside_fn_advance_through_updates():
    streams = pytest.importorskip("theanolab.tensor.shared_randomstreams")
    srng = streams.RandomStreams(seed=234)
    x = T.dvector("x")
    out, updates = theanolab.scan(lambda a: a + srng.normal((2,)), sequences=x)
    assert len(updates) == 1 and isinstance(next(iter(updates)), theanolab.SharedVariable)
    f = theanolab.function([x], out, updates=updates)
    first, second = f(np.zeros(3)), f(np.zeros(3))
    assert not np.allclose(first[0], first[1]) and not np.allclose(first, second)  # each step, each call
    frozen = theanolab.function([x], out, no_default_updates=True)
    np.testing.assert_array_equal(frozen(np.zeros(2)), frozen(np.zeros(2)))


def test_theano_module_paths_and_pickling():
    import pickle

    assert theanolab.scan_module.until is until and theanolab.scan_module.scan is theanolab.scan
    x, h0 = T.dvector("x"), T.dscalar("h0")
    h, _ = theanolab.scan(lambda a, p: T.tanh(a + p), sequences=x, outputs_info=h0)
    f = theanolab.function([x, h0], h)
    expected = f([1.0, 2.0], 0.5)
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(f))([1.0, 2.0], 0.5), expected)
    np.testing.assert_array_equal(f.copy()([1.0, 2.0], 0.5)[0], expected)
