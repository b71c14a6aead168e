"""``theanolab.function``: compile symbolic inputs and outputs into a callable.

Compilation, in order:

1. the inputs become :class:`In` descriptions; ``givens`` are substituted
   into copies of the output and update graphs;
2. shared variables reached by those graphs become implicit inputs, and
   random-state ``default_update``\\ s are added (unless ``no_default_updates``);
3. a :class:`FunctionGraph` over (explicit inputs + shared variables) ->
   (outputs + update expressions) is built and rewritten by the mode;
4. the backend makes it runnable.

A call checks and converts the arguments, runs the graph, and only then
writes every update, so all outputs see the values from before the call.

>>> import theanolab, theanolab.tensor as T
>>> x, y = T.dscalars('x', 'y')
>>> f = theanolab.function([x, theanolab.In(y, value=1)], x + y)
>>> float(f(33)), float(f(33, y=2))
(34.0, 35.0)
"""

from __future__ import annotations

import copy as copy_module
import threading
import warnings

import numpy as np

from theanolab.compile.io import In
from theanolab.compile.mode import get_mode
from theanolab.compile.sharedvalue import Container, SharedVariable
from theanolab.config import config
from theanolab.graph.basic import Constant, Variable, ancestors, clone_replace, format_trace
from theanolab.graph.fgraph import FunctionGraph, MissingInputError
from theanolab.graph.rewriting.history import RewriteHistory


class UnusedInputError(ValueError):
    """An input is not needed to compute any output or update."""


class UnusedInputWarning(UserWarning):
    """An input is not needed to compute any output or update (``on_unused_input='warn'``)."""


def _as_input(spec, index):
    if isinstance(spec, In):
        return spec
    if isinstance(spec, Variable):
        return In(spec)
    raise TypeError(f"input {index} of function() must be a symbolic variable or In(...), got {spec!r}")


def _pairs(mapping, what):
    """Normalize updates or givens (list of pairs, dict, OrderedDict) to a list of pairs."""
    if mapping is None:
        return []
    if isinstance(mapping, dict):  # dicts keep insertion order: updates run in the user's order
        return list(mapping.items())
    pairs = list(mapping)
    for pair in pairs:
        if not (isinstance(pair, (list, tuple)) and len(pair) == 2):
            raise TypeError(f"{what} must be pairs (variable, expression), got {pair!r}")
    return [tuple(p) for p in pairs]


def _check_update(target, value):
    from theanolab.tensor.variable import as_tensor_variable

    if not isinstance(target, SharedVariable):
        raise TypeError(
            f"an update must target a shared variable, but {target} is a {type(target).__name__}; "
            "only shared variables keep a value between calls (create it with theanolab.shared)"
        )
    if not isinstance(value, Variable):
        value = as_tensor_variable(value) if _is_tensor_type(target.type) else value
    if value.type != target.type:
        from theanolab.tensor.basic import cast

        if _is_tensor_type(target.type) and target.type.is_compatible(value.type):
            return value
        if _is_tensor_type(target.type) and value.type.ndim == target.type.ndim and value.dtype != target.dtype:
            # Python numbers in updates get their own dtype; cast them like Theano does when safe.
            if isinstance(value, Constant) and np.can_cast(value.data, target.type.dtype, "same_kind"):
                return cast(value, target.type.dtype)
        raise TypeError(
            f"an update must have the same type as its shared variable: {target} is "
            f"{target.type} but the update {value} is {value.type}. " + _update_hint(target.type, value.type)
        )
    return value


def _replacement(reference, value, what, role):
    """``value`` as a variable that may stand where ``reference`` is, or a TypeError saying why."""
    from theanolab.tensor.variable import as_tensor_variable

    if not isinstance(value, Variable):
        value = as_tensor_variable(value)
    if value.type != reference.type and not reference.type.is_compatible(value.type):
        raise TypeError(f"{what} must have the {role}'s type {reference.type} ({reference}), "
                        f"but {value} is {value.type}")
    return value


def _check_input_update(spec):
    return _replacement(spec.variable, spec.update, f"In({spec.variable}, update=...): the update", "input")


def _update_hint(target_type, value_type):
    """What to change so an update fits its shared variable."""
    if getattr(value_type, "ndim", None) != getattr(target_type, "ndim", None):
        return "The number of dimensions differs."
    if value_type.dtype != target_type.dtype:
        return "Cast the update (T.cast(expr, dtype)) to keep the dtype."
    axes = [d for d, (old, new) in enumerate(zip(target_type.broadcastable, value_type.broadcastable))
            if old and not new]
    return (f"The shared variable is broadcastable (length 1) on axes {axes} but the update is not: "
            "keep length 1 there (e.g. .sum(axis=..., keepdims=True)).")


def _is_tensor_type(type_):
    from theanolab.tensor.type import TensorType

    return isinstance(type_, TensorType)


def _check_given(old, new):
    if not isinstance(old, Variable):
        raise TypeError(f"givens keys must be symbolic variables, got {old!r}")
    return _replacement(old, new, "givens: the replacement", "replaced variable")


def _collect_default_updates(roots, explicit_updates, no_default_updates):
    """Add ``default_update`` of shared variables in the graph (random states)."""
    if no_default_updates is True:
        return []
    excluded = set(no_default_updates or ())
    updated = {target for target, _ in explicit_updates}
    added = []
    frontier = list(roots)
    while frontier:
        new_roots = []
        for var in ancestors(frontier):
            if (isinstance(var, SharedVariable) and hasattr(var, "default_update")
                    and var not in updated and var not in excluded):
                updated.add(var)
                added.append((var, var.default_update))
                new_roots.append(var.default_update)
        frontier = new_roots
    return added


class FunctionMaker:
    """Builds and keeps what a compiled function is made of.

    ``fgraph`` is the rewritten graph (``env`` is Theano's older name for it);
    ``rewrite_history`` the record of every rewrite step, from the user's graph
    (``rewrite_history.graph_at(0)``) to ``fgraph``;
    ``inputs`` the :class:`In` descriptions of its inputs, explicit ones first;
    ``n_outputs`` how many of ``fgraph.outputs`` are outputs (the rest are
    updates, with ``update_map[output index] = input index``); ``single_output``
    whether calls return one value rather than a list.  ``outputs_on_device``:
    with ``device=cuda``, outputs stay in GPU memory (for bodies of loops run on the GPU).
    """

    def __init__(self, inputs, outputs, mode=None, updates=None, givens=None,
                 no_default_updates=False, on_unused_input=None, allow_input_downcast=None,
                 single_output=False, outputs_on_device=False):
        self.mode = get_mode(mode)
        self.single_output = single_output
        on_unused_input = on_unused_input or "raise"
        if on_unused_input not in ("raise", "warn", "ignore"):
            raise ValueError(f"on_unused_input must be 'raise', 'warn' or 'ignore', got {on_unused_input!r}")
        explicit = [_as_input(spec, i) for i, spec in enumerate(inputs)]
        self._check_explicit_inputs(explicit)
        for spec in explicit:
            if spec.allow_downcast is None:
                spec.allow_downcast = allow_input_downcast

        givens = [(old, _check_given(old, new)) for old, new in _pairs(givens, "givens")]
        updates = [(t, _check_update(t, v)) for t, v in _pairs(updates, "updates")]
        seen = set()
        for target, _ in updates:
            if target in seen:
                raise ValueError(f"the shared variable {target} is updated twice")
            seen.add(target)
        updates += [(t, _check_update(t, v))
                    for t, v in _collect_default_updates(outputs + [v for _, v in updates], updates,
                                                         no_default_updates)]
        shared_targets = [t for t, _ in updates]
        # In(x, value=v, update=expr): after each call, expr's value becomes x's default.
        updates += [(spec.variable, _check_input_update(spec)) for spec in explicit if spec.update is not None]

        replace = dict(givens)
        graph_outputs = clone_replace(outputs + [v for _, v in updates], replace, strict=False) if replace \
            else outputs + [v for _, v in updates]

        explicit_vars = [spec.variable for spec in explicit]
        self._check_unused(explicit_vars, graph_outputs, on_unused_input)
        shared_inputs = self._shared_inputs(explicit_vars, graph_outputs, shared_targets)

        all_inputs = explicit_vars + shared_inputs
        self._check_missing(all_inputs, graph_outputs)
        fgraph = FunctionGraph(all_inputs, graph_outputs, clone=True)
        position = {var: i for i, var in enumerate(all_inputs)}
        update_map = {len(outputs) + k: position[target] for k, (target, _) in enumerate(updates)}
        # Shared variables only: an In(..., update=) input may hold the caller's own argument.
        fgraph.update_mapping = {o: i for o, i in update_map.items() if i >= len(explicit_vars)}
        # A body run by a loop on the GPU (scan) returns device arrays: its outputs stay where they are made.
        fgraph.outputs_on_device = outputs_on_device
        self.rewrite_history = RewriteHistory(verbose=config.optimizer_verbose)
        fgraph.attach_feature(self.rewrite_history)
        self.mode.rewrite(fgraph)

        self.fgraph = fgraph
        self._recorded = {}  # {variable of a copied fgraph: the variable the history recorded}
        self.inputs = explicit + [In(s, name=s.name, implicit=True) for s in shared_inputs]
        self.shared_inputs = shared_inputs
        self.n_outputs = len(outputs)
        self.update_map = update_map
        self.outputs = outputs

    env = property(lambda self: self.fgraph)

    def original_variable(self, var):
        """The variable of the user's graph (``rewrite_history.user_graph``) that ``var`` of ``fgraph`` computes.

        None when ``var`` stands for no variable the user wrote (a temporary
        introduced by a rewrite).  Works on copies made by ``Function.copy``.
        """
        return self.rewrite_history.original(self._recorded.get(var, var))

    @staticmethod
    def _check_explicit_inputs(explicit):
        seen = set()
        for index, spec in enumerate(explicit):
            var = spec.variable
            if isinstance(var, SharedVariable):
                raise TypeError(
                    f"input {index} ({var}) is a shared variable; a shared variable is an implicit "
                    "input of every function that uses it. To feed another value in its place, "
                    "use givens=[(shared_var, new_var)]"
                )
            if isinstance(var, Constant):
                raise TypeError(f"input {index} ({var}) is a constant, which cannot be an input")
            if var in seen:
                raise ValueError(f"input {index} ({var}) is given twice in the list of inputs")
            seen.add(var)

    @staticmethod
    def _check_unused(explicit_vars, graph_outputs, on_unused_input):
        if on_unused_input == "ignore":
            return
        used = set(ancestors(graph_outputs, blockers=explicit_vars))
        for index, var in enumerate(explicit_vars):
            if var in used:
                continue
            message = (
                f"function was asked to compute outputs from inputs, but the input at index {index} "
                f"({var}) is not part of the graph needed to compute the outputs. "
            )
            if on_unused_input == "raise":
                raise UnusedInputError(message + "To make this error a warning pass on_unused_input='warn' "
                                       "to function; to disable it, on_unused_input='ignore'.")
            warnings.warn(message + "To make this warning an error pass on_unused_input='raise' to function; "
                          "to disable it, on_unused_input='ignore'.", UnusedInputWarning, stacklevel=4)

    @staticmethod
    def _shared_inputs(explicit_vars, graph_outputs, update_targets):
        blockers = set(explicit_vars)
        found = []
        for var in ancestors(graph_outputs, blockers=blockers):
            if isinstance(var, SharedVariable) and var not in blockers and var not in found:
                found.append(var)
        for target in update_targets:
            if target not in found:
                found.append(target)
        return found

    @staticmethod
    def _check_missing(all_inputs, graph_outputs):
        inputs = set(all_inputs)
        for var in ancestors(graph_outputs, blockers=inputs):
            if var.owner is None and var not in inputs and not isinstance(var, Constant):
                user = next((v for v in ancestors(graph_outputs, blockers=inputs)
                             if v.owner is not None and var in v.owner.inputs), None)
                where = f", used to compute {user.owner}" if user is not None else ""
                trace = user.tag.get("trace") if user is not None else None
                raise MissingInputError(
                    f"the variable {var}{where} is needed but was not given as an input, "
                    "nor has a value (shared variables and constants do). Add it to the inputs "
                    "or replace it with givens."
                    + (f"\nThe node was built at:\n{format_trace(trace)}" if trace else "")
                )

    def create(self, defaults=None, containers=None):
        """A :class:`Function` running this maker's graph."""
        return Function(self, defaults=defaults, containers=containers)


class Function:
    """A compiled function.  Call it with values; ``f.maker.fgraph`` is what runs.

    Arguments may be given by position or by keyword (the input variable's
    name, or the ``name`` of its ``In``).  ``f[name]`` reads or sets an
    input's default value.  Calls from several threads are run one at a
    time (a lock per function); an exception during a call leaves every
    shared variable as it was (updates are written only after every node ran).
    """

    def __init__(self, maker, defaults=None, containers=None, unpack_single=True, name=None):
        self.maker = maker
        self.name = name
        self.unpack_single = unpack_single
        self.trust_input = False
        self._lock = threading.Lock()
        explicit = [spec for spec in maker.inputs if not spec.implicit]
        self._explicit = explicit
        self._containers = containers or [self._make_container(spec, i) for i, spec in enumerate(explicit)] + \
            [var.container for var in maker.shared_inputs]
        if defaults is not None:
            for container, value in zip(self._containers, defaults):
                container.storage[0] = value
        self._defaults = [c.storage[0] if spec.has_default else None
                          for c, spec in zip(self._containers, explicit)]
        self._positions = {}
        for index, spec in enumerate(explicit):
            if spec.name is not None:
                self._positions.setdefault(spec.name, index)
        self._build_backend()

    @staticmethod
    def _make_container(spec, index):
        container = Container(spec.variable.type, None, name=spec.name,
                              strict=spec.strict, allow_downcast=spec.allow_downcast)
        if spec.has_default:
            container.storage[0] = _filter_argument(container, spec.value, spec, index, None)
        return container

    def _build_backend(self):
        maker = self.maker
        # The mode decides how the graph runs (a plain VM, or one watched by a checking mode).
        self._vm = maker.mode.build_runner(maker, [c.storage for c in self._containers])
        # One C function returns fresh arrays only (it copies what may alias); a VM's outputs may alias.
        self._aliased_outputs = [] if self.one_c_function else _outputs_that_may_alias(maker.fgraph, maker.n_outputs)
        # A function compiled into one C function has a one-call path: it checks the arguments itself and
        # returns NotImplemented for any it cannot take as they are (then __call__'s general path runs).
        fast = getattr(self._vm, "fast_call", None)
        self._fast = fast if self.unpack_single or not maker.single_output else None

    # ------------------------------------------------------------------ calling

    def _signature(self):
        parts = [spec.name or f"<{spec.variable.type}>" for spec in self._explicit]
        return f"{self.name or 'function'}({', '.join(parts)})"

    def __call__(self, *args, **kwargs):
        # One call at a time: a call fills the function's own input cells and intermediate storage, so
        # two threads calling together would mix their arguments.  The one-C-function path guards itself
        # (it answers NotImplemented while another call is in progress, see whole_runtime.h) at no cost
        # per call; the general path waits on the lock (see docs/architecture.md, "Reliability guarantees").
        if self._fast is not None and not kwargs:
            result = self._fast(*args)
            if result is not NotImplemented:
                return result
        with self._lock:
            return self._call(args, kwargs)

    def _call(self, args, kwargs):
        explicit = self._explicit
        if len(args) > len(explicit):
            raise TypeError(
                f"{self._signature()} takes {len(explicit)} argument(s) but {len(args)} were given"
            )
        values = list(args) + [_MISSING] * (len(explicit) - len(args))
        for key, value in kwargs.items():
            index = self._positions.get(key)
            if index is None:
                known = ", ".join(s.name for s in explicit if s.name) or "none has a name"
                raise TypeError(
                    f"{self._signature()} got an unexpected keyword argument {key!r}; "
                    f"the named inputs are: {known}"
                )
            if values[index] is not _MISSING:
                raise TypeError(f"{self._signature()} got multiple values for argument {key!r}")
            values[index] = value
        for index, (spec, container, value) in enumerate(zip(explicit, self._containers, values)):
            if value is _MISSING:
                if not spec.has_default:
                    raise TypeError(
                        f"{self._signature()} is missing the required argument "
                        f"{spec.name or index} (input {index}, {spec.variable.type})"
                    )
                container.storage[0] = self._defaults[index]
            elif self.trust_input:
                container.storage[0] = value
            else:
                container.storage[0] = _filter_argument(container, value, spec, index, self)
        results = self._vm()
        return self._finish(results)

    def _finish(self, results):
        maker = self.maker
        outputs = results[:maker.n_outputs]
        for index in self._aliased_outputs:
            outputs[index] = np.array(outputs[index], copy=True)
        for out_index, in_index in maker.update_map.items():
            if in_index < len(self._explicit):  # In(..., update=): the next call's default
                self._defaults[in_index] = results[out_index]
            else:
                self._containers[in_index].storage[0] = results[out_index]
        if self.unpack_single and maker.single_output:
            return outputs[0]
        return outputs

    # ------------------------------------------------------------------ defaults

    def __getitem__(self, name):
        # The default, not the container: the container holds the last call's argument.
        return self._defaults[self._index_of(name)]

    def __setitem__(self, name, value):
        index = self._index_of(name)
        spec = self._explicit[index]
        self._defaults[index] = _filter_argument(self._containers[index], value, spec, index, self)
        spec.value = self._defaults[index]

    def _index_of(self, name):
        if isinstance(name, Variable):
            for index, spec in enumerate(self._explicit):
                if spec.variable is name:
                    return index
        elif name in self._positions:
            return self._positions[name]
        raise KeyError(f"{self._signature()} has no input named {name!r}")

    # ------------------------------------------------------------------ copy and pickle

    def copy(self, share_memory=False, swap=None, delete_updates=False, name=None, profile=None):
        """A new function running a copy of the compiled graph (no recompilation).

        ``swap={old_shared: new_shared}`` makes the copy use other shared
        variables; ``delete_updates=True`` drops the updates.  As in Theano, the
        copy returns a list of outputs even when there is a single one.
        """
        maker = copy_module.copy(self.maker)
        fgraph, equiv = self.maker.fgraph.clone_get_equiv()
        maker._recorded = {new: self.maker._recorded.get(old, old) for old, new in equiv.items()}
        swap = dict(swap or {})
        containers = list(self._containers)
        shared_start = len(self._explicit)
        new_shared = list(maker.shared_inputs)
        for old, new in swap.items():
            if old not in maker.shared_inputs:
                raise ValueError(f"swap: {old} is not a shared variable used by this function")
            if not isinstance(new, SharedVariable) or new.type != old.type:
                raise TypeError(f"swap: {old} ({old.type}) can only be swapped with a shared variable "
                                f"of the same type, got {new!r}")
            position = maker.shared_inputs.index(old)
            new_shared[position] = new
            containers[shared_start + position] = new.container
            fgraph.inputs[shared_start + position].container = new.container
        if not share_memory:
            containers[:shared_start] = [_copy_container(c) for c in containers[:shared_start]]
        if delete_updates:
            fgraph = FunctionGraph(fgraph.inputs, fgraph.outputs[:maker.n_outputs], clone=False)
            _stop_destroying_inputs(fgraph)
            maker.update_map = {}
        maker.fgraph = fgraph
        maker.shared_inputs = new_shared
        maker.inputs = list(self.maker.inputs)
        maker.single_output = False
        return Function(maker, defaults=self._defaults, containers=containers, name=name or self.name)

    def __reduce__(self):
        state = {
            "maker": self.maker,
            "defaults": list(self._defaults),
            "unpack_single": self.unpack_single,
            "name": self.name,
        }
        return (_unpickle_function, (state,))

    @property
    def node_backends(self):
        """``{node of maker.fgraph: 'c', 'cuda' or 'py'}``: which backend runs each node."""
        from theanolab.backends.cuda.types import GpuOp

        if self.one_c_function:
            return {node: "c" for node in self.maker.fgraph.toposort()}
        thunks = getattr(self._vm, "thunks", {})
        return {node: "cuda" if isinstance(node.op, GpuOp) else "c" if node in thunks else "py"
                for node in self.maker.fgraph.toposort()}

    @property
    def scan_traces(self):
        """The iterations each scan of this function recorded while ``config.scan_trace`` was on
        (:mod:`theanolab.scan.trace`)."""
        from theanolab.scan.trace import traces_of

        return traces_of(self)

    @property
    def one_c_function(self):
        """True if the whole function runs as one generated C function (one call into C per call);
        False if its nodes run one by one (C kernels or ``perform``) in a virtual machine."""
        return getattr(self._vm, "one_c_function", False)

    def __repr__(self):
        return f"<theanolab.Function {self._signature()}>"


def _stop_destroying_inputs(fgraph):
    """Give back the copying version (``op.no_inplace()``) of every node overwriting a graph input.

    Only an input updated by the node's own output may be overwritten (the
    DestroyHandler's rule); once the update is gone, overwriting it would
    change the shared value that the function no longer updates.
    """
    inputs = set(fgraph.inputs)
    for node in fgraph.toposort():
        if any(node.inputs[i] in inputs for positions in node.op.destroy_map.values() for i in positions):
            copying = node.op.no_inplace().make_node(*node.inputs)
            fgraph.replace_all(list(zip(node.outputs, copying.outputs)), reason="delete_updates")


def _unpickle_function(state):
    return Function(state["maker"], defaults=state["defaults"], unpack_single=state["unpack_single"],
                    name=state["name"])


def _copy_container(container):
    new = copy_module.copy(container)
    new.storage = [container.storage[0]]
    return new


class _Missing:
    def __repr__(self):
        return "<missing>"


_MISSING = _Missing()


def _filter_argument(container, value, spec, index, function):
    try:
        return container.type.filter(value, strict=spec.strict, allow_downcast=spec.allow_downcast)
    except (TypeError, ValueError) as exc:
        where = f" to {function._signature()}" if function is not None else ""
        named = f'with name "{spec.name}"' if spec.name is not None else f"(an unnamed {spec.variable.type})"
        raise TypeError(f"Bad input argument {named}{where} at index {index} (0-based): {exc}") from None


def _outputs_that_may_alias(fgraph, n_outputs):
    """Output positions whose value may be an input's storage, a constant, or another output.

    Those are copied on return so the caller can never modify a shared
    variable, a default or a constant through an output.
    """
    roots = set(fgraph.inputs)
    aliased = []
    seen_outputs = set()
    for index, out in enumerate(fgraph.outputs[:n_outputs]):
        var = out
        while var.owner is not None:
            op = var.owner.op
            sources = {**getattr(op, "view_map", {}), **getattr(op, "destroy_map", {})}.get(var.index)
            if not sources:
                break
            var = var.owner.inputs[sources[0]]
        if var in roots or isinstance(var, Constant) or out in seen_outputs or out in fgraph.outputs[n_outputs:]:
            aliased.append(index)
        seen_outputs.add(out)
    return aliased


def function(inputs, outputs=None, mode=None, updates=None, givens=None, no_default_updates=False,
             accept_inplace=False, name=None, rebuild_strict=True, allow_input_downcast=None,
             profile=None, on_unused_input=None):
    """Compile a function from symbolic ``inputs`` to symbolic ``outputs``.

    ``outputs`` may be one variable (the call returns one array) or a list
    (the call returns a list).  ``updates`` (pairs or dict) give new values
    of shared variables, written after every output is computed.  ``givens``
    substitute variables in the graph for this function only.  ``profile=True``
    (or ``config.profile``) times every node: read ``f.profile.summary()``
    (:mod:`theanolab.compile.profiling`).
    """
    if not isinstance(inputs, (list, tuple)):
        raise TypeError(
            f"the inputs of function() must be a list (or tuple) of variables, got {inputs!r}; "
            "write function([x], ...) even for one input"
        )
    if isinstance(outputs, dict):
        raise TypeError("outputs given as a dict are not supported; pass a list")
    single = outputs is not None and not isinstance(outputs, (list, tuple))
    output_list = [] if outputs is None else ([outputs] if single else list(outputs))
    from theanolab.tensor.variable import as_tensor_variable

    output_list = [o if isinstance(o, Variable) else as_tensor_variable(o) for o in output_list]
    maker = FunctionMaker(list(inputs), output_list, mode=mode, updates=updates, givens=givens,
                          no_default_updates=no_default_updates, on_unused_input=on_unused_input,
                          allow_input_downcast=allow_input_downcast, single_output=single)
    compiled = Function(maker, name=name)
    if profile or (profile is None and config.profile):
        from theanolab.compile.profiling import attach_profile

        attach_profile(compiled, profile or True)
    return compiled
