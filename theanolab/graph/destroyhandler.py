"""The destroy handler: the guard that makes in-place operations safe.

An op that overwrites an input (its ``destroy_map``) saves a full-size
allocation, but only if nobody needs that input's value afterwards.  The
:class:`DestroyHandler` is a FunctionGraph feature whose ``validate`` refuses
(InconsistencyError) any graph where a node destroys a variable that

- is a graph input (a function argument, or a shared variable's storage),
  or a constant -- except an input whose update (``fgraph.update_mapping``) is
  the very output that the destroyer writes over it, when the destroyer can
  run last (no node uses its results, no other node overwrites an input), so
  that an exception can never come after the shared value was changed;
- is a graph output (the caller would receive overwritten values);
- has another client that may run after the destroyer: a client that is an
  ancestor of the destroyer (the forward pass reading a weight that the
  update at the end overwrites) runs before it in every order, so it is
  allowed when it only reads (no view of the memory escapes it); any other
  client is refused, so no ordering constraints between nodes are ever needed;

or where the same holds for any variable the destroyed one is a *view* of
(``view_map``: a DimShuffle, a Subtensor...) or an in-place result of
(``destroy_map``), since those share its memory.  In short: the destroyer must
be the only consumer of that memory, and the memory must belong to the graph.

Because ``FunctionGraph.replace_all`` validates every change and undoes one
that a feature refuses, an in-place rewrite simply proposes its replacement:
an unsafe one never gets into the graph.  Rewrites may also ask first, with
:meth:`DestroyHandler.refusal`, to avoid proposing it at all.

>>> import theanolab.tensor as T
>>> from theanolab.graph.fgraph import FunctionGraph
>>> x = T.dvector('x')
>>> fgraph = FunctionGraph([x], [T.exp(x) * 2])
>>> handler = ensure_destroy_handler(fgraph)
>>> [node] = [n for n in fgraph.apply_nodes if str(n.op).startswith('Elemwise{mul')]
>>> print(handler.refusal(node, 0))  # exp(x) is used by this node only: it may be overwritten
None
>>> [node] = [n for n in fgraph.apply_nodes if str(n.op).startswith('Elemwise{exp')]
>>> handler.refusal(node, 0)
'x is an input of the graph (a function argument or a shared variable)'
"""

from __future__ import annotations

from theanolab.graph.basic import Constant
from theanolab.graph.fgraph import OUTPUT, InconsistencyError, overwrites_an_input

__all__ = ["DestroyHandler", "ensure_destroy_handler", "aliased_source"]


def aliased_source(var):
    """The variable whose memory ``var`` shares through one view or in-place op, or None."""
    node = var.owner
    if node is None:
        return None
    positions = node.op.view_map.get(var.index) or node.op.destroy_map.get(var.index)
    return node.inputs[positions[0]] if positions else None


class DestroyHandler:
    """FunctionGraph feature refusing in-place operations that could overwrite a needed value.

    It keeps the set of destroying nodes up to date as nodes are imported and
    pruned, so validating a change costs time in proportion to the in-place
    nodes only.
    """

    def __init__(self):
        self.fgraph = None
        self.destroyers = set()

    # ------------------------------------------------------------------ feature hooks

    def on_attach(self, fgraph):
        if self.fgraph is not None:
            raise ValueError("a DestroyHandler guards one graph; attach a new one")
        if any(isinstance(f, DestroyHandler) for f in fgraph.features):
            raise ValueError("this graph already has a DestroyHandler")
        self.fgraph = fgraph
        self.destroyers = {node for node in fgraph.apply_nodes if node.op.destroy_map}

    def on_detach(self, fgraph):
        self.fgraph = None
        self.destroyers = set()

    def on_import(self, fgraph, node, reason):
        if node.op.destroy_map:
            self.destroyers.add(node)

    def on_prune(self, fgraph, node, reason):
        self.destroyers.discard(node)

    def clone(self):
        """A copied graph gets a handler of its own."""
        return DestroyHandler()

    def validate(self, fgraph):
        for node in self.destroyers:
            for positions in node.op.destroy_map.values():
                for i in positions:
                    reason = self.refusal(node, i)
                    if reason is not None:
                        raise InconsistencyError(f"{node.op} may not overwrite its input {i} "
                                                 f"({node.inputs[i]}): {reason}")

    # ------------------------------------------------------------------ the rule

    def refusal(self, node, i):
        """Why ``node`` may not overwrite its input ``i`` (a sentence), or None if it may.

        ``node`` need not destroy anything yet: asked about the node an
        in-place version would replace, it tells whether that version would be
        accepted.
        """
        fgraph = self.fgraph
        var, consumer = node.inputs[i], node
        while var is not None:
            if isinstance(var, Constant):
                return f"{var} is a constant"
            if var in fgraph.inputs:
                if not (consumer is node and self._updated_by(node, i)):
                    return f"{var} is an input of the graph (a function argument or a shared variable)"
                not_last = self._cannot_run_last(node)
                if not_last is not None:
                    return f"{var} is a shared variable and {not_last}"
            for client, _ in fgraph.clients.get(var, ()):
                if client == OUTPUT:
                    return f"{var} is an output of the graph"
                if client is not consumer and not _reads_before(client, node):
                    return f"{var} is also used by {client.op}"
            var, consumer = aliased_source(var), var.owner
        return None

    def _updated_by(self, node, i):
        """Whether ``node``'s input ``i`` (a graph input) gets, after the call, the value of the very
        output of ``node`` that would overwrite it (``fgraph.update_mapping``).

        Why that is safe: the caller throws the old value away and stores that output in its place,
        so computing the output in the input's memory changes nothing anyone sees, provided nothing
        else reads the input (checked by :meth:`refusal` as for any destroyed variable).  This is how
        a random draw advances its shared generator without copying it.
        """
        fgraph = self.fgraph
        position = fgraph.inputs.index(node.inputs[i])
        writers = [k for k, positions in node.op.destroy_map.items() if i in positions] or range(len(node.outputs))
        return any(fgraph.update_mapping.get(o) == position
                   for k in writers for o, out in enumerate(fgraph.outputs) if out is node.outputs[k])


    def _cannot_run_last(self, node):
        """Why ``node`` could not be the last node to run (a clause), or None if it can.

        Why it must be: updates are all-or-nothing.  A node that overwrites a
        shared variable's storage changes it for good; if any node ran after
        it and raised, the call would fail with the shared variable already
        changed.  So the overwriting node may have no node using its results
        (``FunctionGraph.toposort`` then runs it last) and it must be the only
        node overwriting a graph input.  The others compute a copy.
        """
        for out in node.outputs:
            for client, _ in self.fgraph.clients.get(out, ()):
                if client != OUTPUT:
                    return (f"{client.op} uses the result, so a failure there would come after the "
                            "overwrite (updates are all-or-nothing)")
        inputs = set(self.fgraph.inputs)
        for other in self.destroyers:
            if other is not node and overwrites_an_input(other, inputs):
                return f"{other.op} already overwrites an input: only one node may (updates are all-or-nothing)"
        return None


def _reads_before(reader, node):
    """Whether ``reader`` only reads its inputs and is an ancestor of ``node`` (so runs before it).

    Why ancestors only: every schedule runs them first, so overwriting after
    them needs no ordering constraint; a reader that makes a view or destroys
    would let the memory be read later through its output, and is refused.
    """
    if reader.op.view_map or reader.op.destroy_map:
        return False
    stack, seen = [v.owner for v in node.inputs if v.owner is not None], set()
    while stack:
        current = stack.pop()
        if current is reader:
            return True
        if current in seen:
            continue
        seen.add(current)
        stack.extend(v.owner for v in current.inputs if v.owner is not None and v.owner not in seen)
    return False


def ensure_destroy_handler(fgraph):
    """The graph's DestroyHandler, attached now if it has none."""
    for feature in fgraph.features:
        if isinstance(feature, DestroyHandler):
            return feature
    handler = DestroyHandler()
    fgraph.attach_feature(handler)
    return handler
