"""GPU views and data movement (backends/cuda/impls/shape.py) against ``perform``: DimShuffle,
Reshape, SpecifyShape, the indexing ops and their updates (in place and not, repeated indices),
Alloc, Join and Split; with constant and run-time shapes and indices, several dtypes and layouts,
empty arrays, and the errors of ``perform``.  Views must be views (checked on the simulated device)."""

import numpy as np
import pytest
from helpers import random_array
from impl_check import check_impl, check_same_error

import theanolab.tensor as T
from theanolab.backends.cuda.dispatch import cuda_impl
from theanolab.backends.cuda.impls.shape import SCATTER_ADD_DTYPES
from theanolab.backends.cuda.impls.support import outside
from theanolab.graph.basic import Constant
from theanolab.tensor.subtensor import AdvancedIncSubtensor1

x3 = T.tensor3("x")
xm, ym = T.dmatrix("x"), T.dmatrix("y")
i, j = T.lscalars("i", "j")
v, w = T.lvectors("v", "w")
mask = T.TensorType("bool", (False, False))("mask")


def _run_time_values(node, free):
    """Values of the node's inputs: each constant's own, then ``free`` in order for the others."""
    free = iter(free)
    return [variable.data if isinstance(variable, Constant) else next(free) for variable in node.inputs]


def _check(variable, free, devices, layout="C"):
    return check_impl(variable.owner, _run_time_values(variable.owner, free), devices, layout=layout)


def _inplace(node):
    """The in-place version of an indexing-update node (what the in-place rewrite makes)."""
    op = node.op
    options = {"inplace": True, "set_instead_of_inc": op.set_instead_of_inc}
    new_op = type(op)(**options) if isinstance(op, AdvancedIncSubtensor1) else type(op)(op.idx_list, **options)
    return new_op(*node.inputs)


MATRIX = random_array((4, 5), "float64")
TENSOR = random_array((3, 4, 5), "float64")

# ------------------------------------------------------------------ views

VIEWS = {
    "transpose": (lambda: x3.dimshuffle(2, 0, 1), []),
    "new_axes": (lambda: x3.dimshuffle("x", 0, "x", 1, 2), []),
    "drop_axis": (lambda: T.TensorType("float64", (False, True, False))("b").dimshuffle(2, 0), []),
    "reshape_constant": (lambda: x3.reshape((4, 15)), []),
    "reshape_minus_one": (lambda: x3.reshape((-1, 5)), []),
    "reshape_run_time": (lambda: x3.reshape((i, -1)), [np.array([12, -1])]),  # the MakeVector
    "flatten": (lambda: x3.flatten(2), [np.array([3, -1])]),
    "specify_shape": (lambda: T.specify_shape(x3, (3, 4, 5)), []),
    "specify_run_time_shape": (lambda: T.specify_shape(x3, (i, 4, 5)), [np.array([3, 4, 5])]),
}


@pytest.mark.parametrize("layout", ["C", "F", "strided"])
@pytest.mark.parametrize("name", sorted(VIEWS))
def test_views(devices, name, layout):
    make, free = VIEWS[name]
    variable = make()
    value = TENSOR[:, :1, :] if name == "drop_axis" else TENSOR
    _check(variable, [value] + free, devices, layout=layout)


def test_reshape_and_specify_shape_errors(devices):
    for variable, free in [(x3.reshape((7, -1)), []), (x3.reshape((i, 5)), [np.array([2, 5])]),
                           (T.specify_shape(x3, (3, 4, 6)), []),
                           (T.specify_shape(x3, (i, 4, 5)), [np.array([2, 4, 5])])]:
        check_same_error(variable.owner, _run_time_values(variable.owner, [TENSOR] + free), devices)


# ------------------------------------------------------------------ reading with an index

#: the implementation's own message for an integer-array index out of range.
ARRAY_INDEX_ERROR = "an index is out of bounds for axis"

READS = {
    "slice": (lambda: xm[1:3], []),
    "integer": (lambda: xm[2], []),
    "element": (lambda: xm[1, -2], []),
    "reversed_column": (lambda: xm[::-1, 2], []),
    "run_time_slice": (lambda: xm[i:j, ::2], [np.int64(1), np.int64(-1)]),
    "run_time_element": (lambda: xm[i, j], [np.int64(-1), np.int64(3)]),
    "rows": (lambda: xm[[0, 0, 3, -1]], []),
    "run_time_rows": (lambda: xm[v], [np.array([3, 1, 3, -4])]),
    "no_rows": (lambda: xm[v], [np.array([], dtype="int64")]),
    "rows_and_columns": (lambda: xm[v, w], [np.array([0, 3]), np.array([4, -5])]),
    "columns": (lambda: xm[:, v], [np.array([1, 1, 0])]),
    "integer_and_array": (lambda: x3[1, :, v], [np.array([0, 4])]),
    "separated_arrays": (lambda: x3[v, :, w], [np.array([0, 2]), np.array([1, 4])]),
    "mask": (lambda: xm[mask], [MATRIX > 0]),
    "constant_mask": (lambda: xm[MATRIX > 0.5], []),
}


@pytest.mark.parametrize("layout", ["C", "strided"])
@pytest.mark.parametrize("name", sorted(READS))
def test_indexing(devices, name, layout):
    make, free = READS[name]
    variable = make()
    _check(variable, [TENSOR if variable.owner.inputs[0] is x3 else MATRIX] + free, devices, layout=layout)


@pytest.mark.parametrize("variable, free", [
    (xm[i], [np.int64(4)]), (xm[:, i], [np.int64(-6)]), (xm[v], [np.array([0, 4])]),
    (xm[v], [np.array([-5])]), (xm[:, v], [np.array([0, 5])]), (xm[[1, 4]], []),
    (xm[v, w], [np.array([0]), np.array([7])]),
], ids=lambda value: str(value) if not isinstance(value, list) else "")
def test_out_of_range_indices_are_index_errors(devices, variable, free):
    """Checked before indexing (CuPy would wrap an integer-array index that NumPy rejects)."""
    check_same_error(variable.owner, _run_time_values(variable.owner, [MATRIX] + free), devices, IndexError,
                     match=ARRAY_INDEX_ERROR if variable.owner.op.idx_list[-1] != "int64" else None)


# ------------------------------------------------------------------ writing through an index

UPDATES = {
    "set_slice": (lambda y: T.set_subtensor(xm[1:3], y), [(2, 5)], []),
    "inc_column": (lambda y: T.inc_subtensor(xm[:, i], y), [(4,)], [np.int64(-1)]),
    "inc_element_broadcast": (lambda y: T.inc_subtensor(xm[1:, 2:], y), [()], []),
    "inc_repeated_rows": (lambda y: T.inc_subtensor(xm[[0, 2, 0, 0]], y), [(4, 5)], []),
    "set_run_time_rows": (lambda y: T.set_subtensor(xm[v], y), [(5,)], [np.array([3, 1])]),
    "inc_run_time_rows": (lambda y: T.inc_subtensor(xm[v], y), [(3, 5)], [np.array([3, 3, -1])]),
    "inc_pairs": (lambda y: T.inc_subtensor(xm[v, w], y), [(3,)], [np.array([0, 0, 2]), np.array([1, 1, -1])]),
    "set_mask": (lambda y: T.set_subtensor(xm[mask], y), [()], [MATRIX > 0]),
    "inc_mask": (lambda y: T.inc_subtensor(xm[mask], y), [()], [MATRIX > 0]),
}


@pytest.mark.parametrize("in_place", [False, True])
@pytest.mark.parametrize("dtype", ["float32", "float64", "int32", "int64"])
@pytest.mark.parametrize("name", sorted(UPDATES))
def test_indexed_updates(devices, name, dtype, in_place):
    make, y_shapes, free = UPDATES[name]
    x, y = T.TensorType(dtype, (False, False))("x"), T.TensorType(dtype, (False,) * len(y_shapes[0]))("y")
    node = make(y).owner  # on the float64 xm: remade below on an x of the dtype
    node = _inplace(node).owner if in_place else node
    node = node.op.make_node(x, y, *node.inputs[2:])
    values = _run_time_values(node, [MATRIX.astype(dtype), random_array(y_shapes[0], dtype)] + free)
    accumulates = node.op.accumulate and not node.op.set_instead_of_inc
    if accumulates and dtype not in SCATTER_ADD_DTYPES:
        assert cuda_impl(node.op, node, devices) is None  # no atomic add of that dtype: the CPU does it
        return
    for layout in ("C", "strided"):
        check_impl(node, values, devices, layout=layout)


def test_updates_out_of_range_are_index_errors(devices):
    for variable, free in [(T.inc_subtensor(xm[v], T.dvector("y")), [MATRIX[0], np.array([4])]),
                           (T.set_subtensor(xm[v, w], 1.0), [np.array([0]), np.array([-6])])]:
        values = _run_time_values(variable.owner, [MATRIX] + free)
        check_same_error(variable.owner, values, devices, IndexError, match=ARRAY_INDEX_ERROR)


# ------------------------------------------------------------------ alloc, join, split

MOVES = {
    "alloc": (lambda: T.alloc(xm[0], 3, 4, 5), [random_array((4, 5), "float64")]),
    "alloc_run_time": (lambda: T.alloc(T.dscalar("s"), i, 3), [np.float64(2.5), np.int64(2)]),
    "alloc_empty": (lambda: T.alloc(T.dscalar("s"), i, 3), [np.float64(2.5), np.int64(0)]),
    "alloc_cast": (lambda: T.alloc(T.bscalar("s"), 2, 3), [np.int8(-3)]),
    "join_rows": (lambda: T.join(0, xm, ym), [MATRIX, MATRIX[:2]]),
    "join_last": (lambda: T.join(-1, xm, ym, xm), [MATRIX, MATRIX, MATRIX]),
    "join_run_time_axis": (lambda: T.join(i, xm, ym), [np.int64(1), MATRIX, MATRIX[:, :0]]),
    "join_mixed_dtypes": (lambda: T.join(0, T.imatrix("a"), T.fmatrix("b")),
                          [random_array((2, 3), "int32"), random_array((1, 3), "float32")]),
}


@pytest.mark.parametrize("name", sorted(MOVES))
def test_alloc_and_join(devices, name):
    make, free = MOVES[name]
    variable = make()
    node = variable.owner
    if name == "alloc":  # the value is a row of x: give the row's own node an input
        node = node.op.make_node(T.dvector("row"), *node.inputs[1:])
    check_impl(node, _run_time_values(node, free), devices)


def test_alloc_of_a_value_that_does_not_broadcast(devices):
    node = T.alloc(T.dvector("row"), 2, i).owner
    check_same_error(node, _run_time_values(node, [np.ones(3), np.int64(4)]), devices)


@pytest.mark.parametrize("layout", ["C", "F", "strided"])
@pytest.mark.parametrize("axis, lengths", [(0, [1, 3]), (1, [2, 0, 3]), (-1, [5])])
def test_split_gives_views(devices, axis, lengths, layout):
    constant = T.split(xm, lengths, len(lengths), axis=axis)[0].owner
    run_time = T.split(xm, v, len(lengths), axis=i)[0].owner
    check_impl(constant, _run_time_values(constant, [MATRIX]), devices, layout=layout)
    check_impl(run_time, [MATRIX, np.int64(axis), np.array(lengths)], devices, layout=layout)


@pytest.mark.parametrize("lengths", [[1, 2], [2, 3, -1], [1]])
def test_split_errors(devices, lengths):
    node = T.split(xm, v, 2, axis=0)[0].owner
    check_same_error(node, [MATRIX, np.int64(0), np.array(lengths)], devices)


@pytest.mark.parametrize("values, low, high, expected", [
    ([0, 3, -4], -4, 4, False), ([0, 4], -4, 4, True), ([-5, 0], -4, 4, True), ([], 0, 0, False),
    (np.array([0, 3], dtype="uint8"), -4, 4, False), (np.array([4], dtype="uint64"), -4, 4, True),
    (np.array([0, 1], dtype="uint8"), 1, 4, True),
])
def test_outside_finds_indices_out_of_range(devices, values, low, high, expected):
    indices = np.asarray(values, dtype=getattr(values, "dtype", "int64"))
    assert outside(devices.to_device(indices), low, high) is expected
