"""Import time of each library in a fresh interpreter (theanolab's target: under 0.3 s).

Each import runs in a new Python process, timed from inside it so the
interpreter's own start-up is not counted; NumPy's import is part of every
column, since each library imports it.  Prints one JSON line: the best of five.
"""

import subprocess
import sys

from common import compare, emit, parse_args

TARGET_SECONDS = 0.3

PROBE = "import time; t = time.perf_counter(); import {module}; print(time.perf_counter() - t)"


def import_seconds(module, runs):
    """Best wall time of ``import module`` over ``runs`` fresh interpreters."""
    times = []
    for _ in range(runs):
        out = subprocess.run(
            [sys.executable, "-c", PROBE.format(module=module)], capture_output=True, text=True, check=True
        )
        times.append(float(out.stdout.strip().splitlines()[-1]))
    return min(times)


def library_import(lib, T, args):
    return {"seconds": import_seconds(lib.__name__, 1 if args.quick else 5)}


def numpy_import(args):
    return {"seconds": import_seconds("numpy", 1 if args.quick else 5)}


def main(argv=None):
    args = parse_args(__doc__, argv)
    results = compare(library_import, numpy_import, args)
    seconds = results["theanolab"].get("seconds")
    met = seconds is not None and seconds < TARGET_SECONDS
    emit("import", {"target_s": TARGET_SECONDS}, "s", results, meets_target=met)


if __name__ == "__main__":
    main()
