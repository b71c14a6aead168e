"""Import time of each library in a fresh interpreter (theanolab's target: under 0.3 s).

Each import runs in a new Python process, timed from inside it so the
interpreter's own start-up is not counted; NumPy's import is part of every
column, since each library imports it.  One column per library (the
settings of the others change nothing here).  Prints one JSON line: the median
of five.
"""

import statistics
import subprocess
import sys

from common import Row, Target, parse_args, run

PROBE = "import time; t = time.perf_counter(); import {module}; print(time.perf_counter() - t)"


def import_seconds(module, args):
    """Median wall time of ``import module`` over fresh interpreters."""
    times = []
    for _ in range(1 if args.quick else 5):
        out = subprocess.run(
            [sys.executable, "-c", PROBE.format(module=module)], capture_output=True, text=True, check=True
        )
        times.append(float(out.stdout.strip().splitlines()[-1]))
    return {"seconds": statistics.median(times)}


def main(argv=None):
    args = parse_args(__doc__, argv)
    row = Row("import", {}, "s", Target("under 0.3 s", seconds=0.3))
    run(args, row, only=("theanolab", "numpy", "pytensor_c", "jax"),
        theano=lambda lib, T, data, args: import_seconds(lib.__name__, args),
        numpy=lambda data, args: import_seconds("numpy", args),
        jax=lambda jax, jnp, data, args: import_seconds("jax", args))


if __name__ == "__main__":
    main()
