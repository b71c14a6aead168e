"""FunctionGraph: a graph with fixed inputs and outputs that rewrites can edit.

It keeps, for every variable, the list of its *clients* ``(node, input
index)`` (the string ``"output"`` as node for the graph's outputs), imports
new nodes when a replacement brings them in and prunes nodes nobody uses any
more.  Every change is announced to attached *features* (listeners), which is
how the rewrite record, validators and the teaching layer observe a
compilation without the graph knowing about any of them.

Listener hooks (all optional): ``on_attach(fgraph)``, ``on_detach(fgraph)``,
``on_import(fgraph, node, reason)``, ``on_prune(fgraph, node, reason)``,
``on_change_input(fgraph, node, i, old, new, reason)``, ``on_step_begin(fgraph,
reason, pairs)`` / ``on_step_end(fgraph, reason, committed)`` around each
``replace_all``, and ``validate(fgraph)``.
"""

from __future__ import annotations

from theanolab.graph.basic import Apply, Constant, Variable, clone_get_equiv, io_toposort

OUTPUT = "output"


class InconsistencyError(Exception):
    """A replacement would make the graph invalid (a feature's ``validate`` refused it)."""


class MissingInputError(ValueError):
    """An output depends on a variable that is neither an input nor a constant."""


class FunctionGraph:
    """A graph between ``inputs`` and ``outputs`` that can be rewritten in place."""

    def __init__(self, inputs, outputs, features=(), clone=True):
        inputs, outputs = list(inputs), list(outputs)
        if clone:
            equiv = clone_get_equiv(inputs, outputs, copy_inputs=True)
            inputs = [equiv[v] for v in inputs]
            outputs = [equiv[v] for v in outputs]
        self.inputs = []
        self.outputs = []
        self.apply_nodes: set[Apply] = set()
        self.variables: set[Variable] = set()
        self.clients: dict[Variable, list] = {}
        self.features = []
        # {output index: input index} where the output becomes that input's next value (a shared
        # variable's update, set by FunctionMaker): the DestroyHandler lets exactly that output's node
        # overwrite the input, since the caller replaces the input's value with it anyway.
        self.update_mapping = {}
        for var in inputs:
            self.add_input(var)
        for out in outputs:
            self.add_output(out, reason="init")
        for feature in features:
            self.attach_feature(feature)

    # ---------------------------------------------------------------- setup

    def add_input(self, var):
        if var in self.inputs:
            raise ValueError(f"input {var} appears twice")
        self.inputs.append(var)
        self._setup_variable(var)

    def add_output(self, var, reason=None):
        self.outputs.append(var)
        self._import_variable(var, reason)
        self.clients[var].append((OUTPUT, len(self.outputs) - 1))

    def _setup_variable(self, var):
        if var not in self.variables:
            self.variables.add(var)
            self.clients.setdefault(var, [])

    def _import_variable(self, var, reason):
        if var in self.variables:
            return
        if var.owner is None:
            if not isinstance(var, Constant):
                raise MissingInputError(
                    f"{var} is needed to compute the outputs but is not among the inputs "
                    f"({', '.join(map(str, self.inputs)) or 'none'}); pass it as an input or use givens"
                )
            self._setup_variable(var)
            return
        for node in io_toposort(self.variables, [var]):
            self._import_node(node, reason)

    def _import_node(self, node, reason):
        if node in self.apply_nodes:
            return
        for var in node.inputs:
            self._import_variable(var, reason)
        self.apply_nodes.add(node)
        for i, var in enumerate(node.inputs):
            self.clients[var].append((node, i))
        for out in node.outputs:
            self._setup_variable(out)
        self.execute_callbacks("on_import", node, reason)

    def _prune_if_unused(self, var, reason):
        """Remove the node computing ``var`` if none of its outputs has a client."""
        node = var.owner
        if node is None:
            if not self.clients.get(var) and var not in self.inputs:
                self.variables.discard(var)
                self.clients.pop(var, None)
            return
        if node not in self.apply_nodes or any(self.clients[o] for o in node.outputs):
            return
        self.apply_nodes.discard(node)
        for out in node.outputs:
            self.variables.discard(out)
            self.clients.pop(out, None)
        self.execute_callbacks("on_prune", node, reason)
        for i, inp in enumerate(node.inputs):
            self.clients[inp].remove((node, i))
            self._prune_if_unused(inp, reason)

    # ---------------------------------------------------------------- editing

    def change_node_input(self, node, i, new_var, reason=None):
        """Make input ``i`` of ``node`` (or output ``i`` when node is ``"output"``) be ``new_var``."""
        if node == OUTPUT:
            old = self.outputs[i]
            self._check_type(old, new_var)
            self.outputs[i] = new_var
        else:
            old = node.inputs[i]
            self._check_type(old, new_var)
            node.inputs[i] = new_var
        if old is new_var:
            return
        self._import_variable(new_var, reason)
        self.clients[new_var].append((node, i))
        self.clients[old].remove((node, i))
        self.execute_callbacks("on_change_input", node, i, old, new_var, reason)
        self._prune_if_unused(old, reason)

    @staticmethod
    def _check_type(old, new):
        if old.type != new.type and not old.type.is_compatible(new.type):
            raise TypeError(
                f"cannot replace {old} of type {old.type} by {new} of type {new.type}: "
                "a replacement must keep the type"
            )

    def replace(self, var, new_var, reason=None, validate=True):
        """Make every client of ``var`` use ``new_var`` instead.

        With ``validate``, features are asked to check the new graph and the
        change is undone (and InconsistencyError raised) if one refuses it.
        """
        if var not in self.variables:
            raise ValueError(f"{var} is not in this graph")
        self.replace_all([(var, new_var)], reason=reason, validate=validate)

    def replace_all(self, pairs, reason=None, validate=True):
        """Replace each ``var`` still in the graph by its ``new_var``; validated as one change.

        Features see the change as one *step*: ``on_step_begin(fgraph, reason, pairs)``,
        the imports, input changes and prunes, then ``on_step_end(fgraph, reason, committed)``
        (``committed`` is False when validation refused it and it was undone).
        """
        pairs = [(var, new_var) for var, new_var in pairs if var in self.variables]
        for var, new_var in pairs:
            self._check_type(var, new_var)
        self.execute_callbacks("on_step_begin", reason, pairs)
        changes = []
        committed = True
        try:
            for var, new_var in pairs:
                for node, i in list(self.clients.get(var, ())):
                    self.change_node_input(node, i, new_var, reason=reason)
                    changes.append((node, i, var))
            if validate:
                try:
                    self.validate()
                except InconsistencyError:
                    committed = False
                    for node, i, var in reversed(changes):
                        self.change_node_input(node, i, var, reason="revert")
                    raise
        finally:
            self.execute_callbacks("on_step_end", reason, committed)

    # ---------------------------------------------------------------- features

    def attach_feature(self, feature):
        if feature in self.features:
            return
        on_attach = getattr(feature, "on_attach", None)
        if on_attach is not None:
            on_attach(self)
        self.features.append(feature)

    def remove_feature(self, feature):
        self.features.remove(feature)
        on_detach = getattr(feature, "on_detach", None)
        if on_detach is not None:
            on_detach(self)

    def execute_callbacks(self, name, *args):
        for feature in self.features:
            callback = getattr(feature, name, None)
            if callback is not None:
                callback(self, *args)

    def validate(self):
        for feature in self.features:
            check = getattr(feature, "validate", None)
            if check is not None:
                check(self)

    # ---------------------------------------------------------------- queries

    def toposort(self) -> list[Apply]:
        """Nodes in a deterministic order in which each follows its inputs' nodes.

        A node overwriting a graph input whose results no node uses comes last:
        updates are all-or-nothing, so no node may fail after a shared
        variable's storage was changed (see ``DestroyHandler``).
        """
        order = io_toposort(self.inputs, self.outputs)
        inputs = set(self.inputs)
        last = [node for node in order if overwrites_an_input(node, inputs)
                and all(client == OUTPUT for out in node.outputs for client, _ in self.clients.get(out, ()))]
        return [node for node in order if node not in last] + last if last else order

    def clone(self, features=True):
        return self.clone_get_equiv(features)[0]

    def clone_get_equiv(self, features=True):
        """A copy of the graph and the ``{old: new}`` map of its parts."""
        equiv = clone_get_equiv(self.inputs, self.outputs, copy_inputs=True)
        copy = FunctionGraph([equiv[i] for i in self.inputs], [equiv[o] for o in self.outputs], clone=False)
        copy.update_mapping = dict(self.update_mapping)
        if features:
            for feature in self.features:
                cloner = getattr(feature, "clone", None)
                copy.attach_feature(cloner() if cloner is not None else feature)
        return copy, equiv

    def check_integrity(self):
        """Assert the bookkeeping matches the graph (used by tests and DebugMode)."""
        nodes = set(self.toposort())
        if nodes != self.apply_nodes:
            raise AssertionError(f"apply_nodes out of date: {nodes ^ self.apply_nodes}")
        for node in nodes:
            for i, var in enumerate(node.inputs):
                if (node, i) not in self.clients[var]:
                    raise AssertionError(f"missing client ({node}, {i}) of {var}")

    def __str__(self):
        return f"FunctionGraph({', '.join(str(n) for n in self.outputs)})"

    def __repr__(self):
        return str(self)


def overwrites_an_input(node, inputs):
    """Whether ``node`` overwrites one of the graph ``inputs`` (a set) in place."""
    return any(node.inputs[i] in inputs for positions in node.op.destroy_map.values() for i in positions)
