"""One training step of the tutorial's logistic regression (N=400, feats=784).

Prints one JSON line: seconds per step for every column, each compiled step
checked against NumPy (hand-written gradient) after one step from the same
weights.  Target (a): theanolab at most 0.75x PyTensor's C backend linked to
OpenBLAS.
"""

from common import Row, Target, agree, how_it_runs, median_time, parse_args, run
from models import (
    jax_logistic_step,
    logistic_regression,
    logistic_regression_data,
    numpy_logistic_step,
)


def compiled_step(lib, T, data, args):
    x, y, w0, b0 = data
    train, w, b = logistic_regression(lib, T, w0, b0)
    prediction, xent = train(x, y)
    ok = agree(list(numpy_logistic_step(*data)), [prediction, xent, w.get_value(), b.get_value()])
    return {"seconds": median_time(lambda: train(x, y), args.budget, args.quick), "matches_numpy": ok,
            **how_it_runs(train)}


def numpy_step(data, args):
    return {"seconds": median_time(lambda: numpy_logistic_step(*data), args.budget, args.quick)}


def jax_step(jax, jnp, data, args):
    x, y, w0, b0 = jax.device_put(data)
    step = jax_logistic_step(jax, jnp)
    prediction, xent, (w, b) = step((w0, b0), x, y)
    ok = agree(list(numpy_logistic_step(*data)), [prediction, xent, w, b])
    seconds = median_time(lambda: jax.block_until_ready(step((w0, b0), x, y)), args.budget, args.quick)
    return {"seconds": seconds, "matches_numpy": ok}


def main(argv=None):
    args = parse_args(__doc__, argv)
    samples, features = (40, 20) if args.quick else (400, 784)
    row = Row("logistic regression step", {"N": samples, "feats": features}, "s/step",
              Target("(a) at most 0.75x PyTensor C + OpenBLAS", "pytensor_openblas", 0.75))
    run(args, row, lambda: logistic_regression_data(samples, features),
        theano=compiled_step, numpy=numpy_step, jax=jax_step)


if __name__ == "__main__":
    main()
