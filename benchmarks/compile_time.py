"""Compile time: building, differentiating and compiling the logistic-regression step.

Times everything from declaring the symbolic variables to a callable training
function (graph building, ``grad``, ``function``).  NumPy has no compile step.
PyTensor's column is after a warm-up compile in the same process, so its on-disk
cache of compiled code is warm.  Prints one JSON line.
"""

from common import best_time, compare, emit, parse_args, skipped
from models import logistic_regression, logistic_regression_data


def compiled_build(lib, T, data, args):
    _, _, w0, b0 = data
    seconds = best_time(lambda: logistic_regression(lib, T, w0, b0), args.budget, args.quick, repeats=3)
    return {"seconds": seconds}


def numpy_build(data, args):
    return skipped("NumPy has no compile step")


def main(argv=None):
    args = parse_args(__doc__, argv)
    samples, features = (40, 20) if args.quick else (400, 784)
    data = logistic_regression_data(samples, features)
    results = compare(compiled_build, numpy_build, data, args)
    emit("compile logistic regression", {"N": samples, "feats": features}, "s/compile", results)


if __name__ == "__main__":
    main()
