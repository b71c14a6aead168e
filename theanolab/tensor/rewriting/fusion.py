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
"""

from __future__ import annotations

from theanolab.graph.basic import clone_replace, io_toposort
from theanolab.graph.rewriting import WalkingRewriter, node_rewriter, register
from theanolab.scalar.basic import ScalarType
from theanolab.scalar.composite import Composite
from theanolab.tensor.elemwise import Elemwise

__all__ = ["MAX_INPUTS", "elemwise_fusion", "fusable_region"]

#: The most inputs a fused node takes: more would make names unreadable and regions unbounded.
MAX_INPUTS = 32


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
    scalar = {var: ScalarType(var.dtype)() for var in inputs}
    for inner in io_toposort(inputs, node.outputs):
        scalar.update(zip(inner.outputs, _scalar_outputs(inner, [scalar[v] for v in inner.inputs])))
    composite = Composite([scalar[var] for var in inputs], [scalar[node.outputs[0]]])
    fused = Elemwise(composite).make_node(*inputs).outputs[0]
    trace = node.outputs[0].tag.get("trace")
    if trace is not None:  # a run-time error in the fused node points at the user's line
        fused.tag.trace = trace
    return [fused]


_walk_from_outputs = WalkingRewriter([elemwise_fusion], order="out_to_in")
_walk_from_outputs.source, _walk_from_outputs.__doc__ = elemwise_fusion.source, elemwise_fusion.__doc__
register("fusion", "fast_run")(_walk_from_outputs)
