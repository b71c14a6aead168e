"""Run every benchmark script and write the table in docs/benchmarks.md.

    python benchmarks/run_all.py            # full sizes, updates docs/benchmarks.md
    python benchmarks/run_all.py --quick    # tiny sizes, prints the table, writes nothing

Each script runs in its own process (so one library's import or crash cannot
touch another's numbers) and prints one JSON line; this runner collects the
lines, adds the machine and the versions, and replaces the part of
docs/benchmarks.md between the two ``benchmarks:`` markers.  BLAS and Numba run
one thread by default (``--threads``): on a small shared machine a second
thread mostly measures the neighbours, and every column gets the same setting.  ``./scripts/bench.sh``
sets up the environment (with PyTensor) and runs this.
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

from theanolab.graph.rewriting.catalog import replace_between_markers

__all__ = ["SCRIPTS", "format_seconds", "machine_description", "render_graph_table", "render_table",
           "run_script"]

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
DOCUMENT = ROOT / "docs" / "benchmarks.md"
BEGIN = "<!-- benchmarks:begin (written by benchmarks/run_all.py; edit the text outside these markers) -->"
END = "<!-- benchmarks:end -->"
SCRIPTS = (
    "logreg_step",
    "mlp_step",
    "elemwise_fused",
    "rnn_scan",
    "call_overhead",
    "compile_time",
    "import_time",
    "graph_size",
)
SCRIPT_TIMEOUT_S = 600
THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS")


def run_script(name, quick=False, threads=1):
    """Run ``benchmarks/<name>.py`` and return its JSON line (or a row saying how it failed)."""
    command = [sys.executable, str(HERE / f"{name}.py")] + (["--quick"] if quick else [])
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    env.update({variable: str(threads) for variable in THREAD_VARIABLES})
    try:
        done = subprocess.run(
            command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=SCRIPT_TIMEOUT_S
        )
    except subprocess.TimeoutExpired:
        return {"workload": name, "failed": f"{name}.py ran longer than {SCRIPT_TIMEOUT_S} s"}
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        return {"workload": name, "failed": f"{name}.py exited {done.returncode}: {last}"}
    return json.loads(lines[-1])


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


def _pytensor_backend():
    """PyTensor's default linker (C or Numba, depending on its version): it decides the numbers."""
    try:
        from pytensor.compile.mode import get_default_mode
    except ImportError:
        return None
    return type(get_default_mode().linker).__name__


def machine_description(threads):
    """The lines above the table: where and with what the numbers were taken."""
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    pytensor = _version("pytensor")
    backend = _pytensor_backend()
    if backend:
        pytensor += f" (default linker: {backend})"
    return [
        f"- Date: {datetime.date.today().isoformat()}",
        f"- Machine: {_cpu_model()}, {os.cpu_count()} cores, {platform.system()} {platform.machine()}; "
        f"load average at start {load:.2f} (the machine is shared, so times vary by tens of percent); "
        f"BLAS and Numba threads: {threads}",
        f"- Versions: Python {platform.python_version()}, NumPy {_version('numpy')}, "
        f"PyTensor {pytensor}, theanolab {_version('theanolab')} (backend: reference, `Op.perform`)",
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


def _ratio(numerator, denominator):
    if "seconds" in numerator and "seconds" in denominator and denominator["seconds"] > 0:
        return f"{numerator['seconds'] / denominator['seconds']:.3g}×"
    return "—"


def _notes(row):
    notes = []
    for backend, result in row["results"].items():
        for key in ("skipped", "error"):
            if key in result:
                notes.append(f"{backend}: {result[key]}")
        if result.get("matches_numpy") is False:
            notes.append(f"{backend}: result does NOT match NumPy")
    for program, met in row.get("no_more_than_pytensor", {}).items():
        notes.append(f"{program}: theanolab {'<=' if met else '>'} PyTensor")
    if "meets_target" in row:
        target = row["params"].get("target_s")
        notes.append(f"theanolab target < {target} s: {'met' if row['meets_target'] else 'NOT met'}")
    return "; ".join(notes).replace("|", "\\|")


def render_table(rows):
    """The Markdown table: one row per workload, times per unit of work, and the two ratios."""
    lines = [
        "| workload | size | unit | theanolab | NumPy | PyTensor | theanolab / NumPy | theanolab / PyTensor | notes |",
        "| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for row in rows:
        if "failed" in row:
            lines.append(f"| {row['workload']} | | | | | | | | {row['failed']} |")
            continue
        size = ", ".join(f"{key}={value}" for key, value in row["params"].items() if key != "target_s")
        results = row["results"]
        tl, np_, pt = results["theanolab"], results["numpy"], results["pytensor"]
        lines.append(
            f"| {row['workload']} | {size} | {row['unit']} | {_cell(tl)} | {_cell(np_)} | {_cell(pt)} "
            f"| {_ratio(tl, np_)} | {_ratio(tl, pt)} | {_notes(row)} |"
        )
    return lines


def _op_list(ops):
    listed = ", ".join(f"{name} ×{count}" if count > 1 else name for name, count in ops.items())
    return listed.replace("|", "\\|")


def render_graph_table(rows):
    """The graph-size table: Apply nodes per program and the ops left, theanolab beside PyTensor."""
    lines = []
    for row in rows:
        results = row.get("results", {})
        theanolab, pytensor = results.get("theanolab", {}), results.get("pytensor", {})
        if "programs" not in theanolab:
            continue
        pytensor_mode = row["params"].get("pytensor_mode", "FAST_RUN")
        lines += ["", f"Graph size: Apply nodes of the optimized graph (FAST_RUN for theanolab, {pytensor_mode} "
                  "for PyTensor; fewer is better), and the ops they apply.", "",
                  "| program | theanolab | PyTensor | theanolab ops | PyTensor ops |",
                  "| --- | ---: | ---: | --- | --- |"]
        for name, ours in theanolab["programs"].items():
            theirs = pytensor.get("programs", {}).get(name)
            lines.append(f"| {name} | {ours['apply_nodes']} | {theirs['apply_nodes'] if theirs else '—'} "
                         f"| {_op_list(ours['ops'])} | {_op_list(theirs['ops']) if theirs else '—'} |")
    return lines


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes; print the table, write nothing")
    parser.add_argument("--only", nargs="+", choices=SCRIPTS, help="run only these scripts")
    parser.add_argument("--threads", type=int, default=1, help="BLAS and Numba threads for every library")
    args = parser.parse_args(argv)

    rows = []
    for name in args.only or SCRIPTS:
        print(f"running {name} ...", file=sys.stderr, flush=True)
        rows.append(run_script(name, quick=args.quick, threads=args.threads))
        print(json.dumps(rows[-1]), file=sys.stderr, flush=True)
    lines = machine_description(args.threads) + [""] + render_table(rows) + render_graph_table(rows)
    block = "\n".join(lines)
    print(block)
    if not args.quick:
        DOCUMENT.write_text(replace_between_markers(DOCUMENT.read_text(), block, BEGIN, END))
        print(f"wrote {DOCUMENT.relative_to(ROOT)}", file=sys.stderr)
    failed = [row["workload"] for row in rows if "failed" in row]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
