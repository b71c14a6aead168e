"""FAST_RUN's in-place draw: advance a shared generator instead of copying it.

``RandomFunction`` draws from a copy of its input generator (about 100 us
for a NumPy ``RandomState``, often more than the draw) so the old state stays
readable.  In a function whose update of the shared generator is this very
node's new state, and where nothing else reads the generator, nobody can see
the old state after the draw: the node may advance the generator itself.
The :class:`~theanolab.graph.destroyhandler.DestroyHandler` decides, from the
update pairs that ``FunctionMaker`` records on the graph
(``fgraph.update_mapping``), so ``no_default_updates=True``, a generator read
twice, or scan's inner graphs (which record no updates) keep the copying op.
"""

from __future__ import annotations

from theanolab.graph.destroyhandler import ensure_destroy_handler
from theanolab.graph.rewriting import node_rewriter, register
from theanolab.random.ops import RandomFunction

__all__ = ["random_inplace"]


@node_rewriter([RandomFunction])
def random_inplace(fgraph, node):
    """RandomFunction{fn}(rng, ...) -> RandomFunction{fn}[inplace](rng, ...) where rng's update is its new state.

    Why: the function stores the new state over rng after the call anyway, so copying rng first is waste.
    """
    if node.op.inplace or ensure_destroy_handler(fgraph).refusal(node, 0) is not None:
        return None
    outputs = node.op.with_inplace(True).make_node(*node.inputs).outputs
    for old, new in zip(node.outputs, outputs):
        new.tag = type(old.tag)(old.tag)  # keeps the user's line for run-time errors
    return outputs


register("inplace", "fast_run")(random_inplace)
