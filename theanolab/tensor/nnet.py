"""Neural-network functions (``T.nnet``): sigmoid, softplus, relu, softmax, cross-entropies.

Every forward computation here is written to be numerically stable, because
these functions are where a course's first network overflows: sigmoid and
softplus never exponentiate a large positive number, softmax and log-softmax
subtract the row maximum first.

>>> import theanolab, theanolab.tensor as T
>>> x = T.dvector('x')
>>> theanolab.function([x], T.nnet.sigmoid(x))([-1000, 0, 1000]).tolist()
[0.0, 0.5, 1.0]
"""

from __future__ import annotations

import numpy as np

from theanolab.graph.basic import Apply
from theanolab.graph.op import Op
from theanolab.scalar.basic import CONTINUOUS, INTEGER, upcast
from theanolab.scalar.math import FloatOp
from theanolab.tensor.basic import ones_like, zeros_like_float
from theanolab.tensor.math import elemwise_function, log
from theanolab.tensor.shape import shape_padleft
from theanolab.tensor.type import TensorType
from theanolab.tensor.variable import as_tensor_variable

__all__ = [
    "ScalarSigmoid", "ScalarSoftplus", "sigmoid", "softplus", "relu",
    "Softmax", "SoftmaxGrad", "LogSoftmax", "softmax", "log_softmax", "logsoftmax",
    "CrossentropyCategorical1Hot", "CrossentropyCategorical1HotGrad",
    "crossentropy_categorical_1hot", "binary_crossentropy", "categorical_crossentropy",
]


# ----------------------------------------------------------------- sigmoid and softplus


def _stable_sigmoid(x):
    """``1 / (1 + exp(-x))`` from ``e = exp(-|x|)``, which never overflows."""
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e))


class ScalarSigmoid(FloatOp):
    """The logistic function, stable at both ends (sigmoid(-1000) is 0, not a warning)."""

    name = "sigmoid"
    nfunc = staticmethod(_stable_sigmoid)

    def L_op(self, inputs, outputs, output_grads):
        return [output_grads[0] * outputs[0] * (1.0 - outputs[0])]


def _stable_softplus(x):
    """``log(1 + exp(x))`` as ``max(x, 0) + log1p(exp(-|x|))``, which never overflows."""
    return np.maximum(x, 0) + np.log1p(np.exp(-np.abs(x)))


class ScalarSoftplus(FloatOp):
    """``log(1 + exp(x))``, exact for large ``|x|`` of either sign (softplus(1000) is 1000)."""

    name = "softplus"
    nfunc = staticmethod(_stable_softplus)

    def L_op(self, inputs, outputs, output_grads):
        return [output_grads[0] * sigmoid(inputs[0])]


scalar_sigmoid, scalar_softplus = ScalarSigmoid(), ScalarSoftplus()
sigmoid = elemwise_function(scalar_sigmoid, "sigmoid",
                            "The logistic function ``1 / (1 + exp(-x))``, elementwise.")
softplus = elemwise_function(scalar_softplus, "softplus",
                             "``log(1 + exp(x))`` elementwise, stable for large ``|x|``.")


def relu(x, alpha=0):
    """Rectified linear unit: ``x`` where positive, ``alpha * x`` elsewhere.

    Written as Theano writes it, ``0.5 * (x + |x|)`` (or
    ``0.5 * (1 + alpha) * x + 0.5 * (1 - alpha) * |x|``), so it has the same
    graph, dtypes and gradient (0.5 at exactly 0).  ``alpha`` may be symbolic.
    """
    x = as_tensor_variable(x)
    if isinstance(alpha, (int, float)) and alpha == 0:
        return 0.5 * (x + abs(x))
    alpha = as_tensor_variable(alpha)
    return 0.5 * (1 + alpha) * x + 0.5 * (1 - alpha) * abs(x)


# ----------------------------------------------------------------- softmax family


def _float_matrix(op, name, x):
    """``x`` as a tensor, checked to be a float matrix (what the row-wise ops take)."""
    x = as_tensor_variable(x)
    if x.ndim != 2 or x.dtype not in CONTINUOUS:
        raise TypeError(f"{op}: {name} must be a float matrix, got {x} ({x.type})")
    return x


def _row_sums(x):
    """Sums over the last axis, kept as a broadcastable column."""
    return x.sum(axis=x.ndim - 1, keepdims=True)


def _shifted(x):
    """Each row minus its maximum: exp of it cannot overflow (``initial`` allows empty rows)."""
    return x - np.max(x, axis=-1, keepdims=True, initial=-np.inf)


def _softmax_rows(x):
    e = np.exp(_shifted(x))
    return e / e.sum(axis=-1, keepdims=True)


def _log_softmax_rows(x):
    shifted = _shifted(x)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


class _RowwiseOp(Op):
    """An op mapping each row of a float matrix to a row of the same length."""

    __props__ = ()
    #: the NumPy function of the whole matrix, set by subclasses.
    rows = None

    def make_node(self, x):
        x = _float_matrix(self, "the input", x)
        return Apply(self, [x], [x.type()])

    def perform(self, node, inputs, output_storage):
        output_storage[0][0] = np.asarray(self.rows(inputs[0]), dtype=node.outputs[0].type.dtype)

    def infer_shape(self, node, input_shapes):
        return [input_shapes[0]]


class Softmax(_RowwiseOp):
    """``exp(x) / exp(x).sum(axis=1)`` for each row of a matrix, with the row max subtracted."""

    rows = staticmethod(_softmax_rows)

    def L_op(self, inputs, outputs, output_grads):
        return [softmax_grad(output_grads[0], outputs[0])]

    def R_op(self, inputs, eval_points):
        if eval_points[0] is None:
            return [None]
        # The Jacobian of softmax is symmetric, so J v is the same product as v^T J.
        return [softmax_grad(eval_points[0], self(inputs[0]))]


class SoftmaxGrad(Op):
    """``SoftmaxGrad(dy, sm) = (dy - sum(dy * sm, axis=1)) * sm``: the gradient through a softmax.

    ``dy`` is the gradient with respect to the softmax output ``sm``; the
    result is the gradient with respect to the softmax input.
    """

    __props__ = ()

    def make_node(self, dy, sm):
        dy, sm = _float_matrix(self, "dy", dy), _float_matrix(self, "sm", sm)
        return Apply(self, [dy, sm], [TensorType(upcast(dy.dtype, sm.dtype), sm.broadcastable)()])

    def perform(self, node, inputs, output_storage):
        dy, sm = inputs
        if dy.shape != sm.shape:
            raise ValueError(f"SoftmaxGrad: dy has shape {dy.shape} but sm has shape {sm.shape}")
        dx = (dy - (dy * sm).sum(axis=-1, keepdims=True)) * sm
        output_storage[0][0] = np.asarray(dx, dtype=node.outputs[0].type.dtype)

    def infer_shape(self, node, input_shapes):
        return [input_shapes[1]]

    def grad(self, inputs, output_grads):
        dy, sm = inputs
        (g,) = output_grads
        # dx = sm * dy - sm * s with s = sum(dy * sm): linear in dy (the same map), bilinear in sm.
        grad_sm = g * (dy - _row_sums(dy * sm)) - dy * _row_sums(g * sm)
        return [softmax_grad(g, sm), grad_sm]


class LogSoftmax(_RowwiseOp):
    """``log(softmax(x))`` for each row, computed as ``x - max - log(sum(exp(x - max)))``."""

    rows = staticmethod(_log_softmax_rows)

    def grad(self, inputs, output_grads):
        (x,) = inputs
        (gz,) = output_grads
        return [gz - _row_sums(gz) * softmax_op(x)]

    def R_op(self, inputs, eval_points):
        (x,) = inputs
        (dx,) = eval_points
        if dx is None:
            return [None]
        return [dx - _row_sums(softmax_op(x) * dx)]


softmax_op, softmax_grad, log_softmax_op = Softmax(), SoftmaxGrad(), LogSoftmax()


def _rows(x, name):
    """A vector becomes a one-row matrix, as Theano's softmax pads it."""
    x = as_tensor_variable(x)
    if x.ndim == 1:
        return shape_padleft(x)
    if x.ndim != 2:
        raise TypeError(f"{name}: the input must be a vector or a matrix of floats, got {x} ({x.type})")
    return x


def softmax(x):
    """Softmax of each row of a matrix (a vector is treated as a one-row matrix, as in Theano).

    >>> import theanolab, theanolab.tensor as T
    >>> m = T.dmatrix('m')
    >>> theanolab.function([m], T.nnet.softmax(m))([[1000., 0., -1000.]]).tolist()
    [[1.0, 0.0, 0.0]]
    """
    return softmax_op(_rows(x, "softmax"))


def log_softmax(x):
    """``log(softmax(x))`` row-wise, without the underflow of taking the log of a softmax."""
    return log_softmax_op(_rows(x, "log_softmax"))


logsoftmax = log_softmax


# ----------------------------------------------------------------- cross-entropies


def _class_indices(op, y):
    y = as_tensor_variable(y)
    if y.ndim != 1 or y.dtype not in INTEGER:
        raise TypeError(f"{op}: the true classes must be an integer vector, got {y} ({y.type})")
    return y


class CrossentropyCategorical1Hot(Op):
    """``-log(coding_dist[i, true_one_of_n[i]])`` for each row ``i``.

    The cross-entropy against one-hot targets given as class indices.
    """

    __props__ = ()

    def make_node(self, coding_dist, true_one_of_n):
        coding = _float_matrix(self, "coding_dist", coding_dist)
        y = _class_indices(self, true_one_of_n)
        return Apply(self, [coding, y], [TensorType(coding.dtype, coding.broadcastable[:1])()])

    def perform(self, node, inputs, output_storage):
        coding, y = inputs
        picked = _picked(self, coding, y)
        with np.errstate(divide="ignore"):
            output_storage[0][0] = np.asarray(-np.log(picked), dtype=node.outputs[0].type.dtype)

    def infer_shape(self, node, input_shapes):
        return [input_shapes[0][:1]]

    def grad(self, inputs, output_grads):
        coding, y = inputs
        return [crossentropy_categorical_1hot_grad(output_grads[0], coding, y), zeros_like_float(y)]


class CrossentropyCategorical1HotGrad(Op):
    """The gradient of :class:`CrossentropyCategorical1Hot` with respect to ``coding_dist``.

    Zero everywhere except ``[i, true_one_of_n[i]]``, which holds
    ``-g[i] / coding_dist[i, true_one_of_n[i]]``.
    """

    __props__ = ()

    def make_node(self, g, coding_dist, true_one_of_n):
        g = as_tensor_variable(g)
        if g.ndim != 1 or g.dtype not in CONTINUOUS:
            raise TypeError(f"{self}: the output gradient must be a float vector, got {g} ({g.type})")
        coding = _float_matrix(self, "coding_dist", coding_dist)
        y = _class_indices(self, true_one_of_n)
        return Apply(self, [g, coding, y], [TensorType(upcast(g.dtype, coding.dtype), coding.broadcastable)()])

    def perform(self, node, inputs, output_storage):
        g, coding, y = inputs
        if g.shape[0] != coding.shape[0]:
            raise ValueError(f"{self}: g has {g.shape[0]} entries but coding_dist has {coding.shape[0]} rows")
        out = np.zeros(coding.shape, dtype=node.outputs[0].type.dtype)
        with np.errstate(divide="ignore"):
            out[np.arange(len(y)), y] = -g / _picked(self, coding, y)
        output_storage[0][0] = out

    def infer_shape(self, node, input_shapes):
        return [input_shapes[1]]

    def grad(self, inputs, output_grads):
        g, coding, y = inputs
        (G,) = output_grads
        # out = -g / c at the picked entries: d/dg = -1 / c, d/dc = g / c**2 = out(g) * out(1).
        per_unit_g = self(ones_like(g), coding, y)
        return [(G * per_unit_g).sum(axis=1), G * self(g, coding, y) * per_unit_g, zeros_like_float(y)]


def _picked(op, coding, y):
    """``coding[i, y[i]]`` for every row, with errors that say what does not fit."""
    if len(y) != coding.shape[0]:
        raise ValueError(f"{op}: {len(y)} class indices for {coding.shape[0]} rows of coding_dist")
    if len(y) and (y.min() < 0 or y.max() >= coding.shape[1]):
        raise ValueError(f"{op}: class indices must lie in [0, {coding.shape[1]}), got "
                         f"values from {y.min()} to {y.max()}")
    return coding[np.arange(len(y)), y]


crossentropy_categorical_1hot = CrossentropyCategorical1Hot()
crossentropy_categorical_1hot_grad = CrossentropyCategorical1HotGrad()


def binary_crossentropy(output, target):
    """``-(target * log(output) + (1 - target) * log(1 - output))`` elementwise."""
    output, target = as_tensor_variable(output), as_tensor_variable(target)
    return -(target * log(output) + (1.0 - target) * log(1.0 - output))


def categorical_crossentropy(coding_dist, true_dist):
    """Cross-entropy of each row of ``coding_dist`` (predicted probabilities) with ``true_dist``.

    ``true_dist`` is either a matrix of target distributions (one-hot rows,
    giving ``-sum(true_dist * log(coding_dist), axis=1)``) or an integer
    vector of class indices (giving ``-log(coding_dist[i, true_dist[i]])``).
    """
    coding_dist, true_dist = as_tensor_variable(coding_dist), as_tensor_variable(true_dist)
    if true_dist.ndim == coding_dist.ndim:
        return -(true_dist * log(coding_dist)).sum(axis=coding_dist.ndim - 1)
    if true_dist.ndim == coding_dist.ndim - 1:
        return crossentropy_categorical_1hot(coding_dist, true_dist)
    raise TypeError(
        f"categorical_crossentropy: true_dist must have the rank of coding_dist ({coding_dist.ndim}, "
        f"target distributions) or one less (class indices); got {true_dist} with {true_dist.ndim}"
    )
