"""A fused elementwise expression on 10 million float64 elements.

``x * y + exp(-x) * tanh(y) - 0.5 * y ** 2``: nine elementwise operations.  NumPy
runs them one at a time with a temporary array each; a fusing compiler runs them
as one loop.  Prints one JSON line: seconds per evaluation.
"""

import numpy as np

from common import agree, best_time, compare, emit, parse_args
from models import fused_expression


def compiled_eval(lib, T, data, args):
    x, y = T.dvector("x"), T.dvector("y")
    f = lib.function([x, y], fused_expression(x, y, T.exp, T.tanh))
    ok = agree(fused_expression(*data, np.exp, np.tanh), f(*data))
    return {"seconds": best_time(lambda: f(*data), args.budget, args.quick), "matches_numpy": ok}


def numpy_eval(data, args):
    return {"seconds": best_time(lambda: fused_expression(*data, np.exp, np.tanh), args.budget, args.quick)}


def main(argv=None):
    args = parse_args(__doc__, argv)
    size = 1000 if args.quick else 10_000_000
    rng = np.random.default_rng(0)
    data = (rng.standard_normal(size), rng.standard_normal(size))
    results = compare(compiled_eval, numpy_eval, data, args)
    emit("fused elementwise", {"elements": size, "dtype": "float64"}, "s/call", results)


if __name__ == "__main__":
    main()
