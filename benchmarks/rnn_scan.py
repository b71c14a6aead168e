"""A tanh RNN over a sequence through ``scan`` (forward pass: every hidden state).

Prints one JSON line: seconds per sequence.  theanolab's column says so when
``theanolab.scan`` does not exist yet; NumPy (a Python loop) and PyTensor are
timed regardless.
"""

from common import agree, best_time, compare, emit, parse_args, skipped
from models import numpy_rnn, rnn, rnn_data


def compiled_run(lib, T, data, args):
    if not hasattr(lib, "scan"):
        return skipped(f"{lib.__name__}.scan does not exist yet (it comes with the scan issue)")
    xs, h0, weights = data
    run = rnn(lib, T, weights)
    ok = agree(numpy_rnn(*data), run(xs, h0))
    return {"seconds": best_time(lambda: run(xs, h0), args.budget, args.quick), "matches_numpy": ok}


def numpy_run(data, args):
    return {"seconds": best_time(lambda: numpy_rnn(*data), args.budget, args.quick)}


def main(argv=None):
    args = parse_args(__doc__, argv)
    steps, batch, inputs, hidden = (5, 2, 3, 4) if args.quick else (100, 16, 32, 64)
    data = rnn_data(steps, batch, inputs, hidden)
    results = compare(compiled_run, numpy_run, data, args)
    params = {"steps": steps, "batch": batch, "inputs": inputs, "hidden": hidden}
    emit("tanh RNN (scan)", params, "s/sequence", results)


if __name__ == "__main__":
    main()
