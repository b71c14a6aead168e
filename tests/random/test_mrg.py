"""``MRG_RandomStreams`` (MRG31k3p): Theano 1.0.5's numbers, and the same bits on every backend.

Expected numbers were measured with Theano 1.0.5 on ``MRG_RandomStreams(seed=234)``
with the draws created in this order, each called twice.  Uniform, binomial,
multinomial and choice are exact; normal goes through log/cos/sin, which
libraries round differently in the last bit, so it is compared to a few ULPs.
"""

from __future__ import annotations

import numpy as np
import pytest

import theanolab
import theanolab.tensor as T
from theanolab import function
from theanolab.backends.c.build import compiler_available
from theanolab.gradient import NullTypeGradError
from theanolab.random import mrg31k3p
from theanolab.sandbox.rng_mrg import MRG_RandomStreams, guess_n_streams, mrg_uniform

PY_MODE = theanolab.Mode(linker="py", optimizer="fast_run")
C_MODE = theanolab.Mode(linker="c|py", optimizer="fast_run")
needs_c = pytest.mark.skipif(not compiler_available(), reason="needs a C compiler")

THEANO_DRAWS = [
    ("uniform", lambda m: m.uniform((2, 2)), 0,
     [[0.44990408420562744, 0.3062468161806464], [0.7898354828357697, 0.8255442692898214]],
     [[0.44760830607265234, 0.0780163542367518], [0.8624823843128979, 0.46062918566167355]]),
    ("uniform_bounds", lambda m: m.uniform((7,), low=-1.0, high=2.0), 0,
     [-0.6322638858109713, 0.6754049528390169, -0.0994556532241404, 0.2792358919978142, -0.4304856602102518,
      1.9039791342802346, 1.2591210906393826],
     [1.4870234467089176, 1.9275495670735836, -0.8281354638747871, -0.288641759660095, 1.6558967791497707,
      0.8661595089361072, -0.25364464707672596]),
    ("uniform_float32", lambda m: m.uniform((3, 5), dtype="float32"), 0,
     [[0.7175518870353699, 0.8797648549079895, 0.13265012204647064, 0.9958226084709167, 0.7338676452636719],
      [0.1213127002120018, 0.0970354899764061, 0.7703190445899963, 0.9489208459854126, 0.0834648460149765],
      [0.0993838906288147, 0.03258290886878967, 0.7784713506698608, 0.1806802898645401, 0.3092478811740875]],
     [[0.022820821031928062, 0.26376938819885254, 0.9349497556686401, 0.7235536575317383, 0.7679762840270996],
      [0.23197488486766815, 0.11163739114999771, 0.9555147290229797, 0.5793726444244385, 0.5721555352210999],
      [0.6899052262306213, 0.6287196278572083, 0.52651447057724, 0.5747077465057373, 0.2639094591140747]]),
    ("normal", lambda m: m.normal((2, 3)), 1e-14,
     [[0.47489816116514777, -0.5760571386737089, -0.7960296793412766],
      [-0.9622333555360754, -0.644564485217062, -0.5448257562090777]],
     [[-1.3764924981030464, 1.4561217841413305, -1.345643006518092],
      [-0.31076327855388697, 1.4146934436190053, -0.8893952548657903]]),
    ("normal_avg_std", lambda m: m.normal((5,), avg=1.0, std=3.0), 1e-14,
     [1.2196214460562993, 4.65894453777803, -0.7669486377357349, 0.4493797620198808, -2.3083688109578757],
     [4.191479489172394, -0.8937530146460461, -0.9655179408307147, 0.9413486646882538, 4.607199359360858]),
    ("normal_float32", lambda m: m.normal((3,), dtype="float32"), 1e-6,
     [-1.1280288696289062, 0.3799932897090912, -0.7280200719833374],
     [0.40921470522880554, -0.8129620552062988, -0.577522337436676]),
    ("binomial", lambda m: m.binomial((2, 4), p=0.3), 0, [[0, 0, 0, 0], [0, 0, 0, 1]], [[1, 0, 1, 0], [1, 0, 0, 0]]),
    ("binomial_int32", lambda m: m.binomial((3,), p=0.5, dtype="int32"), 0, [0, 1, 0], [0, 0, 0]),
    ("multinomial", lambda m: m.multinomial(pvals=[[0.2, 0.3, 0.5], [0.6, 0.3, 0.1]]), 0,
     [[0, 1, 0], [1, 0, 0]], [[0, 0, 1], [1, 0, 0]]),
    ("multinomial_n3", lambda m: m.multinomial(n=3, pvals=[[0.2, 0.3, 0.5], [0.6, 0.3, 0.1]]), 0,
     [[0, 1, 2], [3, 0, 0]], [[1, 0, 2], [3, 0, 0]]),
    ("choice", lambda m: m.choice(size=2, replace=False, p=[[0.2, 0.3, 0.5], [0.6, 0.3, 0.1]]), 0,
     [[0, 2], [1, 0]], [[2, 1], [1, 0]]),
    ("uniform_40", lambda m: m.uniform((40,)), 0,
     [0.16627797624096274, 0.03024878492578864, 0.18575158808380365, 0.6712818369269371, 0.09363705851137638,
      0.9206579583697021, 0.49515038495883346, 0.37662929436191916, 0.6832530992105603, 0.6947267428040504,
      0.13759338902309537, 0.9419955695047975, 0.3861211403273046, 0.7703264923766255, 0.1230498431250453,
      0.7862361795268953, 0.7561099845916033, 0.27476306492462754, 0.6140704965218902, 0.69460722617805,
      0.4619013974443078, 0.048625707160681486, 0.025120564736425877, 0.46570379473268986, 0.836346338968724,
      0.4777369764633477, 0.4129470940679312, 0.6625842130742967, 0.01390778785571456, 0.1031416873447597,
      0.3049524435773492, 0.5902479225769639, 0.1554636461660266, 0.055812306236475706, 0.5444619278423488,
      0.4364066766574979, 0.7586155193857849, 0.4116301517933607, 0.05858919909223914, 0.34725603135302663],
     None),
    ("uniform_2_streams", lambda m: m.uniform((3,), nstreams=2), 0,
     [0.727519579231739, 0.359593000728637, 0.29583740234375],
     [0.3598583545535803, 0.7438196809962392, 0.6199499648064375]),
]
# Theano's rstate after creating all of the above.
RSTATE_AFTER = [222759792, 683226590, 1827848176, 1593587903, 822706812, 1880611774]


@pytest.mark.parametrize("mode", [PY_MODE, pytest.param(C_MODE, marks=needs_c)], ids=["py", "c"])
def test_every_distribution_gives_theano_numbers(mode):
    streams = MRG_RandomStreams(seed=234)
    variables = [draw(streams) for _, draw, *_ in THEANO_DRAWS]
    np.testing.assert_array_equal(streams.rstate, RSTATE_AFTER)
    for variable, (name, _, tolerance, first, second) in zip(variables, THEANO_DRAWS):
        f = function([], variable, mode=mode)
        for expected in (first, second):
            value = f()
            if expected is None:
                continue
            if tolerance:
                np.testing.assert_allclose(value, expected, rtol=tolerance, atol=tolerance, err_msg=name)
            else:
                np.testing.assert_array_equal(value, expected, err_msg=name)


def test_substreams_and_seed_match_theano():
    streams = MRG_RandomStreams(seed=234)
    u = streams.uniform((2, 2))
    states = streams.state_updates[0][0].get_value()
    np.testing.assert_array_equal(states, [[234] * 6,
                                           [704833060, 506023153, 12815654, 2123355916, 1966261459, 499152958],
                                           [897902406, 1118436668, 316920929, 575077299, 634078435, 1750513707],
                                           [1397556363, 1686891983, 901941409, 1224144433, 122899485, 1420574134]])
    streams.seed(77)
    np.testing.assert_array_equal(streams.state_updates[0][0].get_value()[1],
                                  [1039532934, 10498123, 22571678, 2038580949, 1628977044, 127542425])
    np.testing.assert_array_equal(streams.rstate, [1657810815, 2109980421, 824492518, 1820612481, 725870177,
                                                   1762000966])
    np.testing.assert_array_equal(function([], u)(), [[0.1480453610420227, 0.6990689863450825],
                                                      [0.24280990846455097, 0.2930201389826834]])


def test_six_int_seed_and_default_seed():
    f = function([], MRG_RandomStreams(seed=[1, 2, 3, 4, 5, 6]).uniform((3,)))
    np.testing.assert_array_equal(f(), [0.0037538395263254642, 0.8410847620107234, 0.9649228709749877])
    default = MRG_RandomStreams()
    g = function([], default.uniform((13,)))
    assert g()[0] == 0.7353244530968368
    assert default.state_updates[0][0].get_value().shape == (2, 6)  # 13 // 6 streams, as Theano chose


@pytest.mark.parametrize("seed, error", [(0, ValueError), (2147462579, ValueError), ([0, 0, 0, 1, 1, 1], ValueError),
                                         ([1, 1, 1, 2147462579, 1, 1], ValueError), ([1, 2], TypeError),
                                         ("seed", TypeError)])
def test_bad_seeds(seed, error):
    with pytest.raises(error, match="seed"):
        MRG_RandomStreams(seed)


def test_number_of_streams():
    assert guess_n_streams((2, 3)) == 6 and guess_n_streams((10, 10)) == 16
    assert guess_n_streams((1000, 1000)) == 15360 and guess_n_streams(T.lvector()) == 15360
    with pytest.warns(UserWarning, match="15360"):
        guess_n_streams(T.lvector(), warn=True)


def test_many_substreams_by_doubling_match_the_sequence():
    """Row k of ``substreams`` is row k-1 jumped 2**72 steps, however many rows are built at once."""
    rows = mrg31k3p.substreams(mrg31k3p.validated_seed(5), 37)
    for k in (1, 2, 17, 36):
        np.testing.assert_array_equal(mrg31k3p.substreams(rows[k - 1], 2)[1], rows[k])


def test_draw_once_and_no_default_updates():
    srng = MRG_RandomStreams(seed=42)
    u = srng.uniform((3,))
    f = function([], [u - u, u])
    zero, a = f()
    np.testing.assert_array_equal(zero, 0)
    g = function([], u, no_default_updates=True)
    np.testing.assert_array_equal(g(), g())
    assert not np.array_equal(f()[1], a)


def test_symbolic_size():
    n = T.lscalar("n")
    srng = MRG_RandomStreams(seed=42)
    f = function([n], [srng.uniform(T.stack([n, 2]), ndim=2), srng.normal((n, 3))])
    u, z = f(5)
    assert u.shape == (5, 2) and z.shape == (5, 3)
    assert srng.state_updates[0][0].get_value().shape == (15360, 6)


@pytest.mark.parametrize("build", [lambda m, x: m.uniform((3,), low=x), lambda m, x: m.normal((3,), avg=x),
                                   lambda m, x: m.binomial((3,), p=x)])
def test_gradient_with_respect_to_parameters_is_undefined(build):
    x = T.dscalar("x")
    with pytest.raises(NullTypeGradError, match="UndefinedGrad"):
        T.grad(build(MRG_RandomStreams(1), x).sum(), x)


def test_unsupported_arguments_say_so():
    srng = MRG_RandomStreams(1)
    with pytest.raises(NotImplementedError, match="n > 1"):
        srng.binomial((2,), n=2)
    with pytest.raises(NotImplementedError, match="replace=False"):
        srng.choice(p=[[0.5, 0.5]])
    with pytest.raises(ValueError, match="<= 0"):
        srng.uniform((2, 0))
    with pytest.raises(TypeError, match="size"):
        srng.uniform([2, 3])
    with pytest.raises(ValueError, match="size"):
        srng.multinomial(size=(2,), pvals=[[0.5, 0.5]])


# ----------------------------------------------------------------------------- reference vs C

STATE_LAYOUTS = {
    "contiguous": lambda s: s,
    "fortran": np.asfortranarray,
    "reversed_rows": lambda s: s[::-1].copy()[::-1],
    "every_other_row": lambda s: np.repeat(s, 2, axis=0)[::2],
}


@needs_c
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("layout", list(STATE_LAYOUTS))
@pytest.mark.parametrize("n_streams, size", [(1, (5,)), (7, (3, 4)), (4, (2, 0, 3)), (30, (2,)), (3, ())])
def test_reference_and_c_give_the_same_bits(dtype, layout, n_streams, size):
    states = T.imatrix("states")
    node_outputs = mrg_uniform.new(states, len(size), dtype, np.array(size, dtype="int64"))
    start = mrg31k3p.substreams(mrg31k3p.validated_seed(12345 + n_streams), n_streams)
    given = STATE_LAYOUTS[layout](start.copy())
    results = [function([states], node_outputs, mode=mode)(given) for mode in (PY_MODE, C_MODE)]
    for (py_states, py_sample), (c_states, c_sample) in [results]:
        assert py_sample.dtype == c_sample.dtype == dtype and py_sample.shape == size
        np.testing.assert_array_equal(c_sample, py_sample)
        np.testing.assert_array_equal(c_states, py_states)
    np.testing.assert_array_equal(given, start)  # neither backend changed its input states
    sequential = start.copy()
    expected = [mrg31k3p.uniform_samples(sequential[k % n_streams:k % n_streams + 1], 1, dtype)[0]
                for k in range(int(np.prod(size, dtype=np.int64)))]
    np.testing.assert_array_equal(results[0][1].ravel(), expected)


@pytest.mark.cpu_only
@needs_c
def test_c_kernel_runs_and_a_stream_continues_across_calls():
    srng_py, srng_c = MRG_RandomStreams(seed=99), MRG_RandomStreams(seed=99)
    f_py = function([], srng_py.uniform((1000,), dtype="float32"), mode=PY_MODE)
    f_c = function([], srng_c.uniform((1000,), dtype="float32"), mode=C_MODE)
    assert "[C]" in theanolab.printing.debugprint(f_c, file="str")
    for _ in range(3):
        np.testing.assert_array_equal(f_c(), f_py())
    np.testing.assert_array_equal(srng_c.state_updates[0][0].get_value(), srng_py.state_updates[0][0].get_value())


@needs_c
def test_c_errors_match_the_reference():
    states, size = T.imatrix("states"), T.lvector("size")
    outputs = mrg_uniform.new(states, 2, "float64", size)
    good = mrg31k3p.substreams(mrg31k3p.validated_seed(3), 2)
    for mode in (PY_MODE, C_MODE):
        f = function([states, size], outputs, mode=mode)
        with pytest.raises(ValueError, match="negative"):
            f(good, [2, -1])
        with pytest.raises(ValueError, match="n_streams"):
            f(np.zeros((2, 5), dtype="int32"), [2, 2])
