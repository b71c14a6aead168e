"""One SGD step of a 784-300-1 MLP (tanh hidden layer, logistic output) on 400 samples.

Prints one JSON line: seconds per step for every column, each compiled step
checked against NumPy (hand-written backpropagation) after one step from the
same weights.  Target (b): theanolab no slower than JAX.
"""

from common import Row, Target, agree, how_it_runs, median_time, parse_args, run
from models import jax_mlp_step, mlp, mlp_data, numpy_mlp_step


def compiled_step(lib, T, data, args):
    x, y, params = data
    train, shared = mlp(lib, T, params)
    cost = train(x, y)
    reference_cost, reference_params = numpy_mlp_step(*data)
    ok = agree([reference_cost, *reference_params], [cost, *(p.get_value() for p in shared)])
    return {"seconds": median_time(lambda: train(x, y), args.budget, args.quick), "matches_numpy": ok,
            **how_it_runs(train)}


def numpy_step(data, args):
    return {"seconds": median_time(lambda: numpy_mlp_step(*data), args.budget, args.quick)}


def jax_step(jax, jnp, data, args):
    x, y, params = jax.device_put(data)
    step = jax_mlp_step(jax, jnp)
    reference_cost, reference_params = numpy_mlp_step(*data)
    cost, new_params = step(params, x, y)
    ok = agree([reference_cost, *reference_params], [cost, *new_params])
    seconds = median_time(lambda: jax.block_until_ready(step(params, x, y)), args.budget, args.quick)
    return {"seconds": seconds, "matches_numpy": ok}


def main(argv=None):
    args = parse_args(__doc__, argv)
    samples, features, hidden = (40, 20, 8) if args.quick else (400, 784, 300)
    row = Row("MLP step", {"N": samples, "layers": f"{features}-{hidden}-1"}, "s/step",
              Target("(b) no slower than JAX", "jax"))
    run(args, row, lambda: mlp_data(samples, features, hidden), theano=compiled_step, numpy=numpy_step, jax=jax_step)


if __name__ == "__main__":
    main()
