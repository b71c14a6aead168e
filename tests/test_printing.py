"""pp, debugprint and to_dot.

Expected pp strings are Theano 1.0.5's output for the same expressions, with
constants printed bare (``2`` for ``TensorConstant{2}``) as the tutorial shows
them.  Expected debugprint trees are compared with trailing spaces stripped
(one test pins Theano's exact line endings).
"""

import importlib
import io
import re
import shutil
import subprocess

import pytest

import theanolab
import theanolab.tensor as T
from theanolab.compile.mode import Mode
from theanolab.graph.basic import Apply
from theanolab.graph.fgraph import FunctionGraph
from theanolab.graph.op import Op
from theanolab.printing import (
    DEFAULT_PRINTERS,
    FunctionPrinter,
    OperatorPrinter,
    PPrinter,
    Printed,
    debugprint,
    pp,
    pprint,
    to_dot,
)

NO_REWRITES = Mode(linker="py", optimizer=None)


class Vars:
    """The variables the expression tables are written with."""

    def __init__(self):
        self.x, self.y, self.z = T.dscalars("x", "y", "z")
        self.m, self.v, self.i = T.dmatrix("m"), T.dvector("v"), T.lscalar("i")
        self.t, self.c = T.dtensor3("t"), T.dcol("c")
        self.a, self.b = T.bscalar("a"), T.bscalar("b")
        self.w = theanolab.shared(1.0, name="w")
        self.u = theanolab.shared(1.0)


def tree(text):
    """Lines of a debugprint output without their trailing spaces."""
    return [line.rstrip() for line in text.splitlines()]


# ============================================================================ pp


def test_seed_gradient_of_x_squared():
    x = T.dscalar("x")
    gy = T.grad(x ** 2, x)
    assert pp(gy) == "((fill((x ** 2), 1.0) * 2) * (x ** (2 - 1)))"
    assert theanolab.pp is pprint


# (name, expression, Theano 1.0.5's pp with bare constants)
PP_CASES = [
    ("add", lambda n: n.x + n.y, "(x + y)"),
    ("sub", lambda n: n.x - n.y, "(x - y)"),
    ("mul", lambda n: n.x * n.y, "(x * y)"),
    ("true_div", lambda n: n.x / n.y, "(x / y)"),
    ("int_div", lambda n: n.x // n.y, "(x // y)"),
    ("mod", lambda n: n.x % n.y, "mod(x, y)"),
    ("pow", lambda n: n.x ** n.y, "(x ** y)"),
    ("neg", lambda n: -n.x, "(-x)"),
    ("nested", lambda n: (n.x + n.y) * (n.x - n.y), "((x + y) * (x - y))"),
    ("sub_right", lambda n: n.x - (n.y - n.x), "(x - (y - x))"),
    ("sub_left", lambda n: (n.x - n.y) - n.x, "((x - y) - x)"),
    ("pow_right", lambda n: n.x ** (n.y ** n.x), "(x ** (y ** x))"),
    ("pow_left", lambda n: (n.x ** n.y) ** n.x, "((x ** y) ** x)"),
    ("neg_of_mul", lambda n: -(n.x * n.y), "(-(x * y))"),
    ("mul_neg", lambda n: n.x * -n.y, "(x * (-y))"),
    ("add_mul", lambda n: n.x + n.y * n.x, "(x + (y * x))"),
    ("chained_add", lambda n: n.x + n.y + n.z, "((x + y) + z)"),
    ("nary_add", lambda n: T.add(n.x, n.y, n.z), "(x + y + z)"),
    ("nary_mul", lambda n: T.mul(n.x, n.y, n.z), "(x * y * z)"),
    ("pow_neg", lambda n: n.x ** -n.y, "(x ** (-y))"),
    ("neg_neg", lambda n: -(-n.x), "(-(-x))"),
    ("div_div", lambda n: n.x / (n.y / n.x), "(x / (y / x))"),
    ("polynomial", lambda n: n.x ** 2 + 3 * n.x - 0.5, "(((x ** 2) + (3 * x)) - 0.5)"),
    ("lt", lambda n: n.x < n.y, "lt(x, y)"),
    ("ge", lambda n: n.x >= n.y, "ge(x, y)"),
    ("eq", lambda n: T.eq(n.x, n.y), "eq(x, y)"),
    ("neq", lambda n: T.neq(n.x, n.y), "neq(x, y)"),
    ("gt_constant", lambda n: n.x > 0, "gt(x, 0)"),
    ("and_or", lambda n: T.eq(n.x, n.y) & T.lt(n.x, n.z), "and_(eq(x, y), lt(x, z))"),
    ("bitwise", lambda n: (n.a | n.b) ^ ~n.a, "xor(or_(a, b), invert(a))"),
    ("exp", lambda n: T.exp(n.x), "exp(x)"),
    ("log_of_sum", lambda n: T.log(n.x + 1), "log((x + 1))"),
    ("logistic", lambda n: 1 / (1 + T.exp(-n.x)), "(1 / (1 + exp((-x))))"),
    ("sqrt", lambda n: T.sqrt(n.x * n.x + n.y * n.y), "sqrt(((x * x) + (y * y)))"),
    ("abs", lambda n: abs(n.x + n.y), "|(x + y)|"),
    ("maximum", lambda n: T.maximum(n.x, n.y), "maximum(x, y)"),
    ("switch", lambda n: T.switch(T.gt(n.x, 0), n.x, 0.5 * n.x), "switch(gt(x, 0), x, (0.5 * x))"),
    ("clip", lambda n: T.clip(n.x, 0, 1), "clip(x, 0, 1)"),
    ("fill", lambda n: T.fill(n.x, n.y), "fill(x, y)"),
    ("ones_like", lambda n: T.ones_like(n.m), "fill(m, 1.0)"),
    ("cast", lambda n: T.cast(n.x + n.y, "int32"), "int32((x + y))"),
    ("cast_times", lambda n: T.cast(n.x, "int8") * 2, "(int8(x) * 2)"),
    ("copy", lambda n: n.x.copy(), "x"),
    ("float_constant", lambda n: n.x * 0.1, "(x * 0.1)"),
    ("greek", lambda n: T.dscalar("alpha") * T.dscalar("epsilon") * T.dscalar("zeta"),
     "((\\alpha * \\epsilon) * zeta)"),
    ("unnamed_matrix", lambda n: T.dmatrix() + 1, "(<TensorType(float64, matrix)> + 1)"),
    ("shared", lambda n: n.w * n.x, "(w * x)"),
    ("unnamed_shared", lambda n: n.u * n.x, "(<TensorType(float64, scalar)> * x)"),
    ("broadcast_is_invisible", lambda n: n.m + n.v, "(m + v)"),
    ("transpose", lambda n: n.m.T, "m.T"),
    ("transpose_twice", lambda n: n.m.T.T, "m.T.T"),
    ("transpose_3d", lambda n: n.t.dimshuffle(2, 1, 0), "t.T"),
    ("transpose_of_sum", lambda n: (n.m + n.m).T, "(m + m).T"),
    ("dimshuffle", lambda n: n.t.dimshuffle(0, 2, 1), "DimShuffle{0, 2, 1}(t)"),
    ("pad_left", lambda n: n.v.dimshuffle("x", 0), "v"),
    ("pad_right", lambda n: n.v.dimshuffle(0, "x"), "DimShuffle{0, x}(v)"),
    ("drop", lambda n: n.c.dimshuffle(0), "DimShuffle{0}(c)"),
    ("reorder_and_pad", lambda n: n.m.dimshuffle(1, "x", 0), "DimShuffle{1, x, 0}(m)"),
    ("sum", lambda n: n.m.sum(), "Sum{acc_dtype=float64}(m)"),
    ("sum_axis", lambda n: n.m.sum(axis=1), "Sum{axis=[1], acc_dtype=float64}(m)"),
    ("max_axis", lambda n: n.m.max(axis=0), "MaxAndArgmax{axis=(0,)}(m)"),
    ("cast_sum", lambda n: T.cast(n.m.sum(), "float32"), "float32(Sum{acc_dtype=float64}(m))"),
    ("index", lambda n: n.m[0], "m[0]"),
    ("negative_index", lambda n: n.v[-1], "v[-1]"),
    ("column", lambda n: n.m[:, 1], "m[:, 1]"),
    ("slice", lambda n: n.v[1:3], "v[1:3]"),
    ("slice_step", lambda n: n.m[1:, ::2], "m[1:, ::2]"),
    ("symbolic_bounds", lambda n: n.m[n.i:, :n.i + 1], "m[i:, :(i + 1)]"),
    ("index_of_sum", lambda n: (n.m + n.m)[0], "(m + m)[0]"),
    ("index_twice", lambda n: n.m[1][2], "m[1][2]"),
    ("dot", lambda n: T.dot(n.m, n.v), "(m \\dot v)"),
    ("dot_plus", lambda n: T.dot(n.m, n.v) + n.v, "((m \\dot v) + v)"),
    ("shape", lambda n: n.m.shape, "Shape(m)"),
    ("make_vector", lambda n: T.stack([n.x + n.y, n.y]), "[(x + y), y]"),
    ("alloc", lambda n: T.alloc(0.0, 2, 3), "alloc(0.0, 2, 3)"),
    ("join", lambda n: T.concatenate([n.v, n.v]), "join(0, v, v)"),
    ("softmax", lambda n: T.nnet.softmax(n.m), "Softmax(m)"),
    ("any", lambda n: n.m.any(), "Any(neq(m, 0))"),
    ("sigmoid", lambda n: T.nnet.sigmoid(n.x), "sigmoid(x)"),
    ("grad_of_exp", lambda n: T.grad(T.exp(n.x) * n.y, n.x), "((fill((exp(x) * y), 1.0) * y) * exp(x))"),
    ("grad_of_sigmoid", lambda n: T.grad(T.nnet.sigmoid(n.x), n.x),
     "((fill(sigmoid(x), 1.0) * sigmoid(x)) * (1.0 - sigmoid(x)))"),
    ("negative_constant", lambda n: T.constant(-1) ** 2, "((-1) ** 2)"),
]


@pytest.mark.parametrize("build, expected", [case[1:] for case in PP_CASES], ids=[case[0] for case in PP_CASES])
def test_pp_matches_theano(build, expected):
    assert pp(build(Vars())) == expected


MINIMAL_CASES = [
    ("seed", lambda n: T.grad(n.x ** 2, n.x), "fill(x ** 2, 1.0) * 2 * x ** (2 - 1)"),
    ("sub_right", lambda n: n.x - (n.y - n.z), "x - (y - z)"),
    ("sub_left", lambda n: (n.x - n.y) - n.z, "x - y - z"),
    ("add_of_sub", lambda n: n.x + (n.y - n.z), "x + (y - z)"),
    ("pow_right", lambda n: n.x ** (n.y ** n.z), "x ** y ** z"),
    ("pow_left", lambda n: (n.x ** n.y) ** n.z, "(x ** y) ** z"),
    ("neg_of_pow", lambda n: -(n.x ** n.y), "-x ** y"),
    ("pow_of_neg", lambda n: (-n.x) ** n.y, "(-x) ** y"),
    ("neg_neg", lambda n: -(-n.x), "-(-x)"),
    ("mul_neg", lambda n: n.x * -n.y, "x * -y"),
    ("add_mul", lambda n: n.x + n.y * n.z, "x + y * z"),
    ("mul_add", lambda n: (n.x + n.y) * n.z, "(x + y) * z"),
    ("int_div", lambda n: n.x // (n.y * n.z), "x // (y * z)"),
    ("div_of_mul", lambda n: (n.x * n.y) / n.z, "x * y / z"),
    ("logistic", lambda n: 1 / (1 + T.exp(-n.x)), "1 / (1 + exp(-x))"),
    ("transpose", lambda n: (n.m + 1).T, "(m + 1).T"),
    ("index", lambda n: (n.v * 2)[n.i + 1:], "(v * 2)[i + 1:]"),
    ("negative_constant", lambda n: T.constant(-1) ** 2, "(-1) ** 2"),
]


@pytest.mark.parametrize("build, expected", [case[1:] for case in MINIMAL_CASES],
                         ids=[case[0] for case in MINIMAL_CASES])
def test_pp_minimal_parentheses(build, expected):
    printer = pprint.clone(parentheses="minimal")
    assert printer(build(Vars())) == expected
    assert pprint.parentheses == "all"


@pytest.mark.cpu_only
def test_pp_of_lists_apply_nodes_graphs_and_functions():
    x, y = T.dscalars("x", "y")
    gy = T.grad(x ** 2, x)
    assert pp([x + y, x * y]) == "(x + y)\n(x * y)"
    assert pp((x + y).owner) == "(x + y)"
    fgraph = FunctionGraph([x], [gy])
    assert pp(fgraph.outputs[0]) == "((fill((x ** 2), 1.0) * 2) * (x ** (2 - 1)))"
    assert pp(fgraph) == pp(gy)
    f = theanolab.function([x, y], [x + y, x * y], mode=NO_REWRITES)
    assert pp(f) == "(x + y)\n(x * y)"
    assert isinstance(pp(theanolab.function([x], gy).maker.fgraph.outputs[0]), str)


@pytest.mark.parametrize("bad", [3, "x", None, [T.dscalar("x"), 3]])
def test_pp_rejects_non_graphs(bad):
    with pytest.raises(TypeError, match="pp"):
        pp(bad)


class Twice(Op):
    """A test op with no printer of its own."""

    __props__ = ()

    def make_node(self, x):
        x = T.as_tensor_variable(x)
        return Apply(self, [x], [x.type()])


class Halve(Twice):
    """A subclass inherits its base class's printer."""


def test_unknown_op_prints_as_a_call():
    x = T.dscalar("x")
    assert pp(Twice()(x + 1)) == "Twice((x + 1))"


def test_assign_printers_by_class_string_and_scalar_op():
    x = T.dscalar("x")
    printer = pprint.clone()
    printer.assign(Twice, FunctionPrinter("twice"))
    assert printer(Twice()(x)) == "twice(x)"
    assert printer(Halve()(x)) == "twice(x)"
    printer.assign(f"{Halve.__module__}:{Halve.__qualname__}", OperatorPrinter("~/", -1))
    assert printer(Halve()(x)) == "(~/x)"
    # A scalar op class: every Elemwise mapping it prints with the new printer.
    printer.assign(type(T.exp(x).owner.op.scalar_op), lambda op, var, args, pp_: Printed(f"e^{args[0].text}"))
    assert printer(T.exp(x) + 1) == "(e^x + 1)"
    # The shared table is untouched.
    assert pp(Twice()(x)) == "Twice(x)" and pp(T.exp(x)) == "exp(x)"


def test_assign_rejects_bad_keys_and_printers():
    printer = PPrinter()
    with pytest.raises(TypeError, match="op class"):
        printer.assign(Twice(), FunctionPrinter("twice"))
    with pytest.raises(TypeError, match="callable"):
        printer.assign(Twice, "twice")
    with pytest.raises(ValueError, match="parentheses"):
        PPrinter(parentheses="some")
    with pytest.raises(ValueError, match="assoc"):
        OperatorPrinter("+", 0, assoc="both")


def test_default_printer_keys_name_existing_classes():
    """A misspelt key would silently never match: every entry must name a class that exists."""
    for key in DEFAULT_PRINTERS:
        module_name, qualname = key.split(":")
        module = importlib.import_module(module_name)
        assert isinstance(getattr(module, qualname, None), type), key


def test_pp_of_deep_graph_needs_no_recursion():
    x = T.dscalar("x")
    total = x
    for _ in range(1500):
        total = total + x
    text = pp(total)
    assert text.startswith("(" * 1500 + "x + x)") and text.endswith(" + x)")


# ============================================================================ debugprint


def test_debugprint_seed_gradient():
    x = T.dscalar("x")
    gy = T.grad(x ** 2, x)
    assert tree(debugprint(gy, file="str")) == [
        "Elemwise{mul,no_inplace} [id A] ''",
        " |Elemwise{mul,no_inplace} [id B] ''",
        " | |Elemwise{second,no_inplace} [id C] ''",
        " | | |Elemwise{pow,no_inplace} [id D] ''",
        " | | | |x [id E]",
        " | | | |TensorConstant{2} [id F]",
        " | | |TensorConstant{1.0} [id G]",
        " | |TensorConstant{2} [id F]",
        " |Elemwise{pow,no_inplace} [id H] ''",
        "   |x [id E]",
        "   |Elemwise{sub,no_inplace} [id I] ''",
        "     |TensorConstant{2} [id F]",
        "     |TensorConstant{1} [id J]",
    ]


def test_debugprint_line_endings_are_theanos():
    x = T.dscalar("x")
    assert debugprint(x * 2, file="str") == "Elemwise{mul,no_inplace} [id A] ''   \n |x [id B]\n |TensorConstant{2} [id C]\n"
    assert debugprint(x * 2, file="str", ids="") == "Elemwise{mul,no_inplace}  ''   \n |x \n |TensorConstant{2} \n"


def shared_graph():
    m, v = T.dmatrix("m"), T.dvector("v")
    s = theanolab.shared(1.0, name="s")
    added = m + v
    return m, v, s, added, added * s


def test_debugprint_list_repeats_and_shared_variables():
    m, v, s, added, product = shared_graph()
    assert tree(debugprint([product, product.sum(), m + v], file="str")) == [
        "Elemwise{mul,no_inplace} [id A] ''",
        " |Elemwise{add,no_inplace} [id B] ''",
        " | |m [id C]",
        " | |InplaceDimShuffle{x,0} [id D] ''",
        " |   |v [id E]",
        " |InplaceDimShuffle{x,x} [id F] ''",
        "   |s [id G]",
        "Sum{acc_dtype=float64} [id H] ''",
        " |Elemwise{mul,no_inplace} [id A] ''",
        "Elemwise{add,no_inplace} [id I] ''",
        " |m [id C]",
        " |InplaceDimShuffle{x,0} [id J] ''",
        "   |v [id E]",
    ]


def test_debugprint_print_type():
    _, _, _, _, product = shared_graph()
    assert tree(debugprint(product, file="str", print_type=True)) == [
        "Elemwise{mul,no_inplace} [id A] <TensorType(float64, matrix)> ''",
        " |Elemwise{add,no_inplace} [id B] <TensorType(float64, matrix)> ''",
        " | |m [id C] <TensorType(float64, matrix)>",
        " | |InplaceDimShuffle{x,0} [id D] <TensorType(float64, row)> ''",
        " |   |v [id E] <TensorType(float64, vector)>",
        " |InplaceDimShuffle{x,x} [id F] <TensorType(float64, (True, True))> ''",
        "   |s [id G] <TensorType(float64, scalar)>",
    ]


def test_debugprint_multiple_outputs_share_the_node_id():
    m = T.dmatrix("m")
    node = T.max(m, axis=0).owner
    assert tree(debugprint(node.outputs, file="str")) == [
        "MaxAndArgmax{axis=(0,)}.0 [id A] 'max'",
        " |m [id B]",
        "MaxAndArgmax{axis=(0,)}.1 [id A] 'argmax'",
    ]
    assert debugprint(node, file="str") == debugprint(node.outputs, file="str")


def named_graph():
    x, y = T.dscalars("x", "y")
    z = x + y
    z.name = "z"
    return (z * 2) + z


@pytest.mark.parametrize("options, expected", [
    ({"stop_on_name": True}, [
        "Elemwise{add,no_inplace} [id A] ''",
        " |Elemwise{mul,no_inplace} [id B] ''",
        " | |Elemwise{add,no_inplace} [id C] 'z'",
        " | |TensorConstant{2} [id D]",
        " |Elemwise{add,no_inplace} [id C] 'z'",
    ]),
    ({"depth": 2, "ids": "int"}, [
        "Elemwise{add,no_inplace} [id 0] ''",
        " |Elemwise{mul,no_inplace} [id 1] ''",
        " |Elemwise{add,no_inplace} [id 2] 'z'",
    ]),
    ({"depth": 1}, ["Elemwise{add,no_inplace} [id A] ''"]),
    ({"depth": 0}, []),
    ({"ids": ""}, [
        "Elemwise{add,no_inplace}  ''",
        " |Elemwise{mul,no_inplace}  ''",
        " | |Elemwise{add,no_inplace}  'z'",
        " | | |x",
        " | | |y",
        " | |TensorConstant{2}",
        " |Elemwise{add,no_inplace}  'z'",
    ]),
])
def test_debugprint_options(options, expected):
    assert tree(debugprint(named_graph(), file="str", **options)) == expected


def test_debugprint_python_ids_and_bad_ids():
    x = T.dscalar("x")
    assert debugprint(x, file="str") == "x [id A]\n"
    assert debugprint(x, file="str", ids="id") == f"x [id {id(x)}]\n"
    with pytest.raises(ValueError, match="ids"):
        debugprint(x, file="str", ids="letters")


def test_debugprint_leaves_and_constants():
    assert debugprint(T.constant(3), file="str") == "TensorConstant{3} [id A]\n"
    assert debugprint(T.constant(0.5, name="half"), file="str") == "TensorConstant{0.5} [id A]\n"
    assert debugprint(T.dvector(), file="str", print_type=True) == \
        "<TensorType(float64, vector)> [id A] <TensorType(float64, vector)>\n"


def test_debugprint_ids_past_z():
    x = T.dscalar("x")
    total = x
    for k in range(30):
        total = total + float(k)
    lines = tree(debugprint(total, file="str"))
    ids = [re.search(r"\[id (\w+)\]", line).group(1) for line in lines]
    assert ids[:3] == ["A", "B", "C"] and "Z" in ids and "BA" in ids and len(set(ids)) == len(ids)


def test_debugprint_shares_ids_between_calls():
    m, v, s, added, product = shared_graph()
    done, used = {}, {}
    first = tree(debugprint(product, file="str", done=done, used_ids=used))
    second = tree(debugprint(added.sum(), file="str", done=done, used_ids=used))
    assert first[1] == " |Elemwise{add,no_inplace} [id B] ''"
    assert second == ["Sum{acc_dtype=float64} [id H] ''", " |Elemwise{add,no_inplace} [id B] ''"]


@pytest.mark.cpu_only
def test_debugprint_function_with_clients_and_updates():
    m, v, s, added, product = shared_graph()
    f = theanolab.function([m, v], [product, added.sum()], mode=NO_REWRITES, updates=[(s, s + 1)])
    assert tree(debugprint(f, file="str", print_clients=True)) == [
        "Elemwise{mul,no_inplace} [id A] ''   3",
        " |Elemwise{add,no_inplace} [id B] ''   1 clients:[('[id A]', 3), ('[id C]', 4)]",
        " | |m [id D]",
        " | |InplaceDimShuffle{x,0} [id E] ''   0",
        " |   |v [id F]",
        " |InplaceDimShuffle{x,x} [id G] ''   2",
        "   |s [id H]",
        "Sum{acc_dtype=float64} [id C] ''   4",
        " |Elemwise{add,no_inplace} [id B] ''   1 clients:[('[id A]', 3), ('[id C]', 4)]",
        "Elemwise{add,no_inplace} [id I] ''   5",
        " |s [id H]",
        " |TensorConstant{1} [id J]",
    ]
    assert debugprint(f.maker.fgraph, file="str") == debugprint(f, file="str")


def test_debugprint_output_client():
    m = T.dmatrix("m")
    added = m + 1
    fgraph = FunctionGraph([m], [added, added * 2], clone=False)
    lines = tree(debugprint(fgraph, file="str", print_clients=True))
    assert lines[0] == "Elemwise{add,no_inplace} [id A] ''   1 clients:[('output', ''), ('[id B]', 3)]"


@pytest.mark.cpu_only
def test_debugprint_storage():
    m, v, s, added, product = shared_graph()
    f = theanolab.function([m, v], product, mode=NO_REWRITES)
    f([[1.0, 2.0]], [3.0, 4.0])
    lines = tree(debugprint(f, file="str", print_storage=True))
    # Output cells are emptied after each call (as in Theano), so the output shows no value.
    assert lines[0] == "Elemwise{mul,no_inplace} [id A] ''   3 [None]"
    assert "   |s [id G] [array(1.)]" in lines


def test_debugprint_destinations(capsys):
    x = T.dscalar("x")
    assert debugprint(x) is None
    assert capsys.readouterr().out == "x [id A]\n"
    buffer = io.StringIO()
    assert debugprint(x, file=buffer) is buffer
    assert buffer.getvalue() == "x [id A]\n"


@pytest.mark.parametrize("bad", [3, [T.dscalar("x"), "y"]])
def test_debugprint_rejects_non_graphs(bad):
    with pytest.raises(TypeError, match="debugprint"):
        debugprint(bad, file="str")


def test_debugprint_of_deep_graph_needs_no_recursion():
    x = T.dscalar("x")
    total = x
    for _ in range(1500):
        total = total + x
    lines = tree(debugprint(total, file="str"))
    assert len(lines) == 1 + 2 * 1500


class InnerGraphOp(Op):
    """A test op carrying an inner graph, as scan and fused composites do."""

    def __init__(self, inputs, outputs):
        self._inputs, self._outputs = list(inputs), list(outputs)

    inner_inputs = property(lambda self: self._inputs)
    inner_outputs = property(lambda self: self._outputs)

    def __str__(self):
        return "InnerGraphOp"

    def make_node(self, *inputs):
        return Apply(self, [T.as_tensor_variable(i) for i in inputs], [o.type() for o in self._outputs])


def inner_graph_example():
    a, b = T.dscalars("a", "b")
    inner = InnerGraphOp([a, b], [a * b + 1])
    nested = InnerGraphOp([a], [inner(a, a)])
    x, y = T.dscalars("x", "y")
    return inner(x, y + 1), nested(x)


def test_debugprint_inner_graphs():
    first, _ = inner_graph_example()
    assert tree(debugprint(first, file="str")) == [
        "InnerGraphOp [id A] ''",
        " |x [id B]",
        " |Elemwise{add,no_inplace} [id C] ''",
        "   |y [id D]",
        "   |TensorConstant{1} [id E]",
        "",
        "Inner graphs:",
        "",
        "InnerGraphOp [id A] ''",
        " >Elemwise{add,no_inplace} [id F] ''",
        " > |Elemwise{mul,no_inplace} [id G] ''",
        " > | |a [id H] -> [id B]",
        " > | |b [id I] -> [id C]",
        " > |TensorConstant{1} [id J]",
    ]


def test_debugprint_nested_inner_graphs():
    _, nested = inner_graph_example()
    lines = tree(debugprint(nested, file="str"))
    assert lines == [
        "InnerGraphOp [id A] ''",
        " |x [id B]",
        "",
        "Inner graphs:",
        "",
        "InnerGraphOp [id A] ''",
        " >InnerGraphOp [id C] ''",
        " > |a [id D] -> [id B]",
        " > |a [id D] -> [id B]",
        "",
        "InnerGraphOp [id C] ''",
        " >Elemwise{add,no_inplace} [id E] ''",
        " > |Elemwise{mul,no_inplace} [id F] ''",
        " > | |a [id D]",
        " > | |b [id G] -> [id D]",
        " > |TensorConstant{1} [id H]",
    ]


def test_debugprint_jacobian_rows_inner_graph():
    x = T.dvector("x")
    f = theanolab.function([x], theanolab.gradient.jacobian(x ** 2, x), mode=NO_REWRITES)
    text = debugprint(f, file="str")
    main, inner = text.split("\nInner graphs:\n")
    outer_x = re.search(r"\|x (\[id \w+\])\n", main).group(1)
    header = re.search(r"^[ |]*(JacobianRows \[id \w+\]) ''\s+\d+$", main, re.M).group(1)
    assert inner.lstrip("\n").startswith(header + " ''")
    # The compiled graph is a copy: the inner graph's x stands for the outer one.
    assert re.search(r" > .*\|x \[id \w+\] -> " + re.escape(outer_x), inner)
    assert re.search(r" > .*\|i \[id \w+\] -> \[id \w+\]", inner)


# ============================================================================ to_dot

_STATEMENT = re.compile(r'^\s*(\w+)(?: -> (\w+))? \[(.*)\];$')
_ATTRIBUTE = re.compile(r'(\w+)="((?:[^"\\]|\\.)*)"')


def _unescape(text):
    return re.sub(r"\\(.)", lambda match: "\n" if match.group(1) == "n" else match.group(1), text)


def parse_dot(source):
    """``(nodes {id: attributes}, edges [(source, target, attributes)])`` of to_dot's output."""
    assert source.startswith('digraph "') and source.endswith("}\n")
    nodes, edges = {}, []
    for line in source.splitlines()[1:-1]:
        match = _STATEMENT.match(line)
        if match is None:
            continue
        attributes = {key: _unescape(value) for key, value in _ATTRIBUTE.findall(match.group(3))}
        if match.group(2) is None:
            assert match.group(1) not in nodes, f"{match.group(1)} declared twice"
            nodes[match.group(1)] = attributes
        else:
            edges.append((match.group(1), match.group(2), attributes))
    for source_id, target_id, _ in edges:
        assert source_id in nodes and target_id in nodes
    return nodes, edges


def by_label(nodes, label):
    (dot_id,) = [dot_id for dot_id, attributes in nodes.items() if attributes["label"] == label]
    return dot_id


def test_to_dot_kinds_and_edges():
    m, v, s, added, product = shared_graph()
    nodes, edges = parse_dot(to_dot(product / 2))
    kinds = {attributes["label"]: attributes["class"] for attributes in nodes.values()}
    assert kinds["m"] == kinds["v"] == "input"
    assert kinds["s"] == "shared" and kinds["2"] == "constant" and kinds["output 0"] == "output"
    assert kinds["Elemwise{add,no_inplace}"] == "apply"
    styles = {attributes["class"]: (attributes["shape"], attributes["fillcolor"]) for attributes in nodes.values()}
    assert len(set(styles.values())) == len(styles) == 5
    add, mul = by_label(nodes, "Elemwise{add,no_inplace}"), by_label(nodes, "Elemwise{mul,no_inplace}")
    labels = {(a, b): attributes for a, b, attributes in edges}
    assert labels[(by_label(nodes, "m"), add)] == {"label": "float64 (False, False)", "headlabel": "0"}
    assert labels[(add, mul)]["label"] == "float64 (False, False)"
    assert [attributes for a, _, attributes in edges if a == by_label(nodes, "s")] == [{"label": "float64 ()"}]


def test_to_dot_names_outputs_and_multiple_outputs():
    m = T.dmatrix("m")
    maximum, argmax = T.max_and_argmax(m, axis=0)
    z = m.sum()
    z.name = "total"
    nodes, edges = parse_dot(to_dot([maximum, argmax, z * 2]))
    node_id = by_label(nodes, "MaxAndArgmax{axis=(0,)}")
    tails = {edge[2]["taillabel"] for edge in edges if edge[0] == node_id}
    assert tails == {"0", "1"}
    assert nodes["o0"]["label"] == "max" and nodes["o1"]["label"] == "argmax"
    named = [attributes for a, b, attributes in edges if attributes["label"].startswith("total\n")]
    assert named == [{"label": "total\nfloat64 ()", "headlabel": "0"}]


def test_to_dot_ids_are_deterministic():
    def build():
        x, y = T.dscalars("x", "y")
        return [T.exp(x) * y + x, x - y]

    assert to_dot(build()) == to_dot(build())
    nodes, _ = parse_dot(to_dot(build()))
    assert all(re.fullmatch(r"[nvo]\d+", dot_id) for dot_id in nodes)


def test_to_dot_escapes_labels():
    weird = 'a"b{c}|<d>\\e\nf'
    x = T.dscalar(weird)
    source = to_dot(x + 1, name='my "graph"')
    assert source.startswith('digraph "my \\"graph\\"" {')
    nodes, _ = parse_dot(source)
    assert weird in [attributes["label"] for attributes in nodes.values()]
    assert '\\"' in source and "\\\\e" in source and "\\nf" in source


def test_to_dot_inner_graph_cluster():
    first, _ = inner_graph_example()
    source = to_dot(first)
    assert 'subgraph "cluster_n1" {' in source
    nodes, edges = parse_dot(source)
    inner_inputs = {attributes["label"]: dot_id for dot_id, attributes in nodes.items()
                    if attributes["class"] == "inner_input"}
    assert set(inner_inputs) == {"a\n(inner input 0)", "b\n(inner input 1)"}
    dashed = {(a, b) for a, b, attributes in edges if attributes.get("style") == "dashed"}
    assert (by_label(nodes, "x"), inner_inputs["a\n(inner input 0)"]) in dashed
    assert nodes["n0"]["label"] == "Elemwise{add,no_inplace}"  # y + 1, the node's second input
    assert ("n0", inner_inputs["b\n(inner input 1)"]) in dashed
    assert ("n1_o0", "n1") in dashed


def test_to_dot_accepts_functions_and_styles():
    x = T.dscalar("x")
    f = theanolab.function([x], x * 2, mode=NO_REWRITES)
    assert to_dot(f) == to_dot(f.maker.fgraph)
    nodes, _ = parse_dot(to_dot(f, styles={"input": {"fillcolor": "gold"}}, rankdir="LR"))
    assert nodes[by_label(nodes, "x")]["fillcolor"] == "gold"
    with pytest.raises(ValueError, match="unknown kinds"):
        to_dot(f, styles={"inputs": {}})
    with pytest.raises(TypeError, match="to_dot"):
        to_dot({"x": x})


def test_to_dot_renders_with_graphviz():
    dot = shutil.which("dot")
    if dot is None:
        pytest.skip("graphviz's `dot` program is not installed; the DOT text is checked by the other tests")
    first, _ = inner_graph_example()
    x = T.dscalar('we"ird{<name>}')
    for graph in (first, [x * 2, T.exp(x)]):
        result = subprocess.run([dot, "-Tsvg"], input=to_dot(graph), capture_output=True, text=True, timeout=60)
        assert result.returncode == 0, result.stderr
        assert "<svg" in result.stdout
