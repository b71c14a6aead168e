"""`import theanolab` stays light, and the demo (the README's main job) runs.

Both run in fresh interpreters: ``sys.modules`` of the test process already holds
whatever pytest and other tests imported.
"""

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# Top-level modules that only theanolab.viz (the teaching layer) or a backend chosen
# at run time may import; `import theanolab` must load none of them.
FORBIDDEN = ("IPython", "ipykernel", "ipywidgets", "jupyter_client", "jupyterlab", "graphviz", "matplotlib", "cupy")


def run_python(*args, timeout=120):
    return subprocess.run(
        [sys.executable, *args], cwd=ROOT, capture_output=True, text=True, timeout=timeout
    )


@pytest.mark.parametrize("module", ["theanolab", "theanolab.tensor", "theanolab.gradient"])
def test_import_loads_no_heavy_module(module):
    done = run_python("-c", f"import json, sys, {module}; print(json.dumps(sorted(sys.modules)))")
    assert done.returncode == 0, done.stderr
    loaded = {name.split(".")[0] for name in json.loads(done.stdout)}
    assert "theanolab" in loaded
    assert sorted(loaded.intersection(FORBIDDEN)) == []


def demo(*args):
    return run_python("-m", "theanolab.demo", *args)


def test_demo_trains_and_reports_progress():
    done = demo("--steps", "30", "--report-every", "10", "--samples", "60", "--features", "12")
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "logistic regression on 60 samples x 12 features, 30 steps" in out
    steps = [int(s) for s in re.findall(r"^step\s+(\d+)", out, re.MULTILINE)]
    assert steps == [1, 10, 20, 30]
    costs = [float(c) for c in re.findall(r"cost\s+([-\d.]+)", out)]
    assert len(costs) == 4 and costs[-1] < costs[0], f"the cost did not go down: {costs}"
    final = re.search(r"final training accuracy ([\d.]+)% after 30 steps", out)
    assert final is not None, out
    assert 0.0 <= float(final.group(1)) <= 100.0


def test_demo_learns_the_tutorial_data_set():
    """At the tutorial's sizes (400 x 784: separable) and N(0, 1) weights, a few hundred steps fit every sample."""
    done = demo("--steps", "500")
    assert done.returncode == 0, done.stderr
    assert "final training accuracy 100.0% after 500 steps" in done.stdout, done.stdout
    assert "nan" not in done.stdout


@pytest.mark.parametrize(
    "flag, value", [("--steps", "0"), ("--samples", "0"), ("--features", "-1"), ("--report-every", "0")]
)
def test_demo_rejects_bad_sizes(flag, value):
    done = demo(flag, value)
    assert done.returncode == 2
    assert f"{flag} must be at least 1" in done.stderr


def test_theano_top_level_names_for_writing_ops():
    """Theano's tutorial on extending Theano writes ``theano.Op``, ``theano.Apply`` and friends."""
    import theanolab as theano
    import theanolab.tensor as T
    from theanolab.graph import basic, op, type as graph_type
    assert (theano.Op, theano.Apply, theano.Variable, theano.Constant, theano.Type) == \
        (op.Op, basic.Apply, basic.Variable, basic.Constant, graph_type.Type)
    x = T.dmatrix('x')
    assert theano.pprint(theano.dot(x, x)) == theano.pp(T.dot(x, x))
    assert theano.Rop is theano.gradient.Rop and theano.Lop is theano.gradient.Lop
