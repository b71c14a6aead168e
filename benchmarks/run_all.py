"""Run every benchmark script and write the tables in docs/benchmarks.md.

    python benchmarks/run_all.py            # full sizes, updates docs/benchmarks.md
    python benchmarks/run_all.py --quick    # tiny sizes, prints the tables, writes nothing

Each script prints one JSON line per workload (one process per column, see
``common.py``); this runner collects the lines, adds the machine and the
versions, and replaces the part of docs/benchmarks.md between the two
``benchmarks:`` markers with three tables: times per column with theanolab's
target, theanolab's ratio to every other column, and graph sizes.  BLAS and
OpenMP run one thread per library, on one core, unless a script says otherwise
(the fused cross-entropy: two, its hand-written anchor's setting) or
``--threads`` sets one count for all.  ``./scripts/bench.sh`` sets up the environment (PyTensor,
JAX) and runs this.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import subprocess
import sys
from importlib import metadata
from pathlib import Path

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:  # also when loaded by path (tests/test_packaging.py)
    sys.path.insert(0, str(HERE))

from columns import COLUMNS

from theanolab.graph.rewriting.catalog import replace_between_markers

__all__ = ["SCRIPTS", "format_seconds", "machine_description", "render_graph_table", "render_ratios",
           "render_table", "run_script"]

ROOT = HERE.parent
DOCUMENT = ROOT / "docs" / "benchmarks.md"
BEGIN = "<!-- benchmarks:begin (written by benchmarks/run_all.py; edit the text outside these markers) -->"
END = "<!-- benchmarks:end -->"
SCRIPTS = (
    "logreg_step",
    "mlp_step",
    "xent_sigmoid",
    "call_overhead",
    "grad_chain",
    "compile_time",
    "elemwise_fused",
    "rnn_scan",
    "import_time",
    "graph_size",
)
SCRIPT_TIMEOUT_S = 900
OURS = COLUMNS[0]  # theanolab with its default (C) linker: the column the targets are about


def run_script(name, quick=False, threads=None):
    """Run ``benchmarks/<name>.py``; its JSON lines (or one row saying how it failed)."""
    command = [sys.executable, str(HERE / f"{name}.py")] + (["--quick"] if quick else []) + \
        ([f"--threads={threads}"] if threads else [])
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    try:
        done = subprocess.run(
            command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=SCRIPT_TIMEOUT_S, check=False
        )
    except subprocess.TimeoutExpired:
        return [{"workload": name, "failed": f"{name}.py ran longer than {SCRIPT_TIMEOUT_S} s"}]
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode != 0 or not lines:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        return [{"workload": name, "failed": f"{name}.py exited {done.returncode}: {last}"}]
    return [json.loads(line) for line in lines]


def _cpu_model():
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _version(distribution):
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return "not installed"


def _compiler():
    try:
        return subprocess.run(["cc", "--version"], capture_output=True, text=True, check=False).stdout.splitlines()[0]
    except (OSError, IndexError):
        return "no cc"


def machine_description(rows):
    """The lines above the tables: where and with what the numbers were taken."""
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    threaded = sorted({f"{row['workload']}: {row['params']['threads']}" for row in rows
                       if row.get("params", {}).get("threads", 1) != 1})
    return [
        f"- Date: {datetime.date.today().isoformat()}",
        (f"- Machine: {_cpu_model()}, {os.cpu_count()} cores, {platform.system()} {platform.machine()}; "
         f"load average at start {load:.2f} (the machine is shared, so times vary by tens of percent)"),
        (f"- Threads (BLAS and OpenMP, every library; processes pinned to as many cores, compiles not): "
         f"1{'; ' + ', '.join(threaded) if threaded else ''}"),
        (f"- Versions: Python {platform.python_version()}, NumPy {_version('numpy')}, "
         f"theanolab {_version('theanolab')}, PyTensor {_version('pytensor')}, JAX {_version('jax')}, "
         f"scipy-openblas32 {_version('scipy-openblas32')}; {_compiler()}"),
    ]


def format_seconds(seconds):
    """A time with the unit a reader expects (µs, ms or s) and three significant digits."""
    for scale, unit in ((1.0, "s"), (1e-3, "ms"), (1e-6, "µs")):
        if seconds >= scale:
            return f"{seconds / scale:.3g} {unit}"
    return f"{seconds / 1e-9:.3g} ns"


def _cell(result):
    if "seconds" in result:
        return format_seconds(result["seconds"])
    if "programs" in result:  # graph_size: Apply nodes per program
        return " / ".join(str(program["apply_nodes"]) for program in result["programs"].values())
    return "—"


def _target(row):
    target = row.get("target")
    if target is None:
        return ""
    verdict = {True: "**met**", False: "**not met**", None: "not measured"}[target["met"]]
    return f"{target['text']}: {verdict}"


def _notes(row):
    notes = []
    labels = {column.name: column.label for column in COLUMNS}
    for name, result in row["results"].items():
        label = labels.get(name, name)
        for key in ("skipped", "error"):
            if key in result and not result.get("missing"):
                notes.append(f"{label}: {result[key]}")
        if result.get("matches_numpy") is False:
            notes.append(f"{label}: result does NOT match NumPy")
    runs_as = row["results"].get(OURS.name, {}).get("one_c_function")
    if runs_as is not None:
        notes.append(f"{OURS.label}: " + ("one C function per call" if runs_as else "mixed VM, Python between nodes"))
    compiles = [f"{labels[name]} {format_seconds(result['compile_seconds'])}"
                for name, result in row["results"].items() if "compile_seconds" in result]
    if compiles:
        notes.append("compile: " + ", ".join(compiles))
    return "; ".join(notes).replace("|", "\\|")


def _size(row):
    return ", ".join(f"{key}={value}" for key, value in row["params"].items() if key != "programs")


def render_table(rows):
    """The Markdown table of times: one row per workload, one column per library, theanolab's target."""
    lines = [
        "| workload | size | unit | " + " | ".join(column.label for column in COLUMNS) + " | target | notes |",
        "| --- | --- | --- | " + " | ".join("---:" for _ in COLUMNS) + " | --- | --- |",
    ]
    for row in rows:
        if "failed" in row:
            lines.append(f"| {row['workload']} | | | " + " | ".join("" for _ in COLUMNS) + f" | | {row['failed']} |")
            continue
        cells = " | ".join(_cell(row["results"].get(column.name, {})) for column in COLUMNS)
        lines.append(f"| {row['workload']} | {_size(row)} | {row['unit']} | {cells} | {_target(row)} | {_notes(row)} |")
    return lines


def _ratio(numerator, denominator):
    if "seconds" in numerator and "seconds" in denominator and denominator["seconds"] > 0:
        return f"{numerator['seconds'] / denominator['seconds']:.3g}×"
    return "—"


def render_ratios(rows):
    """theanolab's time divided by every other column's (above 1×: theanolab is slower)."""
    others = COLUMNS[1:]
    lines = ["| workload | " + " | ".join(f"{OURS.label} / {column.label}" for column in others) + " |",
             "| --- | " + " | ".join("---:" for _ in others) + " |"]
    for row in rows:
        results = row.get("results", {})
        ours = results.get(OURS.name, {})
        if "seconds" not in ours:
            continue
        lines.append(f"| {row['workload']} | "
                     + " | ".join(_ratio(ours, results.get(column.name, {})) for column in others) + " |")
    return lines


def _op_list(ops):
    listed = ", ".join(f"{name} ×{count}" if count > 1 else name for name, count in ops.items())
    return listed.replace("|", "\\|")


def render_graph_table(rows, reference="pytensor_openblas"):
    """The graph-size table: Apply nodes per program and the ops left, theanolab beside PyTensor."""
    labels = {column.name: column.label for column in COLUMNS}
    lines = []
    for row in rows:
        results = row.get("results", {})
        if "programs" not in results.get(OURS.name, {}):
            continue
        graphs = {name: result["programs"] for name, result in results.items() if "programs" in result}
        theirs = graphs.get(reference, {})
        lines += ["", ("Graph size: Apply nodes of the optimized FAST_RUN graph (fewer is better), and the ops "
                       f"they apply ({OURS.label} and {labels[reference]})."), "",
                  "| program | " + " | ".join(labels[name] for name in graphs)
                  + f" | {OURS.label} ops | {labels[reference]} ops |",
                  "| --- | " + " | ".join("---:" for _ in graphs) + " | --- | --- |"]
        for program, ours in graphs[OURS.name].items():
            counts = " | ".join(str(graph[program]["apply_nodes"]) for graph in graphs.values())
            reference_ops = _op_list(theirs[program]["ops"]) if program in theirs else "—"
            lines.append(f"| {program} | {counts} | {_op_list(ours['ops'])} | {reference_ops} |")
    return lines


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes; print the tables, write nothing")
    parser.add_argument("--only", nargs="+", choices=SCRIPTS, help="run only these scripts")
    parser.add_argument("--threads", type=int, help="BLAS/OpenMP threads for every library in every script")
    args = parser.parse_args(argv)

    rows = []
    for name in args.only or SCRIPTS:
        print(f"running {name} ...", file=sys.stderr, flush=True)
        script_rows = run_script(name, quick=args.quick, threads=args.threads)
        for row in script_rows:
            print(json.dumps(row), file=sys.stderr, flush=True)
        rows += script_rows
    lines = machine_description(rows) + [""] + render_table(rows)
    lines += ["", "theanolab's time over the others' (below 1×: theanolab is faster):", ""]
    lines += render_ratios(rows) + render_graph_table(rows)
    block = "\n".join(lines)
    print(block)
    if not args.quick:
        DOCUMENT.write_text(replace_between_markers(DOCUMENT.read_text(), block, BEGIN, END))
        print(f"wrote {DOCUMENT.relative_to(ROOT)}", file=sys.stderr)
    failed = [row["workload"] for row in rows if "failed" in row]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
