"""A 200-deep gradient chain: compile it at Python's default recursion limit, then time a call.

``y = x``, then 200 times ``y = tanh(y * w_i + b_i)`` (constant ``w_i``, ``b_i``)
on a 1000-element vector; the function is the gradient of ``y.sum()`` with
respect to ``x``: 600 elementwise nodes forward, more backward, for the
rewrites to fuse and the code generator to walk without recursing past
Python's limit (no script changes it; each result records the limit after the
compile).  JAX's column is ``jax.jit(jax.grad(...))`` of the same function.
Prints one JSON line: seconds per call, checked against the gradient by hand
(relative tolerance only: the gradient is small),
and each column's compile time in its own process (``compile_seconds``).
Target (e): theanolab compiles, and runs no slower than JAX.
"""

import sys
import time

import numpy as np
from common import Row, Target, agree, how_it_runs, median_time, parse_args, run
from models import chain, chain_coefficients, jax_chain_grad, numpy_chain_grad


def make_data(size, depth, seed=0):
    return np.random.default_rng(seed).standard_normal(size), chain_coefficients(depth, seed)


def compiled_grad(lib, T, data, args):
    x0, coefficients = data
    start = time.perf_counter()
    x = T.dvector("x")
    f = lib.function([x], T.grad(chain(x, coefficients, T.tanh).sum(), x))
    compile_seconds = time.perf_counter() - start
    ok = agree(numpy_chain_grad(x0, coefficients), f(x0), atol=0)
    return {"seconds": median_time(lambda: f(x0), args.budget, args.quick), "matches_numpy": ok,
            "compile_seconds": compile_seconds, "recursion_limit": sys.getrecursionlimit(), **how_it_runs(f)}


def numpy_grad(data, args):
    return {"seconds": median_time(lambda: numpy_chain_grad(*data), args.budget, args.quick)}


def jax_grad(jax, jnp, data, args):
    x0, coefficients = data
    x = jax.device_put(x0)
    start = time.perf_counter()
    f = jax_chain_grad(jax, jnp, coefficients)
    first = f(x).block_until_ready()
    compile_seconds = time.perf_counter() - start
    return {"seconds": median_time(lambda: f(x).block_until_ready(), args.budget, args.quick),
            "matches_numpy": agree(numpy_chain_grad(x0, coefficients), first, atol=0),
            "compile_seconds": compile_seconds, "recursion_limit": sys.getrecursionlimit()}


def main(argv=None):
    args = parse_args(__doc__, argv)
    size, depth = (10, 10) if args.quick else (1000, 200)
    row = Row("gradient chain", {"depth": depth, "elements": size}, "s/call",
              Target("(e) compiles; no slower than JAX", "jax"))
    run(args, row, lambda: make_data(size, depth), theano=compiled_grad, numpy=numpy_grad, jax=jax_grad)


if __name__ == "__main__":
    main()
