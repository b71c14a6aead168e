"""Text views of a graph: ``pp`` (a formula), ``debugprint`` (an indented tree), ``to_dot`` (DOT).

All three accept a Variable, a list of Variables, an Apply node, a
FunctionGraph or a compiled Function (whose ``maker.fgraph`` is shown), and
produce plain text: drawing DOT is left to the teaching layer (``theanolab.viz``)
so that no core module needs graphviz.

>>> import theanolab.tensor as T
>>> from theanolab import pp
>>> x = T.dscalar('x')
>>> pp(T.grad(x ** 2, x))
'((fill((x ** 2), 1.0) * 2) * (x ** (2 - 1)))'
>>> from theanolab.graph.fgraph import FunctionGraph
>>> debugprint(FunctionGraph([x], [x * 2]))
Elemwise{mul,no_inplace} [id A] ''   0
 |x [id B]
 |TensorConstant{2} [id C]

``pp`` follows Theano's format, except that constants print as their value
(``2``) rather than ``TensorConstant{2}``, as the tutorial shows them.
"""

from __future__ import annotations

import sys
from typing import NamedTuple

from theanolab.graph.basic import Apply, Constant, Variable, io_toposort
from theanolab.graph.fgraph import OUTPUT, FunctionGraph
from theanolab.graph.op import base_op

__all__ = [
    "ATOM", "Printed", "PPrinter", "OperatorPrinter", "FunctionPrinter", "DEFAULT_PRINTER",
    "DEFAULT_PRINTERS", "pprint", "pp", "debugprint", "to_dot", "DOT_STYLES",
]


# ====================================================================== what is printed


def _graph_of(obj, caller):
    """``(outputs, fgraph, function)`` for anything the printers accept.

    ``fgraph`` (for a FunctionGraph or a Function) gives the toposort order and
    the clients; ``function`` gives the storage cells.
    """
    from theanolab.compile.function import Function

    if isinstance(obj, Variable):
        return [obj], None, None
    if isinstance(obj, Apply):
        return list(obj.outputs), None, None
    if isinstance(obj, FunctionGraph):
        return list(obj.outputs), obj, None
    if isinstance(obj, Function):
        return list(obj.maker.fgraph.outputs), obj.maker.fgraph, obj
    if isinstance(obj, (list, tuple)):
        outputs = []
        for index, item in enumerate(obj):
            if isinstance(item, Variable):
                outputs.append(item)
            elif isinstance(item, Apply):
                outputs.extend(item.outputs)
            else:
                raise TypeError(f"{caller}: item {index} of the list is {item!r}; expected a Variable or an Apply node")
        return outputs, None, None
    raise TypeError(
        f"{caller} expects a Variable, a list of Variables, an Apply node, a FunctionGraph or a "
        f"compiled Function, got {type(obj).__name__} {obj!r}"
    )


def _inner_graph(op):
    """``(inner_inputs, inner_outputs)`` of an op that carries a graph of its own, else None.

    Any op exposing both properties (JacobianRows, scan, fused composites) has
    its inner graph shown; inner input ``i`` stands for the node's input ``i``.
    """
    op = base_op(op)  # a GPU node shows the graph of the op it runs
    inner_outputs = getattr(op, "inner_outputs", None)
    if inner_outputs is None:
        op = getattr(op, "scalar_op", None)  # Elemwise{Composite}: the composite's scalar graph
        inner_outputs = getattr(op, "inner_outputs", None)
    if inner_outputs is None:
        return None
    return list(getattr(op, "inner_inputs", ())), list(inner_outputs)


def _outer_positions(op, inner_inputs):
    """Position of the outer input each inner input stands for: ``op.inner_input_sources``
    where an op has one (scan: several taps read one buffer), else inner input ``i`` stands for input ``i``."""
    return list(getattr(op, "inner_input_sources", range(len(inner_inputs))))


def _constant_label(var):
    """Theano's label of a constant, ``TensorConstant{2}``: its value, even when it has a name."""
    return f"{type(var).__name__}{{{var.type.format_value(var.data)}}}"


# ====================================================================== pp


#: Precedence of something that never needs parentheses (names, calls, ``x[i]``).
ATOM = float("inf")
_NEG_PRECEDENCE = 0

_GREEK = {name: "\\" + name for name in ("alpha", "beta", "gamma", "delta", "epsilon")}


class Printed(NamedTuple):
    """A printed expression and how tightly it binds (``ATOM``: never parenthesized)."""

    text: str
    precedence: float = ATOM


class PPrinter:
    """Formats expressions with one printer per op class.

    ``assign(key, printer)`` registers a printer for an Op class, a scalar op
    class (used for the Elemwise ops that map it), or a ``"module:QualName"``
    string naming such a class; the string form lets the table name op
    families without importing them, so a missing family never breaks
    printing.  A printer is called as ``printer(op, var, args, pprinter)``
    with the already printed inputs ``args`` (:class:`Printed`) and returns a
    Printed.  Ops without a printer print as ``str(op)(inputs)``.

    ``parentheses="all"`` is Theano's style, which wraps every operator
    expression (``((x * 2) + y)``); ``"minimal"`` writes only those that
    precedence requires (``x * 2 + y``).
    """

    def __init__(self, printers=None, parentheses="all"):
        if parentheses not in ("all", "minimal"):
            raise ValueError(f"parentheses must be 'all' or 'minimal', got {parentheses!r}")
        self.parentheses = parentheses
        self._printers = {}
        for key, printer in (printers or {}).items():
            self.assign(key, printer)

    def assign(self, key, printer):
        """Print the outputs of ops of class ``key`` (or of its subclasses) with ``printer``."""
        if not (isinstance(key, type) or (isinstance(key, str) and ":" in key)):
            raise TypeError(f"a printer is assigned to an op class or a 'module:QualName' string, got {key!r}")
        if not callable(printer):
            raise TypeError(f"the printer for {key} must be callable, got {printer!r}")
        self._printers[key] = printer

    def clone(self, parentheses=None):
        """A printer with a copy of this one's table, to extend without changing this one."""
        return PPrinter(self._printers, parentheses or self.parentheses)

    def printer_for(self, op):
        """The printer assigned to the class of ``op`` or its nearest base class, or None."""
        for cls in type(op).__mro__:
            printer = self._printers.get(cls) or self._printers.get(f"{cls.__module__}:{cls.__qualname__}")
            if printer is not None:
                return printer
        return None

    # ------------------------------------------------------------- composing

    def compound(self, text, precedence):
        """The result of an operator of ``precedence`` (parenthesized at once in Theano's style)."""
        if self.parentheses == "all":
            return Printed(f"({text})", ATOM)
        return Printed(text, precedence)

    def operand(self, arg, precedence, strict=False):
        """``arg``'s text as an operand of an operator of ``precedence``.

        It needs parentheses when it binds less tightly, or equally when
        ``strict`` (the right operand of ``-``, the left one of ``**``).
        """
        if arg.precedence < precedence or (strict and arg.precedence == precedence):
            return f"({arg.text})"
        return arg.text

    # ------------------------------------------------------------- printing

    def leaf(self, var):
        """A variable without owner: its value for a constant, else its name (or type)."""
        if isinstance(var, Constant):
            text = var.type.format_value(var.data)
            # A negative number binds like unary minus: (-1) ** 2 needs its parentheses.
            return Printed(text, _NEG_PRECEDENCE if text.startswith("-") else ATOM)
        if var.name is not None:
            return Printed(_GREEK.get(var.name, var.name))
        return Printed(str(var))

    def process(self, var):
        """The formula computing ``var`` (a string)."""
        return self._process_all([var])[0]

    def _process_all(self, outputs):
        printed = {}

        def arg(var):
            if var not in printed:
                printed[var] = self.leaf(var)
            return printed[var]

        # Bottom-up over a toposort, so deep graphs need no recursion.
        for node in io_toposort([], outputs):
            args = [arg(var) for var in node.inputs]
            printer = self.printer_for(node.op) or DEFAULT_PRINTER
            for out in node.outputs:
                printed[out] = printer(node.op, out, args, self)
        return [arg(out).text for out in outputs]

    def __call__(self, obj):
        """``pp(x)``: the formula of a variable; one line per output for lists, graphs and functions."""
        outputs, _, _ = _graph_of(obj, "pp")
        return "\n".join(self._process_all(outputs))


class OperatorPrinter:
    """``a + b + c`` for an op of two or more inputs, ``-a`` for one input.

    ``assoc`` says which way equal precedences group: ``'left'`` for
    ``a - b - c``, ``'right'`` for ``a ** b ** c``.
    """

    def __init__(self, symbol, precedence, assoc="left"):
        if assoc not in ("left", "right"):
            raise ValueError(f"assoc must be 'left' or 'right', got {assoc!r}")
        self.symbol, self.precedence, self.assoc = symbol, precedence, assoc

    def __call__(self, op, var, args, pprinter):
        if len(args) == 1:
            text = self.symbol + pprinter.operand(args[0], self.precedence, strict=True)
        else:
            last = len(args) - 1
            parts = [pprinter.operand(arg, self.precedence, strict=(i > 0) if self.assoc == "left" else (i < last))
                     for i, arg in enumerate(args)]
            text = f" {self.symbol} ".join(parts)
        return pprinter.compound(text, self.precedence)

    def __repr__(self):
        return f"OperatorPrinter({self.symbol!r}, {self.precedence}, {self.assoc!r})"


class FunctionPrinter:
    """``name(a, b)``; ``name`` is a string or a function of the op (``float32(x)`` for a cast)."""

    def __init__(self, name):
        self.name = name

    def __call__(self, op, var, args, pprinter):
        name = self.name(op) if callable(self.name) else self.name
        return Printed(f"{name}({', '.join(arg.text for arg in args)})")

    def __repr__(self):
        return f"FunctionPrinter({self.name!r})"


#: How every op without a printer of its own prints: ``Sum{acc_dtype=float64}(x)``.
DEFAULT_PRINTER = FunctionPrinter(str)


def _elemwise(op, var, args, pprinter):
    """An Elemwise prints as its scalar op: its printer if assigned, else ``exp(x)``."""
    printer = pprinter.printer_for(op.scalar_op) or DEFAULT_PRINTER
    return printer(op.scalar_op, var, args, pprinter)


def _same_as_input(op, var, args, pprinter):
    """A copy prints as what it copies."""
    return args[0]


def _absolute(op, var, args, pprinter):
    return Printed(f"|{args[0].text}|")


def _make_vector(op, var, args, pprinter):
    return Printed(f"[{', '.join(arg.text for arg in args)}]")


def _dimshuffle(op, var, args, pprinter):
    """Padding on the left (broadcasting) is invisible; a full reversal is ``x.T``."""
    (x,) = args
    ndim = len(op.input_broadcastable)
    order = tuple(op.new_order)
    added = len(order) - ndim
    if added >= 0 and order == ("x",) * added + tuple(range(ndim)):
        return x
    if ndim >= 2 and order == tuple(reversed(range(ndim))):
        return Printed(f"{pprinter.operand(x, ATOM)}.T")
    return Printed(f"DimShuffle{{{', '.join(str(d) for d in order)}}}({x.text})")


def _subtensor(op, var, args, pprinter):
    """``x[i, a:b, ::c]`` from the op's index structure and its index inputs."""
    from theanolab.tensor.subtensor import SliceSpec

    x, *index = args
    values = iter(index)
    items = []
    for entry in op.idx_list:
        if isinstance(entry, SliceSpec):
            start, stop, step = ("" if part is None else next(values).text for part in entry)
            items.append(f"{start}:{stop}" + (f":{step}" if entry.step is not None else ""))
        else:
            items.append(next(values).text)
    return Printed(f"{pprinter.operand(x, ATOM)}[{', '.join(items)}]")


#: Theano's printers.  Operators are those Theano writes as operators (``%``
#: and comparisons print as ``mod(x, y)``, ``lt(x, y)``, as in Theano).
DEFAULT_PRINTERS = {
    "theanolab.scalar.basic:Add": OperatorPrinter("+", -2),
    "theanolab.scalar.basic:Sub": OperatorPrinter("-", -2),
    "theanolab.scalar.basic:Mul": OperatorPrinter("*", -1),
    "theanolab.scalar.basic:TrueDiv": OperatorPrinter("/", -1),
    "theanolab.scalar.basic:IntDiv": OperatorPrinter("//", -1),
    "theanolab.scalar.basic:Neg": OperatorPrinter("-", _NEG_PRECEDENCE),
    "theanolab.scalar.basic:Pow": OperatorPrinter("**", 1, assoc="right"),
    "theanolab.scalar.basic:Second": FunctionPrinter("fill"),
    "theanolab.scalar.basic:Identity": _same_as_input,
    "theanolab.scalar.basic:Cast": FunctionPrinter(lambda op: op.dtype),
    "theanolab.scalar.math:Abs": _absolute,
    "theanolab.tensor.elemwise:Elemwise": _elemwise,
    "theanolab.tensor.elemwise:DimShuffle": _dimshuffle,
    "theanolab.tensor.shape:MakeVector": _make_vector,
    "theanolab.tensor.subtensor:Subtensor": _subtensor,
    "theanolab.tensor.blas:Dot": OperatorPrinter("\\dot", -1),
    "theanolab.tensor.basic:Alloc": FunctionPrinter("alloc"),
    "theanolab.tensor.basic:Join": FunctionPrinter("join"),
}

#: The printer Theano users call as ``theano.printing.pprint``.
pprint = PPrinter(DEFAULT_PRINTERS)
pp = pprint


# ====================================================================== debugprint


def _letters(number):
    """Theano's ids: 0 -> A, 25 -> Z, 26 -> BA (base 26 with A as the zero digit)."""
    text = ""
    while True:
        number, digit = divmod(number, 26)
        text = chr(ord("A") + digit) + text
        if number == 0:
            return text


_ID_STYLES = {
    "CHAR": lambda number, obj: f"[id {_letters(number)}]",
    "int": lambda number, obj: f"[id {number}]",
    "id": lambda number, obj: f"[id {id(obj)}]",
    "": lambda number, obj: "",
}


class _Ids:
    """The ``[id X]`` of each Apply node (shared by its outputs) and each leaf variable.

    ``done`` (what was printed) and ``used`` (what has an id) may come from an
    earlier call, so several calls can share one numbering.
    """

    def __init__(self, style, done, used):
        if style not in _ID_STYLES:
            raise ValueError(f"ids must be one of {', '.join(repr(s) for s in _ID_STYLES)}, got {style!r}")
        self.render = _ID_STYLES[style]
        self.done, self.used = done, used
        self.count = len(done.keys() | used.keys())

    def __call__(self, var_or_node):
        is_owned = isinstance(var_or_node, Variable) and var_or_node.owner is not None
        key = var_or_node.owner if is_owned else var_or_node
        if key not in self.used:
            if key in self.done:
                self.used[key] = self.done[key]
            else:
                self.used[key] = self.render(self.count, key)
                self.count += 1
        return self.used[key]


class _TreePrinter:
    """Writes Theano's indented trees, then the inner graphs of the ops that have one."""

    def __init__(self, ids, depth, print_type, stop_on_name, order, clients, cells, in_c=frozenset()):
        self.ids, self.depth, self.print_type, self.stop_on_name = ids, depth, print_type, stop_on_name
        self.order, self.clients, self.cells, self.in_c = order, clients, cells, in_c
        self.lines = []
        self.with_inner_graph = []

    def line(self, var, prefix, outer_of, annotate=True):
        type_text = f" <{var.type}>" if self.print_type else ""
        node = var.owner
        if node is None:
            label = _constant_label(var) if isinstance(var, Constant) else str(var)
            text = f"{prefix}{label} {self.ids(var)}{type_text}"
            if var in outer_of:
                text += f" -> {self.ids(outer_of[var])}"
        else:
            op_text = f"{node.op}.{var.index}" if len(node.outputs) > 1 else str(node.op)
            index = self.order.get(node, "") if annotate else ""
            text = f"{prefix}{op_text} {self.ids(node)}{type_text} '{var.name or ''}'   {index}"
            clients = self.clients.get(var, []) if annotate else []
            if len(clients) > 1:
                described = [(OUTPUT, "") if client == OUTPUT else (self.ids(client), self.order.get(client, ""))
                             for client, _ in clients]
                text += f" clients:{described}"
        if annotate and var in self.cells:
            text += f" {self.cells[var]}"
        if annotate and node in self.in_c:
            text += " [C]"
        return text

    def tree(self, root, prefix="", child_prefix="", outer_of=None):
        """Print ``root`` and what computes it, depth first, each node expanded once."""
        outer_of = outer_of or {}
        stack = [(root, prefix, child_prefix, 1)]
        while stack:
            var, prefix, child_prefix, level = stack.pop()
            if self.depth != -1 and level > self.depth:
                continue
            self.lines.append(self.line(var, prefix, outer_of))
            node = var.owner
            key = var if node is None else node
            expand = node is not None and key not in self.ids.done and not (self.stop_on_name and var.name is not None)
            self.ids.done.setdefault(key, self.ids(key))
            if not expand:
                continue
            if _inner_graph(node.op) is not None and node not in self.with_inner_graph:
                self.with_inner_graph.append(node)
            last = len(node.inputs) - 1
            for i in range(last, -1, -1):
                stack.append((node.inputs[i], child_prefix + " |", child_prefix + ("  " if i == last else " |"),
                              level + 1))

    def inner_graphs(self):
        """After the main graph: each inner graph under its node, its lines marked ``>``.

        Inner inputs show ``-> [id X]``, the outer input they stand for; inner
        graphs found inside inner graphs are printed in turn.
        """
        position = 0
        while position < len(self.with_inner_graph):
            node = self.with_inner_graph[position]
            position += 1
            self.lines.extend(["", "Inner graphs:", ""] if position == 1 else [""])
            self.lines.append(self.line(node.outputs[0], "", {}, annotate=False))
            inner_inputs, inner_outputs = _inner_graph(node.op)
            outer_of = {inner: node.inputs[p] for inner, p in zip(inner_inputs, _outer_positions(node.op, inner_inputs))
                        if inner is not node.inputs[p]}
            for out in inner_outputs:
                self.tree(out, " >", " >", outer_of)


def _storage_cells(function):
    """``{variable: storage cell}`` of a compiled function's backend (the reference VM keeps ``cells``)."""
    if function is None:
        return {}
    return getattr(getattr(function, "_vm", None), "cells", {})


#: debugprint's last line for a function compiled into one C function.
_ONE_C_FUNCTION = "(the whole function runs as one generated C function: one call into C per call)"


def _nodes_in_c(function):
    """The nodes a compiled function runs as C kernels (marked ``[C]``; the others run ``perform``)."""
    if function is None:
        return frozenset()
    return frozenset(node for node, backend in function.node_backends.items() if backend == "c")


def debugprint(obj, depth=-1, print_type=False, file=None, ids="CHAR", stop_on_name=False, done=None,
               print_storage=False, print_clients=False, used_ids=None):
    """Print the graph of ``obj`` as Theano's indented tree.

    Each line is ``op [id X] 'name'`` for a computed variable (followed by its
    position in the toposort for a compiled function or a FunctionGraph) or
    ``name [id X]`` for an input or constant; a node reached a second time is
    printed without its inputs.  ``depth`` limits the levels (-1: all);
    ``print_type`` adds each type; ``ids`` is ``'CHAR'`` (A, B, ...),
    ``'int'``, ``'id'`` (Python ids) or ``''`` (none); ``stop_on_name`` does not
    expand named variables; ``print_clients`` lists the clients of variables
    used more than once and ``print_storage`` the values in a compiled
    function's storage.  In a compiled function, nodes that run as C kernels
    end with ``[C]`` (the others run ``Op.perform``), and a last line says so
    when the whole function runs as one generated C function
    (``Function.one_c_function``).  Pass the same ``done`` and ``used_ids`` dicts to
    several calls to share ids between them.

    ``file=None`` prints to stdout (and returns None), ``file='str'`` returns
    the text, any other file receives the text and is returned.

    >>> import theanolab.tensor as T
    >>> from theanolab.graph.fgraph import FunctionGraph
    >>> x = T.dvector('x')
    >>> debugprint(FunctionGraph([x], [x.sum() * 2]), print_type=True)
    Elemwise{mul,no_inplace} [id A] <TensorType(float64, scalar)> ''   1
     |Sum{acc_dtype=float64} [id B] <TensorType(float64, scalar)> ''   0
     | |x [id C] <TensorType(float64, vector)>
     |TensorConstant{2} [id D] <TensorType(int8, scalar)>
    """
    outputs, fgraph, function = _graph_of(obj, "debugprint")
    printer = _TreePrinter(
        _Ids(ids, {} if done is None else done, {} if used_ids is None else used_ids),
        depth, print_type, stop_on_name,
        order={node: i for i, node in enumerate(fgraph.toposort())} if fgraph is not None else {},
        clients=fgraph.clients if fgraph is not None and print_clients else {},
        cells=_storage_cells(function) if print_storage else {},
        in_c=_nodes_in_c(function),
    )
    for out in outputs:
        printer.tree(out)
    printer.inner_graphs()
    if function is not None and function.one_c_function:
        printer.lines.append(_ONE_C_FUNCTION)
    text = "".join(line + "\n" for line in printer.lines)
    if file == "str":
        return text
    target = sys.stdout if file is None else file
    target.write(text)
    return None if file is None else file


# ====================================================================== DOT


#: Graphviz attributes of each kind of box; pass ``styles=`` to ``to_dot`` to change them.
DOT_STYLES = {
    "input": {"shape": "box", "style": "filled", "fillcolor": "limegreen"},
    "shared": {"shape": "box", "style": "filled", "fillcolor": "cyan"},
    "constant": {"shape": "box", "style": "filled", "fillcolor": "lightgrey"},
    "apply": {"shape": "ellipse", "style": "filled", "fillcolor": "white"},
    "output": {"shape": "box", "style": "filled", "fillcolor": "dodgerblue"},
    "inner_input": {"shape": "box", "style": "filled,dashed", "fillcolor": "palegreen"},
}


def _dot_quote(text):
    """A DOT quoted string: backslashes and quotes escaped, newlines as ``\\n``.

    Labels are plain (never record or HTML) labels, so braces, ``|``, ``<``
    and ``>`` need no escaping inside the quotes.
    """
    text = str(text).replace("\\", "\\\\").replace('"', '\\"')
    return '"' + text.replace("\r\n", "\n").replace("\n", "\\n") + '"'


def _dot_attributes(attributes):
    return ", ".join(f"{key}={_dot_quote(value)}" for key, value in attributes.items())


def _type_label(type_):
    """``float64 (False, True)``: the dtype and broadcastable pattern, or the type for non-tensors."""
    dtype, pattern = getattr(type_, "dtype", None), getattr(type_, "broadcastable", None)
    if dtype is None or pattern is None:
        return str(type_)
    return f"{dtype} {tuple(pattern)}"


def _leaf_kind(var):
    from theanolab.compile.sharedvalue import SharedVariable

    if isinstance(var, Constant):
        return "constant"
    if isinstance(var, SharedVariable):
        return "shared"
    return "input"


class _DotWriter:
    """Writes the statements of one graph (and, in clusters, of its inner graphs)."""

    def __init__(self, styles, indent="  ", decorate=None, inner_graphs=True):
        self.styles = styles
        self.lines = []
        self.indent = indent
        self.decorate = decorate
        self.inner_graphs = inner_graphs

    def _decorated(self, kind, obj, attributes):
        if self.decorate is None:
            return attributes
        changed = self.decorate(kind, obj, dict(attributes))
        return attributes if changed is None else changed

    def emit(self, text):
        self.lines.append(self.indent + text)

    def declare(self, dot_id, kind, label, obj=None):
        attributes = self._decorated(kind, obj, {"label": label, "class": kind, **self.styles[kind]})
        self.emit(f"{dot_id} [{_dot_attributes(attributes)}];")

    def edge(self, source, target, carried=None, **attributes):
        if carried is not None:
            attributes = self._decorated("edge", carried, attributes)
        suffix = f" [{_dot_attributes(attributes)}]" if attributes else ""
        self.emit(f"{source} -> {target}{suffix};")

    def graph(self, outputs, prefix="", inner_inputs=()):
        """Declare the graph computing ``outputs``; return ``{variable: DOT id}`` of its sources.

        Ids are ``prefix`` plus a counter in toposort order (``n0`` for Apply
        nodes, ``v0`` for leaves, ``o0`` for outputs), so they never depend on
        memory addresses.
        """
        inner_position = {var: i for i, var in enumerate(inner_inputs)}
        source = {}
        leaves = []

        def source_of(var):
            if var in source:
                return source[var]
            if var.owner is not None and var not in inner_position:
                return source[var.owner]
            dot_id = f"{prefix}v{len(leaves)}"
            leaves.append(var)
            source[var] = dot_id
            if var in inner_position:
                self.declare(dot_id, "inner_input", f"{var}\n(inner input {inner_position[var]})", var)
            else:
                label = var.type.format_value(var.data) if isinstance(var, Constant) else str(var)
                self.declare(dot_id, _leaf_kind(var), label, var)
            return dot_id

        for var in inner_inputs:
            source_of(var)
        for index, node in enumerate(io_toposort(list(inner_inputs), outputs)):
            dot_id = f"{prefix}n{index}"
            sources = [source_of(var) for var in node.inputs]
            source[node] = dot_id
            self.declare(dot_id, "apply", str(node.op), node)
            for position, (var, src) in enumerate(zip(node.inputs, sources)):
                self.edge(src, dot_id, (var, node, position), **self._edge_labels(var, position, len(node.inputs)))
            if self.inner_graphs and _inner_graph(node.op) is not None:
                self.cluster(node, dot_id, sources)
        for index, out in enumerate(outputs):
            dot_id = f"{prefix}o{index}"
            src = source_of(out)
            unnamed = f"inner output {index}" if prefix else f"output {index}"
            self.declare(dot_id, "output", out.name if out.name and out.owner is not None else unnamed, out)
            self.edge(src, dot_id, (out, None, index), **self._edge_labels(out, None, 1))
        return source

    @staticmethod
    def _edge_labels(var, position, n_inputs):
        """Type on every edge, the name of a named intermediate, input/output positions where ambiguous."""
        label = _type_label(var.type)
        if var.owner is not None and var.name:
            label = f"{var.name}\n{label}"
        attributes = {"label": label}
        if position is not None and n_inputs > 1:
            attributes["headlabel"] = str(position)
        if var.owner is not None and len(var.owner.outputs) > 1:
            attributes["taillabel"] = str(var.index)
        return attributes

    def cluster(self, node, dot_id, outer_sources):
        """The inner graph of ``node`` in a dashed cluster, wired to the node with dashed edges."""
        inner_inputs, inner_outputs = _inner_graph(node.op)
        self.emit(f"subgraph {_dot_quote('cluster_' + dot_id)} {{")
        self.indent += "  "
        self.emit(f"label={_dot_quote(f'inner graph of {node.op}')}; style=dashed;")
        inner = self.graph(inner_outputs, prefix=f"{dot_id}_", inner_inputs=inner_inputs)
        self.indent = self.indent[:-2]
        self.emit("}")
        for var, position in zip(inner_inputs, _outer_positions(node.op, inner_inputs)):
            self.edge(outer_sources[position], inner[var], style="dashed", arrowhead="none")
        for index, _ in enumerate(inner_outputs):
            self.edge(f"{dot_id}_o{index}", dot_id, style="dashed")


def to_dot(obj, name="theanolab", styles=None, rankdir="TB", decorate=None, inner_graphs=True):
    """DOT source (a string) drawing the graph of ``obj``; render it with graphviz if you have it.

    Inputs, shared variables, constants, Apply nodes and outputs each have
    their own shape and colour (:data:`DOT_STYLES`, overridable by kind with
    ``styles``) and a ``class`` attribute naming the kind; every edge is
    labelled with the dtype and broadcastable pattern of the variable it
    carries.  Inner graphs (JacobianRows, scan) are drawn in dashed clusters
    (``inner_graphs=False``: the node alone).

    ``decorate(kind, obj, attributes)``, when given, may change the Graphviz
    attributes of every node and edge (the teaching layer puts values, colours
    and ids there): ``kind`` is a node kind with ``obj`` its Apply node or
    variable, or ``"edge"`` with ``obj`` = ``(variable carried, consuming Apply
    node or None for an output, input position or output index)``; it returns
    the attributes to use (None: unchanged).

    >>> import theanolab.tensor as T
    >>> print(to_dot(T.dscalar('x') + 1))  # doctest: +ELLIPSIS
    digraph "theanolab" {
      rankdir="TB";
      v0 [label="x", class="input", shape="box", style="filled", fillcolor="limegreen"];
    ...
    """
    outputs, _, _ = _graph_of(obj, "to_dot")
    kinds = {kind: {**attributes, **(styles or {}).get(kind, {})} for kind, attributes in DOT_STYLES.items()}
    unknown = set(styles or {}) - set(kinds)
    if unknown:
        raise ValueError(f"to_dot: unknown kinds in styles: {', '.join(sorted(unknown))}; "
                         f"the kinds are {', '.join(kinds)}")
    writer = _DotWriter(kinds, decorate=decorate, inner_graphs=inner_graphs)
    writer.emit(f"rankdir={_dot_quote(rankdir)};")
    writer.graph(outputs)
    return f"digraph {_dot_quote(name)} {{\n" + "".join(line + "\n" for line in writer.lines) + "}\n"


def __getattr__(name):
    """``theanolab.printing.Print``, Theano's path to the op (it lives with the tensor ops it watches)."""
    if name == "Print":
        from theanolab.tensor.debug_ops import Print

        return Print
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
