"""A fused elementwise expression on 10 million float64 elements.

``x * y + exp(-x) * tanh(y) - 0.5 * y ** 2``: nine elementwise operations.  NumPy
runs them one at a time with a temporary array each; a fusing compiler runs them
as one loop.  Prints one JSON line: seconds per evaluation.
"""

import numpy as np
from common import Row, agree, how_it_runs, median_time, parse_args, run
from models import fused_expression


def make_data(size, seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal(size), rng.standard_normal(size)


def compiled_eval(lib, T, data, args):
    x, y = T.dvector("x"), T.dvector("y")
    f = lib.function([x, y], fused_expression(x, y, T.exp, T.tanh))
    ok = agree(fused_expression(*data, np.exp, np.tanh), f(*data))
    return {"seconds": median_time(lambda: f(*data), args.budget, args.quick), "matches_numpy": ok,
            **how_it_runs(f)}


def numpy_eval(data, args):
    return {"seconds": median_time(lambda: fused_expression(*data, np.exp, np.tanh), args.budget, args.quick)}


def jax_eval(jax, jnp, data, args):
    x, y = jax.device_put(data)
    f = jax.jit(lambda x, y: fused_expression(x, y, jnp.exp, jnp.tanh))
    ok = agree(fused_expression(*data, np.exp, np.tanh), f(x, y))
    return {"seconds": median_time(lambda: f(x, y).block_until_ready(), args.budget, args.quick),
            "matches_numpy": ok}


def main(argv=None):
    args = parse_args(__doc__, argv)
    size = 1000 if args.quick else 10_000_000
    row = Row("fused elementwise", {"elements": size, "dtype": "float64", "threads": args.threads})
    run(args, row, lambda: make_data(size), theano=compiled_eval, numpy=numpy_eval, jax=jax_eval)


if __name__ == "__main__":
    main()
