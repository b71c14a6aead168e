"""The long run of the differential fuzzer: N random graphs, every mode against NumPy.

    .venv/bin/python tools/fuzz.py --graphs 10000 --seed 0

It draws graphs from the same strategy as the test suite (tests/fuzz) but
does not stop at the first mismatch: it prints each one with the program that
built it (a reproducer to paste into tests/fuzz/test_regressions.py) and ends
with one summary line.  The modes follow THEANOLAB_FLAGS as in the suite (the
C backend and DebugMode on the default, C pass).  Every ``--grad-every``-th
graph is a smooth float64 one whose gradient is also checked against finite
differences.  Exit status 1 when anything disagreed.

Every compiled C module stays loaded in the process that built it, and a
process may map only so many (Linux's vm.max_map_count, 65530: about 9,000
modules, where dlopen starts failing with "cannot allocate memory"), so the
graphs run in child processes of ``--per-process`` graphs each, ``--jobs``
at a time; chunk k draws with seed ``seed * 1000 + k``.
"""

import argparse
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

from hypothesis import HealthCheck, Phase, given, seed, settings

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests"))

from fuzz.check import grad_mismatch, graph_mismatches, modes  # noqa: E402
from fuzz.strategies import graphs  # noqa: E402


def _run(strategy, count, rng_seed, judge, report):
    """Judge ``count`` graphs drawn from ``strategy``; pass each failing one to ``report``."""
    @seed(rng_seed)
    @settings(max_examples=count, deadline=None, database=None, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck))
    @given(strategy)
    def one(graph):
        problems = judge(graph)
        if problems:
            report(graph, problems)

    one()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--graphs", type=int, default=1000, help="how many random graphs (default 1000)")
    parser.add_argument("--seed", type=int, default=0, help="hypothesis seed (default 0)")
    parser.add_argument("--grad-every", type=int, default=10, help="one gradient graph per this many (default 10)")
    parser.add_argument("--per-process", type=int, default=1000, help="graphs per child process (default 1000)")
    parser.add_argument("--jobs", type=int, default=1, help="child processes at a time (default 1)")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if not args.child:
        return _run_children(args)

    chosen = modes()
    mismatches = []

    def report(graph, problems):
        mismatches.append(graph)
        print(f"--- mismatch {len(mismatches)}\n" + "\n".join(problems) + "\nreproducer:\n" + graph.reproducer(),
              flush=True)

    start = time.time()
    grad_count = args.graphs // args.grad_every if args.grad_every else 0
    _run(graphs(), args.graphs - grad_count, args.seed, lambda g: graph_mismatches(g, chosen), report)
    _run(graphs(dtypes=("float64",), smooth_only=True), grad_count, args.seed,
         lambda g: ([] if not g.smooth else [m for m in [grad_mismatch(g)] if m]) + graph_mismatches(g, chosen),
         report)
    print(f"fuzz: {args.graphs} graphs ({grad_count} with gradients), {len(mismatches)} mismatches, "
          f"seed {args.seed}, modes {', '.join(chosen)}, {time.time() - start:.0f} s", flush=True)
    return 1 if mismatches else 0


def _run_children(args):
    """Run the graphs in chunks of ``--per-process``, each in a child process; one summary line."""
    chunks = [(k, min(args.per_process, args.graphs - k * args.per_process))
              for k in range((args.graphs + args.per_process - 1) // args.per_process)]
    start = time.time()

    def child(chunk):
        number, count = chunk
        command = [sys.executable, os.path.abspath(__file__), "--child", "--graphs", str(count),
                   "--seed", str(args.seed * 1000 + number), "--grad-every", str(args.grad_every)]
        return subprocess.run(command, capture_output=True, text=True, check=False)

    failed = 0
    with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        for done in pool.map(child, chunks):
            print(done.stdout, end="", flush=True)
            failed += done.returncode != 0
            if done.returncode not in (0, 1):
                print(done.stderr.strip().splitlines()[-1] if done.stderr.strip() else "a child failed", flush=True)
    print(f"fuzz (all chunks): {args.graphs} graphs in {len(chunks)} processes, {failed} chunk(s) with "
          f"mismatches or failures, seed {args.seed}, {time.time() - start:.0f} s", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
