"""Compile times, cold (empty cache) and warm (cache hit): the logistic-regression step and the scan RNN.

Each sample is a fresh process timing everything from declaring the symbolic
variables to a callable training function (graph, ``grad``, rewrites, code
generation, compiler runs or cache loads; imports are the import row's).
Cold: the library's compile cache points at a new empty folder (theanolab's
``config.compiledir``, PyTensor's ``base_compiledir``, JAX's persistent
compilation cache); warm: a second fresh process on the same folder.  JAX's
column traces, lowers and compiles ``jax.jit`` of the same step (``jax.grad``).
NumPy has no compile step.  Compiling may use every core (theanolab runs its
compiler on several kernels at once): the processes are not pinned to one.
Medians of 3 cold/warm pairs; prints two JSON lines per program.
Targets: issue 4 (f), the logistic regression cold at most 2 s and warm at most
0.2 s; issue 5, the RNN's forward-and-gradient function (``rnn_scan.py``) cold
under 3 s.
"""

import importlib
import os
import statistics
import subprocess
import sys
import tempfile
import time

from columns import add_flags, by_name
from common import Row, Target, argument_parser, run, skipped
from models import jax_logistic_step, jax_rnn, logistic_regression, logistic_regression_data, rnn, rnn_data

PAIRS = 3


def cache_environment(module, directory):
    """This process's environment with ``module``'s compile cache in ``directory``."""
    env = dict(os.environ)
    if module == "theanolab":
        return add_flags(env, "THEANOLAB_FLAGS", f"compiledir={directory}")
    if module == "pytensor":
        return add_flags(env, "PYTENSOR_FLAGS", f"base_compiledir={directory}")
    env.update(JAX_COMPILATION_CACHE_DIR=directory, JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS="0",
               JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES="0")
    return env


def probe_seconds(args, directory):
    """One fresh process's compile time, with the column's cache in ``directory``."""
    command = [sys.executable, os.path.abspath(__file__), "--column", args.column, "--probe", "--program",
               args.program] + \
        (["--quick"] if args.quick else [])
    env = cache_environment(by_name(args.column).module, directory)
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError((done.stderr.strip().splitlines() or [f"exit status {done.returncode}"])[-1])
    return float(done.stdout.strip().splitlines()[-1])


def cold_and_warm(*modules_data_args):
    """The column's two results: median cold and median warm compile time."""
    args = modules_data_args[-1]
    cold, warm = [], []
    for _ in range(1 if args.quick else PAIRS):
        with tempfile.TemporaryDirectory() as directory:
            cold.append(probe_seconds(args, directory))
            warm.append(probe_seconds(args, directory))
    return [{"seconds": statistics.median(cold)}, {"seconds": statistics.median(warm)}]


def _logistic_regression(module, quick):
    """``(build, jax_build)`` of the logistic-regression step: callables timed in the probe."""
    x, y, w0, b0 = logistic_regression_data(*((40, 20) if quick else (400, 784)))

    def jax_build(jax, jnp):
        jax_logistic_step(jax, jnp).lower(*jax.device_put(((w0, b0), x, y))).compile()

    return (lambda lib, T: logistic_regression(lib, T, w0, b0)), jax_build


def _rnn(module, quick):
    """``(build, jax_build)`` of the scan RNN's forward-and-gradient function."""
    xs, h0, weights = rnn_data(*((5, 2, 3, 4) if quick else (200, 32, 64, 128)))

    def jax_build(jax, jnp):
        jax_rnn(jax, jnp).lower(*jax.device_put((xs, h0, *weights))).compile()

    return (lambda lib, T: rnn(lib, T)), jax_build


#: program name (--probe's argument) -> (builders, the rows' workload text, params, targets cold/warm)
PROGRAMS = {
    "logreg": (_logistic_regression, "logistic regression", lambda quick: {"N": 40 if quick else 400,
                                                                            "feats": 20 if quick else 784},
               (Target("(f) at most 2 s", seconds=2.0), Target("(f) at most 0.2 s", seconds=0.2))),
    "rnn": (_rnn, "tanh RNN (scan), forward + gradient", lambda quick: {"steps": 5 if quick else 200},
            (Target("under 3 s", seconds=3.0), None)),
}


def build_seconds(module, program, quick):
    """In a probe process: the seconds from nothing to a compiled function."""
    build, jax_build = PROGRAMS[program][0](module, quick)
    if module == "jax":
        import jax
        import jax.numpy as jnp

        start = time.perf_counter()
        jax_build(jax, jnp)
        return time.perf_counter() - start
    lib, T = importlib.import_module(module), importlib.import_module(f"{module}.tensor")
    if program == "rnn" and not hasattr(lib, "scan"):
        raise RuntimeError(f"{module}.scan does not exist yet (it comes with the scan issue)")
    start = time.perf_counter()
    build(lib, T)
    return time.perf_counter() - start


def main(argv=None):
    parser = argument_parser(__doc__, pin=False)
    parser.add_argument("--program", choices=sorted(PROGRAMS), help="only this program (each column's process)")
    parser.add_argument("--probe", action="store_true", help="(internal) time one compile in this process")
    args = parser.parse_args(argv)
    if args.probe:
        print(build_seconds(by_name(args.column).module, args.program, args.quick))
        return
    for program, (_, text, params, (cold, warm)) in PROGRAMS.items():
        if args.program not in (None, program):
            continue
        rows = [Row(f"compile {text}, cold", params(args.quick), "s/compile", cold),
                Row(f"compile {text}, warm", params(args.quick), "s/compile", warm)]
        args.forward = ["--program", program]
        run(args, rows, theano=cold_and_warm, jax=cold_and_warm, numpy=skipped("NumPy has no compile step"))


if __name__ == "__main__":
    main()
