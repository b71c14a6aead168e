"""``RandomStreams`` (theanolab.random): Theano 1.0.5's numbers, draw-once, updates, seeding, rewrites.

The expected numbers were measured with Theano 1.0.5 (the reference
installation) on the same seed and the same sequence of draws: every
distribution is created, in this order, on ``RandomStreams(seed=42)`` and
called twice.
"""

from __future__ import annotations

import numpy as np
import pytest

import theanolab
import theanolab.tensor as T
from theanolab import function
from theanolab.gradient import NullTypeGradError
from theanolab.random import RandomFunction, RandomStateSharedVariable, random_state_type
from theanolab.random.ops import copy_generator, uniform
from theanolab.tensor.shared_randomstreams import RandomStreams

# name, how to draw it, its type, Theano 1.0.5's first and second call.
THEANO_DRAWS = [
    ("uniform", lambda s: s.uniform((3,), low=-2.0, high=3.0), "float64", 1,
     [-0.11706072963808811, 1.9409229514224502, -1.6352445446575814],
     [-1.940355519308296, 2.702043707042093, 0.15703132392080166]),
    ("uniform_float32", lambda s: s.uniform((2, 3), dtype="float32"), "float32", 2,
     [[0.18600749969482422, 0.3828451931476593, 0.17937970161437988],
      [0.9752705693244934, 0.49160343408584595, 0.5933390259742737]],
     [[0.9563315510749817, 0.5451064109802246, 0.3541332185268402],
      [0.5127081871032715, 0.07542189210653305, 0.93869549036026]]),
    ("normal", lambda s: s.normal((2, 3), avg=1.0, std=2.0), "float64", 2,
     [[-2.9967826147751118, -0.3781278783093698, 1.6774222074438607],
      [2.381296043146116, 1.1978493241200803, 4.451658667655085]],
     [[1.9955300480125524, 1.8060141900459454, 0.9225823068001523],
      [2.6855939029561897, 2.209690057214404, -0.9023802878927805]]),
    ("binomial", lambda s: s.binomial((5,), n=10, p=0.3), "int64", 1, [3, 5, 1, 3, 2], [3, 2, 4, 3, 6]),
    ("binomial_default", lambda s: s.binomial((2, 3)), "int64", 2, [[1, 0, 1], [1, 1, 0]], [[1, 1, 1], [0, 0, 1]]),
    ("random_integers", lambda s: s.random_integers((6,), low=-3, high=4), "int64", 1,
     [3, -1, 0, 4, 3, 2], [-3, -1, 3, 1, 0, -3]),
    ("random_integers_by_bounds", lambda s: s.random_integers(low=[0, 10, 100], high=[1, 20, 200]), "int64", 1,
     [0, 13, 198], [0, 11, 121]),
    ("choice", lambda s: s.choice((5,), a=10), "int64", 1, [6, 2, 8, 2, 5], [9, 0, 4, 3, 5]),
    ("choice_without_replacement", lambda s: s.choice((4,), a=6, replace=False), "int64", 1,
     [3, 1, 2, 5], [2, 0, 1, 3]),
    ("choice_weighted", lambda s: s.choice((5,), a=3, p=[0.1, 0.2, 0.7]), "int64", 1,
     [0, 2, 2, 1, 2], [2, 1, 2, 2, 2]),
    ("permutation", lambda s: s.permutation(n=6), "int64", 1, [5, 4, 0, 1, 2, 3], [1, 2, 5, 0, 4, 3]),
    ("permutations", lambda s: s.permutation((2,), n=4), "int64", 2,
     [[1, 2, 3, 0], [0, 1, 3, 2]], [[3, 2, 1, 0], [3, 1, 0, 2]]),
    ("multinomial", lambda s: s.multinomial((3,), n=5, pvals=[0.2, 0.3, 0.5]), "int64", 2,
     [[2, 1, 2], [3, 0, 2], [1, 1, 3]], [[1, 1, 3], [0, 3, 2], [2, 2, 1]]),
    ("multinomial_by_parameters", lambda s: s.multinomial(n=[3, 7], pvals=[[0.5, 0.5], [0.1, 0.9]]), "int64", 2,
     [[1, 2], [1, 6]], [[2, 1], [0, 7]]),
    ("poisson", lambda s: s.poisson((4,), lam=3.0), "int64", 1, [1, 3, 3, 2], [3, 3, 3, 2]),
    ("normal_by_parameters", lambda s: s.normal(avg=[0.0, 10.0, 100.0], std=1.0), "float64", 1,
     [0.627783245621221, 9.25788135886249, 98.90951777601497],
     [2.2621622746486056, 8.460570891525057, 99.79739526630796]),
]


def test_every_distribution_gives_theano_numbers():
    """One stream, the variables created in Theano's order: each generator's seed depends on it."""
    streams = RandomStreams(seed=42)
    variables = [draw(streams) for _, draw, *_ in THEANO_DRAWS]
    for variable, (name, _, dtype, ndim, first, second) in zip(variables, THEANO_DRAWS):
        assert variable.dtype == dtype and variable.ndim == ndim, name
        f = function([], variable)
        a, b = f(), f()
        assert a.dtype == dtype, name
        np.testing.assert_array_equal(a, first, err_msg=name)
        np.testing.assert_array_equal(b, second, err_msg=name)


def test_integers_excludes_high():
    values = function([], RandomStreams(1).integers((2000,), low=3, high=6))()
    assert set(np.unique(values)) == {3, 4, 5}


def test_random_variable_holds_its_generator():
    srng = RandomStreams(seed=234)
    rv = srng.uniform((2, 2))
    assert isinstance(rv.rng, RandomStateSharedVariable) and rv.rng.type == random_state_type
    assert isinstance(rv.rng.get_value(borrow=True), np.random.RandomState)
    assert rv.rng.default_update is rv.update[1] is rv.owner.outputs[0]
    assert srng.state_updates == [rv.update] == srng.updates()
    assert str(rv.owner.op) == "RandomFunction{uniform}"
    assert srng[rv.rng] is rv.rng.get_value(borrow=True)
    srng[rv.rng] = np.random.RandomState(89234)
    np.testing.assert_array_equal(function([], rv)(), np.random.RandomState(89234).uniform(size=(2, 2)))


def test_each_call_advances_the_state_and_no_default_updates_does_not():
    rv = RandomStreams(seed=3).normal((4,))
    f = function([], rv)
    g = function([], rv, no_default_updates=True)
    h = function([], rv, no_default_updates=[rv.rng])
    assert not np.array_equal(f(), f())
    np.testing.assert_array_equal(g(), g())
    np.testing.assert_array_equal(h(), h())
    np.testing.assert_array_equal(g(), f())  # g draws what f draws next, and leaves the state alone


def test_explicit_update_replaces_the_default():
    srng = RandomStreams(seed=3)
    rv = srng.uniform((2,))
    f = function([], rv, updates=[rv.update])
    assert not np.array_equal(f(), f())
    frozen = function([], rv, updates=[(rv.rng, rv.rng)])
    np.testing.assert_array_equal(frozen(), frozen())


def test_draw_once_per_call():
    """The same variable used several times is one draw; two variables are two draws."""
    srng = RandomStreams(seed=5)
    u, v = srng.uniform((3,)), srng.uniform((3,))
    f = function([], [u - u, u, u * 1.0, v])
    zero, a, b, c = f()
    np.testing.assert_array_equal(zero, 0)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_two_draws_with_equal_parameters_stay_distinct():
    """Rewrites (merge, constant folding, canonicalization) must not take u - v for zero."""
    srng = RandomStreams(seed=5)
    u, v = srng.uniform((3,)), srng.uniform((3,))
    for mode in ("FAST_RUN", "FAST_COMPILE"):
        f = function([], u - v, mode=mode, no_default_updates=True)
        assert np.all(f() != 0)
        assert sum(isinstance(n.op, RandomFunction) for n in f.maker.fgraph.apply_nodes) == 2


def test_one_generator_two_identical_draws_merge():
    """Two nodes drawing the same way from the same generator give the same numbers: merging is safe."""
    rng = theanolab.shared(np.random.RandomState(7))
    _, a = uniform(rng, (3,))
    _, b = uniform(rng, (3,))
    f = function([], [a, b])
    x, y = f()
    np.testing.assert_array_equal(x, y)
    assert sum(isinstance(n.op, RandomFunction) for n in f.maker.fgraph.apply_nodes) == 1


def test_perform_never_changes_its_input_generator():
    rng = theanolab.shared(np.random.RandomState(7))
    new_rng, sample = uniform(rng, (3,))
    before = rng.get_value(borrow=True).get_state()[1].copy()
    f = function([], [sample, new_rng])
    drawn, after = f()
    np.testing.assert_array_equal(rng.get_value(borrow=True).get_state()[1], before)
    assert after is not rng.get_value(borrow=True)
    np.testing.assert_array_equal(drawn, np.random.RandomState(7).uniform(size=3))


def test_copy_generator_is_independent():
    rng = np.random.RandomState(11)
    rng.normal()  # a cached second Gaussian is part of the state
    copy = copy_generator(rng)
    assert copy.normal() == rng.normal()
    copy.uniform()
    assert copy.uniform() != rng.uniform()


def test_seed_reseeds_every_variable_from_the_seed_generator():
    srng = RandomStreams(seed=234)
    u, n = srng.uniform((2,)), srng.normal((2,))
    f = function([], [u, n])
    f()
    srng.seed(902340)
    seeds = np.random.RandomState(902340).randint(2 ** 30, size=2)
    a, b = f()
    np.testing.assert_array_equal(a, np.random.RandomState(seeds[0]).uniform(size=2))
    np.testing.assert_array_equal(b, np.random.RandomState(seeds[1]).normal(size=2))
    srng.seed()  # back to the first seed's generators
    np.testing.assert_array_equal(f()[0], function([], RandomStreams(seed=234).uniform((2,)))())


def test_gen_with_a_distribution_function():
    from theanolab.random import ops

    srng = RandomStreams(seed=9)
    rv = srng.gen(ops.normal, (3,), 1.0, 0.5)
    assert srng.state_updates[-1] == rv.update and rv.rng.default_update is rv.update[1]
    assert function([], rv)().shape == (3,)


SIZES = [
    # size, parameter, expected shape, expected broadcastable
    ((2, 3), 0.0, (2, 3), (False, False)),
    ((1, 3), 0.0, (1, 3), (True, False)),
    ((), 0.0, (), ()),
    ((0, 2), 0.0, (0, 2), (False, False)),
    (None, np.zeros((2, 4)), (2, 4), (False, False)),
    ((-1, 4), np.zeros((5, 1)), (5, 4), (False, False)),
]


@pytest.mark.parametrize("size, low, shape, broadcastable", SIZES)
def test_sizes(size, low, shape, broadcastable):
    rv = RandomStreams(seed=1).uniform(size, low=low, high=1.0)
    assert rv.broadcastable == broadcastable
    assert function([], rv)().shape == shape


def test_symbolic_size_and_shape_inference():
    n = T.lscalar("n")
    rv = RandomStreams(seed=1).normal((n, 2))
    f = function([n], [rv, rv.shape])
    value, shape = f(4)
    assert value.shape == (4, 2)
    np.testing.assert_array_equal(shape, [4, 2])
    size = T.lvector("size")
    g = function([size], RandomStreams(seed=1).uniform(size, ndim=3))
    assert g([2, 1, 3]).shape == (2, 1, 3)
    # The shape of a draw needs no draw: only the size survives the rewrites.
    h = function([n], RandomStreams(seed=1).uniform((n, 3)).shape, no_default_updates=True)
    assert not any(isinstance(node.op, RandomFunction) for node in h.maker.fgraph.apply_nodes)


def test_symbolic_parameters():
    low, high = T.dscalars("low", "high")
    rv = RandomStreams(seed=1).uniform((1000,), low=low, high=high)
    values = function([low, high], rv)(5.0, 6.0)
    assert values.min() >= 5.0 and values.max() < 6.0


@pytest.mark.parametrize("name, kwargs", [("uniform", {"low": "x"}), ("normal", {"avg": "x"}),
                                          ("normal", {"std": "x"}), ("binomial", {"p": "x"})])
def test_gradient_through_a_sample_is_undefined(name, kwargs):
    """As in Theano: asking for the gradient of a sample with respect to its parameters is an error."""
    x = T.dscalar("x")
    rv = getattr(RandomStreams(seed=1), name)((3,), **{k: x for k in kwargs})
    with pytest.raises(NullTypeGradError, match="RandomFunction"):
        T.grad(rv.sum(), x)


def test_gradient_of_other_terms_is_unaffected():
    x = T.dscalar("x")
    rv = RandomStreams(seed=1).uniform((3,))
    g = function([x], T.grad((rv * x).sum(), x), no_default_updates=True)
    f = function([], rv.sum(), no_default_updates=True)
    np.testing.assert_allclose(g(2.0), f())


def test_shared_random_state():
    rng = theanolab.shared(np.random.RandomState(3), name="rng")
    assert isinstance(rng, RandomStateSharedVariable) and str(rng) == "rng"
    value = rng.get_value()
    assert value is not rng.get_value(borrow=True)  # a copy unless borrowed
    with pytest.raises(TypeError, match="RandomState"):
        rng.set_value(np.zeros(3))


ERRORS = [
    (lambda s: s.uniform((2, 3), ndim=3), ValueError, "ndim=3"),
    (lambda s: s.uniform((2, -2)), ValueError, ">= 0"),
    (lambda s: s.uniform((2.5,)), TypeError, "integer"),
    (lambda s: s.uniform((2,), low=np.zeros((2, 2))), ValueError, "more than the 1"),
    (lambda s: s.choice(), TypeError, "needs a size"),
    (lambda s: s.permutation(n=3, ndim=2), TypeError, "one permutation"),
]


@pytest.mark.parametrize("build, error, match", ERRORS)
def test_bad_arguments(build, error, match):
    with pytest.raises(error, match=match):
        build(RandomStreams(seed=1))


def test_run_time_errors_name_the_op():
    size = T.lvector("size")
    f = function([size], RandomStreams(seed=1).uniform(size, ndim=2))
    with pytest.raises(ValueError, match="RandomFunction{uniform}"):
        f([2, 3, 4])
    g = function([], RandomStreams(seed=1).choice((5,), a=3, replace=False))
    with pytest.raises(ValueError):
        g()


def test_shared_of_a_random_state_works_after_importing_theanolab_alone():
    import subprocess
    import sys

    code = ("import numpy as np, theanolab as theano\n"
            "s = theano.shared(np.random.RandomState(3))\n"
            "assert type(s).__name__ == 'RandomStateSharedVariable', type(s)\n"
            "assert s.get_value().randint(1000) == np.random.RandomState(3).randint(1000)\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
