"""Long chains drawn as one box, so a 200-node gradient graph reads as its shape, not as its plumbing.

A gradient graph before optimization is mostly short runs of one-input steps
(``DimShuffle`` then ``mul`` by a constant then ``neg``...): each is a node
with an ellipse, edges and labels, and together they push the interesting
structure (where the paths meet) off the screen.  :func:`collapse_chains`
rebuilds such a graph with every maximal chain of at least ``min_length``
nodes replaced by ONE node that lists its steps in order:

- a link of a chain is a node whose single output has exactly one consumer,
  the next node, and is not a graph output;
- the next node's other inputs are leaves (inputs, constants, shared
  variables), which are wired to the chain's box;
- nodes with an inner graph (fused composites, scan) are never swallowed,
  so they keep their own expand control.

The result is a drawing only: its :class:`ChainOp` nodes cannot run.

>>> import theanolab.tensor as T
>>> x = T.dvector('x')
>>> outputs, original, members = collapse_chains([T.exp(-(x * 2)).sum()], min_length=3)
>>> str(outputs[0].owner.op).splitlines()[:2]
['5 steps:', 'InplaceDimShuffle{x}']
"""

from __future__ import annotations

from theanolab.graph.basic import Apply, io_toposort
from theanolab.graph.op import Op
from theanolab.printing import _inner_graph

__all__ = ["ChainOp", "find_chains", "collapse_chains", "CHAIN_MIN"]

#: the shortest run of nodes worth drawing as one box
CHAIN_MIN = 2


class ChainOp(Op):
    """A drawing of several ops applied one after the other (``ops``, first to last)."""

    __props__ = ("ops",)

    def __init__(self, ops):
        self.ops = tuple(ops)

    def __str__(self):
        return f"{len(self.ops)} steps:\n" + "\n".join(str(op) for op in self.ops)

    def make_node(self, *inputs):
        raise TypeError("ChainOp only draws a collapsed chain of a graph; build the graph from the real ops")

    def perform(self, node, inputs, output_storage):
        raise TypeError("ChainOp only draws a collapsed chain of a graph; it cannot run")


def _chainable(node):
    return len(node.outputs) == 1 and _inner_graph(node.op) is None


def find_chains(outputs, min_length=CHAIN_MIN):
    """The maximal chains (lists of Apply nodes, first to last) of at least ``min_length`` nodes."""
    nodes = io_toposort([], list(outputs))
    consumers = {}
    for node in nodes:
        for var in node.inputs:
            consumers.setdefault(var, []).append(node)
    returned = set(outputs)

    def successor(node):
        if not _chainable(node):
            return None
        out = node.outputs[0]
        users = consumers.get(out, [])
        if out in returned or len(users) != 1:
            return None
        following = users[0]
        if not _chainable(following) or following.inputs.count(out) != 1:
            return None
        if any(var.owner is not None for var in following.inputs if var is not out):
            return None
        return following

    following = {node: successor(node) for node in nodes}
    has_predecessor = {nxt for nxt in following.values() if nxt is not None}
    chains = []
    for node in nodes:
        if node in has_predecessor:
            continue
        chain = [node]
        while following[chain[-1]] is not None:
            chain.append(following[chain[-1]])
        if len(chain) >= min_length:
            chains.append(chain)
    return chains


def collapse_chains(outputs, min_length=CHAIN_MIN):
    """``(new_outputs, original, members)``: the graph of ``outputs`` with long chains as :class:`ChainOp` nodes.

    ``original`` maps every variable and Apply node of the new graph that
    stands for something of the old one to it (a chain's node to the LAST
    node of its chain, whose output it carries), so values, highlights and
    notes keyed by the old graph can be looked up for the new one;
    ``members`` maps each chain's node to the old nodes it stands for.
    """
    outputs = list(outputs)
    chains = find_chains(outputs, min_length)
    chain_of = {chain[-1]: chain for chain in chains}
    inside = {node for chain in chains for node in chain[:-1]}
    new = {}  # old variable -> new variable
    original = {}
    members = {}

    def mapped(var):
        return new.get(var, var)

    for node in io_toposort([], outputs):
        if node in inside:
            continue
        chain = chain_of.get(node)
        if chain is None:
            inputs = [mapped(var) for var in node.inputs]
            if all(a is b for a, b in zip(inputs, node.inputs)):
                continue  # untouched: the very same node
            rebuilt = Apply(node.op, inputs, [out.clone() for out in node.outputs])
        else:
            inputs = [mapped(var) for var in chain[0].inputs]
            for previous, step in zip(chain, chain[1:]):
                inputs += [mapped(var) for var in step.inputs if var is not previous.outputs[0]]
            rebuilt = Apply(ChainOp([step.op for step in chain]), inputs, [node.outputs[0].clone()])
            members[rebuilt] = chain
        original[rebuilt] = node
        for old, out in zip(node.outputs, rebuilt.outputs):
            new[old] = out
            original[out] = old
    return [mapped(out) for out in outputs], original, members
