"""The intermediate representation: variables, constants and Apply nodes.

A graph is bipartite.  A :class:`Variable` is a value of some :class:`Type`; an
:class:`Apply` node is one application of an :class:`Op` to input variables,
producing output variables.  ``variable.owner`` is the Apply node that computed
it (``None`` for inputs and constants) and ``variable.index`` its position
among that node's outputs.  Graphs are immutable from the user's point of view:
compiling a function clones the graph into a FunctionGraph before rewriting it.

>>> import theanolab.tensor as T
>>> x = T.dscalar('x'); y = x + 1
>>> y.owner.op, y.owner.inputs[0] is x
(Elemwise{add,no_inplace}, True)
"""

from __future__ import annotations

import itertools
import os
import sys
from typing import Iterable, Sequence

_ids = itertools.count()

_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class Tag(dict):
    """Free-form annotations on a variable (``trace``, ``test_value``...)."""

    def __getattr__(self, name):
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None

    def __setattr__(self, name, value):
        self[name] = value

    def __delattr__(self, name):
        del self[name]


def user_trace(limit=None):
    """Return the user's stack frames (outside theanolab) as ``(file, line, func, text)``.

    Kept on every node so a run-time error can point at the line of user code
    that built the failing node.
    """
    if limit is None:
        from theanolab.config import config

        limit = config.traceback.limit
    frames = []
    frame = sys._getframe(1)
    while frame is not None and len(frames) < limit:
        filename = frame.f_code.co_filename
        if not filename.startswith(_PACKAGE_DIR):
            frames.append((filename, frame.f_lineno, frame.f_code.co_name))
        frame = frame.f_back
    frames.reverse()
    return frames


def format_trace(trace):
    """Render a trace from :func:`user_trace` like a Python traceback."""
    import linecache

    lines = []
    for filename, lineno, func in trace:
        lines.append(f'  File "{filename}", line {lineno}, in {func}')
        text = linecache.getline(filename, lineno).strip()
        if text:
            lines.append(f"    {text}")
    return "\n".join(lines)


class Variable:
    """A symbolic value of a given Type.

    ``owner`` and ``index`` locate the Apply node that computes it; ``name`` is
    used when printing and as the keyword of a compiled function's argument.
    """

    def __init__(self, type, owner=None, index=None, name=None):
        self.type = type
        self.owner = owner
        self.index = index
        self.name = name
        self.tag = Tag()
        self.auto_name = f"auto_{next(_ids)}"

    def __str__(self):
        if self.name is not None:
            return self.name
        if self.owner is not None:
            op = self.owner.op
            if len(self.owner.outputs) == 1 and getattr(op, "default_output", None) is None:
                return f"{op}.0"
            return f"{op}.{self.index}"
        return f"<{self.type}>"

    def __repr__(self):
        return str(self)

    def clone(self):
        """A new variable with the same type, name and tag, and no owner."""
        clone = type(self)(self.type, None, None, self.name)
        clone.tag = Tag(self.tag)
        return clone

    def get_parents(self):
        return [self.owner] if self.owner is not None else []

    def eval(self, inputs_to_values=None):
        """Compile (once, then cached) and evaluate this variable.

        >>> import theanolab.tensor as T
        >>> x, y = T.dscalars('x', 'y')
        >>> float((x + y).eval({x: 1, y: 2}))
        3.0
        """
        from theanolab.compile.function import function

        inputs_to_values = dict(inputs_to_values or {})
        for key in inputs_to_values:
            if not isinstance(key, Variable):
                raise TypeError(f"eval() needs a dict {{variable: value}}; the key {key!r} is not a variable")
        inputs = sorted(inputs_to_values, key=lambda v: v.auto_name)
        cache = self.__dict__.setdefault("_eval_cache", {})
        key = tuple(id(v) for v in inputs)
        if key not in cache:
            cache[key] = function(inputs, self, on_unused_input="ignore")
        return cache[key](*[inputs_to_values[v] for v in inputs])

    def __getstate__(self):
        state = dict(self.__dict__)
        state.pop("_eval_cache", None)
        return state


class Constant(Variable):
    """A variable whose value is known when the graph is built."""

    def __init__(self, type, data, name=None):
        super().__init__(type, None, None, name)
        self.data = type.filter(data)

    def signature(self):
        """A hashable key: two constants with equal signatures can be merged."""
        return (self.type, self.type.value_key(self.data))

    def __str__(self):
        if self.name is not None:
            return self.name
        return f"{type(self).__name__}{{{self.type.format_value(self.data)}}}"

    def clone(self):
        clone = type(self)(self.type, self.data, self.name)
        clone.tag = Tag(self.tag)
        return clone

    @property
    def value(self):
        return self.data


class Apply:
    """One application of ``op`` to ``inputs``, producing ``outputs``."""

    def __init__(self, op, inputs: Sequence[Variable], outputs: Sequence[Variable]):
        self.op = op
        self.inputs = list(inputs)
        for i, var in enumerate(self.inputs):
            if not isinstance(var, Variable):
                raise TypeError(f"input {i} of {op} is {var!r}, not a Variable")
        self.outputs = list(outputs)
        for i, out in enumerate(self.outputs):
            if out.owner is None:
                out.owner, out.index = self, i
            elif out.owner is not self or out.index != i:
                raise ValueError(f"output {i} of {op} already belongs to another node")
        self.tag = Tag()

    @property
    def out(self):
        """The default output (the only one, or ``op.default_output``)."""
        index = getattr(self.op, "default_output", None)
        if index is not None:
            return self.outputs[index]
        if len(self.outputs) != 1:
            raise ValueError(f"{self.op} has {len(self.outputs)} outputs and no default output")
        return self.outputs[0]

    default_output = out

    @property
    def nin(self):
        return len(self.inputs)

    @property
    def nout(self):
        return len(self.outputs)

    def __str__(self):
        return f"{self.op}({', '.join(str(i) for i in self.inputs)})"

    __repr__ = __str__

    def clone(self):
        """A copy of the node with the same inputs and fresh outputs."""
        outputs = [out.clone() for out in self.outputs]
        node = Apply(self.op, self.inputs, outputs)
        node.tag = Tag(self.tag)
        return node

    def clone_with_new_inputs(self, inputs, strict=True):
        """Rebuild the node on new inputs.

        With ``strict`` the new inputs must have the old inputs' types; without
        it ``op.make_node`` is called so output types follow the new inputs.
        """
        if len(inputs) != len(self.inputs):
            raise ValueError(f"{self.op} takes {len(self.inputs)} inputs, got {len(inputs)}")
        if strict and all(new.type == old.type for new, old in zip(inputs, self.inputs)):
            node = self.clone()
            node.inputs = list(inputs)
            return node
        node = self.op.make_node(*inputs)
        node.tag = Tag(self.tag)
        return node


# --------------------------------------------------------------------------- traversal


def ancestors(outputs: Iterable[Variable], blockers: Iterable[Variable] = ()) -> list[Variable]:
    """Every variable the outputs depend on (outputs included), stopping at blockers."""
    blockers = set(blockers)
    seen, order = set(), []
    stack = list(outputs)[::-1]
    while stack:
        var = stack.pop()
        if var in seen:
            continue
        seen.add(var)
        order.append(var)
        if var.owner is not None and var not in blockers:
            stack.extend(reversed(var.owner.inputs))
    return order


def graph_inputs(outputs: Iterable[Variable], blockers: Iterable[Variable] = ()) -> list[Variable]:
    """The variables without owner (or in blockers) that the outputs depend on."""
    blockers = set(blockers)
    return [v for v in ancestors(outputs, blockers) if v.owner is None or v in blockers]


def io_toposort(inputs: Iterable[Variable], outputs: Iterable[Variable]) -> list[Apply]:
    """Apply nodes between inputs and outputs, each after the nodes computing its inputs.

    The order is deterministic: a depth-first walk from the outputs in order,
    visiting each node's inputs left to right.
    """
    inputs = set(inputs)
    order, done = [], set()
    for out in outputs:
        stack = [(out, False)]
        while stack:
            var, expanded = stack.pop()
            node = var.owner
            if node is None or var in inputs or node in done:
                continue
            if expanded:
                done.add(node)
                order.append(node)
                continue
            stack.append((var, True))
            for inp in reversed(node.inputs):
                if inp.owner is not None and inp.owner not in done and inp not in inputs:
                    stack.append((inp, False))
    return order


def is_in_ancestors(node: Apply, candidate: Apply) -> bool:
    """True if ``candidate`` is ``node`` or computes something ``node`` depends on."""
    return any(v.owner is candidate for v in ancestors(node.outputs))


# --------------------------------------------------------------------------- cloning


def clone_get_equiv(inputs, outputs, copy_inputs=True, memo=None):
    """Clone the graph between inputs and outputs; return ``{old: new}`` for every part.

    Inputs are cloned when ``copy_inputs`` (constants are always shared), and
    entries already in ``memo`` are reused, which is how replacements are done.
    """
    memo = {} if memo is None else memo
    for inp in inputs:
        if inp not in memo:
            memo[inp] = inp.clone() if copy_inputs else inp
    for node in io_toposort(inputs, outputs):
        if node in memo:
            continue
        for var in node.inputs:
            if var not in memo:
                memo[var] = var if isinstance(var, Constant) or not copy_inputs else var.clone()
        new_node = node.clone_with_new_inputs([memo[v] for v in node.inputs], strict=False)
        memo[node] = new_node
        for old, new in zip(node.outputs, new_node.outputs):
            new.name = old.name
            new.tag = Tag(old.tag)
            memo.setdefault(old, new)
    for out in outputs:
        if out not in memo:
            memo[out] = out.clone() if copy_inputs and not isinstance(out, Constant) else out
    return memo


def clone(inputs, outputs, copy_inputs=True):
    """Return ``(new_inputs, new_outputs)`` for a copy of the graph."""
    equiv = clone_get_equiv(inputs, outputs, copy_inputs)
    return [equiv[i] for i in inputs], [equiv[o] for o in outputs]


def clone_replace(outputs, replace=None, strict=True):
    """Copy the graph of ``outputs`` with ``replace = {old: new}`` substituted.

    Only the part of the graph that depends on a replaced variable is rebuilt;
    the rest is shared with the original graph.
    """
    single = isinstance(outputs, Variable)
    outs = [outputs] if single else list(outputs)
    replace = dict(replace or {})
    for old, new in replace.items():
        if strict and old.type != new.type and not old.type.is_compatible(new.type):
            raise TypeError(f"cannot replace {old} of type {old.type} by {new} of type {new.type}")
    memo = dict(replace)
    for node in io_toposort(list(replace), outs):
        new_inputs = [memo.get(v, v) for v in node.inputs]
        if all(a is b for a, b in zip(new_inputs, node.inputs)):
            continue
        new_node = node.clone_with_new_inputs(new_inputs, strict=False)
        for old, new in zip(node.outputs, new_node.outputs):
            new.name = old.name
            new.tag = Tag(old.tag)
            memo.setdefault(old, new)
    result = [memo.get(o, o) for o in outs]
    return result[0] if single else result


def as_list(value):
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        return list(value)
    return [value]

