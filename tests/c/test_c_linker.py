"""The mixed runner: which nodes run C, and that the choice is visible."""

import numpy as np

import theanolab
import theanolab.tensor as T
from theanolab.printing import debugprint

C_MODE = theanolab.Mode(linker="cvm", optimizer="fast_run")
PY_MODE = theanolab.Mode(linker="py", optimizer="fast_run")


def build(mode):
    x = T.dvector("x")
    return theanolab.function([x], (T.exp(x) * 2).sum() + x.shape[0], mode=mode)


def test_nodes_with_kernels_run_in_c_and_the_others_in_python():
    f = build(C_MODE)
    backends = {str(node.op): backend for node, backend in f.node_backends.items()}
    assert backends["Shape_i{0}"] == "py"  # a shape lookup has no kernel: perform runs it
    assert backends["Sum{acc_dtype=float64}"] == "c"
    assert set(backends.values()) == {"c", "py"}
    np.testing.assert_allclose(f(np.arange(3.0)), 2 * np.exp(np.arange(3.0)).sum() + 3)


def test_debugprint_marks_the_nodes_run_in_c():
    c_lines = debugprint(build(C_MODE), file="str").splitlines()
    assert any(line.startswith("Elemwise{add}") and line.endswith("[C]") for line in c_lines)
    assert any("Shape_i{0}" in line and not line.endswith("[C]") for line in c_lines)
    assert "[C]" not in debugprint(build(PY_MODE), file="str")
    assert set(build(PY_MODE).node_backends.values()) == {"py"}
