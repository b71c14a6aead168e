"""The seed documents' random-number examples, run as a Theano user would run them.

Seeds 000, 001 and 003 ("Using Random Numbers": brief example, seeding
streams, sharing streams between functions, copying random state between
graphs).  The code is the tutorials' (``theano`` is ``theanolab``); where the
text promises a relation ("same numbers as g_val0", "v3 == v1") it is
asserted, and the numbers themselves are those Theano 1.0.5 printed for the
same seeds (measured with the reference installation), so old course
results reproduce.
"""

from __future__ import annotations

import numpy
import numpy as np
import pytest

import theanolab as theano
from theanolab import function
from theanolab.sandbox.rng_mrg import MRG_RandomStreams
from theanolab.tensor.shared_randomstreams import RandomStreams

# Theano 1.0.5, RandomStreams(seed=234): f() twice, g() (rv_n, no default updates).
F_VAL0 = [[0.12672381400898758, 0.9709159656786431], [0.13989097862581312, 0.887548254199325]]
F_VAL1 = [[0.3197141503373775, 0.47584376667160355], [0.24129163169315337, 0.4204608139408894]]
G_VAL = [[0.3732844727674915, -0.6574667187293483], [-0.3630237287579288, -0.9748462455013606]]
# f() after rv_u's generator is seeded with 89234, then after srng.seed(902340) (f and g).
F_SEEDED = [[0.28439104826995065, 0.5055214080650566], [0.0021596108670541847, 0.9814496331453434]]
F_RESEEDED = [[0.33919835277152444, 0.8534487758536424], [0.14881562020223282, 0.7965941342086273]]
G_RESEEDED = [[1.1442008240114772, -1.6324488253206124], [-0.4399053827934302, 1.1156434138246334]]
# Sharing streams: v1 (after nearly_zeros), v2 (state replayed), v3.
V1 = [[0.6272043222684845, 0.9045897852678478], [0.14363919179537765, 0.8927993154381345]]
V2 = [[0.5025809024247715, 0.9954442918460433], [0.7507335534476014, 0.17926031507622142]]


@pytest.fixture
def brief_example():
    """Seed 001, "Brief Example": the setup code."""
    srng = RandomStreams(seed=234)
    rv_u = srng.uniform((2, 2))
    rv_n = srng.normal((2, 2))
    f = function([], rv_u)
    g = function([], rv_n, no_default_updates=True)  # Not updating rv_n.rng
    nearly_zeros = function([], rv_u + rv_u - 2 * rv_u)
    return srng, rv_u, rv_n, f, g, nearly_zeros


# Seeds 000, 001, 003: each call of f draws new numbers; g (no_default_updates) repeats itself.
def test_brief_example(brief_example):
    srng, rv_u, rv_n, f, g, nearly_zeros = brief_example
    f_val0 = f()
    f_val1 = f()  # different numbers from f_val0
    np.testing.assert_array_equal(f_val0, F_VAL0)
    np.testing.assert_array_equal(f_val1, F_VAL1)
    g_val0 = g()  # different numbers from f_val0 and f_val1
    g_val1 = g()  # same numbers as g_val0!
    np.testing.assert_array_equal(g_val0, G_VAL)
    np.testing.assert_array_equal(g_val1, g_val0)
    assert f_val0.shape == (2, 2) and f_val0.dtype == "float64"


# "a random variable is drawn at most once during any single function execution"
def test_nearly_zeros(brief_example):
    srng, rv_u, rv_n, f, g, nearly_zeros = brief_example
    np.testing.assert_allclose(nearly_zeros(), np.zeros((2, 2)), atol=1e-15)


# Seed 001, "Seeding Streams"; seed 000 spells it with the older ``.rng.value``.
def test_seeding_one_variable(brief_example):
    srng, rv_u, rv_n, f, g, nearly_zeros = brief_example
    rng_val = rv_u.rng.get_value(borrow=True)  # Get the rng for rv_u
    rng_val.seed(89234)  # seeds the generator
    rv_u.rng.set_value(rng_val, borrow=True)  # Assign back seeded rng
    np.testing.assert_array_equal(f(), F_SEEDED)
    rv_u.rng.value.seed(89234)  # seeds the generator for rv_u (seed 000)
    np.testing.assert_array_equal(f(), F_SEEDED)


def test_seeding_every_variable(brief_example):
    srng, rv_u, rv_n, f, g, nearly_zeros = brief_example
    srng.seed(902340)  # seeds rv_u and rv_n with different seeds each
    np.testing.assert_array_equal(f(), F_RESEEDED)
    np.testing.assert_array_equal(g(), G_RESEEDED)


# Seed 001, "Sharing Streams Between Functions" (and seed 000 with ``.rng.value``).
def test_sharing_streams_between_functions(brief_example):
    srng, rv_u, rv_n, f, g, nearly_zeros = brief_example
    f(), g()  # as in the tutorial, where the brief example and the seeding ran first
    rng_val = rv_u.rng.get_value(borrow=True)
    rng_val.seed(89234)
    rv_u.rng.set_value(rng_val, borrow=True)
    f()
    srng.seed(902340)
    f(), g()
    state_after_v0 = rv_u.rng.get_value().get_state()
    np.testing.assert_array_equal(nearly_zeros(), np.zeros((2, 2)))  # this affects rv_u's generator
    v1 = f()
    rng = rv_u.rng.get_value(borrow=True)
    rng.set_state(state_after_v0)
    rv_u.rng.set_value(rng, borrow=True)
    v2 = f()  # v2 != v1
    v3 = f()  # v3 == v1
    np.testing.assert_array_equal(v1, V1)
    np.testing.assert_array_equal(v2, V2)
    np.testing.assert_array_equal(v3, v1)
    assert not np.array_equal(v2, v1)


# Seed 003, "sharing streams between functions": replaying a saved state repeats the draws.
def test_state_replay(brief_example):
    srng, rv_u, rv_n, f, g, nearly_zeros = brief_example
    state_after_v0 = rv_u.rng.get_value().get_state()
    v0 = f()
    v1 = f()
    rng = rv_u.rng.get_value(borrow=True)
    rng.set_state(state_after_v0)
    rv_u.rng.set_value(rng, borrow=True)
    v2 = f()  # v2 == v0
    v3 = f()  # v3 == v1
    np.testing.assert_array_equal(v2, v0)
    np.testing.assert_array_equal(v3, v1)


# Seed 001, "Copying Random State Between Theano Graphs", verbatim, for both stream classes
# (the tutorial's note: MRG_RandomStreams can replace RandomStreams with the same code).
COPY_EXAMPLE = {
    # stream class: (f1(), f2() out of sync, f1() == f2() after the copy), Theano 1.0.5's values
    RandomStreams: (0.7280300912545745, 0.5505676910023921, 0.5904412261514114),
    MRG_RandomStreams: (0.23648804426193237, 0.8976723556406796, 0.2352812890894711),
}


@pytest.mark.parametrize("stream_class", list(COPY_EXAMPLE), ids=lambda c: c.__name__)
def test_copying_random_state_between_graphs(stream_class):
    import theanolab.tensor as T  # noqa: F401  (the tutorial's imports)

    assert numpy is np

    class Graph():
        def __init__(self, seed=123):
            self.rng = stream_class(seed)
            self.y = self.rng.uniform(size=(1,))

    g1 = Graph(seed=123)
    f1 = theano.function([], g1.y)

    g2 = Graph(seed=987)
    f2 = theano.function([], g2.y)

    # By default, the two functions are out of sync.
    first, second, synced = COPY_EXAMPLE[stream_class]
    np.testing.assert_array_equal(f1(), [first])
    np.testing.assert_array_equal(f2(), [second])

    def copy_random_state(g1, g2):
        if isinstance(g1.rng, MRG_RandomStreams):
            g2.rng.rstate = g1.rng.rstate
        for (su1, su2) in zip(g1.rng.state_updates, g2.rng.state_updates):
            su2[0].set_value(su1[0].get_value())

    # We now copy the state of the theano random number generators.
    copy_random_state(g1, g2)
    np.testing.assert_array_equal(f1(), [synced])
    np.testing.assert_array_equal(f2(), [synced])


# Seed 001, "Other Implementations": changing the import to the MRG streams runs the same code.
def test_mrg_as_drop_in_replacement():
    from theanolab.sandbox.rng_mrg import MRG_RandomStreams as RandomStreams

    srng = RandomStreams(seed=234)
    rv_u = srng.uniform((2, 2))
    f = function([], rv_u)
    nearly_zeros = function([], rv_u + rv_u - 2 * rv_u)
    assert not np.array_equal(f(), f())
    np.testing.assert_array_equal(nearly_zeros(), np.zeros((2, 2)))
