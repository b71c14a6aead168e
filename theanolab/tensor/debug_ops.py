"""Ops that look at values while a function runs: ``Print`` and ``Assert``.

Both return their first input unchanged (a view: ``view_map``), so they can be
put anywhere in a graph to watch or check a value without changing what the
function computes; gradients flow through them as through the identity.

>>> import numpy as np, theanolab, theanolab.tensor as T
>>> x = T.dvector('x')
>>> f = theanolab.function([x], Print('x is')(x) * 5)
>>> f([1, 2, 3]).tolist()
x is __str__ = [1. 2. 3.]
[5.0, 10.0, 15.0]
>>> checked = theanolab.function([x], assert_op(x, T.all(x > 0)))
>>> checked([-1.0])
Traceback (most recent call last):
AssertionError: Theano Assert failed!
...
"""

from __future__ import annotations

import numpy as np

from theanolab.graph.basic import Apply
from theanolab.graph.op import Op

__all__ = ["Print", "Assert", "assert_op"]


def _print_fn(op, value):
    """Print ``message attr = value`` for each of ``op.attrs`` (called if it is a method): Theano's format."""
    for attr in op.attrs:
        shown = getattr(value, attr)
        if callable(shown):
            shown = shown()
        print(op.message, attr, "=", shown)


class Print(Op):
    """``Print(message, attrs=('__str__',))(x)`` is ``x``, printing ``message attr = ...`` each time it is computed.

    ``attrs`` are attributes of the value (``'shape'``, ``'sum'``...; methods
    are called); ``global_fn(op, value)`` replaces the printing.  The node is
    computed once per call of the function, when its value is needed.
    """

    __props__ = ("message", "attrs", "global_fn")
    view_map = {0: [0]}

    def __init__(self, message="", attrs=("__str__",), global_fn=_print_fn):
        self.message = message
        self.attrs = tuple(attrs)
        self.global_fn = global_fn

    def make_node(self, x):
        from theanolab.tensor.variable import as_tensor_variable

        x = as_tensor_variable(x)
        return Apply(self, [x], [x.type()])

    def perform(self, node, inputs, output_storage):
        self.global_fn(self, inputs[0])
        output_storage[0][0] = inputs[0]

    def L_op(self, inputs, outputs, output_grads):
        return list(output_grads)

    def R_op(self, inputs, eval_points):
        return list(eval_points)

    def infer_shape(self, node, input_shapes):
        return input_shapes


class Assert(Op):
    """``Assert(msg)(value, *conditions)`` is ``value``, after checking that every condition holds.

    A condition that is false (or has a false element) raises
    ``AssertionError(msg)``, with the node and the line that built it.
    """

    __props__ = ("msg",)
    view_map = {0: [0]}

    def __init__(self, msg="Theano Assert failed!"):
        self.msg = msg

    def make_node(self, value, *conditions):
        from theanolab.tensor.variable import as_tensor_variable

        value = as_tensor_variable(value)
        conditions = [as_tensor_variable(c) for c in conditions]
        if not conditions:
            raise TypeError(f"{self}: give at least one condition to check")
        return Apply(self, [value, *conditions], [value.type()])

    def perform(self, node, inputs, output_storage):
        if not all(np.all(condition) for condition in inputs[1:]):
            raise AssertionError(self.msg)
        output_storage[0][0] = inputs[0]

    def connection_pattern(self, node):
        return [[True]] + [[False]] * (len(node.inputs) - 1)

    def L_op(self, inputs, outputs, output_grads):
        return [output_grads[0]] + [None] * (len(inputs) - 1)

    def infer_shape(self, node, input_shapes):
        return [input_shapes[0]]


assert_op = Assert()
