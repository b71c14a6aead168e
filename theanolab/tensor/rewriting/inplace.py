"""In-place elementwise: write a result over an input that nothing needs afterwards.

``exp(dot(a, b)) * 2``: the product is a temporary used once, so ``exp`` can
write its result into the product's memory, and the multiplication into
that again, and the function allocates one array instead of three.  The
rewrite turns ``Elemwise(op)`` into ``Elemwise(op, inplace_pattern={output:
input})`` (printed ``Elemwise{exp}[(0, 0)]``), fused composites included.

Which input may be overwritten is the :class:`DestroyHandler`'s decision
(:mod:`theanolab.graph.destroyhandler`): never a function argument, a shared
variable's value, a constant or an output, and only a value whose one
consumer is this node (directly or through views).  The handler is attached
to the graph the first time the rule runs, and it validates every later
change, so no other rewrite can bring a second reader of a destroyed value.
"""

from __future__ import annotations

from theanolab.graph.destroyhandler import ensure_destroy_handler
from theanolab.graph.rewriting import node_rewriter, register
from theanolab.tensor.elemwise import Elemwise

__all__ = ["elemwise_inplace"]


@node_rewriter([Elemwise])
def elemwise_inplace(fgraph, node):
    """Elemwise{op,no_inplace}(t, ...) -> Elemwise{op}[(0, 0)](t, ...) where t is needed by nobody else.

    Why: nothing else reads t, so writing the result over it saves allocating a new array.
    """
    if node.op.inplace_pattern:
        return None
    handler = ensure_destroy_handler(fgraph)
    pattern, used = {}, set()
    for k, out in enumerate(node.outputs):
        for i, var in enumerate(node.inputs):
            if i not in used and var.type == out.type and handler.refusal(node, i) is None:
                pattern[k] = i
                used.add(i)
                break
    if not pattern:
        return None
    outputs = Elemwise(node.op.scalar_op, pattern).make_node(*node.inputs).outputs
    for old, new in zip(node.outputs, outputs):
        new.tag = type(old.tag)(old.tag)  # keeps the user's line for run-time errors
    return outputs


register("inplace", "fast_run")(elemwise_inplace)
