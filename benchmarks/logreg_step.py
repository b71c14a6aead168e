"""One training step of the tutorial's logistic regression (N=400, feats=784).

Prints one JSON line: seconds per step for theanolab, NumPy (hand-written
gradient) and PyTensor, each compiled step checked against NumPy after one step
from the same weights.
"""

from common import agree, best_time, compare, emit, parse_args
from models import logistic_regression, logistic_regression_data, numpy_logistic_step


def compiled_step(lib, T, data, args):
    x, y, w0, b0 = data
    train, w, b = logistic_regression(lib, T, w0, b0)
    prediction, xent = train(x, y)
    ok = agree(list(numpy_logistic_step(*data)), [prediction, xent, w.get_value(), b.get_value()])
    return {"seconds": best_time(lambda: train(x, y), args.budget, args.quick), "matches_numpy": ok}


def numpy_step(data, args):
    return {"seconds": best_time(lambda: numpy_logistic_step(*data), args.budget, args.quick)}


def main(argv=None):
    args = parse_args(__doc__, argv)
    samples, features = (40, 20) if args.quick else (400, 784)
    data = logistic_regression_data(samples, features)
    results = compare(compiled_step, numpy_step, data, args)
    emit("logistic regression step", {"N": samples, "feats": features}, "s/step", results)


if __name__ == "__main__":
    main()
