"""Ops: the operations that Apply nodes apply.

An Op carries its meaning on every backend: ``make_node`` (types of the
outputs), ``perform`` (the NumPy definition, the ground truth), ``grad`` /
``L_op`` (a symbolic gradient graph), ``R_op`` and ``infer_shape``.  Backend
code (C, CUDA) lives in per-backend dispatch tables, never on the Op.

Ops are compared by value: two ops of the same class whose ``__props__`` are
equal are equal and hash alike, which is what lets the merge rewrite fuse two
identical nodes.

>>> import numpy as np
>>> from theanolab.graph.op import Op
>>> class Double(Op):
...     __props__ = ()
...     def make_node(self, x):
...         from theanolab.tensor import as_tensor_variable
...         x = as_tensor_variable(x)
...         return Apply(self, [x], [x.type()])
...     def perform(self, node, inputs, outputs):
...         outputs[0][0] = inputs[0] * 2
"""

from __future__ import annotations

from theanolab.graph.basic import Apply, Variable, user_trace

__all__ = ["Op", "Apply", "Variable", "base_op"]


class Op:
    """Base class of every operation.

    Subclasses set ``__props__`` (the attribute names that define equality),
    implement ``make_node`` and ``perform``, and, where it exists, ``grad`` (or
    ``L_op``), ``R_op`` and ``infer_shape``.
    """

    __props__: tuple = ()
    #: ``{output index: [input index]}``: outputs that are views of inputs.
    view_map: dict = {}
    #: ``{output index: [input index]}``: outputs computed by overwriting inputs.
    destroy_map: dict = {}
    #: index of the output returned by ``op(...)`` when there are several.
    default_output = None

    # -------------------------------------------------------------- identity

    def _props(self):
        return tuple(getattr(self, name) for name in self.__props__)

    def __eq__(self, other):
        return type(self) is type(other) and self._props() == other._props()

    def __hash__(self):
        return hash((type(self), self._props()))

    def __str__(self):
        if not self.__props__:
            return type(self).__name__
        props = ", ".join(f"{name}={getattr(self, name)!r}" for name in self.__props__)
        return f"{type(self).__name__}{{{props}}}"

    def __repr__(self):
        return str(self)

    # -------------------------------------------------------------- building

    def make_node(self, *inputs) -> Apply:
        """Check and convert the inputs and return an Apply node with typed outputs."""
        raise NotImplementedError(f"{type(self).__name__} must define make_node")

    def __call__(self, *inputs, **kwargs):
        """Build a node and return its default output (or the list of outputs).

        Every output remembers the user's stack (``tag.trace``) so an error at
        run time can say where the node was built.
        """
        node = self.make_node(*inputs, **kwargs)
        trace = user_trace()
        for out in node.outputs:
            out.tag.trace = trace
        if self.default_output is not None:
            return node.outputs[self.default_output]
        if len(node.outputs) == 1:
            return node.outputs[0]
        return node.outputs

    # -------------------------------------------------------------- running

    def perform(self, node, inputs, output_storage):
        """Compute the outputs with NumPy.

        ``inputs`` is a list of values; ``output_storage[i]`` is a one-element
        list whose element must be set to output i (it may hold the previous
        call's value, which may be reused when shape and dtype fit).
        """
        raise NotImplementedError(f"{type(self).__name__} has no perform")

    # -------------------------------------------------------------- calculus

    def grad(self, inputs, output_grads):
        """Symbolic gradients of a scalar cost with respect to each input."""
        raise NotImplementedError(f"{self} does not define a gradient")

    def L_op(self, inputs, outputs, output_grads):
        """Like ``grad``, with the node's outputs available (e.g. exp reuses exp(x))."""
        return self.grad(inputs, output_grads)

    def R_op(self, inputs, eval_points):
        """Jacobian-vector products of each output with ``eval_points``."""
        raise NotImplementedError(f"{self} does not define R_op")

    def connection_pattern(self, node):
        """``[[input i influences output j]]``; every pair by default."""
        return [[True] * len(node.outputs) for _ in node.inputs]

    def infer_shape(self, node, input_shapes):
        """Symbolic output shapes from symbolic input shapes (tuples of scalars)."""
        raise NotImplementedError(f"{self} does not define infer_shape")


def base_op(op):
    """The op a node computes: ``op`` itself, or the op that a device wrapper (``GpuOp``) runs elsewhere.

    For code asking *what* a node computes (which loop is a scan, which op to describe), not where.
    """
    return op.op if getattr(op, "runs_on_device", False) else op
