"""A tanh RNN over a sequence through ``scan`` (forward pass: every hidden state).

Prints one JSON line: seconds per sequence.  A Theano-API column says so when
its library has no ``scan`` yet; NumPy is a Python loop, JAX ``jax.lax.scan``.
"""

from common import Row, agree, median_time, parse_args, run, skipped
from models import jax_rnn, numpy_rnn, rnn, rnn_data


def compiled_run(lib, T, data, args):
    if not hasattr(lib, "scan"):
        return skipped(f"{lib.__name__}.scan does not exist yet (it comes with the scan issue)")
    xs, h0, weights = data
    run_sequence = rnn(lib, T, weights)
    ok = agree(numpy_rnn(*data), run_sequence(xs, h0))
    return {"seconds": median_time(lambda: run_sequence(xs, h0), args.budget, args.quick), "matches_numpy": ok}


def numpy_run(data, args):
    return {"seconds": median_time(lambda: numpy_rnn(*data), args.budget, args.quick)}


def jax_run(jax, jnp, data, args):
    xs, h0, weights = data
    run_sequence = jax_rnn(jax, jnp, weights)
    xs_, h0_ = jax.device_put((xs, h0))
    ok = agree(numpy_rnn(*data), run_sequence(xs_, h0_))
    return {"seconds": median_time(lambda: run_sequence(xs_, h0_).block_until_ready(), args.budget, args.quick),
            "matches_numpy": ok}


def main(argv=None):
    args = parse_args(__doc__, argv)
    steps, batch, inputs, hidden = (5, 2, 3, 4) if args.quick else (100, 16, 32, 64)
    row = Row("tanh RNN (scan)", {"steps": steps, "batch": batch, "inputs": inputs, "hidden": hidden},
              "s/sequence")
    run(args, row, lambda: rnn_data(steps, batch, inputs, hidden), theano=compiled_run, numpy=numpy_run, jax=jax_run)


if __name__ == "__main__":
    main()
