"""Elemwise (a scalar op applied to every element, with broadcasting) and DimShuffle.

``Elemwise`` pads every input to the same number of dimensions with a
DimShuffle that adds broadcastable dimensions on the left (as NumPy does), so
after ``make_node`` all inputs have equal rank.  A dimension of the output is
broadcastable only when it is broadcastable in every input.
"""

from __future__ import annotations

import numpy as np

from theanolab.graph.basic import Apply
from theanolab.graph.op import Op
from theanolab.scalar.basic import DISCRETE, ScalarOp
from theanolab.tensor.type import TensorType
from theanolab.tensor.variable import as_tensor_variable


class DimShuffle(Op):
    """Reorder dimensions, insert broadcastable ones (``'x'``), drop broadcastable ones.

    ``DimShuffle((False, False), (1, 0))`` transposes a matrix;
    ``DimShuffle((False,), ('x', 0))`` turns a vector into a row.  The output
    is a view of the input.
    """

    __props__ = ("input_broadcastable", "new_order")
    view_map = {0: [0]}

    def __init__(self, input_broadcastable, new_order):
        self.input_broadcastable = tuple(bool(b) for b in input_broadcastable)
        order = tuple("x" if d == "x" else int(d) for d in new_order)
        ndim = len(self.input_broadcastable)
        kept = [d for d in order if d != "x"]
        for d in kept:
            if not 0 <= d < ndim:
                raise ValueError(f"dimshuffle{order}: dimension {d} does not exist in an input of {ndim} dimensions")
        if len(set(kept)) != len(kept):
            raise ValueError(f"dimshuffle{order}: a dimension appears twice")
        for d in range(ndim):
            if d not in kept and not self.input_broadcastable[d]:
                raise ValueError(
                    f"dimshuffle{order}: cannot drop dimension {d}, which is not broadcastable "
                    f"(input pattern {self.input_broadcastable})"
                )
        self.new_order = order
        self.kept = tuple(kept)
        self.dropped = tuple(d for d in range(ndim) if d not in kept)

    def __str__(self):
        return f"InplaceDimShuffle{{{','.join(str(d) for d in self.new_order)}}}"

    @property
    def is_transpose(self):
        return "x" not in self.new_order and len(self.new_order) >= 2 and self.new_order == tuple(range(len(self.new_order)))[::-1]

    def make_node(self, x):
        x = as_tensor_variable(x)
        if x.ndim != len(self.input_broadcastable):
            raise TypeError(
                f"{self} expects an input of {len(self.input_broadcastable)} dimensions, "
                f"got {x} with {x.ndim}"
            )
        for d in self.dropped:
            if not x.broadcastable[d]:
                raise TypeError(f"{self} drops dimension {d} of {x}, which is not broadcastable")
        pattern = tuple(True if d == "x" else x.broadcastable[d] for d in self.new_order)
        return Apply(self, [x], [TensorType(x.dtype, pattern)()])

    def perform(self, node, inputs, output_storage):
        (x,) = inputs
        view = x.transpose(self.kept + self.dropped)
        shape = [1 if d == "x" else x.shape[d] for d in self.new_order]
        output_storage[0][0] = view.reshape(shape)

    def infer_shape(self, node, input_shapes):
        (shape,) = input_shapes
        from theanolab.tensor.variable import constant

        return [tuple(constant(1, dtype="int64") if d == "x" else shape[d] for d in self.new_order)]

    def grad(self, inputs, output_grads):
        (x,) = inputs
        (gz,) = output_grads
        if x.dtype in DISCRETE:
            from theanolab.tensor.basic import zeros_like_float

            return [zeros_like_float(x)]  # connected, with a zero gradient (as in Theano)
        added = [i for i, d in enumerate(self.new_order) if d == "x"]
        if added:
            gz = gz.sum(axis=added)
        kept_order = [d for d in self.new_order if d != "x"]
        # Put the kept dimensions back in input order, and re-insert the dropped ones.
        position = {d: i for i, d in enumerate(kept_order)}
        inverse = ["x" if d in self.dropped else position[d] for d in range(len(self.input_broadcastable))]
        return [gz.dimshuffle(inverse)]

    def R_op(self, inputs, eval_points):
        if eval_points[0] is None:
            return [None]
        return [self(eval_points[0])]


class Elemwise(Op):
    """Apply ``scalar_op`` elementwise, broadcasting inputs as NumPy does.

    ``inplace_pattern`` maps an output index to the input whose memory it
    overwrites (set by the in-place rewrite, never by users).
    """

    __props__ = ("scalar_op", "inplace_pattern")

    def __init__(self, scalar_op: ScalarOp, inplace_pattern=None):
        self.scalar_op = scalar_op
        self.inplace_pattern = tuple(sorted((inplace_pattern or {}).items()))
        self.destroy_map = {out: [inp] for out, inp in self.inplace_pattern}

    def __str__(self):
        if self.inplace_pattern:
            return f"Elemwise{{{self.scalar_op}}}{list(self.inplace_pattern)}"
        if getattr(self.scalar_op, "inner_outputs", None) is not None:  # fused: Theano shows no suffix
            return f"Elemwise{{{self.scalar_op}}}"
        return f"Elemwise{{{self.scalar_op},no_inplace}}"

    @property
    def nout(self):
        return self.scalar_op.nout

    def make_node(self, *inputs):
        inputs = [as_tensor_variable(i) for i in inputs]
        if self.scalar_op.nin >= 0 and len(inputs) != self.scalar_op.nin:
            raise TypeError(f"{self} takes {self.scalar_op.nin} inputs, got {len(inputs)}")
        ndim = max((i.ndim for i in inputs), default=0)
        inputs = [
            i if i.ndim == ndim else i.dimshuffle(["x"] * (ndim - i.ndim) + list(range(i.ndim)))
            for i in inputs
        ]
        try:
            dtypes = self.scalar_op.output_types([i.dtype for i in inputs])
        except TypeError as exc:
            raise TypeError(f"{self} on {', '.join(f'{i} ({i.dtype})' for i in inputs)}: {exc}") from None
        pattern = tuple(all(i.broadcastable[d] for i in inputs) for d in range(ndim))
        outputs = [TensorType(dtype, pattern)() for dtype in dtypes]
        for out_index, in_index in self.inplace_pattern:
            if inputs[in_index].type != outputs[out_index].type:
                raise TypeError(f"{self}: output {out_index} cannot overwrite input {in_index} of another type")
        return Apply(self, inputs, outputs)

    def perform(self, node, inputs, output_storage):
        _check_lengths(node, inputs)
        if self.inplace_pattern:
            # Computed straight into the destroyed inputs (block by block), with no full-size temporary.
            from theanolab.scalar.composite import impl_in_place

            results = impl_in_place(self.scalar_op, inputs, dict(self.inplace_pattern))
        else:
            results = self.scalar_op.impl(*inputs)
        if self.scalar_op.nout == 1:
            results = (results,)
        for storage, result, out in zip(output_storage, results, node.outputs):
            result = np.asarray(result, dtype=out.type.dtype)
            if not self.inplace_pattern and any(result is value for value in inputs):
                result = result.copy()  # add(x) returns x itself: the output must be new memory
            storage[0] = result

    def infer_shape(self, node, input_shapes):
        from theanolab.tensor.variable import constant

        shape = []
        for d, broadcastable in enumerate(node.outputs[0].broadcastable):
            if broadcastable:
                shape.append(constant(1, dtype="int64"))
                continue
            candidates = [s[d] for s, i in zip(input_shapes, node.inputs) if not i.broadcastable[d]]
            # None: a rewrite made every input broadcastable here, so the length is 1.
            shape.append(candidates[0] if candidates else constant(1, dtype="int64"))
        return [tuple(shape)] * len(node.outputs)

    def L_op(self, inputs, outputs, output_grads):
        from theanolab.tensor.basic import zeros_like_float

        grads = self.scalar_op.L_op(inputs, outputs, output_grads)
        result = []
        for inp, grad in zip(inputs, grads):
            # A discrete input, or one seen only through a discrete value (x > 0, a cast to
            # int, switch's condition), is connected with a zero gradient, as in Theano.
            if grad is None or inp.dtype in DISCRETE:
                result.append(zeros_like_float(inp))
                continue
            grad = as_tensor_variable(grad)
            axes = [d for d in range(inp.ndim) if inp.broadcastable[d] and not grad.broadcastable[d]]
            if axes:
                grad = grad.sum(axis=axes, keepdims=True)
            if grad.ndim > inp.ndim:
                raise ValueError(f"the gradient of {self} for input {inp} has {grad.ndim} dimensions, "
                                 f"more than the input's {inp.ndim}")
            result.append(grad)
        return result

    def R_op(self, inputs, eval_points):
        from theanolab.tensor.basic import ones_like

        outputs = self(*inputs)
        outputs = outputs if isinstance(outputs, list) else [outputs]
        if len(outputs) != 1:
            raise NotImplementedError(f"R_op of the multi-output {self}")
        partials = self.scalar_op.L_op(inputs, outputs, [ones_like(outputs[0])])
        total = None
        for partial, point in zip(partials, eval_points):
            if point is None or partial is None:
                continue
            term = partial * point
            total = term if total is None else total + term
        return [total]


def _check_lengths(node, inputs):
    """Inputs must agree on every axis their types do not declare broadcastable (Theano's rule).

    NumPy would stretch a length-1 axis that the type calls non-broadcastable;
    refusing it keeps every rewrite (which trusts the types) exact.
    """
    for axis, stretchable in enumerate(node.outputs[0].type.broadcastable):
        if stretchable:
            continue
        first = None
        for position, (value, var) in enumerate(zip(inputs, node.inputs)):
            if var.type.broadcastable[axis]:
                continue
            length = value.shape[axis]
            if first is None:
                first = (position, length)
            elif length != first[1]:
                raise ValueError(
                    f"Input dimension mismatch: input {first[0]} has length {first[1]} on axis "
                    f"{axis} but input {position} has length {length} (shapes "
                    f"{[np.shape(v) for v in inputs]}); only axes declared broadcastable "
                    "(T.row, T.col, dimshuffle('x', ...)) may be stretched"
                )
