"""scan's loop in C (theanolab/backends/c/scan_loop.py) against the reference backend, feature by feature.

Every case is compiled twice, on the reference backend (``linker='py'``)
and on the C one (``'c|py'``), and run on the same values; the C function
must give the reference's values and run each scan whose body is all C on
the C loop (its node's backend is ``'c'``), the others on the Python loop.
"""

from collections import OrderedDict

import numpy as np
import pytest

import theanolab
import theanolab.tensor as T
from theanolab.backends.c import build
from theanolab.sandbox.rng_mrg import MRG_RandomStreams
from theanolab.scan.op import Scan
from theanolab.scan_module import until
from theanolab.tensor.shared_randomstreams import RandomStreams

# The C loop runs CPU graphs (cpu_only: device=cpu even in a device=cuda pass).
pytestmark = [pytest.mark.skipif(not build.compiler_available(), reason="no C compiler"), pytest.mark.cpu_only]

RNG = np.random.default_rng(5)
C_MODE = theanolab.Mode(linker="c|py", optimizer="fast_run")
PY_MODE = theanolab.Mode(linker="py", optimizer="fast_run")


def normal(*shape, dtype="float64"):
    return RNG.normal(size=shape).astype(dtype)


# ---------------------------------------------------------------------- the cases: (inputs, outputs, updates, values)


def case_rnn_float32():
    x, h0 = T.tensor3("x", dtype="float32"), T.matrix("h0", dtype="float32")
    W, U, b = T.matrix("W", dtype="float32"), T.matrix("U", dtype="float32"), T.vector("b", dtype="float32")
    h, _ = theanolab.scan(lambda xt, hp, W, U, b: T.tanh(T.dot(xt, W) + T.dot(hp, U) + b),
                          sequences=x, outputs_info=h0, non_sequences=[W, U, b])
    values = [normal(7, 3, 4, dtype="float32"), normal(3, 5, dtype="float32"), normal(4, 5, dtype="float32"),
              normal(5, 5, dtype="float32"), normal(5, dtype="float32")]
    return [x, h0, W, U, b], [h, h[-1]], None, values


def case_taps():  # sequence taps -1, 0, +1 and a state with taps -3 and -1 (three initial rows)
    x, init = T.dmatrix("x"), T.dmatrix("init")
    out, _ = theanolab.scan(lambda xm, x0, xp, s3, s1: 0.5 * s1 - 0.25 * s3 + xm * x0 - xp,
                            sequences={"input": x, "taps": [-1, 0, 1]},
                            outputs_info={"initial": init, "taps": [-3, -1]})
    return [x, init], [out], None, [normal(9, 4), normal(3, 4)]


def case_go_backwards_and_per_step():  # a per-step output next to a state, read backwards
    x, s0 = T.dmatrix("x"), T.dvector("s0")
    (acc, doubled), _ = theanolab.scan(lambda xt, acc: (acc + xt, 2 * xt), sequences=x,
                                       outputs_info=[s0, None], go_backwards=True)
    return [x, s0], [acc, doubled], None, [normal(6, 3), normal(3)]


def case_until():
    start = T.dscalar("start")
    values, _ = theanolab.scan(lambda p: (p * 2, until(p * 2 > 100)), outputs_info=start, n_steps=50)
    return [start], [values], None, [np.float64(1.5)]


def case_shared_updates():  # a shared variable the body updates, carried from step to step
    counter = theanolab.shared(np.float64(1.0), name="counter")
    x = T.dvector("x")
    out, updates = theanolab.scan(lambda xt: (xt * counter, OrderedDict([(counter, counter * 1.5)])), sequences=x)
    return [x], [out], updates, [normal(5)]


def case_mrg_random_inside():  # an MRG generator drawn inside: its int32 state is a tensor the C loop carries
    srng = MRG_RandomStreams(seed=234)
    x = T.dmatrix("x")
    noisy, updates = theanolab.scan(lambda xt: xt + srng.uniform((3,), dtype="float64"), sequences=x)
    return [x], [noisy], updates, [normal(4, 3)]


def case_randomstreams_inside():  # a NumPy RandomState is no tensor: the Python loop runs this body
    srng = RandomStreams(seed=234)
    x = T.dmatrix("x")
    noisy, updates = theanolab.scan(lambda xt: xt + srng.normal((3,)), sequences=x)
    return [x], [noisy], updates, [normal(4, 3)]


def case_zero_steps():
    x, s0, w = T.dmatrix("x"), T.dvector("s0"), T.dmatrix("w")
    (acc, rows), _ = theanolab.scan(lambda xt, acc, w: (acc + xt, T.dot(xt, w)), sequences=x,
                                    outputs_info=[s0, None], non_sequences=w)
    return [x, s0, w], [acc, rows], None, [np.zeros((0, 3)), normal(3), normal(3, 2)]


def case_last_row_only():  # result[-1]: the rewrite keeps few rows, which the C loop uses circularly
    A, k = T.dvector("A"), T.iscalar("k")
    (powers, sums), _ = theanolab.scan(lambda prior, A: (prior * A, (prior * A).sum()),
                                       outputs_info=[T.ones_like(A), None], non_sequences=A, n_steps=k)
    return [A, k], [powers[-1], sums[-1]], None, [np.array([0.5, 1.0, 1.01, -1.1]), np.int32(40)]


def case_gradient():  # forward and backward scans, both in C
    x, h0 = T.dtensor3("x"), T.dmatrix("h0")
    W, U, b = T.dmatrix("W"), T.dmatrix("U"), T.dvector("b")
    h, _ = theanolab.scan(lambda xt, hp, W, U, b: T.tanh(T.dot(xt, W) + T.dot(hp, U) + b),
                          sequences=x, outputs_info=h0, non_sequences=[W, U, b])
    cost = (h ** 2).sum() + h[-1].sum()
    grads = T.grad(cost, [x, h0, W, U, b])
    values = [normal(6, 2, 3), normal(2, 4), normal(3, 4), normal(4, 4) * 0.5, normal(4)]
    return [x, h0, W, U, b], [cost, *grads], None, values


def case_gradient_taps_truncated():
    x, init, w = T.dvector("x"), T.dvector("init"), T.dscalar("w")
    out, _ = theanolab.scan(lambda xt, s2, s1, w: T.tanh(w * s1 + 0.5 * s2 + xt), sequences=x,
                            outputs_info={"initial": init, "taps": [-2, -1]}, non_sequences=w,
                            truncate_gradient=3)
    cost = (out ** 2).sum()
    return [x, init, w], [cost, *T.grad(cost, [x, init, w])], None, [normal(8), normal(2), np.float64(0.7)]


CASES = {name[5:]: case for name, case in globals().items() if name.startswith("case_")}
#: cases whose every scan body is NOT one C function (their scans run the Python loop on C too).
PYTHON_LOOP = {"randomstreams_inside"}


def compile_pair(case):
    inputs, outputs, updates, values = case()
    functions = [theanolab.function(inputs, outputs, updates=updates, mode=mode) for mode in (PY_MODE, C_MODE)]
    return functions, values, updates


def _comparable(value):
    return np.asarray(value.get_state()[1]) if isinstance(value, np.random.RandomState) else np.asarray(value)


def scan_backends(function):
    return [backend for node, backend in function.node_backends.items() if isinstance(node.op, Scan)]


@pytest.mark.parametrize("name", sorted(CASES))
def test_c_loop_matches_reference(name):
    (reference, compiled), values, updates = compile_pair(CASES[name])
    initial = {shared: shared.get_value(borrow=False) for shared in (updates or {})}
    expected = reference(*values)
    expected_states = {shared: _comparable(shared.get_value()) for shared in initial}
    for shared, value in initial.items():  # the same generator states and counters for the C run
        shared.set_value(value)
    got = compiled(*values)
    assert len(got) == len(expected)
    for g, e in zip(got, expected):
        assert np.asarray(g).dtype == np.asarray(e).dtype
        np.testing.assert_allclose(g, e, rtol=1e-5 if np.asarray(e).dtype == np.float32 else 1e-10, atol=1e-6)
    for shared, state in expected_states.items():
        np.testing.assert_array_equal(_comparable(shared.get_value()), state)
    backends = scan_backends(compiled)
    assert backends and set(backends) == ({"py"} if name in PYTHON_LOOP else {"c"}), backends
    assert set(scan_backends(reference)) == {"py"}


def test_c_loop_shows_in_debugprint():
    (_, compiled), _, _ = compile_pair(case_rnn_float32)
    text = theanolab.printing.debugprint(compiled, file="str")
    assert "for{cpu,scan_fn}" in text and "[C]" in text.split("for{cpu,scan_fn}")[1].splitlines()[0]


def test_c_loop_runs_repeatedly_without_sharing_outputs():
    (_, compiled), values, _ = compile_pair(case_go_backwards_and_per_step)
    first = [np.copy(v) for v in compiled(*values)]
    again = compiled(*values)
    for a, b in zip(first, again):
        np.testing.assert_array_equal(a, b)
    assert not np.may_share_memory(first[0], again[0])


def test_error_inside_the_body_names_the_node_and_the_step():
    index, v = T.lvector("index"), T.dvector("v")
    picked, _ = theanolab.scan(lambda i, v: v[i] * 2, sequences=index, non_sequences=v)
    f = theanolab.function([index, v], picked, mode=C_MODE)
    assert scan_backends(f) == ["c"]
    np.testing.assert_array_equal(f(np.array([2, 0]), np.arange(3.0)), [4.0, 0.0])
    with pytest.raises(IndexError) as info:
        f(np.array([0, 1, 2, 7, 1]), np.arange(3.0))
    message = str(info.value)
    assert "at step 3 of the loop of for{cpu,scan_fn}" in message
    assert "Subtensor" in message and "Apply node that caused the error" in message


@pytest.mark.parametrize("mode", [PY_MODE, C_MODE], ids=["py", "c"])
def test_shape_change_between_steps_is_an_error(mode):
    s0 = T.dvector("s0")
    grown, _ = theanolab.scan(lambda s: T.concatenate([s, s]), outputs_info=s0, n_steps=3)
    f = theanolab.function([s0], grown, mode=mode)
    with pytest.raises(ValueError, match=r"at step 0, state 0 has shape \(4,\) but the loop expects \(2,\)"):
        f(np.ones(2))
