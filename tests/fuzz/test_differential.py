"""The differential fuzzer: random graphs on every mode, each compared with NumPy (issue 9).

Graphs come from :func:`fuzz.strategies.graphs`; :mod:`fuzz.check` runs them
and judges the results.  Examples are derandomized so CI sees the same graphs
every time; ``tools/fuzz.py`` is the long run with fresh seeds.

The Python modes run on both passes of the suite (they are cheap).  The C
backend, with and without FAST_RUN's rewrites, and DebugMode run on the C pass
only: on the reference pass (``linker=py``) that test is skipped, as the
browser test is, since it would compile the same kernels twice.
"""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings

from theanolab.backends.c.build import compiler_available
from theanolab.config import config

from fuzz.check import compare, grad_mismatch, graph_mismatches, modes
from fuzz.strategies import graphs

#: graphs per test; 300 + 100 + 40 = 440 graphs on the C pass, 340 on the reference pass.
PYTHON_GRAPHS, C_GRAPHS, GRAD_GRAPHS = 300, 100, 40


def _fuzz_settings(count):
    return settings(max_examples=count, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def _assert_agrees(graph, chosen):
    problems = graph_mismatches(graph, chosen)
    assert not problems, "\n".join(problems) + "\nreproducer:\n" + graph.reproducer()


@_fuzz_settings(PYTHON_GRAPHS)
@given(graphs())
def test_python_modes_agree_with_numpy(graph):
    python_modes = {name: mode for name, mode in modes().items() if name in ("reference", "FAST_COMPILE")}
    _assert_agrees(graph, python_modes)


@pytest.mark.skipif(config.linker == "py", reason="the C backend's fuzzing runs once, on the C pass")
@pytest.mark.skipif(not compiler_available(), reason="no C compiler")
@_fuzz_settings(C_GRAPHS)
@given(graphs())
def test_c_backend_and_debugmode_agree_with_numpy(graph):
    c_modes = {name: mode for name, mode in modes().items() if name not in ("reference", "FAST_COMPILE")}
    _assert_agrees(graph, c_modes)


@_fuzz_settings(GRAD_GRAPHS)
@given(graphs(dtypes=("float64",), smooth_only=True))
def test_grad_matches_finite_differences(graph):
    if graph.smooth:
        problem = grad_mismatch(graph)
        assert problem is None, problem + "\nreproducer:\n" + graph.reproducer()


@pytest.mark.parametrize("expected, got, exact, wrong", [
    (np.float32([1, 2]), np.float32([1, 2 + 4e-7]), False, False),   # a few ulp: agrees
    (np.float32([1, 2]), np.float32([1, 2.001]), False, True),       # a wrong kernel: caught
    (np.float64([np.nan, np.inf]), np.float64([np.nan, np.inf]), False, False),
    (np.float64([np.nan, 1]), np.float64([0.0, 1]), False, True),    # a lost NaN: caught
    (np.float64([1, 2]), np.float32([1, 2]), False, True),           # the wrong dtype: caught
    (np.int8([1, 2]), np.int8([1, 3]), True, True),
    (np.float32([0.1]), np.float32([0.1 + 1e-8]), True, True),       # exact values allow no ulp
    (np.float32([[1]]), np.float32([1]), False, True),               # the wrong shape: caught
])
def test_compare_can_fail(expected, got, exact, wrong):
    """The judge is not vacuous: a wrong value, NaN, dtype or shape is reported, a few ulp are not."""
    assert (compare(expected, got, 1.0, exact, 0.0) is not None) == wrong


def test_algebraic_modes_may_only_remove_nan():
    """FAST_RUN's x / x -> 1 may turn NumPy's NaN into 1; a finite value must still match."""
    assert compare(np.float64([np.nan, 2]), np.float64([1, 2]), 1.0, False, 0.0, algebraic=True) is None
    assert compare(np.float64([np.nan, 2]), np.float64([1, 3]), 1.0, False, 0.0, algebraic=True) is not None
