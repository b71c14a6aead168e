"""The packaging promises: metadata and extras, kernels in the wheel, the README's
commands and example, and a benchmark harness that runs.
"""

import doctest
import importlib.util
import os
import re
import shutil
import subprocess
import sys
import zipfile
from importlib import metadata, resources
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"


def installed_metadata():
    try:
        return metadata.metadata("theanolab")
    except metadata.PackageNotFoundError:
        pytest.skip("theanolab is not installed (pip install -e .)")


def requirements(meta, extra=None):
    """Distribution names required by theanolab, for the core or for one extra."""
    names = set()
    for requirement in meta.get_all("Requires-Dist") or []:
        spec, _, marker = requirement.partition(";")
        in_extra = re.search(r"extra\s*==\s*['\"]([\w-]+)['\"]", marker)
        if (in_extra.group(1) if in_extra else None) == extra:
            names.add(re.match(r"[A-Za-z0-9_.-]+", spec.strip()).group(0).lower())
    return names


@pytest.mark.parametrize(
    "extra, expected",
    [
        (None, {"numpy", "cffi", "scipy-openblas32"}),
        ("notebook", {"jupyterlab", "ipywidgets", "graphviz", "matplotlib", "graphviz-pure"}),
        ("cuda", {"cupy-cuda12x"}),
        ("test", {"pytest", "hypothesis", "pytest-timeout", "mpmath", "playwright"}),
        ("bench", {"pytensor", "jax", "jaxlib"}),
    ],
)
def test_dependencies(extra, expected):
    assert requirements(installed_metadata(), extra) == expected


def test_python_version_and_name():
    meta = installed_metadata()
    assert meta["Name"] == "theanolab"
    assert meta["Requires-Python"] == ">=3.10"
    import theanolab

    assert meta["Version"] == theanolab.__version__


def test_kernels_are_package_data_of_the_installed_package():
    installed_metadata()
    kernels = resources.files("theanolab.kernels")
    assert (kernels / "README.md").is_file()


def test_wheel_ships_files_added_under_kernels(tmp_path):
    """Build a wheel from a copy of the sources with a new kernel file in a subfolder.

    pip builds it the way a user's install does, in an isolated environment with
    the build requirements of pyproject.toml (from pip's cache after set-up).
    """
    source = tmp_path / "src"
    source.mkdir()
    for name in ("pyproject.toml", "setup.py", "README.md"):
        shutil.copy(ROOT / name, source / name)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    shutil.copytree(ROOT / "theanolab", source / "theanolab", ignore=ignore)
    shutil.copytree(ROOT / "kernels", source / "kernels", ignore=ignore)
    (source / "kernels" / "c").mkdir(exist_ok=True)
    (source / "kernels" / "c" / "probe_kernel.c").write_text("/* a template */\n")
    done = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", str(tmp_path), "."],
        cwd=source, capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 0, done.stderr
    (wheel,) = tmp_path.glob("theanolab-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "theanolab/kernels/c/probe_kernel.c" in names
    assert "theanolab/kernels/README.md" in names
    assert "theanolab/tensor/elemwise.py" in names  # subpackages are found without being listed
    assert not any(name.startswith(("kernels/", "tests/", "benchmarks/")) for name in names)


def readme_commands():
    """The shell commands in the README's set-up section (the first bash block)."""
    block = re.search(r"## Set-up: two commands.*?```bash\n(.*?)```", README.read_text(), re.DOTALL)
    assert block, "README.md has no '## Set-up: two commands' section with a bash block"
    return [line.split("#")[0].strip() for line in block.group(1).splitlines() if line.split("#")[0].strip()]


def test_readme_has_two_setup_commands_and_ci_runs_the_test_one():
    demo, test = readme_commands()
    assert demo == "./scripts/demo.sh" and test == "./scripts/test.sh"
    ci = (ROOT / ".ci" / "run").read_text()
    assert "set -euo pipefail" in ci
    assert [line for line in ci.splitlines() if line.startswith("./")] == [test]


@pytest.mark.parametrize("path", ["scripts/demo.sh", "scripts/test.sh", "scripts/bench.sh", ".ci/run"])
def test_commands_are_executable_bash_scripts(path):
    script = ROOT / path
    assert os.access(script, os.X_OK), f"{path} is not executable"
    assert script.read_text().startswith("#!/usr/bin/env bash\n")
    done = subprocess.run(["bash", "-n", str(script)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_readme_quick_start_runs():
    failures, tried = doctest.testfile(
        str(README), module_relative=False, optionflags=doctest.NORMALIZE_WHITESPACE, verbose=False
    )
    assert tried > 0 and failures == 0


def load_runner():
    spec = importlib.util.spec_from_file_location("run_all", ROOT / "benchmarks" / "run_all.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize(
    "seconds, text", [(2.5, "2.5 s"), (0.0123, "12.3 ms"), (4.2e-6, "4.2 µs"), (3e-10, "0.3 ns")]
)
def test_benchmark_time_format(seconds, text):
    assert load_runner().format_seconds(seconds) == text


def test_benchmark_page_has_the_markers_of_the_generated_table():
    runner = load_runner()
    assert runner.BEGIN in (ROOT / "docs" / "benchmarks.md").read_text()
    assert runner.END in (ROOT / "docs" / "benchmarks.md").read_text()


def test_benchmark_scripts_run_side_by_side():
    """Every script, at tiny sizes, prints JSON lines with a result for each column it measures.

    PyTensor and JAX need not be installed: their columns then say so instead of failing.
    """
    runner = load_runner()
    # gpu.py needs a GPU (run by hand; tests/cuda/test_gpu_benchmark_script.py runs it simulated).
    helpers = ("common", "columns", "models", "run_all", "gpu", "gpu_workloads")
    assert sorted(runner.SCRIPTS) == sorted(p.stem for p in (ROOT / "benchmarks").glob("*.py")
                                            if p.stem not in helpers)
    columns = {column.name for column in runner.COLUMNS}
    rows = {name: runner.run_script(name, quick=True) for name in runner.SCRIPTS}
    for name, script_rows in rows.items():
        for row in script_rows:
            assert "failed" not in row, row
            results = row["results"]
            assert "theanolab" in results and set(results) <= columns, (name, results)
            for column, result in results.items():
                assert "error" not in result, (row["workload"], column, result)
                assert result.get("matches_numpy", True), (row["workload"], column)
                assert {"seconds", "skipped", "programs"} & set(result), (row["workload"], column, result)
    assert "seconds" in rows["logreg_step"][0]["results"]["theanolab"]
    assert "seconds" in rows["xent_sigmoid"][0]["results"]["handwritten_c"]
    assert len(rows["call_overhead"]) == 2
    assert len(rows["compile_time"]) == 4  # logistic regression and the scan RNN, each cold and warm
    assert rows["import_time"][0]["target"]["met"] in (True, False)
    flat = [row for script_rows in rows.values() for row in script_rows]
    assert len(runner.render_table(flat)) == 2 + len(flat)
