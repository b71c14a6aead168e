"""Headless demo: train the tutorial's logistic regression and print its progress.

This is the tutorial's "A Real Example: Logistic Regression" (400 random
samples of 784 features, random 0/1 targets), run with theanolab, printing the
cost every few steps and the training accuracy at the end::

    python -m theanolab.demo               # the tutorial's 10000 steps (seconds)
    python -m theanolab.demo --steps 100   # a quick look

``./scripts/demo.sh --headless`` sets up the environment and runs it.  One change to the
tutorial: ``train`` returns the cost instead of the per-sample cross-entropy, so
there is one number to print.  The initial weights are the tutorial's N(0, 1)
(``--weight-scale 1``): ``x . w`` then reaches about 80, where ``p_1`` rounds
to exactly 1.0 and the graph as written computes ``log(1 - p_1) = -inf``.  It
trains with a finite cost because the stability rewrites turn ``p_1`` into
``sigmoid(x . w + b)`` and ``log(1 - sigmoid(z))`` into ``-softplus(z)``, and
keep the gradient finite (``theanolab/tensor/rewriting/stabilize.py``).
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np

import theanolab as theano
import theanolab.tensor as T

__all__ = ["build_model", "main"]


def build_model(features, rng, weight_scale=1.0, learning_rate=0.1, l2=0.01):
    """The tutorial's graph: returns ``(train, predict)``.

    ``train(x, y)`` takes one gradient step on the shared ``w`` and ``b`` and
    returns ``[prediction, cost]``; ``predict(x)`` returns the 0/1 predictions.
    """
    x = T.dmatrix("x")
    y = T.dvector("y")
    w = theano.shared(weight_scale * rng.standard_normal(features), name="w")
    b = theano.shared(0.0, name="b")
    p_1 = 1 / (1 + T.exp(-T.dot(x, w) - b))  # probability that the target is 1
    prediction = p_1 > 0.5
    xent = -y * T.log(p_1) - (1 - y) * T.log(1 - p_1)  # cross-entropy of each sample
    cost = xent.mean() + l2 * (w**2).sum()  # the cost to minimize, with weight decay
    gw, gb = T.grad(cost, [w, b])
    train = theano.function(
        inputs=[x, y],
        outputs=[prediction, cost],
        updates=((w, w - learning_rate * gw), (b, b - learning_rate * gb)),
    )
    predict = theano.function(inputs=[x], outputs=prediction)
    return train, predict


def _parse(argv):
    parser = argparse.ArgumentParser(prog="python -m theanolab.demo", description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=10000, help="training steps (default: the tutorial's 10000)")
    parser.add_argument("--report-every", type=int, help="print the cost every this many steps (default: steps/10)")
    parser.add_argument("--samples", type=int, default=400, help="training samples N (tutorial: 400)")
    parser.add_argument("--features", type=int, default=784, help="input features (tutorial: 784)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the random data set and initial weights")
    parser.add_argument(
        "--weight-scale", type=float, default=1.0, help="standard deviation of the initial weights (tutorial: 1)"
    )
    args = parser.parse_args(argv)
    for name in ("steps", "samples", "features"):
        if getattr(args, name) < 1:
            parser.error(f"--{name} must be at least 1, got {getattr(args, name)}")
    if args.report_every is None:
        args.report_every = max(1, args.steps // 10)
    elif args.report_every < 1:
        parser.error(f"--report-every must be at least 1, got {args.report_every}")
    return args


def main(argv=None):
    """Train and report; returns the exit status."""
    args = _parse(argv)
    rng = np.random.default_rng(args.seed)
    inputs = rng.standard_normal((args.samples, args.features))
    targets = rng.integers(0, 2, size=args.samples).astype("float64")
    print(
        f"theanolab {theano.__version__}: logistic regression on {args.samples} samples x "
        f"{args.features} features, {args.steps} steps",
        flush=True,
    )

    start = time.perf_counter()
    train, predict = build_model(args.features, rng, args.weight_scale)
    print(f"compiled train and predict in {time.perf_counter() - start:.2f} s", flush=True)

    start = time.perf_counter()
    for step in range(1, args.steps + 1):
        prediction, cost = train(inputs, targets)
        if step % args.report_every == 0 or step in (1, args.steps):
            accuracy = np.mean(prediction == targets)
            print(f"step {step:6d}  cost {float(cost):10.6f}  training accuracy {accuracy:6.1%}", flush=True)
    elapsed = time.perf_counter() - start

    accuracy = np.mean(predict(inputs) == targets)
    print(
        f"final training accuracy {accuracy:.1%} after {args.steps} steps "
        f"({elapsed:.1f} s, {1e3 * elapsed / args.steps:.2f} ms/step)",
        flush=True,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
