"""The sigmoid cross-entropy on 10 million float64 elements: one fused elementwise loop.

``-y * log(p) - (1 - y) * log(1 - p)`` with ``p = 1 / (1 + exp(-z))``, as the
tutorial writes it: a compiler must make it stable (softplus) and run it as one
loop.  The anchor is the same function written by hand in C
(``handwritten/xent.c``: glibc's SIMD exp/log1p, OpenMP), compiled here with the
system compiler and called through ctypes on the same arrays.  Every column runs
on 2 threads (OpenMP for theanolab and PyTensor, the anchor's setting) unless
``--threads`` says otherwise, and every column returns a new output array per
call, the anchor included.  Target (c): theanolab no slower than the anchor.
"""

import ctypes
import os
import subprocess
import tempfile

import numpy as np
from common import Row, Target, agree, how_it_runs, median_time, parse_args, run
from models import logistic_xent, sigmoid_xent

SOURCE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "handwritten", "xent.c")
CFLAGS = ("-O3", "-march=native", "-ffast-math", "-fopenmp", "-fPIC", "-shared")


def make_data(size, seed=0):
    rng = np.random.default_rng(seed)
    return 3 * rng.standard_normal(size), rng.integers(0, 2, size=size).astype("float64")


def compiled_eval(lib, T, data, args):
    z, y = T.dvectors("z", "y")
    f = lib.function([z, y], sigmoid_xent(T, z, y))
    ok = agree(logistic_xent(*data, np), f(*data))
    return {"seconds": median_time(lambda: f(*data), args.budget, args.quick), "matches_numpy": ok,
            **how_it_runs(f)}


def numpy_eval(data, args):
    return {"seconds": median_time(lambda: logistic_xent(*data, np), args.budget, args.quick)}


def jax_eval(jax, jnp, data, args):
    z, y = jax.device_put(data)
    f = jax.jit(lambda z, y: logistic_xent(z, y, jnp))
    ok = agree(logistic_xent(*data, np), f(z, y))
    return {"seconds": median_time(lambda: f(z, y).block_until_ready(), args.budget, args.quick),
            "matches_numpy": ok}


def handwritten_eval(data, args):
    z, y = data
    with tempfile.TemporaryDirectory() as build:
        library = os.path.join(build, "xent.so")
        subprocess.run(["cc", *CFLAGS, SOURCE, "-o", library, "-lmvec", "-lm"], check=True, capture_output=True)
        xent = ctypes.CDLL(library).xent
    xent.argtypes = (ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int64)
    xent.restype = None

    def call():
        out = np.empty_like(z)
        xent(z.ctypes.data, y.ctypes.data, out.ctypes.data, z.size)
        return out

    ok = agree(logistic_xent(*data, np), call())
    return {"seconds": median_time(call, args.budget, args.quick), "matches_numpy": ok}


def main(argv=None):
    args = parse_args(__doc__, argv, threads=2)
    size = 1000 if args.quick else 10_000_000
    row = Row("fused xent(sigmoid)", {"elements": size, "dtype": "float64", "threads": args.threads}, "s/call",
              Target("(c) no slower than hand-written C", "handwritten_c"))
    run(args, row, lambda: make_data(size), theano=compiled_eval, numpy=numpy_eval, jax=jax_eval,
        c=handwritten_eval)


if __name__ == "__main__":
    main()
