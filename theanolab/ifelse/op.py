"""``ifelse`` and the IfElse op: the value of one of two branches, chosen by a scalar condition.

In the graph the user builds, an IfElse node reads the condition and the
values of both branches (``if{}(cond, then..., else...)``), exactly as in
Theano: the gradient, shape inference and printing see an ordinary node.
Compiling moves the work only one branch needs into that branch
(:mod:`theanolab.ifelse.lazy`), so a call computes the taken branch only.
``IfElse.perform`` is what runs when nothing is left to move (both branches
are inputs or constants), and the meaning every backend must agree with.

>>> import theanolab, theanolab.tensor as T
>>> from theanolab.ifelse import ifelse
>>> a, b = T.dscalars('a', 'b')
>>> x = T.dvector('x')
>>> f = theanolab.function([a, b, x], ifelse(T.lt(a, b), x.sum(), x.max()))
>>> float(f(0, 1, [1, 2, 3])), float(f(1, 0, [1, 2, 3]))
(6.0, 3.0)
"""

from __future__ import annotations

import copy

import numpy as np

from theanolab.graph.basic import Apply, Variable
from theanolab.graph.op import Op

__all__ = ["IfElse", "ifelse", "condition_holds", "owned_copy"]


def condition_holds(value):
    """Theano's truth of a condition: any value but 0 (NaN included) takes the ``then`` branch."""
    return bool(np.asarray(value) != 0)


def owned_copy(value):
    """A copy of a branch's value: an IfElse output never shares memory with an input."""
    return value.copy() if isinstance(value, np.ndarray) else copy.deepcopy(value)


def _as_variable(value):
    from theanolab.tensor.variable import as_tensor_variable

    return value if isinstance(value, Variable) else as_tensor_variable(value)


class IfElse(Op):
    """``if{}(condition, then_0..then_{n-1}, else_0..else_{n-1})``: ``n_outs`` outputs, each the
    ``then`` value when the scalar condition is not 0, else the ``else`` value.

    ``name`` is shown in the op (``if{name}``) and is not part of its identity.
    The output is a copy, never a view of the chosen input (as Theano's
    default, ``as_view=False``): the output may then be overwritten in place.
    """

    __props__ = ("n_outs",)

    def __init__(self, n_outs, name=None):
        if int(n_outs) < 1:
            raise ValueError(f"IfElse needs at least one output, got n_outs={n_outs}")
        self.n_outs = int(n_outs)
        self.name = name

    def __str__(self):
        return f"if{{{self.name or ''}}}"

    def make_node(self, condition, *branches):
        from theanolab.tensor.variable import as_tensor_variable

        n = self.n_outs
        if len(branches) != 2 * n:
            raise ValueError(f"{self} takes a condition and {2 * n} branch values ({n} per branch), "
                             f"got {len(branches)} branch values")
        condition = as_tensor_variable(condition)
        if condition.ndim != 0:
            raise TypeError(f"ifelse: the condition must be a scalar (0 means False, anything else True), "
                            f"but {condition} is {condition.type}")
        branches = [_as_variable(v) for v in branches]
        for j, (then, other) in enumerate(zip(branches[:n], branches[n:])):
            if then.type != other.type:
                raise TypeError(
                    f"ifelse: both branches must have identical types, but value {j} of the then branch "
                    f"({then}) is {then.type} and of the else branch ({other}) is {other.type}; cast one "
                    "of them (T.cast), or check that both branches are lists or both single variables")
        return Apply(self, [condition, *branches], [v.type() for v in branches[:n]])

    def perform(self, node, inputs, output_storage):
        n = self.n_outs
        chosen = inputs[1:1 + n] if condition_holds(inputs[0]) else inputs[1 + n:]
        for storage, value in zip(output_storage, chosen):
            storage[0] = owned_copy(value)

    # ------------------------------------------------------------------ shapes and calculus

    def infer_shape(self, node, input_shapes):
        """Each output's shape is the chosen branch's: one ``if{shape}`` node picks every length
        that differs between the branches (lengths equal on both sides need no choice)."""
        from theanolab.tensor.basic import cast

        n = self.n_outs
        then_shapes, else_shapes = input_shapes[1:1 + n], input_shapes[1 + n:]
        differing = [(j, d) for j, (then, other) in enumerate(zip(then_shapes, else_shapes)) if then is not None
                     for d in range(len(then)) if then[d] is not other[d]]
        chosen = {}
        if differing:
            lengths = [cast(then_shapes[j][d], "int64") for j, d in differing]
            lengths += [cast(else_shapes[j][d], "int64") for j, d in differing]
            picked = IfElse(len(differing), name="shape").make_node(node.inputs[0], *lengths).outputs
            chosen = dict(zip(differing, picked))
        return [None if then is None else tuple(chosen.get((j, d), then[d]) for d in range(len(then)))
                for j, then in enumerate(then_shapes)]

    def L_op(self, inputs, outputs, output_grads):
        """The output's gradient flows to the branch the condition chose, zeros to the other
        (each an ``if{}`` on the condition); the condition gets zeros, as in Theano."""
        from theanolab.tensor.basic import zeros_like, zeros_like_float

        n = self.n_outs
        flowing = [j for j, g in enumerate(output_grads) if g is not None]
        then_grads, else_grads = [None] * n, [None] * n
        if flowing:
            grads = [output_grads[j] for j in flowing]
            zeros = [zeros_like(g) for g in grads]
            to_then = IfElse(len(flowing)).make_node(inputs[0], *grads, *zeros).outputs
            to_else = IfElse(len(flowing)).make_node(inputs[0], *zeros, *grads).outputs
            for j, then_grad, else_grad in zip(flowing, to_then, to_else):
                then_grads[j], else_grads[j] = then_grad, else_grad
        return [zeros_like_float(inputs[0])] + then_grads + else_grads

    def R_op(self, inputs, eval_points):
        """The chosen branch's directional derivative (zeros for a branch given no direction)."""
        from theanolab.tensor.basic import zeros_like

        n = self.n_outs
        pairs = list(zip(eval_points[1:1 + n], eval_points[1 + n:]))
        moving = [j for j, (then, other) in enumerate(pairs) if then is not None or other is not None]
        results = [None] * n
        if moving:
            thens = [pairs[j][0] if pairs[j][0] is not None else zeros_like(pairs[j][1]) for j in moving]
            elses = [pairs[j][1] if pairs[j][1] is not None else zeros_like(pairs[j][0]) for j in moving]
            chosen = IfElse(len(moving)).make_node(inputs[0], *thens, *elses).outputs
            for j, value in zip(moving, chosen):
                results[j] = value
        return results


def ifelse(condition, then_branch, else_branch, name=None):
    """The value of ``then_branch`` where the scalar ``condition`` is not 0, else of ``else_branch``.

    Unlike ``T.switch`` (elementwise, computing both sides), only the taken
    branch is computed when the compiled function runs.  The branches are
    variables (or values) of identical types, or lists (tuples) of them of one
    length; the result is a variable, or a list (tuple) when ``then_branch``
    is one.  ``name`` names the op: ``if{name}``.

    >>> import theanolab, theanolab.tensor as T
    >>> c = T.iscalar('c'); x, y = T.dvectors('x', 'y')
    >>> bigger, smaller = ifelse(c, [x, y], [y, x])
    >>> theanolab.function([c, x, y], bigger)(0, [1.], [2.]).tolist()
    [2.0]
    """
    sequence = type(then_branch) if isinstance(then_branch, (list, tuple)) else None
    then_values = list(then_branch) if sequence else [then_branch]
    else_values = list(else_branch) if isinstance(else_branch, (list, tuple)) else [else_branch]
    if len(then_values) != len(else_values):
        raise ValueError(f"ifelse: the then branch has {len(then_values)} value(s) but the else branch has "
                         f"{len(else_values)}; both must have the same number")
    outputs = IfElse(len(then_values), name=name)(condition, *then_values, *else_values)
    outputs = outputs if isinstance(outputs, list) else [outputs]
    return sequence(outputs) if sequence else outputs[0]
