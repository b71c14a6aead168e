"""One SGD step of a 784-300-1 MLP (tanh hidden layer, logistic output) on 400 samples.

Prints one JSON line: seconds per step for theanolab, NumPy (hand-written
backpropagation) and PyTensor, each compiled step checked against NumPy after
one step from the same weights.
"""

from common import agree, best_time, compare, emit, parse_args
from models import mlp, mlp_data, numpy_mlp_step


def compiled_step(lib, T, data, args):
    x, y, params = data
    train, shared = mlp(lib, T, params)
    cost = train(x, y)
    reference_cost, reference_params = numpy_mlp_step(*data)
    ok = agree([reference_cost, *reference_params], [cost, *(p.get_value() for p in shared)])
    return {"seconds": best_time(lambda: train(x, y), args.budget, args.quick), "matches_numpy": ok}


def numpy_step(data, args):
    return {"seconds": best_time(lambda: numpy_mlp_step(*data), args.budget, args.quick)}


def main(argv=None):
    args = parse_args(__doc__, argv)
    samples, features, hidden = (40, 20, 8) if args.quick else (400, 784, 300)
    data = mlp_data(samples, features, hidden)
    results = compare(compiled_step, numpy_step, data, args)
    emit("MLP step", {"N": samples, "layers": f"{features}-{hidden}-1"}, "s/step", results)


if __name__ == "__main__":
    main()
