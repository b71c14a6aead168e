"""Per-call overhead: ``f(x, y) = x + y`` on two float64 scalars.

The arithmetic is nothing, so this times what a compiled function does around
it: argument checking and conversion, running the graph, returning the output.
NumPy's column is ``np.add`` on the same two floats.  Prints one JSON line.
"""

import numpy as np

from common import agree, best_time, compare, emit, parse_args


def compiled_call(lib, T, args):
    x, y = T.dscalars("x", "y")
    f = lib.function([x, y], x + y)
    ok = agree(3.5, f(1.25, 2.25))
    return {"seconds": best_time(lambda: f(1.25, 2.25), args.budget, args.quick), "matches_numpy": ok}


def numpy_call(args):
    return {"seconds": best_time(lambda: np.add(1.25, 2.25), args.budget, args.quick)}


def main(argv=None):
    args = parse_args(__doc__, argv)
    results = compare(compiled_call, numpy_call, args)
    emit("call overhead f(x, y) = x + y", {"dtype": "float64", "ndim": 0}, "s/call", results)


if __name__ == "__main__":
    main()
