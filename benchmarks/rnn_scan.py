"""Training a tanh RNN through ``scan``: forward pass and gradient with respect to W, U and b.

The step is ``h_t = tanh(x_t W + h_{t-1} U + b)`` over 200 steps (batch 32,
64 inputs, 128 hidden units, float32); the cost sums every state's squares,
so backpropagation runs through the whole sequence.  Prints one JSON line:
seconds per forward-and-gradient call.  The Theano-API columns use ``scan``
and ``T.grad``; NumPy is a Python loop with a hand-written backward pass;
JAX is ``jax.value_and_grad`` of ``jax.lax.scan``, jitted.
Target (issue 5): theanolab no slower than JAX.
"""

from common import Row, Target, agree, how_it_runs, median_time, parse_args, run
from models import jax_rnn, numpy_rnn, rnn, rnn_data

#: float32 sums over 200 steps: agreement to about a thousandth of the values' scale.
TOLERANCE = {"rtol": 2e-3, "atol": 2e-3}


def compiled_run(lib, T, data, args):
    xs, h0, weights = data
    train = rnn(lib, T)
    ok = agree(numpy_rnn(*data), train(xs, h0, *weights), **TOLERANCE)
    return {"seconds": median_time(lambda: train(xs, h0, *weights), args.budget, args.quick),
            "matches_numpy": ok, **how_it_runs(train)}


def numpy_run(data, args):
    return {"seconds": median_time(lambda: numpy_rnn(*data), args.budget, args.quick)}


def jax_run(jax, jnp, data, args):
    xs, h0, weights = data
    train = jax_rnn(jax, jnp)
    arguments = jax.device_put((xs, h0, *weights))
    ok = agree(numpy_rnn(*data), train(*arguments), **TOLERANCE)
    return {"seconds": median_time(lambda: jax.block_until_ready(train(*arguments)), args.budget, args.quick),
            "matches_numpy": ok}


def main(argv=None):
    args = parse_args(__doc__, argv)
    steps, batch, inputs, hidden = (5, 2, 3, 4) if args.quick else (200, 32, 64, 128)
    row = Row("tanh RNN forward + gradient (scan)",
              {"steps": steps, "batch": batch, "inputs": inputs, "hidden": hidden, "dtype": "float32"},
              "s/call", Target("no slower than JAX", "jax", 1.0))
    run(args, row, lambda: rnn_data(steps, batch, inputs, hidden), theano=compiled_run, numpy=numpy_run, jax=jax_run)


if __name__ == "__main__":
    main()
