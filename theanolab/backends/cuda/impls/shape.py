"""GPU views and data movement: DimShuffle, Reshape, SpecifyShape, the indexing ops, Alloc, Join, Split.

Views stay views (DimShuffle, Reshape where the layout allows it, Subtensor,
Split, SpecifyShape), so ``view_map`` holds on the device as on the CPU and
a view costs no copy.  The indexing updates write into ``x`` itself when in
place (``destroy_map``); repeated advanced indices add up as NumPy's
``add.at`` (CuPy's ``cupyx.scatter_add``, imported only for a GPU).
``scatter_add`` has atomic adds only for int32, uint32, uint64, float16,
float32 and float64, so an accumulating update of another dtype stays on
the CPU (on the simulated device too: it places nodes as a GPU would).
A repeated index in a *set* keeps one of the values, as on the CPU, but on
a GPU which one is not defined.

Host integers.  Shapes, axes, split lengths and slice bounds are Python
ints for the array module, so these inputs are declared ``run.host_inputs``:
the placement rewrite leaves them on the host (computed there, they never
cross).  A constant one is read when the node is placed
(:func:`~theanolab.backends.cuda.impls.support.host_reader`); one that does
come from the GPU is copied back at each call, which synchronises (about
10 us on a GPU).
Integer-array indices are checked against the indexed length first (one
more synchronisation unless the array is a constant), because CuPy wraps an
out-of-range index where NumPy raises IndexError.

Shape, Shape_i, MakeVector, ARange and Eye have no GPU implementation on
purpose: they make small integer arrays that are used as shapes, on the
host, and a GPU copy would have to come back before anyone could use it.
"""

from __future__ import annotations

import numpy as np

from theanolab.backends.cuda.dispatch import cuda_impl
from theanolab.backends.cuda.impls.support import as_output, host_reader, outside
from theanolab.graph.basic import Constant
from theanolab.tensor.basic import Alloc, Join, Split
from theanolab.tensor.elemwise import DimShuffle
from theanolab.tensor.shape import Reshape, SpecifyShape
from theanolab.tensor.subtensor import (AdvancedIncSubtensor, AdvancedIncSubtensor1, AdvancedSubtensor,
                                        AdvancedSubtensor1, ArraySpec, IncSubtensor, Subtensor,
                                        _group, _numpy_index)

__all__ = ["dimshuffle", "reshape", "specify_shape", "subtensor", "inc_subtensor", "alloc", "join", "split",
           "SCATTER_ADD_DTYPES"]

#: the dtypes CuPy's ``scatter_add`` (CUDA's atomicAdd) can accumulate.
SCATTER_ADD_DTYPES = ("int32", "uint32", "uint64", "float16", "float32", "float64")


# ------------------------------------------------------------------ views


@cuda_impl.register(DimShuffle)
def dimshuffle(op, node, device):
    """A view: the kept dimensions in order, the dropped (length-1) ones last and reshaped away."""
    order = op.kept + op.dropped
    new_order = op.new_order

    def run(inputs, output_cells):
        (x,) = inputs
        shape = tuple(1 if d == "x" else x.shape[d] for d in new_order)
        output_cells[0][0] = x.transpose(order).reshape(shape)

    return run


@cuda_impl.register(Reshape)
def reshape(op, node, device):
    """``x.reshape(shape)``: a view when the layout allows one (the array module decides, as NumPy)."""
    read_shape = host_reader(device, node.inputs[1])

    def run(inputs, output_cells):
        x, newshape = inputs
        shape = tuple(read_shape(newshape).tolist())
        if len(shape) != op.ndim:
            raise ValueError(f"Reshape{{{op.ndim}}}: got a shape with {len(shape)} entries ({list(shape)})")
        try:
            output_cells[0][0] = x.reshape(shape)
        except ValueError as exc:
            raise ValueError(f"cannot reshape an array of shape {x.shape} (size {x.size}) into "
                             f"shape {shape}: {exc}") from None

    run.host_inputs = (1,)
    return run


@cuda_impl.register(SpecifyShape)
def specify_shape(op, node, device):
    """``x`` itself, after checking its shape."""
    read_target = host_reader(device, node.inputs[1])

    def run(inputs, output_cells):
        x, target = inputs
        expected = tuple(read_target(target).tolist())
        if x.shape != expected:
            raise ValueError(f"specify_shape: expected shape {expected}, got {x.shape}")
        output_cells[0][0] = x

    run.host_inputs = (1,)
    return run


# ------------------------------------------------------------------ indexing


def _indexer(op, node, device, first):
    """A function from a node's run-time inputs to its array-module index, and a bounds check.

    The index inputs start at position ``first``.  Constant ones are taken
    from the graph (arrays copied to the device once, scalars kept on the
    host: no synchronisation to read them), and when all are constants the
    index is built once.  The index ends with ``...``, so integers alone give
    a 0-d view, not a scalar.  The check raises NumPy's IndexError for an
    integer array outside the length of the axis it indexes.
    """
    known = [None if not isinstance(v, Constant) else device.to_device(v.data) if v.ndim else v.data
             for v in node.inputs[first:]]
    if all(value is not None for value in known):
        fixed = _numpy_index(op.idx_list, known) + (Ellipsis,)

        def index(inputs):
            return fixed
    else:
        def index(inputs):
            values = [given if value is None else value for value, given in zip(known, inputs[first:])]
            return _numpy_index(op.idx_list, values) + (Ellipsis,)

    return index, _bounds_check(op, node, first)


def _scalar_indices(node, first):
    """The positions of the scalar index inputs: the placement leaves them on the host (CuPy indexes
    with Python integers; a 0-d device array would have to be read back)."""
    return tuple(k for k in range(first, len(node.inputs)) if node.inputs[k].ndim == 0)


def _array_axes(op, node, first):
    """``(input position, axis of x)`` of each integer-array index."""
    positions = _group(op.idx_list, list(range(first, len(node.inputs))))
    arrays, axis = [], 0
    for entry, position in zip(op.idx_list, positions):
        if isinstance(entry, ArraySpec) and entry.mask:
            axis += node.inputs[position].ndim
            continue
        if isinstance(entry, ArraySpec):
            arrays.append((position, axis))
        axis += 1
    return arrays


def _bounds_check(op, node, first):
    """A function raising IndexError when an integer-array index of ``x`` (input 0) is out of range.

    A constant array's extremes are known when the node is placed; a
    run-time one is compared on the device (one synchronisation).
    """
    checks = []
    for position, axis in _array_axes(op, node, first):
        variable = node.inputs[position]
        if isinstance(variable, Constant) and variable.data.size:
            low, high = int(variable.data.min()), int(variable.data.max())
            checks.append((position, axis, lambda value, length, low=low, high=high:
                           low < -length or high >= length))
        elif not isinstance(variable, Constant):
            checks.append((position, axis, lambda value, length: outside(value, -length, length)))

    def check(inputs):
        x = inputs[0]
        for position, axis, fails in checks:
            if fails(inputs[position], x.shape[axis]):
                raise IndexError(f"{op}: an index is out of bounds for axis {axis} of an input of shape "
                                 f"{x.shape}")

    return check


@cuda_impl.register(Subtensor)
@cuda_impl.register(AdvancedSubtensor)
@cuda_impl.register(AdvancedSubtensor1)
def subtensor(op, node, device):
    """``x[index]``: a view for integers and slices, a new array for integer arrays and masks."""
    index, check = _indexer(op, node, device, 1)

    def run(inputs, output_cells):
        check(inputs)
        output_cells[0][0] = inputs[0][index(inputs)]

    run.host_inputs = _scalar_indices(node, 1)
    return run


def _scatter_add(xp):
    """NumPy's ``add.at``, or CuPy's equivalent for a GPU (imported only then)."""
    if xp is np:
        return np.add.at
    import cupyx

    return cupyx.scatter_add


@cuda_impl.register(IncSubtensor)
@cuda_impl.register(AdvancedIncSubtensor1)
@cuda_impl.register(AdvancedIncSubtensor)
def inc_subtensor(op, node, device):
    """``x`` with ``y`` set at (or added to) ``x[index]``: in ``x`` itself when in place, else in a copy."""
    accumulate = op.accumulate and not op.set_instead_of_inc
    if accumulate and node.inputs[0].dtype not in SCATTER_ADD_DTYPES:
        return None
    xp = device.xp
    add_at = _scatter_add(xp) if accumulate else None
    index, check = _indexer(op, node, device, 2)

    def run(inputs, output_cells):
        x, y = inputs[:2]
        check(inputs)
        out = x if op.inplace else x.copy()
        where = index(inputs)
        y = xp.asarray(y, dtype=out.dtype)
        if op.set_instead_of_inc:
            out[where] = y
        elif accumulate:
            add_at(out, where, y)
        else:
            out[where] += y
        output_cells[0][0] = out

    run.host_inputs = _scalar_indices(node, 2)
    return run


# ------------------------------------------------------------------ allocation, joining, splitting


@cuda_impl.register(Alloc)
def alloc(op, node, device):
    """A new array of the node's dtype and the given shape, filled with ``value`` (broadcast)."""
    xp, out_dtype = device.xp, node.outputs[0].dtype
    readers = [host_reader(device, s) for s in node.inputs[1:]]

    def run(inputs, output_cells):
        value, *lengths = inputs
        shape = tuple(int(read(length)) for read, length in zip(readers, lengths))
        out = xp.empty(shape, dtype=out_dtype)
        try:
            out[...] = value
        except ValueError:
            raise ValueError(f"Alloc: cannot broadcast a value of shape {value.shape} to shape {shape}") from None
        output_cells[0][0] = out

    run.host_inputs = tuple(range(1, len(node.inputs)))
    return run


@cuda_impl.register(Join)
def join(op, node, device):
    """``concatenate`` along the axis, cast to the node's dtype."""
    xp, out_dtype = device.xp, node.outputs[0].dtype
    read_axis = host_reader(device, node.inputs[0])

    def run(inputs, output_cells):
        axis, *tensors = inputs
        joined = xp.concatenate(tensors, axis=int(read_axis(axis)))
        output_cells[0][0] = as_output(xp, joined, out_dtype)

    run.host_inputs = (0,)
    return run


@cuda_impl.register(Split)
def split(op, node, device):
    """Views of ``x`` cut along the axis at the running sums of the lengths."""
    xp = device.xp
    read_axis, read_splits = host_reader(device, node.inputs[1]), host_reader(device, node.inputs[2])

    def run(inputs, output_cells):
        x, axis, splits = inputs
        axis, splits = int(read_axis(axis)), read_splits(splits)
        if len(splits) != op.len_splits:
            raise ValueError(f"Split{{{op.len_splits}}}: got {len(splits)} lengths ({splits.tolist()})")
        if np.any(splits < 0) or splits.sum() != x.shape[axis]:
            raise ValueError(f"Split: the lengths {splits.tolist()} do not cut axis {axis} of length "
                             f"{x.shape[axis]}")
        pieces = xp.split(x, np.cumsum(splits)[:-1].tolist(), axis=axis)
        for cell, piece in zip(output_cells, pieces):
            cell[0] = piece

    run.host_inputs = (1, 2)
    return run
