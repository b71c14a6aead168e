"""What every benchmark script shares: timing, the columns' processes, targets, the JSON lines.

A script describes its workload as one or more :class:`Row` and gives one
measuring function per *family* of columns (see ``columns.py``)::

    theano(lib, T, data, args)   # theanolab (C and py) and PyTensor (C, twice): Theano's API
    numpy(data, args)            # NumPy written by hand
    jax(jax, jnp, data, args)    # jax.jit (and jax.grad) of the same function
    c(data, args)                # a hand-written C anchor

:func:`run` starts one process per column (the same script with ``--column``),
each measuring its library alone, and prints ONE JSON line per row::

    {"workload": ..., "params": {...}, "unit": "s/step",
     "results": {"theanolab": {"seconds": ..., "matches_numpy": true}, "numpy": {...}, ...},
     "target": {"text": "at most 0.75x PyTensor C + OpenBLAS", "met": true}}

A measuring function returns one result per row (a dict, or a list of dicts
for several rows); a dict given instead of a function is that column's result
without starting a process (``numpy=skipped("NumPy has no compile step")``).
A column that cannot run says why instead of a time (``{"skipped": ...}``; a
missing optional library is skipped, never an error), and one that fails
gives ``{"error": ...}``: the others still run.  Times are medians of repeated
batches.  ``benchmarks/run_all.py`` runs every script and
turns the lines into the tables in ``docs/benchmarks.md``.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field

import numpy as np
from columns import COLUMNS, by_name, process_environment

__all__ = [
    "Row",
    "Target",
    "agree",
    "argument_parser",
    "column",
    "how_it_runs",
    "measure_rows",
    "median_time",
    "parse_args",
    "run",
    "skipped",
]

COLUMN_TIMEOUT_S = 300


def argument_parser(description, threads=1, pin=True, columns=COLUMNS):
    """Common flags; ``threads`` is the script's default thread count for every library.

    ``pin``: each column's process runs on that many cores only (see :func:`_use_cores`);
    ``columns``: the script's columns, when not the CPU ones of ``columns.py`` (benchmarks/gpu.py).
    """
    parser = argparse.ArgumentParser(description=description)
    parser.set_defaults(pin=pin)
    parser.add_argument(
        "--quick", action="store_true", help="tiny sizes and one call: checks the script runs, times nothing useful"
    )
    parser.add_argument("--budget", type=float, default=1.0, help="seconds to spend timing each column")
    parser.add_argument("--threads", type=int, default=threads, help="BLAS/OpenMP threads for every library")
    parser.add_argument("--column", choices=[c.name for c in columns], help=argparse.SUPPRESS)  # a column's process
    return parser


def parse_args(description, argv=None, threads=1):
    return argument_parser(description, threads).parse_args(argv)


def median_time(fn, budget=1.0, quick=False, repeats=7):
    """Seconds per call of ``fn()``: the median of ``repeats`` timed batches.

    The median, because the machine is shared: a neighbour's burst spoils a
    batch or two, not the middle one.  One untimed warm-up call runs first so
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
    batches = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(number):
            fn()
        batches.append((time.perf_counter() - start) / number)
    return statistics.median(batches)


def how_it_runs(function):
    """``{"one_c_function": bool}`` for a theanolab function (whole-function C or the mixed VM), else {}."""
    if not hasattr(function, "one_c_function"):
        return {}
    return {"one_c_function": bool(function.one_c_function)}


def skipped(reason):
    """A result that did not run, with the reason shown in the table."""
    return {"skipped": reason}


def column(measure, *args):
    """Run one measurement; a failure becomes that column's error, not a crash."""
    try:
        return measure(*args)
    except Exception as exc:  # noqa: BLE001  (any failure of the measured library is a result)
        return {"error": f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"[:300]}


def agree(expected, got, rtol=1e-6, atol=1e-8):
    """True when ``got`` matches ``expected``: two arrays, or two lists of arrays compared pairwise."""
    expected, got = (list(v) if isinstance(v, (list, tuple)) else [v] for v in (expected, got))
    return len(expected) == len(got) and all(
        np.allclose(np.asarray(g), np.asarray(e), rtol=rtol, atol=atol) for e, g in zip(expected, got)
    )


@dataclass(frozen=True)
class Target:
    """theanolab's goal on a row: at most ``factor`` times ``column``'s time, or at most ``seconds``.

    ``check(results)`` replaces both for goals that are not a time.  ``met`` is
    None when the column it is measured against did not run.
    """

    text: str
    column: str | None = None
    factor: float = 1.0
    seconds: float | None = None
    check: object = None

    def met(self, results):
        if self.check is not None:
            return self.check(results)
        ours = results.get("theanolab", {}).get("seconds")
        limit = self.seconds
        if self.column is not None:
            theirs = results.get(self.column, {}).get("seconds")
            if theirs is None:
                return None
            limit = self.factor * theirs
        return ours is not None and ours <= limit


@dataclass(frozen=True)
class Row:
    """One workload of a script: one line of the table."""

    workload: str
    params: dict = field(default_factory=dict)
    unit: str = "s/call"
    target: Target | None = None


def _libraries(column_spec):
    """The modules handed to a column's measuring function."""
    if column_spec.family == "theano":
        return importlib.import_module(column_spec.module), importlib.import_module(f"{column_spec.module}.tensor")
    if column_spec.family == "jax":
        return importlib.import_module("jax"), importlib.import_module("jax.numpy")
    return ()


def _use_cores(count):
    """Pin this process (and what it starts) to ``count`` cores.

    The thread variables are not enough: XLA's CPU runtime runs on every core
    the process may use, whatever it is told, so "one thread" is enforced as
    "one core" for every library alike.
    """
    allowed = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
    if 0 < count < len(allowed):
        os.sched_setaffinity(0, allowed[:count])


def _measure_here(args, column_spec, count, data, measure):
    """In a column's process: run its measurement and print the results, one per row, as JSON."""
    if args.pin:
        _use_cores(args.threads)
    libraries = column(_libraries, column_spec)
    if isinstance(libraries, dict):  # the import failed
        outcome = libraries
    else:
        outcome = column(lambda: measure(*libraries, data(), args))
    outcome = outcome if isinstance(outcome, list) else [outcome] * count
    sys.stdout.write(json.dumps(outcome) + "\n")


def _measure_in_process(args, column_spec, count, scratch):
    """Run the script again as ``column_spec``'s process; its results, or the reason it failed."""
    script = os.path.abspath(sys.modules["__main__"].__file__)
    command = [sys.executable, script, "--column", column_spec.name, "--threads", str(args.threads),
               "--budget", str(args.budget)] + (["--quick"] if args.quick else []) + getattr(args, "forward", [])
    env = process_environment(column_spec, args.threads, scratch)
    try:
        done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=COLUMN_TIMEOUT_S,
                              check=False)
    except subprocess.TimeoutExpired:
        return [{"error": f"ran longer than {COLUMN_TIMEOUT_S} s"}] * count
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        return [{"error": f"exited {done.returncode}: {last}"[:300]}] * count
    return json.loads(lines[-1])


def measure_rows(args, rows, data=lambda: None, only=None, columns=COLUMNS, **measures):
    """Measure every column that has a function in ``measures``: one line (a dict) per row.

    ``data()`` builds the inputs, in each column's process only; ``only`` names
    the columns to run when not all of a family are worth it.  In a column's
    process this prints that column's results and returns None.
    """
    rows = [rows] if isinstance(rows, Row) else list(rows)
    if args.column:
        spec = by_name(args.column, columns)
        _measure_here(args, spec, len(rows), data, measures[spec.family])
        return None
    results = [{} for _ in rows]
    with tempfile.TemporaryDirectory() as scratch:
        for spec in columns:
            if spec.family not in measures or (only is not None and spec.name not in only):
                continue
            reason = spec.missing()
            if isinstance(measures[spec.family], dict):  # a fixed result, e.g. skipped("no compile step")
                outcome = [measures[spec.family]] * len(rows)
            elif reason:  # an optional library that is not installed: said once, above the table
                outcome = [dict(skipped(reason), missing=True)] * len(rows)
            else:
                outcome = _measure_in_process(args, spec, len(rows), scratch)
            for row_results, result in zip(results, outcome):
                row_results[spec.name] = result
    lines = []
    for row, row_results in zip(rows, results):
        line = {"workload": row.workload, "params": row.params, "unit": row.unit, "results": row_results}
        if row.target is not None:
            line["target"] = {"text": row.target.text, "met": row.target.met(row_results)}
        lines.append(line)
    return lines


def run(args, rows, data=lambda: None, only=None, columns=COLUMNS, **measures):
    """:func:`measure_rows`, printing one JSON line per row."""
    for line in measure_rows(args, rows, data, only, columns, **measures) or []:
        sys.stdout.write(json.dumps(line) + "\n")
    sys.stdout.flush()
