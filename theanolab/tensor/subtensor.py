"""Indexing: ``x[...]`` and ``set_subtensor`` / ``inc_subtensor``.

``x[index]`` follows NumPy.  Basic indexing (integers and slices, whose
bounds may be symbolic) builds a :class:`Subtensor`, whose output is a view;
one integer vector on the first axis builds :class:`AdvancedSubtensor1`;
anything else with integer arrays or boolean masks builds
:class:`AdvancedSubtensor`.  ``None`` (``numpy.newaxis``) first inserts a
broadcastable dimension with a DimShuffle, which turns it into a full slice.

Each op keeps the *structure* of its index in ``idx_list`` (one entry per
indexed position: the dtype of a scalar index, a :class:`SliceSpec`, or an
:class:`ArraySpec`) and takes the index values as inputs, so one compiled
graph serves every value of a symbolic index.  The printed names are
Theano's: ``x[1:3]`` is ``Subtensor{int64:int64:}``.

>>> import theanolab.tensor as T
>>> x = T.dmatrix('x')
>>> x[1:3].owner.op, x[0].owner.op
(Subtensor{int64:int64:}, Subtensor{int64})
>>> T.set_subtensor(x[0], T.dvector('y')).owner.op
IncSubtensor{Set;int64}
"""

from __future__ import annotations

import numbers
import operator
from typing import NamedTuple

import numpy as np

from theanolab.graph.basic import Apply, Constant, Variable
from theanolab.graph.op import Op
from theanolab.scalar.basic import DISCRETE, INTEGER
from theanolab.tensor import math as tm
from theanolab.tensor.basic import cast, unbroadcast_sum, zeros_like, zeros_like_float
from theanolab.tensor.elemwise import DimShuffle
from theanolab.tensor.type import TensorType
from theanolab.tensor.variable import as_tensor_variable, constant

__all__ = ["Subtensor", "IncSubtensor", "AdvancedSubtensor1", "AdvancedIncSubtensor1", "AdvancedSubtensor",
           "AdvancedIncSubtensor", "SliceSpec", "ArraySpec", "getitem", "set_subtensor", "inc_subtensor",
           "advanced_subtensor1", "advanced_inc_subtensor1", "advanced_set_subtensor1"]


class SliceSpec(NamedTuple):
    """A slice in an ``idx_list``: the dtype of each given bound, None where it is omitted."""

    start: str | None
    stop: str | None
    step: str | None

    def __str__(self):
        return ":".join("" if part is None else part for part in self)


class ArraySpec(NamedTuple):
    """An integer array (``mask=False``) or a boolean mask in an ``idx_list``."""

    mask: bool


# ------------------------------------------------------------------- index structure


def _width(entry):
    """How many op inputs an ``idx_list`` entry takes."""
    if isinstance(entry, SliceSpec):
        return sum(part is not None for part in entry)
    return 1


def _group(idx_list, values):
    """Split the flat index inputs (symbols or run-time values) into one group per entry."""
    groups, position = [], 0
    for entry in idx_list:
        if isinstance(entry, SliceSpec):
            group = []
            for part in entry:
                group.append(None if part is None else values[position])
                position += part is not None
            groups.append(group)
        else:
            groups.append(values[position])
            position += 1
    return groups


def _numpy_index(idx_list, values):
    """The NumPy index tuple for run-time index values."""
    index = []
    for entry, group in zip(idx_list, _group(idx_list, values)):
        if isinstance(entry, SliceSpec):
            index.append(slice(*(None if v is None else int(v) for v in group)))
        elif isinstance(entry, ArraySpec):
            index.append(group)
        else:
            index.append(int(group))
    return tuple(index)


def _plan(idx_list, index, x_ndim, x_name):
    """Where each output dimension comes from.

    Returns ``(dims, block)``: ``dims`` lists, in output order, ``(axis, slice
    group or None)`` for a dimension of ``x`` kept (sliced or not) and
    ``None`` for the place of the advanced block; ``block`` lists the symbolic
    advanced indices (arrays, masks, and scalars when arrays are present).
    As in NumPy, the advanced block goes first when advanced indices are not
    adjacent.
    """
    advanced = any(isinstance(e, ArraySpec) for e in idx_list)
    dims, block, block_positions, axis = [], [], [], 0
    for position, (entry, group) in enumerate(zip(idx_list, _group(idx_list, index))):
        if isinstance(entry, SliceSpec):
            dims.append((axis, group))
            axis += 1
        elif advanced:
            if not block:
                dims.append(None)
            block.append(group)
            block_positions.append(position)
            axis += group.ndim if isinstance(entry, ArraySpec) and entry.mask else 1
        else:
            axis += 1
    if axis > x_ndim:
        raise IndexError(f"too many indices for {x_name}: it has {x_ndim} dimension(s) but the index "
                         f"uses {axis}")
    dims.extend((a, None) for a in range(axis, x_ndim))
    if block_positions and block_positions[-1] - block_positions[0] != len(block_positions) - 1:
        dims.remove(None)
        dims.insert(0, None)
    return dims, block


def _block_pattern(block):
    """The broadcastable pattern of the advanced block: the index arrays broadcast together.

    A mask stands for one vector of unknown length (its True positions).
    """
    patterns = [(False,) if v.dtype == "bool" else v.broadcastable for v in block]
    ndim = max(len(p) for p in patterns)
    padded = [(True,) * (ndim - len(p)) + p for p in patterns]
    return tuple(all(p[d] for p in padded) for d in range(ndim))


def _unit_slice(group):
    """True if a slice with these constant-or-symbolic bounds keeps a length-1 dimension at length 1."""
    if any(part is not None and not isinstance(part, Constant) for part in group):
        return False
    bounds = [None if part is None else int(part.data) for part in group]
    return len(range(1)[slice(*bounds)]) == 1


def _output_pattern(idx_list, x, index):
    dims, block = _plan(idx_list, index, x.ndim, x)
    pattern = []
    for dim in dims:
        if dim is None:
            pattern.extend(_block_pattern(block))
            continue
        axis, group = dim
        pattern.append(x.broadcastable[axis] and (group is None or _unit_slice(group)))
    return tuple(pattern)


# ------------------------------------------------------------------- symbolic lengths


def _as_int64(value):
    return cast(value, "int64")


def _static(value):
    """A Python int for a constant scalar, else None."""
    return int(value.data) if isinstance(value, Constant) else None


def _wrap(index, length):
    """``index`` with a negative value counted from the end."""
    known = _static(index)
    if known is not None:
        return index + length if known < 0 else index
    return tm.switch(tm.lt(index, 0), index + length, index)


def _bounded(index, length, low, high):
    return tm.minimum(tm.maximum(_wrap(_as_int64(index), length), low), high)


def _forward_length(start, stop, step, length):
    first = 0 if start is None else _bounded(start, length, 0, length)
    end = length if stop is None else _bounded(stop, length, 0, length)
    return tm.maximum((end - first + step - 1) // step, 0)


def _backward_length(start, stop, step, length):
    first = length - 1 if start is None else _bounded(start, length, -1, length - 1)
    end = -1 if stop is None else _bounded(stop, length, -1, length - 1)
    return tm.maximum((first - end - step - 1) // -step, 0)


def _slice_length(group, length):
    """The symbolic length of ``range(length)[start:stop:step]``, as Python computes it."""
    start, stop, step = group
    if start is None and stop is None and step is None:
        return length
    known_step = 1 if step is None else _static(step)
    if known_step is not None:
        step_value = constant(known_step, dtype="int64")
        chosen = _forward_length if known_step > 0 else _backward_length
        return chosen(start, stop, step_value, length)
    step = _as_int64(step)
    return tm.switch(tm.gt(step, 0), _forward_length(start, stop, step, length),
                     _backward_length(start, stop, step, length))


def _broadcast_length(lengths):
    """The broadcast of lengths that are known to broadcast together."""
    total = lengths[0]
    for length in lengths[1:]:
        total = tm.switch(tm.eq(total, 1), length, total)
    return total


def _block_shape(block, shapes):
    """The symbolic lengths of the advanced block (see :func:`_block_pattern`)."""
    members = [((_as_int64(v.sum()),), (False,)) if v.dtype == "bool" else (shapes[v], v.broadcastable)
               for v in block]
    ndim = max(len(pattern) for _, pattern in members)
    result = []
    for d in range(ndim):
        unknown = [shape[d - ndim + len(shape)] for shape, pattern in members
                   if d >= ndim - len(shape) and not pattern[d - ndim + len(shape)]]
        result.append(_broadcast_length(unknown) if unknown else constant(1, dtype="int64"))
    return result


def _output_shape(idx_list, node, input_shapes):
    x, *index = node.inputs
    shapes = dict(zip(index, input_shapes[1:]))
    dims, block = _plan(idx_list, index, x.ndim, x)
    result = []
    for dim in dims:
        if dim is None:
            result.extend(_block_shape(block, shapes))
            continue
        axis, group = dim
        length = input_shapes[0][axis]
        result.append(length if group is None else _slice_length(group, length))
    return [tuple(result)]


# ------------------------------------------------------------------- checking index inputs


def _known_length(x, axis):
    """The length of ``x`` along ``axis`` when the graph fixes it, else None."""
    if isinstance(x, Constant):
        return x.data.shape[axis]
    return 1 if x.broadcastable[axis] else None


def _check_index_inputs(op, x, index):
    """Convert and check index inputs against ``op.idx_list``; return them as tensors."""
    expected = sum(_width(e) for e in op.idx_list)
    if len(index) != expected:
        raise TypeError(f"{op} takes {expected} index input(s), got {len(index)}")
    index = [as_tensor_variable(i) for i in index]
    for entry, group in zip(op.idx_list, _group(op.idx_list, index)):
        if isinstance(entry, ArraySpec):
            wanted = "a boolean mask" if entry.mask else "an integer array"
            ok = (group.dtype == "bool") if entry.mask else (group.dtype in INTEGER)
            if not ok or group.ndim < 1:
                raise TypeError(f"{op} expects {wanted} to index {x}, got {group} ({group.type})")
            continue
        parts = zip(entry, group) if isinstance(entry, SliceSpec) else [(entry, group)]
        for dtype, var in parts:
            if dtype is not None and (var.ndim != 0 or var.dtype != dtype):
                raise TypeError(f"{op} expects an {dtype} scalar to index {x}, got {var} ({var.type})")
    _check_known_bounds(op.idx_list, x, index)
    return index


def _check_known_bounds(idx_list, x, index):
    """Reject constant indices that are out of range of a dimension whose length is known."""
    axis = 0
    for entry, group in zip(idx_list, _group(idx_list, index)):
        if isinstance(entry, SliceSpec):
            if entry.step is not None and _static(group[2]) == 0:
                raise ValueError(f"slice step cannot be zero (indexing {x})")
        elif not (isinstance(entry, ArraySpec) and entry.mask) and axis < x.ndim:
            length = _known_length(x, axis)
            if length is not None and isinstance(group, Constant) and group.data.size:
                for value in (int(group.data.min()), int(group.data.max())):
                    if not -length <= value < length:
                        raise IndexError(f"index {value} is out of bounds for axis {axis} of {x}, "
                                         f"which has length {length}")
        axis += group.ndim if isinstance(entry, ArraySpec) and entry.mask else 1


def _basic_only(name, idx_list):
    idx_list = tuple(idx_list)
    if any(isinstance(e, ArraySpec) for e in idx_list):
        raise TypeError(f"{name} takes integers and slices; integer arrays and masks need the Advanced ops")
    return idx_list


def _format_idx_list(idx_list):
    return ", ".join(str(entry) for entry in idx_list)


# ------------------------------------------------------------------- ops


class _Indexing(Op):
    """``x[index]``: the part of the ops below that does not depend on the kind of index."""

    __props__ = ("idx_list",)

    def __init__(self, idx_list):
        self.idx_list = tuple(idx_list)

    @classmethod
    def for_index(cls, idx_list):
        return cls(idx_list)

    def make_node(self, x, *index):
        x = as_tensor_variable(x)
        index = _check_index_inputs(self, x, index)
        pattern = _output_pattern(self.idx_list, x, index)
        return Apply(self, [x, *index], [TensorType(x.dtype, pattern)()])

    def perform(self, node, inputs, output_storage):
        x, *index = inputs
        output_storage[0][0] = np.asarray(x[_numpy_index(self.idx_list, index)])

    def infer_shape(self, node, input_shapes):
        return _output_shape(self.idx_list, node, input_shapes)

    def update_op(self, set_instead_of_inc):
        """The op writing into (or adding to) the part of ``x`` this op reads."""
        return _UPDATE_OF[type(self)].for_index(self.idx_list, set_instead_of_inc)

    def grad(self, inputs, output_grads):
        x, *index = inputs
        if x.dtype in DISCRETE:
            return [zeros_like_float(x)] + [None] * len(index)
        gx = self.update_op(set_instead_of_inc=False)(zeros_like(x), output_grads[0], *index)
        return [gx] + [None] * len(index)

    def R_op(self, inputs, eval_points):
        if eval_points[0] is None:
            return [None]
        return [self(eval_points[0], *inputs[1:])]


class Subtensor(_Indexing):
    """Basic indexing (integers and slices); the output is a view of ``x``."""

    view_map = {0: [0]}

    def __init__(self, idx_list):
        super().__init__(_basic_only("Subtensor", idx_list))

    def __str__(self):
        return f"Subtensor{{{_format_idx_list(self.idx_list)}}}"


_ONE_VECTOR = (ArraySpec(False),)


class AdvancedSubtensor1(_Indexing):
    """``x[v]`` for one integer vector ``v`` along the first axis."""

    def __init__(self):
        super().__init__(_ONE_VECTOR)

    @classmethod
    def for_index(cls, idx_list):
        return cls()

    def make_node(self, x, ilist):
        node = super().make_node(x, ilist)
        if node.inputs[1].ndim != 1:
            raise TypeError(f"AdvancedSubtensor1 needs an integer vector, got {ilist} ({node.inputs[1].type})")
        return node

    def perform(self, node, inputs, output_storage):
        x, ilist = inputs
        output_storage[0][0] = np.take(x, ilist, axis=0)

    def __str__(self):
        return "AdvancedSubtensor1"


class AdvancedSubtensor(_Indexing):
    """Indexing with integer arrays and/or boolean masks, mixed with integers and slices."""

    def __str__(self):
        has_mask = any(isinstance(e, ArraySpec) and e.mask for e in self.idx_list)
        return "AdvancedBooleanSubtensor" if has_mask else "AdvancedSubtensor"


class _IndexedUpdate(Op):
    """``x`` with ``x[index]`` replaced by (or increased by) ``y``.

    ``y`` broadcasts to the shape of ``x[index]`` and is cast to the dtype of
    ``x``.  With ``accumulate`` (advanced indices) a repeated position
    receives every increment, like ``numpy.add.at``.
    """

    __props__ = ("idx_list", "inplace", "set_instead_of_inc")
    accumulate = False

    def __init__(self, idx_list, inplace=False, set_instead_of_inc=False):
        self.idx_list = tuple(idx_list)
        self.inplace = bool(inplace)
        self.set_instead_of_inc = bool(set_instead_of_inc)
        self.destroy_map = {0: [0]} if self.inplace else {}

    @classmethod
    def for_index(cls, idx_list, set_instead_of_inc):
        return cls(idx_list, set_instead_of_inc=set_instead_of_inc)

    def make_node(self, x, y, *index):
        x, y = as_tensor_variable(x), as_tensor_variable(y)
        index = _check_index_inputs(self, x, index)
        target_ndim = len(_output_pattern(self.idx_list, x, index))
        if y.ndim > target_ndim:
            raise TypeError(f"Trying to increment a {target_ndim}-dimensional subtensor with a "
                            f"{y.ndim}-dimensional value ({y}).")
        return Apply(self, [x, y, *index], [x.type()])

    def perform(self, node, inputs, output_storage):
        x, y, *index = inputs
        out = x if self.inplace else x.copy()
        where = _numpy_index(self.idx_list, index)
        y = np.asarray(y).astype(out.dtype, copy=False)
        if self.set_instead_of_inc:
            out[where] = y
        elif self.accumulate:
            np.add.at(out, where, y)
        else:
            out[where] += y
        output_storage[0][0] = out

    def infer_shape(self, node, input_shapes):
        return [input_shapes[0]]

    def reading_op(self):
        """The op that reads the part of ``x`` this op writes."""
        return _READ_OF[type(self)].for_index(self.idx_list)

    def grad(self, inputs, output_grads):
        x, y, *index = inputs
        (gz,) = output_grads
        if x.dtype in DISCRETE:
            gx = zeros_like_float(x)
        elif self.set_instead_of_inc:
            gx = self.for_index(self.idx_list, True)(gz, constant(0, dtype=gz.dtype), *index)
        else:
            gx = gz
        if y.dtype in DISCRETE:
            gy = zeros_like_float(y)
        else:
            gy = unbroadcast_sum(self.reading_op()(gz, *index), y)
        return [gx, gy] + [None] * len(index)

    def R_op(self, inputs, eval_points):
        x, y, *index = inputs
        ex, ey = eval_points[:2]
        if ex is None and ey is None:
            return [None]
        ex = zeros_like(x) if ex is None else ex
        ey = zeros_like(y) if ey is None else ey
        return [self(ex, ey, *index)]


class IncSubtensor(_IndexedUpdate):
    """``set_subtensor`` / ``inc_subtensor`` through integers and slices."""

    def __init__(self, idx_list, inplace=False, set_instead_of_inc=False):
        super().__init__(_basic_only("IncSubtensor", idx_list), inplace, set_instead_of_inc)

    def __str__(self):
        mode = ("Inplace" if self.inplace else "") + ("Set" if self.set_instead_of_inc else "Inc")
        return f"IncSubtensor{{{mode};{_format_idx_list(self.idx_list)}}}"


class AdvancedIncSubtensor1(_IndexedUpdate):
    """``set_subtensor`` / ``inc_subtensor`` through one integer vector on the first axis."""

    accumulate = True

    def __init__(self, inplace=False, set_instead_of_inc=False):
        super().__init__(_ONE_VECTOR, inplace, set_instead_of_inc)

    @classmethod
    def for_index(cls, idx_list, set_instead_of_inc):
        return cls(set_instead_of_inc=set_instead_of_inc)

    def __str__(self):
        return (f"AdvancedIncSubtensor1{{{'inplace' if self.inplace else 'no_inplace'},"
                f"{'set' if self.set_instead_of_inc else 'inc'}}}")


class AdvancedIncSubtensor(_IndexedUpdate):
    """``set_subtensor`` / ``inc_subtensor`` through integer arrays and boolean masks."""

    accumulate = True

    def __str__(self):
        has_mask = any(isinstance(e, ArraySpec) and e.mask for e in self.idx_list)
        name = "AdvancedBooleanIncSubtensor" if has_mask else "AdvancedIncSubtensor"
        return f"{name}{{inplace={self.inplace},  set_instead_of_inc={self.set_instead_of_inc}}}"


_UPDATE_OF = {Subtensor: IncSubtensor, AdvancedSubtensor1: AdvancedIncSubtensor1,
              AdvancedSubtensor: AdvancedIncSubtensor}
_READ_OF = {update: read for read, update in _UPDATE_OF.items()}


def advanced_subtensor1(x, ilist):
    """``x[ilist]`` for an integer vector ``ilist``."""
    return AdvancedSubtensor1()(x, ilist)


def advanced_inc_subtensor1(x, y, ilist):
    """``x`` with ``y`` added at the rows ``ilist`` (repeated rows add up)."""
    return AdvancedIncSubtensor1()(x, y, ilist)


def advanced_set_subtensor1(x, y, ilist):
    """``x`` with the rows ``ilist`` replaced by ``y``."""
    return AdvancedIncSubtensor1(set_instead_of_inc=True)(x, y, ilist)


# ------------------------------------------------------------------- x[index]


def _index_tensor(item, x):
    """One index item (not a slice, None or Ellipsis) as a tensor, or a TypeError naming ``x``."""
    if isinstance(item, (bool, np.bool_)):
        raise TypeError(f"a Python bool ({item}) cannot index {x}; use a boolean array as a mask")
    if isinstance(item, (numbers.Integral, np.integer)):
        return constant(int(item), dtype="int64")
    if isinstance(item, Variable):
        item = as_tensor_variable(item)
    elif isinstance(item, np.ndarray) or (isinstance(item, (list, tuple))
                                          and not any(isinstance(i, Variable) for i in item)):
        data = np.asarray(item)
        if data.size == 0 and data.dtype.kind == "f":
            data = data.astype("int64")
        if data.dtype.kind in "iu":
            data = data.astype("int64")
        item = constant(data)
    elif isinstance(item, (list, tuple)):
        item = as_tensor_variable(item)
    else:
        raise TypeError(f"index must be integers, slices or a boolean mask; got {item!r} to index {x}")
    if item.dtype in INTEGER or (item.dtype == "bool" and item.ndim > 0):
        return item
    raise TypeError(f"index must be integers or a boolean mask; got {item} ({item.type}) to index {x}")


def _slice_part(part, x):
    if part is None:
        return None
    if not isinstance(part, Variable):
        try:
            if isinstance(part, (bool, np.bool_)):
                raise TypeError
            part = operator.index(part)
        except TypeError:
            raise TypeError(f"slice indices must be integers or None; got {part!r} to index {x}") from None
    part = _index_tensor(part, x)
    if part.ndim != 0:
        raise TypeError(f"slice indices must be integer scalars; got {part} ({part.type}) to index {x}")
    return part


def _consumes(item):
    """How many dimensions of ``x`` an index item uses."""
    if item is None:
        return 0
    if isinstance(item, Variable) and item.dtype == "bool":
        return item.ndim
    return 1


def _parse(x, index):
    """The index as a list of slices (of symbols), tensors and None, with ``...`` expanded."""
    items = list(index) if isinstance(index, tuple) else [index]
    if sum(item is Ellipsis for item in items) > 1:
        raise IndexError(f"an index can only have a single Ellipsis (`...`); got {index!r} to index {x}")
    parsed = []
    for item in items:
        if item is None or item is Ellipsis:
            parsed.append(item)
        elif isinstance(item, slice):
            parsed.append(slice(*(_slice_part(p, x) for p in (item.start, item.stop, item.step))))
        else:
            parsed.append(_index_tensor(item, x))
    used = sum(_consumes(item) for item in parsed if item is not Ellipsis)
    if used > x.ndim:
        raise IndexError(f"too many indices for {x}: it has {x.ndim} dimension(s) but the index uses {used}")
    if Ellipsis in parsed:
        at = parsed.index(Ellipsis)
        parsed[at:at + 1] = [slice(None)] * (x.ndim - used)
    return parsed


def _insert_new_axes(x, parsed):
    """Turn each None into a full slice over a new broadcastable dimension of ``x``."""
    if not any(item is None for item in parsed):
        return x, parsed
    order, axis = [], 0
    for item in parsed:
        if item is None:
            order.append("x")
        else:
            order.extend(range(axis, axis + _consumes(item)))
            axis += _consumes(item)
    order.extend(range(axis, x.ndim))
    padded = x.dimshuffle(order)
    padded.tag.newaxis_padding = True
    return padded, [slice(None) if item is None else item for item in parsed]


def _idx_list(parsed):
    """``(idx_list, inputs)`` for parsed index items."""
    idx_list, inputs = [], []
    for item in parsed:
        if isinstance(item, slice):
            parts = (item.start, item.stop, item.step)
            idx_list.append(SliceSpec(*(None if p is None else p.dtype for p in parts)))
            inputs.extend(p for p in parts if p is not None)
        elif item.ndim == 0:
            idx_list.append(item.dtype)
            inputs.append(item)
        else:
            idx_list.append(ArraySpec(item.dtype == "bool"))
            inputs.append(item)
    return idx_list, inputs


def getitem(x, index):
    """``x[index]`` with NumPy's meaning; see the module docstring."""
    x = as_tensor_variable(x)
    parsed = _parse(x, index)
    if not parsed:
        return x
    x, parsed = _insert_new_axes(x, parsed)
    idx_list, inputs = _idx_list(parsed)
    if idx_list == list(_ONE_VECTOR) and inputs[0].ndim == 1:
        return AdvancedSubtensor1()(x, inputs[0])
    if any(isinstance(e, ArraySpec) for e in idx_list):
        return AdvancedSubtensor(idx_list)(x, *inputs)
    return Subtensor(idx_list)(x, *inputs)


# ------------------------------------------------------------------- set / inc


def inc_subtensor(x, y, inplace=False, set_instead_of_inc=False, tolerate_inplace_aliasing=False):
    """The whole tensor that ``x = a[index]`` was taken from, with ``y`` added to that part.

    >>> import theanolab, theanolab.tensor as T
    >>> a = T.dvector('a')
    >>> f = theanolab.function([a], T.inc_subtensor(a[[0, 0, 2]], 1.0))
    >>> f([0.0, 0.0, 0.0]).tolist()
    [2.0, 0.0, 1.0]

    ``inplace`` and ``tolerate_inplace_aliasing`` are accepted for Theano
    compatibility; in-place updates are introduced by the rewrites.
    """
    x = as_tensor_variable(x)
    if x.owner is None or not isinstance(x.owner.op, _Indexing):
        raise TypeError(f"x must be the result of a subtensor operation (a[...]), got {x}")
    base, *index = x.owner.inputs
    y = as_tensor_variable(y)
    if y.ndim > x.ndim:
        raise TypeError(f"Trying to increment a {x.ndim}-dimensional subtensor with a {y.ndim}-dimensional "
                        f"value ({y}).")
    result = x.owner.op.update_op(set_instead_of_inc)(base, y, *index)
    if base.owner is not None and isinstance(base.owner.op, DimShuffle) and base.tag.get("newaxis_padding"):
        # The index had None: drop the dimensions it added to get back the shape of the original.
        result = result.dimshuffle([i for i, d in enumerate(base.owner.op.new_order) if d != "x"])
    return result


def set_subtensor(x, y, inplace=False, tolerate_inplace_aliasing=False):
    """The whole tensor that ``x = a[index]`` was taken from, with that part replaced by ``y``.

    >>> import theanolab, theanolab.tensor as T
    >>> a = T.dmatrix('a')
    >>> f = theanolab.function([a], T.set_subtensor(a[:, 0], 5.0))
    >>> f([[1.0, 2.0], [3.0, 4.0]]).tolist()
    [[5.0, 2.0], [5.0, 4.0]]
    """
    return inc_subtensor(x, y, inplace, set_instead_of_inc=True,
                         tolerate_inplace_aliasing=tolerate_inplace_aliasing)
