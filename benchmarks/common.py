"""What every benchmark script shares: timing, the optional PyTensor column, the JSON line.

Each script times one workload on theanolab, NumPy and (when installed) PyTensor
in the same process, checks that the three agree on the numbers, and prints ONE
JSON line::

    {"workload": ..., "params": {...}, "unit": "s/step",
     "results": {"theanolab": {"seconds": ...}, "numpy": {...}, "pytensor": {...}}}

A column that cannot run says why instead of a time:
``{"skipped": "PyTensor is not installed (pip install -e '.[bench]')"}``.
``benchmarks/run_all.py`` runs every script and turns the lines into the table
in ``docs/benchmarks.md``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time

import numpy as np

__all__ = [
    "BACKENDS",
    "PYTENSOR_MISSING",
    "agree",
    "best_time",
    "column",
    "compare",
    "emit",
    "import_pytensor",
    "parse_args",
    "skipped",
]

BACKENDS = ("theanolab", "numpy", "pytensor")


def parse_args(description, argv=None):
    """Common flags: ``--quick`` shrinks the workload so the harness itself can be tested."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument(
        "--quick", action="store_true", help="tiny sizes and one repeat: checks the script runs, times nothing useful"
    )
    parser.add_argument("--budget", type=float, default=1.0, help="seconds to spend timing each backend")
    return parser.parse_args(argv)


def best_time(fn, budget=1.0, quick=False, repeats=5):
    """Seconds per call of ``fn()``: the best of ``repeats`` timed batches.

    The best batch, not the mean, because the machine is shared and other
    processes only ever add time.  One untimed warm-up call runs first so
    one-off costs (first-call allocation, lazy compilation) are not counted; a
    second call sizes the batches so all of them take about ``budget`` seconds.
    """
    fn()
    start = time.perf_counter()
    fn()
    once = time.perf_counter() - start
    if quick:
        return once
    number = max(1, int(budget / repeats / max(once, 1e-7)))
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(number):
            fn()
        best = min(best, (time.perf_counter() - start) / number)
    return best


def import_pytensor():
    """The ``pytensor`` module, or None when the optional ``bench`` extra is not installed."""
    try:
        import pytensor
    except ImportError:
        return None
    return pytensor


def skipped(reason):
    """A result column that did not run, with the reason shown in the table."""
    return {"skipped": reason}


PYTENSOR_MISSING = skipped("PyTensor is not installed (pip install -e '.[bench]')")


def column(measure, *args):
    """Run one backend's measurement; a failure becomes that column's error, not a crash.

    The other columns still get timed, and the table shows what broke.
    """
    try:
        return measure(*args)
    except Exception as exc:  # noqa: BLE001  (any failure of the measured library is a result)
        return {"error": f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"[:300]}


def compare(compiled, numpy_version, *args):
    """The three result columns of one workload.

    ``compiled(lib, T, *args)`` measures a Theano-API library (theanolab, then
    PyTensor when installed); ``numpy_version(*args)`` measures the NumPy baseline.
    """
    import theanolab
    import theanolab.tensor as T

    results = {
        "theanolab": column(compiled, theanolab, T, *args),
        "numpy": column(numpy_version, *args),
        "pytensor": PYTENSOR_MISSING,
    }
    pytensor = import_pytensor()
    if pytensor is not None:
        import pytensor.tensor as pt

        results["pytensor"] = column(compiled, pytensor, pt, *args)
    return results


def agree(expected, got, rtol=1e-6, atol=1e-8):
    """True when ``got`` matches ``expected``: two arrays, or two lists of arrays compared pairwise."""
    expected, got = (list(v) if isinstance(v, (list, tuple)) else [v] for v in (expected, got))
    return len(expected) == len(got) and all(
        np.allclose(np.asarray(g), np.asarray(e), rtol=rtol, atol=atol) for e, g in zip(expected, got)
    )


def emit(workload, params, unit, results, **extra):
    """Print the script's one JSON line (the only line it writes to stdout)."""
    missing = [name for name in BACKENDS if name not in results]
    if missing:
        raise ValueError(f"benchmark {workload!r} gave no result for {missing}")
    line = {"workload": workload, "params": params, "unit": unit, "results": results, **extra}
    sys.stdout.write(json.dumps(line, sort_keys=False) + "\n")
    sys.stdout.flush()
