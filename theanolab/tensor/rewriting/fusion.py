"""Elementwise fusion: a tree of Elemwise nodes becomes ONE Elemwise{Composite}.

``x * y + exp(-x) * tanh(y)`` is six elementwise nodes: run one by one, each
walks the whole arrays and allocates a full-size temporary.  Fused, it is one
node whose scalar op (:class:`theanolab.scalar.composite.Composite`) holds the
six scalar ops, evaluated in one blocked pass over the data.

What gets fused into a node: an input computed by an Elemwise whose every
client is already in the fused region (so no value is computed twice and none
has to be kept), that is not a graph output, and whose broadcast pattern is
that of the fused output (so the region's shape is one shape).  Composites
inside the region are opened and merged.  A region stops at other ops (a
DimShuffle, a reduction...), at values used elsewhere, and at
:data:`MAX_INPUTS` inputs.  A lone elemwise is left as it is.

The rule walks from the outputs towards the inputs, so each region is fused
in one step (one line of the rewrite history) from its last node.

A value used by several nodes stops a region, so after that rule a chain
like the tutorial's ``z = dot(x, w) - b; p = sigmoid(z); p > 0.5; xent(z);
gradient(p, z)`` is still five loops over the same 400 elements, each
writing a temporary the next reads.  ``multi_output_fusion`` then merges
elementwise nodes of one broadcast pattern that feed each other into ONE
node with several outputs (a Composite with one output per value needed
outside it), as PyTensor's fusion does: one loop, no temporaries, and a
subexpression shared by two of the old nodes computed once.  A node joins a
group only if that creates no cycle (none of its other inputs depends on the
group through a node outside it), and a group stays within
:data:`MAX_INPUTS` inputs and :data:`MAX_GROUP_NODES` nodes.  A group also
never makes an element go through more than :data:`MAX_CHAIN` math functions
(exp, tanh...) one after the other: each call's result feeds the next, so a
loop holding a chain waits on every call in turn, where separate loops
overlap the independent calls of neighbouring elements (measured here on
1000 float64: two chained tanh take 3.4 us in one loop, 2.9 us in two; four
take 9.4 us in one, 5.5 us in four).  Single-output fusion, which removes a
temporary the chain would otherwise write and read, keeps its chains.
"""

from __future__ import annotations

from theanolab.graph.basic import clone_replace, io_toposort
from theanolab.graph.fgraph import OUTPUT
from theanolab.graph.rewriting import WalkingRewriter, graph_rewriter, node_rewriter, register
from theanolab.scalar import basic as sb
from theanolab.scalar import math as sm
from theanolab.scalar.basic import ScalarType
from theanolab.scalar.composite import Composite
from theanolab.tensor.elemwise import Elemwise

__all__ = ["MAX_CHAIN", "MAX_GROUP_NODES", "MAX_INPUTS", "chain_length", "elemwise_fusion", "fusable_region",
           "multi_output_fusion"]

#: The most inputs a fused node takes: more would make names unreadable and regions unbounded.
MAX_INPUTS = 32

#: The most elementwise nodes one multi-output group merges (its C kernel stays small to compile).
MAX_GROUP_NODES = 16

#: The most math-library functions an element of a multi-output group goes through in a row.
MAX_CHAIN = 1

#: Scalar ops a CPU computes in a few instructions; any other op (exp, tanh, pow...) is a math call.
_CHEAP = (sb.Add, sb.Mul, sb.Sub, sb.TrueDiv, sb.IntDiv, sb.Mod, sb.Neg, sb._Extremum, sb.Second, sb.Identity,
          sb.Cast, sb._Comparison, sb._Bitwise, sb.Switch, sm.Sqr, sm.Sqrt, sm.Inv, sm.Abs, sm.Sgn,
          sm._PiecewiseConstant, sm.IsNan, sm.IsInf, sm.Clip)


def _single_elemwise(node):
    return (node is not None and isinstance(node.op, Elemwise) and not node.op.inplace_pattern
            and len(node.outputs) == 1)


def fusable_region(fgraph, root, max_inputs=MAX_INPUTS):
    """The set of Elemwise nodes that can be fused into ``root`` (``root`` included)."""
    pattern = root.outputs[0].broadcastable
    region = {root}
    outer = set(root.inputs)
    grown = True
    while grown:
        grown = False
        for var in sorted(outer, key=lambda v: v.auto_name):  # deterministic growth
            node = var.owner
            if not _single_elemwise(node) or var.broadcastable != pattern:
                continue
            if not all(client in region for client, _ in fgraph.clients[var]):
                continue
            widened = (outer - {var}) | set(node.inputs)
            if len(widened) > max_inputs:
                continue
            region.add(node)
            outer = widened
            grown = True
    return region


def _outer_inputs(root, region):
    """The region's inputs in the order a left-to-right reading of the expression meets them."""
    order, seen = [], set()
    stack = list(reversed(root.inputs))
    while stack:
        var = stack.pop()
        if var in seen:
            continue
        seen.add(var)
        if var.owner in region:
            stack.extend(reversed(var.owner.inputs))
        else:
            order.append(var)
    return order


def _scalar_outputs(node, args):
    """``node``'s scalar op applied to scalar ``args``; a composite is opened, not nested."""
    scalar_op = node.op.scalar_op
    if isinstance(scalar_op, Composite):
        return clone_replace(scalar_op.inner_outputs, dict(zip(scalar_op.inner_inputs, args)))
    return scalar_op.make_node(*args).outputs


def _composite_of(inputs, outputs, nodes):
    """The Composite computing ``outputs`` from ``inputs`` through the elementwise ``nodes`` (opened)."""
    scalar = {var: ScalarType(var.dtype)() for var in inputs}
    for inner in nodes:
        scalar.update(zip(inner.outputs, _scalar_outputs(inner, [scalar[v] for v in inner.inputs])))
    return Composite([scalar[var] for var in inputs], [scalar[var] for var in outputs])


def _traced(new, old):
    trace = old.tag.get("trace")
    if trace is not None:  # a run-time error in the fused node points at the user's line
        new.tag.trace = trace
    return new


@node_rewriter([Elemwise])
def elemwise_fusion(fgraph, node):
    """A tree of elementwise ops -> one Elemwise{Composite{...}} (one loop, no temporaries).

    Why: one loop over the data replaces one loop and one temporary array per elementwise op.
    """
    if not _single_elemwise(node):
        return None
    region = fusable_region(fgraph, node)
    if len(region) == 1:
        return None
    inputs = _outer_inputs(node, region)
    composite = _composite_of(inputs, node.outputs, io_toposort(inputs, node.outputs))
    return [_traced(Elemwise(composite).make_node(*inputs).outputs[0], node.outputs[0])]


_walk_from_outputs = WalkingRewriter([elemwise_fusion], order="out_to_in")
_walk_from_outputs.source, _walk_from_outputs.__doc__ = elemwise_fusion.source, elemwise_fusion.__doc__
register("fusion", "fast_run")(_walk_from_outputs)


class _Groups:
    """Nodes in schedule order, partitioned into groups that may run as one node without a cycle.

    Every node starts as a group of its own; ``depends[g]`` holds (as a bit
    set) the groups whose outputs group ``g`` reads.  A node may join the
    group of a producer unless one of its other inputs comes from a group
    that depends, through any path, on that producer's group: the merged
    node would then both feed and wait for that path.
    """

    def __init__(self):
        self.of = {}        # node -> group number
        self.members = []   # group number -> its nodes, in schedule order
        self.depends = []   # group number -> bit set of the groups it reads from

    def add(self, node):
        number = len(self.members)
        self.of[node] = number
        self.members.append([node])
        self.depends.append(self._read_by(node))
        return number

    def _read_by(self, node):
        bits = 0
        for var in node.inputs:
            if var.owner is not None:
                bits |= 1 << self.of[var.owner]
        return bits

    def upstream(self, group, memo):
        """The bit set of ``group`` and every group it depends on, transitively."""
        if group not in memo:
            bits, pending = 1 << group, self.depends[group]
            while pending:
                low = pending & -pending
                bits |= self.upstream(low.bit_length() - 1, memo)
                pending ^= low
            memo[group] = bits
        return memo[group]

    def may_join(self, node, group):
        """True when ``node`` (a group of its own, the newest) can join ``group`` without a cycle."""
        memo = {}
        for var in node.inputs:
            owner = var.owner
            if owner is not None and self.of[owner] != group and self.upstream(self.of[owner], memo) >> group & 1:
                return False
        return True

    def join(self, node, group):
        self.merge(group, self.of[node])

    def may_merge(self, group, other):
        """True when ``other`` (which ``group`` reads, and which does not depend on ``group``) can merge
        into ``group``: no group that ``group`` reads from outside depends on ``other``."""
        memo = {}
        pending = self.depends[group] & ~(1 << other)
        while pending:
            low = pending & -pending
            if self.upstream(low.bit_length() - 1, memo) >> other & 1:
                return False
            pending ^= low
        return True

    def merge(self, group, other):
        """Move ``other``'s nodes into ``group``; whoever read ``other`` now reads ``group``."""
        bit, other_bit = 1 << group, 1 << other
        for node in self.members[other]:
            self.of[node] = group
        self.members[group] += self.members[other]
        self.depends[group] = (self.depends[group] | self.depends[other]) & ~(bit | other_bit)
        self.members[other], self.depends[other] = [], 0
        for number, bits in enumerate(self.depends):
            if bits & other_bit:
                self.depends[number] = (bits & ~other_bit) | (bit if number != group else 0)


def _group_inputs(members):
    """The variables the group reads from outside, in order of first use."""
    inside = {out for node in members for out in node.outputs}
    return list(dict.fromkeys(var for node in members for var in node.inputs if var not in inside))


def _needed_outside(fgraph, members):
    """The group's outputs that a node outside it (or the graph's caller) reads."""
    group = set(members)
    return [node.outputs[0] for node in members
            if any(client == OUTPUT or client not in group for client, _ in fgraph.clients[node.outputs[0]])]


def chain_length(scalar_op):
    """The most math calls (non-``_CHEAP`` ops) on one path through ``scalar_op``."""
    if not isinstance(scalar_op, Composite):
        return int(not isinstance(scalar_op, _CHEAP))
    longest = {}
    for inner in io_toposort(scalar_op.inner_inputs, scalar_op.inner_outputs):
        before = max((longest.get(var, 0) for var in inner.inputs), default=0)
        for out in inner.outputs:
            longest[out] = before + chain_length(inner.op)
    return max((longest.get(var, 0) for var in scalar_op.inner_outputs), default=0)


def _elemwise_groups(fgraph):
    """Groups of at least two single-output Elemwise nodes of one broadcast pattern, each one loop."""
    order = fgraph.toposort()
    position = {node: index for index, node in enumerate(order)}
    groups = _Groups()
    chain = {}  # node -> the most math calls in a row from its group's inputs to its output
    for node in order:
        groups.add(node)
        if not _single_elemwise(node):
            continue
        own = chain[node] = chain_length(node.op.scalar_op)
        pattern = node.outputs[0].broadcastable
        producers = [var.owner for var in node.inputs if _single_elemwise(var.owner)
                     and var.broadcastable == pattern and own + chain[var.owner] <= MAX_CHAIN]
        for producer in producers:  # join the first producer's group that takes it...
            target = groups.of[producer]
            if _fits(groups.members[target] + [node]) and groups.may_join(node, target):
                groups.join(node, target)
                break
        else:
            continue
        for producer in producers:  # ...and bring in the other producers' groups that can come
            other = groups.of[producer]
            if (other != target and _fits(groups.members[target] + groups.members[other])
                    and groups.may_merge(target, other)):
                groups.merge(target, other)
        chain[node] = own + max(chain[p] for p in producers if groups.of[p] == target)
    return [sorted(members, key=position.__getitem__) for members in groups.members if len(members) > 1]


def _fits(members):
    return len(members) <= MAX_GROUP_NODES and len(_group_inputs(members)) <= MAX_INPUTS


@graph_rewriter
def multi_output_fusion(fgraph):
    """Elemwise nodes of one shape feeding each other -> one Elemwise{Composite} with several outputs

    Why: one loop over the data computes every value the group's nodes computed, with no temporaries between them.
    """
    changed = False
    for members in _elemwise_groups(fgraph):
        if any(node not in fgraph.apply_nodes for node in members):
            continue
        inputs, outputs = _group_inputs(members), _needed_outside(fgraph, members)
        fused = Elemwise(_composite_of(inputs, outputs, members)).make_node(*inputs).outputs
        pairs = [(old, _traced(new, old)) for old, new in zip(outputs, fused)]
        fgraph.replace_all(pairs, reason="multi_output_fusion")
        changed = True
    return changed


register("fusion", "fast_run")(multi_output_fusion)
