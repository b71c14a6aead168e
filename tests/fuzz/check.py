"""Run a :class:`~strategies.FuzzGraph` on every mode of this pass and say where it disagrees with NumPy.

Shared by the test suite (tests/fuzz/test_differential.py) and the long run
(tools/fuzz.py), so both judge a graph the same way.

Tolerances depend on the dtype: integers and bools must match exactly, as must
every value the strategy marks *exact*; other floats may differ by ``ULPS``
units of their dtype's precision, relative to the value and to the largest
magnitude rounded on the way (a sum of large terms has large absolute
rounding).  NaN and inf must appear in the same places with the same sign,
except in the modes running FAST_RUN's rewrites: their algebra may turn a
NaN or inf into a number (the documented ``div_self`` rewrite makes ``x / x``
one even where x is 0, as Theano's does), never the reverse.  The C backend
also runs without rewrites, where NaN and inf are checked strictly.
"""

from __future__ import annotations

import numpy as np

import theanolab
import theanolab.tensor as T
from theanolab.backends.c.build import compiler_available
from theanolab.compile.mode import Mode
from theanolab.config import config

__all__ = ["ULPS", "modes", "compare", "graph_mismatches", "grad_mismatch"]

#: float results may differ from NumPy by this many units of precision (libmvec's transcendental
#: functions are within 4 ulp; reordered sums and fused multiply-adds add a few more along a chain).
ULPS = 64
#: finite differences in float64: step and tolerance (the gradient check runs on float64 graphs only).
FD_EPS, FD_TOL = 1e-6, 1e-5


#: the modes whose rewrites may make a NaN or inf finite (see the module's docstring).
ALGEBRAIC = ("FAST_RUN+C", "DebugMode")


def modes():
    """The modes to compare on this pass: the Python ones always; the C backend and DebugMode on the C pass."""
    chosen = {"reference": Mode(linker="py", optimizer=None), "FAST_COMPILE": "FAST_COMPILE"}
    if config.linker != "py" and compiler_available():
        chosen["C"] = Mode(linker="c|py", optimizer=None)
        chosen["FAST_RUN+C"] = Mode(linker="c|py", optimizer="fast_run")
        chosen["DebugMode"] = "DebugMode"
    return chosen


def compare(expected, got, scale, exact, eps, algebraic=False):
    """Why ``got`` differs from ``expected`` (a NumPy array of the announced dtype), or None when it agrees.

    ``eps`` is the precision the value was computed in; ``algebraic``: the mode rewrote the graph, so
    where NumPy has NaN or inf a number is accepted.
    """
    got = np.asarray(got)
    if algebraic and expected.dtype.kind == "f" and got.shape == expected.shape:
        expected = np.where(np.isfinite(expected), expected, got).astype(expected.dtype)
    if got.dtype != expected.dtype:
        return f"dtype {got.dtype}, expected {expected.dtype}"
    if got.shape != expected.shape:
        return f"shape {got.shape}, expected {expected.shape}"
    if expected.dtype.kind != "f" or exact:
        same = got == expected
        if expected.dtype.kind == "f":
            same |= np.isnan(got) & np.isnan(expected)
        return None if np.all(same) else f"values differ (exact):\n got      {got!r}\n expected {expected!r}"
    eps = max(eps, float(np.finfo(expected.dtype).eps)) * ULPS
    with np.errstate(all="ignore"):
        close = np.isclose(got, expected, rtol=eps, atol=eps * scale, equal_nan=True)
    if np.all(close):
        return None
    worst = np.max(np.abs(got[~close].astype("float64") - expected[~close]))
    return (f"values differ by up to {worst:.3g} (tolerance {eps:.2g} relative, {eps * scale:.3g} absolute):\n"
            f" got      {got!r}\n expected {expected!r}")


def _evaluate(graph, mode):
    fn = theanolab.function(graph.inputs, [t.var for t in graph.outputs], mode=mode, on_unused_input="ignore")
    return fn(*[v.copy() for v in graph.values])


def graph_mismatches(graph, chosen=None):
    """Every disagreement of every mode with NumPy, as readable lines (empty when all agree)."""
    problems = []
    for name, mode in (chosen or modes()).items():
        try:
            results = _evaluate(graph, mode)
        except Exception as error:  # noqa: BLE001  (any failure on a valid graph is a mismatch to report)
            problems.append(f"{name}: raised {type(error).__name__}: {error}")
            continue
        for position, (term, got) in enumerate(zip(graph.outputs, results)):
            why = compare(term.value, got, term.scale, term.exact, term.eps, algebraic=name in ALGEBRAIC)
            if why:
                problems.append(f"{name}: output {position} ({term.text}): {why}")
    return problems


def _numeric_gradient(cost, values, index):
    point = values[index]
    numeric = np.zeros(point.shape)
    flat = point.reshape(-1)
    for k in range(flat.size):
        original = flat[k]
        flat[k] = original + FD_EPS
        plus = cost(*values)
        flat[k] = original - FD_EPS
        minus = cost(*values)
        flat[k] = original
        numeric.reshape(-1)[k] = (plus - minus) / (2 * FD_EPS)
    return numeric


def grad_mismatch(graph, mode=None):
    """For a smooth float64 graph: why ``grad`` of a random projection of its outputs differs from finite
    differences, or None.  Written here rather than with ``verify_grad`` because the graph's inputs keep
    their broadcastable patterns (``verify_grad`` makes its own, non-broadcastable inputs)."""
    mode = mode or Mode(linker="py", optimizer=None)
    rng = np.random.default_rng(0)
    cost = sum((t.var * rng.uniform(0.5, 1.5, size=t.value.shape)).sum() for t in graph.outputs)
    grads = T.grad(cost, graph.inputs, disconnected_inputs="ignore")
    analytic = theanolab.function(graph.inputs, grads, mode=mode, on_unused_input="ignore")(*graph.values)
    cost_fn = theanolab.function(graph.inputs, cost, mode=mode, on_unused_input="ignore")
    values = [v.copy() for v in graph.values]
    for index, symbolic in enumerate(analytic):
        numeric = _numeric_gradient(lambda *v: float(cost_fn(*v)), values, index)
        if not np.allclose(symbolic, numeric, rtol=FD_TOL, atol=FD_TOL * graph_scale(graph)):
            return (f"grad with respect to {graph.inputs[index].name}:\n symbolic {np.asarray(symbolic)!r}\n"
                    f" numeric  {numeric!r}")
    return None


def graph_scale(graph):
    """The largest magnitude any output was computed from (finite differences lose precision in proportion)."""
    return max(t.scale for t in graph.outputs)
