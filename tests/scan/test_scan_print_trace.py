"""How a scan shows itself: debugprint of the inner graph, iteration records, the mode of the body."""

import doctest

import numpy as np
import pytest

import theanolab
import theanolab.tensor as T
from theanolab.scan import api, grad, op, trace
from theanolab.scan_module import until


def walk():
    x, x0, c = T.dvector("x"), T.dscalar("x0"), T.dscalar("c")
    y, _ = theanolab.scan(lambda a, b, p, c: a + b * c + p, sequences=dict(input=x, taps=[-1, 1]),
                          outputs_info=x0, non_sequences=c, name="walk")
    return [x, x0, c], y


def test_debugprint_shows_the_inner_graph_like_theano():
    _, y = walk()
    text = theanolab.printing.debugprint(y, file="str")
    lines = text.splitlines()
    assert lines[0].startswith("Subtensor{int64::} [id A]") and lines[1].startswith(" |for{cpu,walk} [id B]")
    outer_id = {line.split(" [id ")[0].strip(" |"): line.split("[id ")[1].split("]")[0] for line in lines
                if "[id " in line and not line.startswith(" >")}
    inner = text.split("Inner graphs:")[1]
    # each inner input names the outer input it reads: taps of x read the two slices, c_copy reads c
    assert "|c_copy [id" in inner and f"-> [id {outer_id['c']}]" in inner
    assert "x[t-1] [id" in inner and "x[t+1] [id" in inner and "x0[t-1] [id" in inner
    assert f"-> [id {outer_id['Subtensor{int64:int64:}']}]" in inner
    assert f"-> [id {outer_id['Subtensor{int64::}']}]" in inner


def test_dot_wires_inner_inputs_to_their_outer_inputs():
    _, y = walk()
    dot = theanolab.printing.to_dot(y)
    assert 'label="inner graph of for{cpu,walk}"' in dot
    assert dot.count('style="dashed", arrowhead="none"') == 4  # x[t-1], x[t+1], x0[t-1], c_copy


def test_iterations_are_recorded_on_request():
    inputs, y = walk()
    f = theanolab.function(inputs, y)
    f([1.0, 2.0, 3.0, 4.0], 0.5, 10.0)
    assert f.scan_traces["walk"].steps == []  # off by default
    with theanolab.change_flags(scan_trace=True):
        result = f([1.0, 2.0, 3.0, 4.0], 0.5, 10.0)
    steps = f.scan_traces[0].steps
    assert [s.index for s in steps] == [0, 1]
    first = steps[0]
    assert first.sequences == {"x[t-1]": 1.0, "x[t+1]": 3.0}
    assert first.states == {"x0[t-1]": 0.5} and first.non_sequences == {"c_copy": 10.0}
    assert steps[1].states == {"x0[t-1]": first.outputs["x0[t]"]}
    assert [s.outputs["x0[t]"] for s in steps] == result.tolist()
    with pytest.raises(KeyError, match="no scan named 'other'"):
        f.scan_traces["other"]


def test_recorded_until_and_shared_values():
    total = theanolab.shared(np.float64(0.0), name="total")
    x = T.dvector("x")
    out, updates = theanolab.scan(lambda a: (a * 2, {total: total + a}, until(a > 1)),
                                  sequences=x)
    f = theanolab.function([x], out, updates=updates)
    with theanolab.change_flags(scan_trace=True):
        f([1.0, 2.0, 3.0])
    steps = f.scan_traces[0].steps
    assert len(steps) == 2 and [s.shared["total_copy"] for s in steps] == [0.0, 1.0]
    assert [bool(s.outputs["until"]) for s in steps] == [False, True]
    assert float(total.get_value()) == 3.0


def named(var, name):
    var.name = name
    return var


# fn of (x[t], h[t-1]) -> (new state, per-step outputs...), and the labels of the step's outputs.
PER_STEP_LABELS = {
    "named": (lambda a, h: (h + a, named(2 * a, "y_t")), ["h0[t]", "y_t"]),
    "unnamed": (lambda a, h: (h + a, 2 * a), ["h0[t]", "output 0"]),
    "named and unnamed": (lambda a, h: (h + a, 2 * a, named(a * a, "sq_t")), ["h0[t]", "output 0", "sq_t"]),
    "the same name twice": (lambda a, h: (h + a, named(2 * a, "y_t"), named(3 * a, "y_t")),
                            ["h0[t]", "y_t", "output 1"]),
    "the state's label": (lambda a, h: (h + a, named(2 * a, "h0[t]")), ["h0[t]", "output 0"]),
}


@pytest.mark.parametrize("case", sorted(PER_STEP_LABELS))
def test_per_step_outputs_are_recorded_by_name(case):
    fn, labels = PER_STEP_LABELS[case]
    x, h0 = T.dvector("x"), T.dscalar("h0")
    outputs, _ = theanolab.scan(fn, sequences=x, outputs_info=[h0] + [None] * (len(labels) - 1))
    f = theanolab.function([x, h0], outputs)
    with theanolab.change_flags(scan_trace=True):
        results = f([1.0, 2.0, 3.0], 0.5)
    steps = f.scan_traces[0].steps
    assert [list(s.outputs) for s in steps] == [labels] * 3
    for label, result in zip(labels, results):
        assert [float(s.outputs[label]) for s in steps] == result.tolist()


@pytest.mark.cpu_only
@pytest.mark.parametrize("mode, linker", [("FAST_COMPILE", "py"), (theanolab.Mode(linker="py"), "py")])
def test_the_body_is_compiled_by_the_outer_mode(mode, linker):
    inputs, y = walk()
    f = theanolab.function(inputs, y, mode=mode)
    f([1.0, 2.0, 3.0], 0.0, 1.0)
    scan_node = next(n for n in f.maker.fgraph.toposort() if isinstance(n.op, op.Scan))
    assert [m.linker for m in scan_node.op._runners] == [linker]


@pytest.mark.parametrize("module", [api, op, grad, trace])
def test_docstring_examples(module):
    failures, _ = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert failures == 0
