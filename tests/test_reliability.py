"""Issue 9: state is never lost, pickles reload in a fresh process, threads are safe.

- An exception in the middle of a call leaves every shared variable exactly as
  it was (updates are all-or-nothing), on the reference backend, the
  whole-function C driver and the mixed machine of C kernels, including when
  a node overwrites a shared weight in place (``Gemv{inplace}``).
- A pickled function and its shared variables reload in another process and
  give the same results.
- One function called from several threads at once gives every caller its
  own correct result and loses no update (calls are serialized by a lock).

The C backends run on the C pass of the suite only (the reference pass,
``linker=py``, runs the reference backend).
"""

import json
import os
import pickle
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import numpy as np
import pytest

import theanolab
import theanolab.tensor as T
from theanolab.backends.c.build import compiler_available
from theanolab.config import config
from theanolab.graph.destroyhandler import ensure_destroy_handler
from theanolab.tensor.shared_randomstreams import RandomStreams

ROOT = Path(__file__).resolve().parents[1]
C_PASS = config.linker != "py" and compiler_available()
needs_c = pytest.mark.skipif(not C_PASS, reason="the C backends run on the C pass (linker=c|py, a compiler)")
BACKENDS = {
    "reference": pytest.param(theanolab.Mode(linker="py", optimizer="fast_run"), id="reference"),
    "whole C": pytest.param(theanolab.Mode(linker="c|py", optimizer="fast_run"), id="whole-C", marks=needs_c),
    "mixed": pytest.param(theanolab.Mode(linker="cvm", optimizer="fast_run"), id="mixed-VM", marks=needs_c),
}


def training_step(mode, failing):
    """The tutorial's logistic-regression step (w, b, a step counter) plus an output ``failing(parts)``
    that raises when asked to; returns ``(f, shared variables)``.  ``f(x, y, i)``."""
    x, y, i = T.dmatrix("x"), T.dvector("y"), T.lscalar("i")
    rng = np.random.default_rng(0)
    w = theanolab.shared(rng.standard_normal(4), name="w")
    b = theanolab.shared(0.5, name="b")
    steps = theanolab.shared(np.int64(0), name="steps")
    p_1 = T.nnet.sigmoid(T.dot(x, w) + b)
    cost = (-y * T.log(p_1) - (1 - y) * T.log(1 - p_1)).mean() + 0.01 * (w ** 2).sum()
    gw, gb = T.grad(cost, [w, b])
    new_w = w - 0.1 * gw
    parts = {"x": x, "y": y, "i": i, "p_1": p_1, "new_w": new_w}
    f = theanolab.function([x, y, i], [cost, failing(parts)], mode=mode, on_unused_input="ignore",
                           updates=[(w, new_w), (b, b - 0.1 * gb), (steps, steps + 1)])
    return f, [w, b, steps]


#: a node that fails at run time for the bad arguments: (case, output, bad i, bad y length, error)
FAILURES = [
    ("index out of bounds", lambda p: p["y"][p["i"]], 10, 3, IndexError),
    ("shape mismatch beside the update", lambda p: p["y"] + p["p_1"], 0, 2, ValueError),
    ("index after the update", lambda p: p["new_w"][p["i"]], 10, 3, IndexError),
    ("shape mismatch after the update", lambda p: p["new_w"][:3] * p["y"], 0, 2, ValueError),
    ("reshape to a wrong size", lambda p: p["y"].reshape((p["i"], 3)), 5, 3, ValueError),
]


def arguments(i=0, y_length=3):
    x = np.linspace(-1, 1, 12).reshape(3, 4)
    return x, np.resize([0.0, 1.0], y_length), i


@pytest.mark.parametrize("mode", BACKENDS.values())
@pytest.mark.parametrize("case, failing, bad_i, bad_length, error", FAILURES, ids=[row[0] for row in FAILURES])
def test_a_failing_call_leaves_every_shared_variable_as_it_was(mode, case, failing, bad_i, bad_length, error):
    f, shared = training_step(mode, failing)
    clean, clean_shared = training_step(mode, failing)
    good = arguments(i=1)
    np.testing.assert_allclose(f(*good)[0], clean(*good)[0])  # one step, so the values are not the initial ones
    before = [s.get_value() for s in shared]
    storage = [s.get_value(borrow=True) for s in shared]
    snapshot = [np.array(v, copy=True) for v in storage]
    with pytest.raises(error):
        f(*arguments(bad_i, bad_length))
    for var, old, kept, memory in zip(shared, before, snapshot, storage):
        np.testing.assert_array_equal(var.get_value(), old, err_msg=f"{case}: {var} changed")
        np.testing.assert_array_equal(memory, kept, err_msg=f"{case}: {var}'s storage was overwritten")
    for _ in range(2):  # the failure changed nothing: the next calls agree with a function that never failed
        np.testing.assert_allclose(f(*good)[0], clean(*good)[0])
    for var, reference in zip(shared, clean_shared):
        np.testing.assert_allclose(var.get_value(), reference.get_value())


@pytest.mark.cpu_only
@pytest.mark.parametrize("mode", [BACKENDS["reference"], BACKENDS["mixed"]])
def test_the_weight_is_still_updated_in_place_and_runs_last(mode):
    """The fix keeps the fast path: the shared weight is overwritten in place, by the last node.
    (The whole-function C driver computes updates into fresh arrays, so it never overwrites one.)"""
    f, (w, _, _) = training_step(mode, lambda p: p["y"][p["i"]])
    order = f.maker.fgraph.toposort()
    assert str(order[-1].op) == "Gemv{inplace}", [str(n.op) for n in order]
    memory = w.get_value(borrow=True)
    f(*arguments(1))
    assert w.get_value(borrow=True) is memory


@pytest.mark.cpu_only
def test_only_a_node_that_can_run_last_may_overwrite_a_shared_variable():
    """The destroy handler refuses the in-place update when a node uses its result, or a second one."""
    f, _ = training_step(theanolab.Mode(linker="py", optimizer="fast_run"), lambda p: p["new_w"][p["i"]])
    handler = ensure_destroy_handler(f.maker.fgraph)
    [gemv] = [n for n in f.maker.fgraph.apply_nodes if "Gemv" in str(n.op)]
    assert str(gemv.op) == "Gemv{no_inplace}"
    assert "Subtensor" in handler.refusal(gemv, 0) and "all-or-nothing" in handler.refusal(gemv, 0)


def random_function(mode):
    streams = RandomStreams(5)
    i = T.lscalar("i")
    u = streams.uniform((4,))
    return theanolab.function([i], [u, (u * 2)[i]], mode=mode), streams


@pytest.mark.parametrize("mode", BACKENDS.values())
def test_a_failing_call_does_not_advance_a_random_generator(mode):
    f, streams = random_function(mode)
    clean, _ = random_function(mode)
    with pytest.raises(IndexError):
        f(7)
    for _ in range(2):
        np.testing.assert_array_equal(f(1)[0], clean(1)[0])


# ---------------------------------------------------------------------------- pickles in a fresh process

CHILD = textwrap.dedent("""
    import json, pickle, sys
    import numpy as np
    with open(sys.argv[1], "rb") as handle:
        f, w, b, x, y = pickle.load(handle)
    first = f(x, y, 1)
    second = f(x, y, 1)
    print(json.dumps({"costs": [float(first[0]), float(second[0])], "w": w.get_value().tolist(),
                      "b": float(b.get_value()), "same_w": f.maker.shared_inputs[0] is w}))
""")


@pytest.mark.parametrize("mode", BACKENDS.values())
def test_pickled_function_and_shared_values_reload_in_a_fresh_process(mode, tmp_path):
    f, (w, b, _) = training_step(mode, lambda p: p["y"][p["i"]])
    x, y, _ = arguments()
    f(x, y, 1)  # pickle a function that has already changed its shared values
    path = tmp_path / "step.pkl"
    path.write_bytes(pickle.dumps((f, w, b, x, y)))
    child = subprocess.run([sys.executable, "-c", CHILD, str(path)], capture_output=True, text=True,
                           timeout=120, cwd=tmp_path,
                           env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert child.returncode == 0, child.stderr
    result = json.loads(child.stdout)
    costs = [float(f(x, y, 1)[0]), float(f(x, y, 1)[0])]
    np.testing.assert_allclose(result["costs"], costs, rtol=1e-12)
    np.testing.assert_allclose(result["w"], w.get_value(), rtol=1e-12)
    np.testing.assert_allclose(result["b"], b.get_value(), rtol=1e-12)
    assert result["same_w"], "the reloaded function must update the reloaded shared variable"


# ---------------------------------------------------------------------------- threads

@pytest.mark.parametrize("mode", BACKENDS.values())
def test_one_function_called_from_several_threads(mode):
    """Each caller gets the result of its own arguments and no update is lost (calls are serialized)."""
    x = T.dvector("x")
    count = theanolab.shared(np.int64(0), name="count")
    total = theanolab.shared(0.0, name="total")
    f = theanolab.function([x], [T.exp(x).sum() + x[0], x * 2], mode=mode,
                           updates=[(count, count + 1), (total, total + x.sum())])
    threads, calls = 6, 40
    wrong = []
    start = threading.Barrier(threads)

    def caller(k):
        value = np.full(50 + k, float(k))
        start.wait()
        for _ in range(calls):
            first, second = f(value)
            if not (np.isclose(first, np.exp(value).sum() + k) and second.shape == value.shape
                    and np.all(second == 2 * k)):
                wrong.append(k)

    workers = [threading.Thread(target=caller, args=(k,)) for k in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)
    assert not wrong, f"threads {sorted(set(wrong))} got another thread's result"
    assert int(count.get_value()) == threads * calls
    assert float(total.get_value()) == pytest.approx(calls * sum(k * (50 + k) for k in range(threads)))
