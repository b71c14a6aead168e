"""``benchmarks/gpu.py --simulated``: the GPU benchmark runs end to end without a GPU.

Its numbers need a real GPU (docs/benchmarks.md, "GPU (CUDA backend)"); here
theanolab runs on the simulated GPU at tiny sizes, in a subprocess exactly as
a user starts it, and the test checks what the GPU session relies on: one
JSON line per workload, theanolab's column measured and matching NumPy, every
other column either measured or saying why not (never an error), and the
Markdown section labelled as simulated.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from theanolab.backends.c.build import compiler_available

ROOT = Path(__file__).resolve().parents[2]
WORKLOADS = ("fused elementwise", "MLP step", "tanh RNN forward + gradient (scan)")


@pytest.fixture(scope="module")
def script_output():
    if not compiler_available():
        pytest.skip("the simulated GPU compiles its kernels with the C compiler, which is missing")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    done = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "gpu.py"), "--simulated", "--markdown"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    lines = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    markdown = done.stdout[done.stdout.index("## GPU (CUDA backend)"):]
    return {line["workload"]: line for line in lines}, markdown


def test_one_json_line_per_workload(script_output):
    lines, _ = script_output
    assert sorted(lines) == sorted(WORKLOADS)
    assert all(line["params"]["simulated"] and line["params"]["dtype"] == "float32" for line in lines.values())


@pytest.mark.parametrize("workload", WORKLOADS)
def test_theanolab_runs_on_the_simulated_gpu_and_matches_numpy(script_output, workload):
    result = script_output[0][workload]["results"]["theanolab"]
    assert result["seconds"] > 0 and result["matches_numpy"] is True, result
    assert "simulated" in result["device"]
    assert result["nodes"].get("cuda", 0) > 0  # the placement moved nodes to the (simulated) GPU


@pytest.mark.parametrize("workload", WORKLOADS)
def test_other_columns_are_measured_or_say_why(script_output, workload):
    line = script_output[0][workload]
    others = {name: result for name, result in line["results"].items() if name != "theanolab"}
    assert {"torch", "jax"} <= set(others)
    for name, result in others.items():
        assert "error" not in result, (name, result)
        assert ("seconds" in result and result["matches_numpy"] is not False) or result["skipped"], (name, result)
    assert set(line["ratios"]) == {f"theanolab / {name}" for name, result in others.items() if "seconds" in result}
    assert "target" not in line  # a simulated run gives no verdict


def test_the_bandwidth_limit_is_a_column_of_the_fused_workload_only(script_output):
    lines, _ = script_output
    assert [name for name, line in lines.items() if "bandwidth_limit" in line["results"]] == ["fused elementwise"]


def test_markdown_section_is_labelled_simulated(script_output):
    _, markdown = script_output
    assert "SIMULATED run" in markdown
    rows = [row for row in markdown.splitlines() if row.startswith("| ") and not row.startswith("| workload")]
    for workload in WORKLOADS:
        assert sum(row.startswith(f"| {workload} |") for row in rows) == 2  # the times and the ratios
