"""The in-place draw (FAST_RUN): used exactly where the generator's update is the draw's new state."""

import pickle

import numpy as np
import pytest

import theanolab
from theanolab.compile.debugmode import DebugMode
from theanolab.compile.mode import get_mode
from theanolab.random.ops import RandomFunction, uniform
from theanolab.tensor.shared_randomstreams import RandomStreams

COPYING = get_mode("FAST_RUN").excluding("random_inplace")


def draws(f):
    """``[(op.fn, op.inplace)]`` of the random nodes that ``f`` runs."""
    return [(n.op.fn, n.op.inplace) for n in f.maker.fgraph.toposort() if isinstance(n.op, RandomFunction)]


def stream_function(mode=None, **kwargs):
    u = RandomStreams(234).uniform((10, 10))
    return theanolab.function([], u, mode=mode, **kwargs), u


def test_inplace_values_equal_the_copying_draw_and_advance_the_shared_generator():
    f, u = stream_function()
    g, _ = stream_function(COPYING)
    assert draws(f) == [("uniform", True)] and draws(g) == [("uniform", False)]
    state = u.rng.get_value(borrow=True)
    for _ in range(4):
        np.testing.assert_array_equal(f(), g())
    assert u.rng.get_value(borrow=True) is state  # advanced in place, the same RandomState object
    expected = np.random.RandomState(0)
    expected.set_state(g.maker.shared_inputs[0].get_value(borrow=True).get_state())
    assert f.maker.fgraph.inputs[0].type.values_eq(state, expected)


def test_no_default_updates_keeps_the_copying_draw_and_the_state():
    f, u = stream_function(no_default_updates=True)
    assert draws(f) == [("uniform", False)]
    before = u.rng.get_value().get_state()[1].copy()
    first = f()
    np.testing.assert_array_equal(f(), first)
    np.testing.assert_array_equal(u.rng.get_value(borrow=True).get_state()[1], before)


@pytest.mark.parametrize("case", ["two draws", "rng is an output", "chained"])
def test_generator_read_elsewhere_keeps_the_copy(case):
    """Each case against NumPy: two draws from one generator see the same state; chained draws follow."""
    rng = theanolab.shared(np.random.RandomState(7))
    new1, a = uniform(rng, size=(3,))
    if case == "two draws":
        new2, b = uniform(rng, size=(3,), low=2.0, high=3.0)
        f = theanolab.function([], [a, b], updates={rng: new2})
        expected = [("uniform", False), ("uniform", False)]
    elif case == "rng is an output":
        f = theanolab.function([], [a, rng], updates={rng: new1})
        expected = [("uniform", False)]
    else:
        new2, b = uniform(new1, size=(3,), low=2.0, high=3.0)
        f = theanolab.function([], [a, b], updates={rng: new2})
        expected = [("uniform", False), ("uniform", True)]  # new1 is the copy's, read by the second draw only
    assert sorted(draws(f)) == expected
    reference = np.random.RandomState(7)
    for _ in range(3):
        values = f()
        state = reference.get_state()
        np.testing.assert_array_equal(values[0], reference.uniform(0.0, 1.0, (3,)))
        if case == "two draws":
            reference.set_state(state)
        if case != "rng is an output":
            np.testing.assert_array_equal(values[1], reference.uniform(2.0, 3.0, (3,)))


def test_explicit_update_allows_inplace():
    rng = theanolab.shared(np.random.RandomState(3))
    new, sample = uniform(rng, size=(2, 2))
    f = theanolab.function([], sample, updates=[(rng, new)])
    assert draws(f) == [("uniform", True)]
    reference = np.random.RandomState(3)
    for _ in range(3):
        np.testing.assert_array_equal(f(), reference.uniform(0.0, 1.0, (2, 2)))


def test_copies_share_the_state_and_delete_updates_stops_advancing():
    f, u = stream_function()
    g, _ = stream_function(COPYING)
    shared_copy = f.copy()
    assert draws(shared_copy) == [("uniform", True)]
    for h in (f, shared_copy, f, shared_copy):
        np.testing.assert_array_equal(np.asarray(h()).reshape(10, 10), g())
    frozen = f.copy(delete_updates=True)
    assert draws(frozen) == [("uniform", False)]
    value = frozen()[0]
    np.testing.assert_array_equal(frozen()[0], value)
    np.testing.assert_array_equal(f(), g())


def test_pickled_function_continues_the_stream():
    f, _ = stream_function()
    g, _ = stream_function(COPYING)
    np.testing.assert_array_equal(f(), g())
    restored = pickle.loads(pickle.dumps(f))
    assert draws(restored) == [("uniform", True)]
    np.testing.assert_array_equal(restored(), g())


def test_debugmode_accepts_the_inplace_draw():
    f, _ = stream_function(DebugMode(optimizer="fast_run"))
    g, _ = stream_function(COPYING)
    assert draws(f) == [("uniform", True)]
    for _ in range(2):
        np.testing.assert_array_equal(f(), g())


def test_debugprint_shows_the_inplace_op(capsys):
    f, _ = stream_function()
    theanolab.printing.debugprint(f)
    assert "RandomFunction{uniform}[inplace].1" in capsys.readouterr().out
