"""Graph size: Apply nodes of the optimized graph, theanolab's FAST_RUN against PyTensor's.

The programs are the tutorial's logistic regression (seed 001: the training
function with outputs ``[prediction, xent]`` and updates of ``w`` and ``b``,
and the ``predict`` function) and the lecture slides' MLP step (seed 004: two
sigmoid layers, outputs ``[prediction, xent]``, four updates).  Each is built
once per library from the same code, compiled in FAST_RUN, and measured by the
number of Apply nodes left in ``f.maker.fgraph`` and the ops they apply
(PyTensor's graph depends on its linker and BLAS: its C linker, as pip installs
it and with OpenBLAS, the second being the one compared with).
Fewer nodes means the rewrites found more to merge, fold and fuse (issue 3,
acceptance 2: theanolab must not have more than PyTensor).  NumPy has no graph.
Prints one JSON line.
"""

from collections import Counter

import numpy as np
from common import Row, Target, parse_args, run

PROGRAMS = ("logreg train", "logreg predict", "MLP step")
REFERENCE = "pytensor_openblas"  # the graph PyTensor runs with its C backend and a BLAS
OP_NAME_LIMIT = 80  # a fused op's name spells its whole expression: keep the table readable


def logistic_regression(lib, T, samples, features, mode):
    """The tutorial's two functions, exactly as seed 001 writes them."""
    rng = np.random.RandomState(0)
    x = T.dmatrix("x")
    y = T.dvector("y")
    w = lib.shared(rng.randn(features), name="w")
    b = lib.shared(0., name="b")
    p_1 = 1 / (1 + T.exp(-T.dot(x, w) - b))
    prediction = p_1 > 0.5
    xent = -y * T.log(p_1) - (1 - y) * T.log(1 - p_1)
    cost = xent.mean() + 0.01 * (w ** 2).sum()
    gw, gb = T.grad(cost, [w, b])
    train = lib.function(inputs=[x, y], outputs=[prediction, xent],
                         updates=((w, w - 0.1 * gw), (b, b - 0.1 * gb)), mode=mode)
    predict = lib.function(inputs=[x], outputs=prediction, mode=mode)
    return train, predict


def mlp_step(lib, T, samples, features, hidden, mode):
    """The slides' MLP training function (their ``(w**2).sum()`` names no variable: w_1 is meant)."""
    rng = np.random.RandomState(0)
    x = T.dmatrix("x")
    y = T.dvector("y")
    w_1 = lib.shared(rng.randn(features, hidden), name="w1")
    b_1 = lib.shared(np.zeros((hidden,)), name="b1")
    w_2 = lib.shared(rng.randn(hidden), name="w2")
    b_2 = lib.shared(0., name="b2")
    p_1 = T.sigmoid(T.dot(T.sigmoid(-T.dot(x, w_1) - b_1), w_2) - b_2)
    prediction = p_1 > 0.5
    xent = -y * T.log(p_1) - (1 - y) * T.log(1 - p_1)
    cost = xent.mean() + 0.01 * (w_1 ** 2).sum()
    params = [w_1, b_1, w_2, b_2]
    grads = T.grad(cost, params)
    return lib.function(inputs=[x, y], outputs=[prediction, xent],
                        updates=[(p, p - 0.1 * g) for p, g in zip(params, grads)], mode=mode)


def op_name(op):
    name = str(op)
    return name if len(name) <= OP_NAME_LIMIT else name[:OP_NAME_LIMIT - 1] + "…"


def measure(function):
    """``{"apply_nodes": n, "ops": {op: count}}`` of a compiled function's optimized graph."""
    nodes = function.maker.fgraph.apply_nodes
    ops = Counter(op_name(node.op) for node in nodes)
    return {"apply_nodes": len(nodes), "ops": dict(sorted(ops.items(), key=lambda item: (-item[1], item[0])))}


def graph_sizes(lib, T, sizes, mode):
    samples, features, hidden = sizes
    train, predict = logistic_regression(lib, T, samples, features, mode)
    functions = (train, predict, mlp_step(lib, T, samples, features, hidden, mode))
    return {"programs": {name: measure(f) for name, f in zip(PROGRAMS, functions)}}


def no_more_than_pytensor(results):
    """Issue 3's goal: no program has more Apply nodes than PyTensor's C backend with OpenBLAS."""
    ours, theirs = (results.get(name, {}).get("programs") for name in ("theanolab", REFERENCE))
    if ours is None or theirs is None:
        return None if ours else False
    return all(ours[name]["apply_nodes"] <= theirs[name]["apply_nodes"] for name in PROGRAMS)


def main(argv=None):
    args = parse_args(__doc__, argv)
    sizes = (40, 20, 8) if args.quick else (400, 784, 300)
    params = {"programs": ", ".join(PROGRAMS), "N": sizes[0], "feats": sizes[1], "hidden": sizes[2]}
    row = Row("graph size", params, "Apply nodes",
              Target("no more nodes than PyTensor C + OpenBLAS", check=no_more_than_pytensor))
    run(args, row, only=("theanolab", "pytensor_c", REFERENCE),
        theano=lambda lib, T, data, args: graph_sizes(lib, T, sizes, "FAST_RUN"))


if __name__ == "__main__":
    main()
