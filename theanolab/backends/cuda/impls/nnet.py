"""GPU softmax family and one-hot cross-entropy, as row-wise array expressions.

The formulas are those of ``perform`` (so the same numbers up to rounding):
softmax and log-softmax subtract each row's maximum first, so exp cannot
overflow.  Temporaries are reused in place where ``perform`` would allocate
a new array (the same values; fewer allocations and passes on a GPU).

The cross-entropy ops check their class indices as ``perform`` does: one
comparison on the device and one boolean read back (a synchronisation),
because CuPy's indexing would wrap an out-of-range class instead of failing.
"""

from __future__ import annotations

import numpy as np

from theanolab.backends.cuda.dispatch import cuda_impl
from theanolab.backends.cuda.impls.support import as_output, outside
from theanolab.tensor.nnet import (CrossentropyCategorical1Hot, CrossentropyCategorical1HotGrad, LogSoftmax,
                                   Softmax, SoftmaxGrad)

__all__ = ["softmax", "log_softmax", "softmax_grad", "crossentropy", "crossentropy_grad"]


def _shifted(xp, x):
    """A new array: each row minus its maximum (an empty row has no maximum and nothing to shift)."""
    if x.shape[-1] == 0:
        return x.copy()
    return x - xp.max(x, axis=-1, keepdims=True)


def _row_sums(x):
    return x.sum(axis=-1, keepdims=True)


def _softmax_rows(xp, x):
    e = _shifted(xp, x)
    xp.exp(e, out=e)
    e /= _row_sums(e)
    return e


def _log_softmax_rows(xp, x):
    shifted = _shifted(xp, x)
    shifted -= xp.log(_row_sums(xp.exp(shifted)))
    return shifted


def _rowwise(rows):
    """The implementation of a row-wise op computing ``rows(xp, x)``."""

    def implementation(op, node, device):
        xp, out_dtype = device.xp, node.outputs[0].dtype

        def run(inputs, output_cells):
            output_cells[0][0] = as_output(xp, rows(xp, inputs[0]), out_dtype)

        return run

    return implementation


softmax = cuda_impl.register(Softmax)(_rowwise(_softmax_rows))
log_softmax = cuda_impl.register(LogSoftmax)(_rowwise(_log_softmax_rows))


@cuda_impl.register(SoftmaxGrad)
def softmax_grad(op, node, device):
    """``(dy - sum(dy * sm, axis=1)) * sm``."""
    xp, out_dtype = device.xp, node.outputs[0].dtype

    def run(inputs, output_cells):
        dy, sm = inputs
        if dy.shape != sm.shape:
            raise ValueError(f"SoftmaxGrad: dy has shape {dy.shape} but sm has shape {sm.shape}")
        dx = dy - _row_sums(dy * sm)
        dx *= sm
        output_cells[0][0] = as_output(xp, dx, out_dtype)

    return run


def _picked(xp, op, coding, y):
    """``(rows, coding[rows, y])`` with ``rows = arange(len(y))``, after the checks of ``perform``."""
    if len(y) != coding.shape[0]:
        raise ValueError(f"{op}: {len(y)} class indices for {coding.shape[0]} rows of coding_dist")
    if outside(y, 0, coding.shape[1]):
        raise ValueError(f"{op}: class indices must lie in [0, {coding.shape[1]}), got values from "
                         f"{int(y.min())} to {int(y.max())}")
    rows = xp.arange(len(y))
    return rows, coding[rows, y]


@cuda_impl.register(CrossentropyCategorical1Hot)
def crossentropy(op, node, device):
    """``-log(coding_dist[i, y[i]])`` per row (inf where the picked probability is 0)."""
    xp, out_dtype = device.xp, node.outputs[0].dtype

    def run(inputs, output_cells):
        coding, y = inputs
        _, picked = _picked(xp, op, coding, y)
        with np.errstate(divide="ignore"):
            output_cells[0][0] = as_output(xp, -xp.log(picked), out_dtype)

    return run


@cuda_impl.register(CrossentropyCategorical1HotGrad)
def crossentropy_grad(op, node, device):
    """Zeros, with ``-g[i] / coding_dist[i, y[i]]`` at each row's class."""
    xp, out_dtype = device.xp, node.outputs[0].dtype

    def run(inputs, output_cells):
        g, coding, y = inputs
        if g.shape[0] != coding.shape[0]:
            raise ValueError(f"{op}: g has {g.shape[0]} entries but coding_dist has {coding.shape[0]} rows")
        rows, picked = _picked(xp, op, coding, y)
        out = xp.zeros(coding.shape, dtype=out_dtype)
        with np.errstate(divide="ignore"):
            out[rows, y] = -g / picked
        output_cells[0][0] = out

    return run
