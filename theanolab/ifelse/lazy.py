"""Lazy branches: the work only one branch of an ``if{}`` needs moves into that branch.

The user's IfElse node reads both branches' values, so a virtual machine
running the nodes in order would compute both (as ``T.switch`` does).
Theano made its virtual machines lazy instead: a node asks for the inputs it
needs.  Here the machines stay simple (every node runs; see
:mod:`theanolab.backends.py.vm` and the C drivers) and the *graph* carries
the laziness: :func:`make_branches_lazy` rewrites

    if{}(c, mean(x), mean(y))  ->  if{lazy}(c, x, y)   with inner graphs  then: mean(x)   else: mean(y)

A node belongs to a branch when all its results are used by that branch
only (by that branch's inputs of the IfElse node, or by nodes belonging to
it).  Those nodes leave the outer graph and become the branch's own
FunctionGraph, whose inputs are the outer variables it reads; a node that the
condition, the other branch or anything else also uses stays outside and is
computed before, once.  ``LazyIfElse.perform`` evaluates the condition and
calls the chosen branch only, compiled with the function containing the node,
by its mode (told by ``prepare_node``, as scan's body is),
through ``theanolab.function`` itself: so a branch runs on the C backend as
one C function when it can, and an ``if{}`` nested in a branch becomes lazy
in turn when that branch is compiled.  A branch's nodes were rewritten with
the whole function, so its compilation runs no rewrite again
(``Mode.without_rewrites``); an in-place node moves into a branch only with
the node computing the value it overwrites.

Why this runs in every mode, after the optimizer (``Mode.rewrite``), rather
than as a phase of ``optdb``: laziness is the meaning of ``ifelse`` (an
untaken branch may be invalid for the current inputs, an index out of range,
say), and Theano's lazy machine gives it whatever the optimizer, ``None``
included; a phase would give it in some modes only.  Running after the
optimizer, it sees the graph all rewrites left (a computation shared by both
branches has been merged into one and stays outside, computed once).
Each move is one step of the rewrite record (reason ``ifelse_lazy``).
``DebugMode`` still runs the user's graph, with both branches, as its
reference (so does Theano's).

Backends.  ``LazyIfElse`` has no C kernel, so a function containing one runs
on the mixed machine, which calls ``perform`` for it, while each branch is a
function of its own, C included.  With ``device=cuda`` the node itself stays
on the CPU (placement leaves ops without a GPU implementation there): its
inputs come to the host, and a branch's nodes are placed on the GPU when the
branch is compiled, with transfers at the branch's edges.
"""

from __future__ import annotations

from theanolab.graph.basic import Apply, Constant, clone_replace, io_toposort
from theanolab.graph.fgraph import FunctionGraph, InconsistencyError
from theanolab.graph.op import Op
from theanolab.ifelse.op import IfElse, condition_holds
from theanolab.tensor.shape import Shape, Shape_i

__all__ = ["LazyIfElse", "make_branches_lazy", "REASON"]

#: the reason recorded in the rewrite history for each IfElse made lazy.
REASON = "ifelse_lazy"
#: ops that only read a shape: a branch doing nothing else is not worth deferring.
_SHAPE_READERS = (Shape, Shape_i)


class LazyIfElse(Op):
    """Evaluate the condition, then run only the chosen branch's inner graph.

    ``branches`` is ``(then_graph, else_graph)``, FunctionGraphs of ``n``
    outputs each; ``sources[b][i]`` is the position, among the node's inputs,
    of the outer variable that input ``i`` of branch ``b`` reads (input 0 is
    the condition).  Each instance owns its graphs, so instances compare by
    identity.  The branches are compiled when a function containing the node is
    built (``prepare_node``), once per mode.
    """

    def __init__(self, branches, sources, output_types, name=None):
        self.branches = tuple(branches)
        self.sources = tuple(tuple(s) for s in sources)
        self.output_types = tuple(output_types)
        self.name = name
        self._functions = {}

    __eq__ = object.__eq__
    __hash__ = object.__hash__

    def __str__(self):
        return f"if{{{self.name + ',' if self.name else ''}lazy}}"

    def __getstate__(self):
        state = dict(self.__dict__)
        state["_functions"] = {}
        return state

    # ------------------------------------------------------------------ inner graphs (printing)

    @property
    def inner_inputs(self):
        return [var for graph in self.branches for var in graph.inputs]

    @property
    def inner_outputs(self):
        """The then branch's outputs, then the else branch's."""
        return [var for graph in self.branches for var in graph.outputs]

    @property
    def inner_input_sources(self):
        return [position for sources in self.sources for position in sources]

    # ------------------------------------------------------------------ building and running

    def make_node(self, condition, *outer):
        needed = 1 + max(self.inner_input_sources, default=0)
        if 1 + len(outer) < needed:
            raise ValueError(f"{self} reads input {needed - 1}, but got {1 + len(outer)} inputs")
        inputs = [condition, *outer]
        for graph, sources in zip(self.branches, self.sources):
            for inner, position in zip(graph.inputs, sources):
                given = inputs[position].type
                if inner.type != given and not inner.type.is_compatible(given):
                    raise TypeError(f"{self}: input {position} ({inputs[position]}) is {given}, but the "
                                    f"branch reads it as {inner.type}")
        return Apply(self, inputs, [t() for t in self.output_types])

    def prepare_node(self, node, mode):
        """Called when a function containing ``node`` is built: its mode compiles both branches now,
        so calls never pay for compilation (as for the rest of the function)."""
        node.tag.ifelse_mode = mode
        for branch in (0, 1):
            self.branch_function(node, branch)

    def branch_function(self, node, branch):
        """Branch ``branch`` (0: then, 1: else) compiled by the node's mode (once), a Function
        returning the list of the branch's values.

        Its nodes were rewritten with the function they come from, so the mode runs no rewrite
        again (in-place nodes among them are safe as they are); a branch with no node (its values
        are inputs or constants) needs no backend: the reference one only copies them."""
        from theanolab.compile.function import function
        from theanolab.compile.mode import Mode, get_mode

        mode = node.tag.get("ifelse_mode") or get_mode(None)
        key = (branch, mode)
        if key not in self._functions:
            graph = self.branches[branch]
            compile_mode = mode.without_rewrites() if graph.apply_nodes else Mode(linker="py", optimizer="None")
            compiled = function(list(graph.inputs), list(graph.outputs), mode=compile_mode,
                                on_unused_input="ignore", name=f"{'then' if branch == 0 else 'else'} branch of {self}")
            compiled.trust_input = True  # the outer machine's values already have the inputs' types
            self._functions[key] = compiled
        return self._functions[key]

    def perform(self, node, inputs, output_storage):
        branch = 0 if condition_holds(inputs[0]) else 1
        run = self.branch_function(node, branch)
        # A branch function copies any value that may share memory with its inputs (Function._finish).
        values = run(*[inputs[position] for position in self.sources[branch]])
        for storage, value in zip(output_storage, values):
            storage[0] = value


# ---------------------------------------------------------------------- the rewrite


def _branch_nodes(fgraph, node, positions):
    """The nodes whose every result is used only by the inputs ``positions`` of ``node``, directly or
    through other such nodes: the work only that branch needs (in the order they run).

    An in-place node moves only together with the node computing the value it overwrites, so a
    branch never overwrites its inputs (the destroy handler lets a node overwrite a value that
    nodes running before it read, and those may stay outside)."""
    slots = {(node, i) for i in positions}
    candidates = io_toposort(fgraph.inputs, [node.inputs[i] for i in positions])
    stay = set()
    while True:
        owned = set()
        for candidate in reversed(candidates):  # every client of a node comes after it
            if candidate not in stay and all((client, i) in slots or client in owned
                                             for out in candidate.outputs for client, i in fgraph.clients[out]):
                owned.add(candidate)
        stranded = {n for n in owned for overwritten in n.op.destroy_map.values() for i in overwritten
                    if n.inputs[i].owner not in owned}
        if not stranded:
            return [n for n in candidates if n in owned]
        stay |= stranded


def _branch_graph(values, nodes, outer):
    """The FunctionGraph computing ``values`` with ``nodes``, reading the other variables it needs
    through inputs of its own, and the positions (after the condition) of those variables in ``outer``,
    which grows by the ones not in it yet."""
    computed = {out for n in nodes for out in n.outputs}
    read = [var for n in nodes for var in n.inputs] + list(values)
    free = list(dict.fromkeys(v for v in read if v not in computed and not isinstance(v, Constant)))
    stand_ins = {var: var.type.make_variable(var.name) for var in free}
    graph = FunctionGraph([stand_ins[v] for v in free], clone_replace(list(values), stand_ins, strict=False))
    for var in free:
        if var not in outer:
            outer.append(var)
    return graph, [1 + outer.index(var) for var in free]


def _lazy_node(fgraph, node):
    """The ``if{lazy}`` node replacing the IfElse ``node``, or None when neither branch owns any work
    but reading shapes (which never fails and costs less than calling a branch)."""
    n_outs = node.op.n_outs
    then_positions, else_positions = range(1, 1 + n_outs), range(1 + n_outs, 1 + 2 * n_outs)
    owned = [_branch_nodes(fgraph, node, then_positions), _branch_nodes(fgraph, node, else_positions)]
    if all(isinstance(moved.op, _SHAPE_READERS) for nodes in owned for moved in nodes):
        return None  # nothing to defer (an if{shape} from infer_shape): a call into a branch would cost more
    outer, graphs, sources = [], [], []
    for positions, nodes in zip((then_positions, else_positions), owned):
        graph, read = _branch_graph([node.inputs[i] for i in positions], nodes, outer)
        graphs.append(graph)
        sources.append(read)
    op = LazyIfElse(graphs, sources, [out.type for out in node.outputs], name=node.op.name)
    return op.make_node(node.inputs[0], *outer)


def make_branches_lazy(fgraph):
    """if{}(c, f(x), g(y)) -> if{lazy}(c, x, y): each branch's own work runs only when it is taken.

    Why: the machines run every node of a graph, so the work of the branch not
    taken would be done and thrown away; inside the branch, it is done only
    when the condition chooses it (see the module docstring).

    The outermost IfElse nodes are rewritten first: an IfElse inside a branch
    moves into that branch's graph and becomes lazy when the branch is compiled.
    Returns True if the graph changed.
    """
    changed = False
    if not any(isinstance(node.op, IfElse) for node in fgraph.apply_nodes):
        return changed  # every compilation comes here: most have no ifelse, and need no toposort
    for node in reversed(fgraph.toposort()):
        if isinstance(node.op, IfElse) and node in fgraph.apply_nodes:
            lazy = _lazy_node(fgraph, node)
            if lazy is None:
                continue
            try:
                fgraph.replace_all(list(zip(node.outputs, lazy.outputs)), reason=REASON)
            except InconsistencyError:  # an in-place node outside overwrites a value a branch reads
                continue
            changed = True
    return changed
