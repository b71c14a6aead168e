"""Changing which dimensions a type declares broadcastable: ``addbroadcast`` and friends.

A dimension's *broadcastable* flag is part of a tensor's type: it says the
length is 1, so elementwise ops may stretch it (``T.row`` is ``(True,
False)``).  A value loaded as a matrix of one row is still a plain matrix;
``addbroadcast(x, 0)`` declares its first dimension broadcastable, and the
:class:`Rebroadcast` node checks at run time that the length really is 1.
``unbroadcast`` removes the flag (a no-op on the value), and
``patternbroadcast`` sets the whole pattern at once.

Each function only mentions the axes whose flag changes, and returns ``x``
itself when nothing changes, so the graph keeps no useless node.  The op
prints as in Theano: one character per axis up to the last one changed,
``1`` made broadcastable, ``0`` made non-broadcastable, ``?`` untouched.

>>> import theanolab.tensor as T
>>> x = T.dmatrix('x')
>>> T.addbroadcast(x, 1).owner.op, T.addbroadcast(x, 1).type
(Rebroadcast{?,1}, TensorType(float64, col))
>>> T.unbroadcast(x, 0) is x
True
"""

from __future__ import annotations

from theanolab.graph.basic import Apply
from theanolab.graph.op import Op
from theanolab.scalar.basic import DISCRETE
from theanolab.tensor.type import TensorType
from theanolab.tensor.variable import as_tensor_variable, constant

__all__ = ["Rebroadcast", "addbroadcast", "unbroadcast", "patternbroadcast"]


class Rebroadcast(Op):
    """``x`` with new broadcastable flags on some axes; a view of ``x``.

    Built from ``(axis, flag)`` pairs, as in Theano: ``Rebroadcast((0, True))``.
    Making an axis broadcastable is a promise that its length is 1, checked
    when the node runs (a ValueError naming the axis and its length).
    """

    __props__ = ("axis",)
    view_map = {0: [0]}

    def __init__(self, *axis):
        flags = {}
        for entry in axis:
            position, flag = entry
            position = int(position)
            if position < 0:
                raise ValueError(f"Rebroadcast: axes must be non-negative, got {position}")
            flags[position] = bool(flag)
        #: ``((axis, flag), ...)``, sorted by axis.
        self.axis = tuple(sorted(flags.items()))

    def __str__(self):
        if not self.axis:
            return "Rebroadcast{}"
        chars = ["?"] * (self.axis[-1][0] + 1)
        for position, flag in self.axis:
            chars[position] = str(int(flag))
        return f"Rebroadcast{{{','.join(chars)}}}"

    def make_node(self, x):
        x = as_tensor_variable(x)
        for position, _ in self.axis:
            if position >= x.ndim:
                raise ValueError(f"{self}: axis {position} does not exist in {x}, which has "
                                 f"{x.ndim} dimension(s)")
        flags = dict(self.axis)
        pattern = tuple(flags.get(d, b) for d, b in enumerate(x.broadcastable))
        return Apply(self, [x], [TensorType(x.dtype, pattern)()])

    def perform(self, node, inputs, output_storage):
        (x,) = inputs
        for position, flag in self.axis:
            if flag and x.shape[position] != 1:
                raise ValueError(f"{self}: dimension {position} of the input must have length 1 (the "
                                 f"graph declares it broadcastable), got length {x.shape[position]} "
                                 f"(input shape {x.shape})")
        output_storage[0][0] = x

    def infer_shape(self, node, input_shapes):
        flags = dict(self.axis)
        return [tuple(constant(1, dtype="int64") if flags.get(d) else length
                      for d, length in enumerate(input_shapes[0]))]

    def grad(self, inputs, output_grads):
        (x,) = inputs
        if x.dtype in DISCRETE:
            from theanolab.tensor.basic import zeros_like_float

            return [zeros_like_float(x)]
        # The gradient has the output's pattern: give it back the input's.
        return [patternbroadcast(output_grads[0], x.broadcastable)]

    def R_op(self, inputs, eval_points):
        if eval_points[0] is None:
            return [None]
        return [self(eval_points[0])]


def _rebroadcast(x, flags, where):
    """``x`` with ``flags`` (``{axis: flag}``, negative axes counting from the end) applied.

    Only the axes whose flag changes go into the node; ``x`` itself when none does.
    """
    x = as_tensor_variable(x)
    changes = []
    for position, flag in flags.items():
        if not -x.ndim <= position < x.ndim:
            raise ValueError(f"{where}: axis {position} does not exist in {x}, which has {x.ndim} "
                             "dimension(s)")
        position %= x.ndim
        if x.broadcastable[position] != flag:
            changes.append((position, flag))
    if not changes:
        return x
    return Rebroadcast(*changes)(x)


def _axes(axes, where):
    result = []
    for axis in axes:
        if isinstance(axis, bool) or not hasattr(axis, "__index__"):
            raise TypeError(f"{where}: axes must be integers, got {axis!r}")
        result.append(int(axis))
    return result


def addbroadcast(x, *axes):
    """``x`` with ``axes`` declared broadcastable (their length must be 1 at run time).

    >>> import numpy as np, theanolab, theanolab.tensor as T
    >>> x = T.dmatrix('x')
    >>> f = theanolab.function([x], x + T.addbroadcast(x[:1], 0))
    >>> f(np.array([[1.0, 2.0], [3.0, 4.0]])).tolist()
    [[2.0, 4.0], [4.0, 6.0]]
    """
    return _rebroadcast(x, {axis: True for axis in _axes(axes, "addbroadcast")}, "addbroadcast")


def unbroadcast(x, *axes):
    """``x`` with ``axes`` no longer declared broadcastable (the value is unchanged)."""
    return _rebroadcast(x, {axis: False for axis in _axes(axes, "unbroadcast")}, "unbroadcast")


def patternbroadcast(x, broadcastable):
    """``x`` with the broadcastable pattern ``broadcastable`` (one flag per dimension)."""
    x = as_tensor_variable(x)
    pattern = tuple(bool(flag) for flag in broadcastable)
    if len(pattern) != x.ndim:
        raise ValueError(f"patternbroadcast: the pattern {pattern} has {len(pattern)} entries but {x} has "
                         f"{x.ndim} dimension(s)")
    return _rebroadcast(x, dict(enumerate(pattern)), "patternbroadcast")
