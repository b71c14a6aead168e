"""Per-call overhead: ``f(x, y) = x + y`` on two float64 scalars.

The arithmetic is nothing, so this times what a compiled function does around
it.  Two rows: a validated call on Python floats (argument checking and
conversion, running the graph, returning the output), and the trusted-input
path, where the caller promises correctly typed inputs (``f.trust_input =
True`` on 0-d float64 arrays, in theanolab and PyTensor alike; JAX's nearest
is a call on arrays already on its device).  NumPy's column is ``np.add`` on
the same floats, then on the same 0-d arrays.  Prints two JSON lines.
Target (d): at most 2 µs validated, at most 0.5 µs trusted.
"""

import numpy as np
from common import Row, Target, agree, how_it_runs, median_time, parse_args, run

X, Y = 1.25, 2.25


def compiled_calls(lib, T, data, args):
    x, y = T.dscalars("x", "y")
    f = lib.function([x, y], x + y)
    validated = {"seconds": median_time(lambda: f(X, Y), args.budget, args.quick),
                 "matches_numpy": agree(3.5, f(X, Y)), **how_it_runs(f)}
    a, b = np.array(X), np.array(Y)
    f.trust_input = True
    trusted = {"seconds": median_time(lambda: f(a, b), args.budget, args.quick), "matches_numpy": agree(3.5, f(a, b))}
    return [validated, trusted]


def numpy_calls(data, args):
    a, b = np.array(X), np.array(Y)
    return [{"seconds": median_time(lambda: np.add(X, Y), args.budget, args.quick)},
            {"seconds": median_time(lambda: np.add(a, b), args.budget, args.quick)}]


def jax_calls(jax, jnp, data, args):
    f = jax.jit(lambda x, y: x + y)
    a, b = jax.device_put((np.array(X), np.array(Y)))
    return [{"seconds": median_time(lambda: f(X, Y).block_until_ready(), args.budget, args.quick),
             "matches_numpy": agree(3.5, f(X, Y))},
            {"seconds": median_time(lambda: f(a, b).block_until_ready(), args.budget, args.quick),
             "matches_numpy": agree(3.5, f(a, b))}]


def main(argv=None):
    args = parse_args(__doc__, argv)
    params = {"dtype": "float64", "ndim": 0}
    rows = [Row("call overhead f(x, y) = x + y", params, "s/call", Target("(d) at most 2 µs", seconds=2e-6)),
            Row("call overhead, trusted input", params, "s/call", Target("(d) at most 0.5 µs", seconds=0.5e-6))]
    run(args, rows, theano=compiled_calls, numpy=numpy_calls, jax=jax_calls)


if __name__ == "__main__":
    main()
