"""Multinomial draws made from uniform samples (how ``MRG_RandomStreams`` samples categories).

Row ``n`` of ``pvals`` is a distribution; uniform sample ``unis[c * rows + n]``
picks its ``c``-th outcome: the first ``m`` whose cumulative probability
(summed in float64) exceeds it.  Keeping the uniform draw a separate node
means every backend that reproduces the MRG stream reproduces these too.
"""

from __future__ import annotations

import numpy as np

from theanolab.graph.basic import Apply
from theanolab.graph.op import Op
from theanolab.tensor.basic import zeros_like
from theanolab.tensor.type import TensorType
from theanolab.tensor.variable import as_tensor_variable

__all__ = ["MultinomialFromUniform", "ChoiceFromUniform"]


def _picks(pvals, uniforms):
    """For each row of ``pvals``, the first outcome whose cumulative probability exceeds its uniform."""
    cumulative = np.cumsum(pvals, axis=1, dtype="float64")
    picks = (cumulative <= uniforms[:, None]).sum(axis=1)
    return np.minimum(picks, pvals.shape[1] - 1)  # a sum rounded below the uniform: the last outcome


class MultinomialFromUniform(Op):
    """``(pvals matrix, uniforms vector, n)`` -> counts (shape of pvals) of ``n`` draws per row."""

    __props__ = ("odtype",)

    def __init__(self, odtype="auto"):
        self.odtype = odtype

    def __str__(self):
        return f"{type(self).__name__}{{{self.odtype}}}"

    def _output_dtype(self, pvals):
        return pvals.dtype if self.odtype == "auto" else self.odtype

    def make_node(self, pvals, unis, n=1):
        pvals, unis, n = as_tensor_variable(pvals), as_tensor_variable(unis), as_tensor_variable(n)
        if pvals.ndim != 2:
            raise NotImplementedError(f"{self}: pvals must be a matrix (one distribution per row), "
                                      f"got {pvals.ndim} dimension(s)")
        if unis.ndim != 1:
            raise NotImplementedError(f"{self}: the uniform samples must be a vector, got {unis.ndim} dimension(s)")
        if n.ndim != 0:
            raise TypeError(f"{self}: n must be a scalar, got {n.type}")
        out = TensorType(self._output_dtype(pvals), pvals.broadcastable)()
        return Apply(self, [pvals, unis, n], [out])

    def _check(self, pvals, unis, n_samples):
        if unis.shape[0] != pvals.shape[0] * n_samples:
            raise ValueError(f"{self}: {unis.shape[0]} uniform samples given for {pvals.shape[0]} distributions "
                             f"x {n_samples} draws")

    def perform(self, node, inputs, output_storage):
        pvals, unis, n_samples = inputs
        n_samples = int(n_samples)
        self._check(pvals, unis, n_samples)
        rows = pvals.shape[0]
        counts = np.zeros(pvals.shape, dtype=node.outputs[0].dtype)
        for c in range(n_samples):
            counts[np.arange(rows), _picks(pvals, unis[c * rows:(c + 1) * rows])] += 1
        output_storage[0][0] = counts

    def grad(self, inputs, output_grads):
        return [zeros_like(x, dtype="float64") if x.dtype not in ("float32", "float64") else zeros_like(x)
                for x in inputs]


class ChoiceFromUniform(MultinomialFromUniform):
    """``(pvals, uniforms, n)`` -> ``(rows, n)`` outcome indices drawn without replacement.

    After each pick the chosen probability is set to 0 and the row
    renormalized, so no outcome is drawn twice.
    """

    __props__ = ("odtype", "replace")

    def __init__(self, odtype="auto", replace=False):
        super().__init__(odtype)
        self.replace = replace

    def _output_dtype(self, pvals):
        return "int64" if self.odtype == "auto" else self.odtype

    def perform(self, node, inputs, output_storage):
        pvals, unis, n_samples = inputs
        n_samples = int(n_samples)
        if n_samples > pvals.shape[1]:
            raise ValueError(f"{self}: cannot draw {n_samples} outcomes without replacement "
                             f"from {pvals.shape[1]}")
        self._check(pvals, unis, n_samples)
        pvals = np.array(pvals, dtype=pvals.dtype)  # renormalized below: never the caller's array
        rows = pvals.shape[0]
        out = np.empty((rows, n_samples), dtype=node.outputs[0].dtype)
        for c in range(n_samples):
            picks = _picks(pvals, unis[c * rows:(c + 1) * rows])
            out[:, c] = picks
            if not self.replace:
                pvals[np.arange(rows), picks] = 0
                pvals /= pvals.sum(axis=1, keepdims=True)
        output_storage[0][0] = out
