"""Shape inference as rewrites: ``x.shape[i]`` replaced by what the graph already knows.

Every Op says how its output shape follows from its inputs' shapes
(``Op.infer_shape``).  Chaining those rules from the graph's inputs gives,
for any variable, its shape as a tuple of int64 scalars built only from the
inputs' ``Shape_i`` and constants (a constant 1 wherever the broadcastable
pattern fixes the length).  :class:`ShapeFeature` computes these tuples for
the rules; the rules then replace ``Shape_i{0}(x + y)`` by ``Shape_i{0}(x)``,
so the sum need not be computed just to know its length, and turn shapes
that are known into constants that constant folding finishes.

:func:`same_shape` answers "do these two variables provably have the same
shape?", which the canonicalization rules ask before dropping a ``fill`` or
an ``alloc``.

>>> import theanolab, theanolab.tensor as T
>>> x, y = T.dmatrices('x', 'y')
>>> f = theanolab.function([x, y], (x + y).shape[0])
>>> [str(node.op) for node in f.maker.fgraph.toposort()]
['Shape_i{0}']
"""

from __future__ import annotations

import numpy as np

from theanolab import scalar as ts
from theanolab.graph.basic import Constant, io_toposort
from theanolab.graph.rewriting import node_rewriter, register
from theanolab.tensor.basic import cast
from theanolab.tensor.elemwise import Elemwise
from theanolab.tensor.shape import MakeVector, Shape, Shape_i
from theanolab.tensor.subtensor import Subtensor
from theanolab.tensor.type import TensorType
from theanolab.tensor.variable import as_tensor_variable, constant

__all__ = ["ShapeFeature", "shape_feature", "shape_of", "same_shape", "same_scalar",
           "shape_i_of_known", "shape_of_known", "index_of_shape"]


class ShapeFeature:
    """A FunctionGraph feature giving each tensor variable's symbolic shape.

    Shapes are cached only until the graph changes: a shape expression built
    before a rewrite may mention a variable the rewrite removed, and putting
    it back would resurrect a dead part of the graph.

    It also knows which lengths are equal.  An elementwise op requires its
    inputs to agree on every axis none of them declares broadcastable (Theano
    raises on a mismatch), so ``x * y`` tells that ``x`` and ``y`` have the
    same shape: :meth:`same_scalar` uses these equalities, found in every
    Elemwise node of the graph, which is what lets ``fill(x * y, y)`` become
    ``y``.  Being facts about values, which rewrites keep, equalities are
    collected once per node and kept for the whole compilation.
    """

    def __init__(self):
        self.fgraph = None
        self.cache = {}
        self._parent = {}  # union-find over the keys of equal lengths
        self._pending = []  # Elemwise nodes whose equalities are not in _parent yet

    def on_attach(self, fgraph):
        self.fgraph = fgraph
        self.cache = {}
        self._pending = [node for node in fgraph.toposort() if isinstance(node.op, Elemwise)]

    def on_import(self, fgraph, node, reason):
        if isinstance(node.op, Elemwise):
            self._pending.append(node)

    def on_step_end(self, fgraph, reason, committed):
        self.cache = {}

    def on_change_input(self, fgraph, node, i, old, new, reason):
        self.cache = {}

    def clone(self):
        return ShapeFeature()

    # ------------------------------------------------------------------ shapes

    def shape_of(self, var):
        """``var``'s shape: a tuple of int64 scalar variables (constant 1 on broadcastable axes)."""
        if var in self.cache:
            return self.cache[var]
        for node in io_toposort(set(self.cache), [var]):
            input_shapes = [self._shape_or_none(i) for i in node.inputs]
            try:
                inferred = node.op.infer_shape(node, input_shapes)
            except NotImplementedError:
                inferred = None
            for out in node.outputs:
                entries = None if inferred is None else inferred[out.index]
                self.cache[out] = _normalized(out, entries)
        if var not in self.cache:  # an input, or a constant
            self.cache[var] = _normalized(var, None)
        return self.cache[var]

    def _shape_or_none(self, var):
        if not isinstance(var.type, TensorType):
            return None
        if var not in self.cache:
            self.cache[var] = _normalized(var, None)
        return self.cache[var]

    # ------------------------------------------------------------------ equal lengths

    def same_scalar(self, a, b):
        """True if the int64 scalars ``a`` and ``b`` provably have the same value."""
        if a is b:
            return True
        self._collect_elemwise_equalities()
        return self._key(a) == self._key(b)

    def _collect_elemwise_equalities(self):
        pending, self._pending = self._pending, []
        for node in pending:
            if node not in self.fgraph.apply_nodes:
                continue
            variables = [v for v in node.inputs + node.outputs if isinstance(v.type, TensorType)]
            shapes = [self.shape_of(v) for v in variables]
            for d in range(node.outputs[0].ndim):
                keys = [self._key(s[d]) for v, s in zip(variables, shapes) if not v.broadcastable[d]]
                for key in keys[1:]:
                    self._union(keys[0], key)

    def _key(self, var, depth=8):
        """A hashable name of the value of ``var``: equal keys, equal values."""
        if isinstance(var, Constant):
            raw = ("constant", var.data.shape, tuple(var.data.ravel().tolist()))
        elif var.owner is None or depth == 0:
            raw = ("variable", var)
        elif _is_integer_widening(var.owner):
            return self._key(var.owner.inputs[0], depth - 1)
        else:
            node = var.owner
            raw = (node.op, var.index, tuple(self._key(i, depth - 1) for i in node.inputs))
        return self._find(raw)

    def _find(self, key):
        parent = self._parent.setdefault(key, key)
        while parent != key:
            grandparent = self._parent[parent]
            self._parent[key] = grandparent
            key, parent = parent, grandparent
        return key

    def _union(self, a, b):
        a, b = self._find(a), self._find(b)
        if a != b:
            self._parent[b] = a


def _is_integer_widening(node):
    """A cast from one integer dtype to a wider one: the value does not change."""
    if not (isinstance(node.op, Elemwise) and isinstance(node.op.scalar_op, ts.Cast)):
        return False
    source, target = node.inputs[0].dtype, node.outputs[0].dtype
    return source in ts.DISCRETE and target in ts.DISCRETE and np.can_cast(source, target, "safe")


def _normalized(var, entries):
    """``entries`` as int64 scalars, or ``var``'s own ``Shape_i`` where nothing better is known."""
    if not isinstance(var.type, TensorType):
        return None
    if isinstance(var, Constant):
        return tuple(constant(n, dtype="int64") for n in var.data.shape)
    result = []
    for d in range(var.ndim):
        if var.broadcastable[d]:
            result.append(constant(1, dtype="int64"))
            continue
        entry = None if entries is None else as_tensor_variable(entries[d])
        if entry is None or entry.ndim != 0:
            entry = Shape_i(d)(var)
        result.append(cast(entry, "int64"))
    return tuple(result)


def shape_feature(fgraph):
    """The graph's ShapeFeature, attached on first use."""
    for feature in fgraph.features:
        if isinstance(feature, ShapeFeature):
            return feature
    feature = ShapeFeature()
    fgraph.attach_feature(feature)
    return feature


def shape_of(fgraph, var):
    """The symbolic shape of ``var`` in ``fgraph`` (see :class:`ShapeFeature`)."""
    return shape_feature(fgraph).shape_of(var)


def same_scalar(fgraph, a, b):
    """True if the int64 scalars ``a`` and ``b`` provably have the same value in ``fgraph``."""
    return shape_feature(fgraph).same_scalar(a, b)


def same_shape(fgraph, a, b):
    """True if ``a`` and ``b`` provably have the same shape whenever ``fgraph`` runs."""
    if a.ndim != b.ndim:
        return False
    feature = shape_feature(fgraph)
    return all(feature.same_scalar(x, y) for x, y in zip(feature.shape_of(a), feature.shape_of(b)))


def _is_own_shape_i(entry, var, d):
    node = entry.owner
    return node is not None and node.op == Shape_i(d) and node.inputs[0] is var


# ----------------------------------------------------------------------------- rules


@register("canonicalize", "fast_run", "shape")
@node_rewriter([Shape_i])
def shape_i_of_known(fgraph, node):
    """Shape_i{i}(x) -> the length that infer_shape gives from x's inputs

    Why: a length known from the inputs needs no array to measure, and later rules can fold it into constants.
    """
    (var,) = node.inputs
    if var.owner is None:
        return None
    entry = shape_of(fgraph, var)[node.op.i]
    if _is_own_shape_i(entry, var, node.op.i):
        return None
    return [entry]


@register("canonicalize", "fast_run", "shape")
@node_rewriter([Shape])
def shape_of_known(fgraph, node):
    """Shape(x) -> make_vector(lengths of x), where infer_shape knows more than Shape_i(x)

    Why: a shape built from known lengths lets later rules compare and fold shapes without running anything.
    """
    (var,) = node.inputs
    if var.owner is None:
        return None
    entries = shape_of(fgraph, var)
    if not entries:
        return [constant(np.zeros(0, dtype="int64"))]
    if all(_is_own_shape_i(e, var, d) for d, e in enumerate(entries)):
        return None
    return [MakeVector("int64")(*entries)]


def _constant_index(node):
    """The integer index of ``v[i]`` (a Subtensor with one constant integer), or None."""
    if not isinstance(node.op, Subtensor) or len(node.op.idx_list) != 1:
        return None
    if not isinstance(node.op.idx_list[0], str) or len(node.inputs) != 2:
        return None
    index = node.inputs[1]
    return int(index.data) if isinstance(index, Constant) else None


@register("canonicalize", "fast_run", "shape")
@node_rewriter([Subtensor])
def index_of_shape(fgraph, node):
    """Shape(x)[i] -> Shape_i{i}(x) (or what is known); make_vector(a, b)[1] -> b

    Why: reading one length directly avoids building the whole shape vector just to index it.
    """
    index = _constant_index(node)
    vector = node.inputs[0]
    if index is None or vector.owner is None:
        return None
    op = vector.owner.op
    if isinstance(op, Shape):
        entries = shape_of(fgraph, vector.owner.inputs[0])
    elif isinstance(op, MakeVector):
        entries = vector.owner.inputs
    else:
        return None
    if not -len(entries) <= index < len(entries):
        return None  # out of range: leave the error to run time
    return [cast(entries[index], node.outputs[0].dtype)]
