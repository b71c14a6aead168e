"""The CUDA backend on a GPU, side by side with CuPy, PyTorch eager and JAX: issue 8's benchmarks.

    python benchmarks/gpu.py --markdown     # on a machine with an NVIDIA GPU: JSON lines, then the docs table
    python benchmarks/gpu.py --simulated    # anywhere: theanolab on the simulated GPU, tiny sizes (a smoke test)

Three workloads of the CPU benchmarks, in float32 (``gpu_workloads.py``):
the fused elementwise expression on 2**26 elements, the 784-300-1 MLP's
training step, and the tanh RNN's forward and backward pass through scan.
Columns: theanolab with ``device=cuda``; CuPy written like NumPy (one kernel
per operation; for the MLP, NumPy's hand-written step on CuPy arrays);
PyTorch eager; JAX jitted; and, for the fused expression, the GPU's
memory-bandwidth limit: the bytes it must move (inputs read and the output
written once) over the bandwidth of a device-to-device copy of the same size,
timed with CuPy.  Each column runs in a process of its own (``common.py``),
data already in GPU memory, timers stopped only once the GPU has finished.

Prints one JSON line per workload with every column and theanolab's ratio to
each (``ratios``); the targets are issue 8's: the fused expression within
1.5x of the bandwidth limit, the MLP step and the RNN no slower than PyTorch
eager.  A framework that is not installed, or has no GPU, is a column that
says so.  ``--markdown`` then prints the section for ``docs/benchmarks.md``.
"""

from __future__ import annotations

import datetime
import functools
import importlib.util
import json
import os
import platform
import sys
from collections import Counter
from dataclasses import dataclass

import numpy as np
from columns import Column, add_flags
from common import Row, Target, agree, argument_parser, measure_rows, median_time, skipped
from gpu_workloads import WORKLOADS, NoGpu, frameworks
from run_all import format_seconds

__all__ = ["GPU_COLUMNS", "GpuColumn", "main", "render_markdown"]


@dataclass(frozen=True)
class GpuColumn(Column):
    """A column of the GPU table; ``install`` says how to get its library (the CPU ``bench`` extra has none)."""

    install: str = ""

    def missing(self):
        if importlib.util.find_spec(self.module) is None:
            return f"{self.module} is not installed ({self.install})"
        return None


CUPY = "pip install cupy-cuda12x, or cupy-cuda13x with CUDA 13"
GPU_COLUMNS = (
    GpuColumn("theanolab", "theanolab (CUDA)", "theano", "theanolab",
              {"THEANOLAB_FLAGS": ["device=cuda", "floatX=float32"]}, install="pip install -e '.[cuda]'"),
    GpuColumn("cupy", "CuPy (NumPy-style)", "cupy", "cupy", install=CUPY),
    GpuColumn("torch", "PyTorch eager", "torch", "torch", install="pip install torch, a CUDA build"),
    GpuColumn("jax", "JAX (jit)", "jax", "jax", install="pip install 'jax[cuda12]'"),
    GpuColumn("bandwidth_limit", "memory-bandwidth limit", "bandwidth", "cupy", install=CUPY),
)
MODULES = {column.name: column.module for column in GPU_COLUMNS}
LABELS = {column.name: column.label for column in GPU_COLUMNS}
TARGETS = {
    "fused": Target("within 1.5x of the memory-bandwidth limit", "bandwidth_limit", 1.5),
    "mlp": Target("no slower than PyTorch eager", "torch"),
    "rnn": Target("no slower than PyTorch eager", "torch"),
}
SIMULATED_NOTE = ("SIMULATED run: theanolab ran on the CPU-simulated GPU at tiny sizes; "
                  "these numbers say only that the script runs end to end")


def measure(workload, family, *arguments):
    """One column of one workload (in that column's process): seconds per call, checked against NumPy."""
    *libraries, data, args = arguments
    try:
        framework = frameworks[family](*libraries)
    except NoGpu as exc:
        return skipped(str(exc))
    call, outputs = workload.builders[family](framework, data)
    got = [framework.to_host(value) for value in outputs(call())]
    result = {"seconds": median_time(lambda: framework.finish(call()), args.budget, args.quick),
              "matches_numpy": agree(workload.expected(data), got, **workload.tolerance),
              "device": framework.device, "version": framework.version}
    if hasattr(call, "node_backends"):  # a theanolab function: how many nodes run where ("cuda", "c", "py")
        result["nodes"] = dict(Counter(call.node_backends.values()))
    return result


def bandwidth_limit(data, args):
    """The fused workload's floor: its bytes over the bandwidth of a device-to-device copy, both by CuPy."""
    try:
        framework = frameworks["cupy"]()
    except NoGpu as exc:
        return skipped(str(exc))
    cupy = framework.xp
    source = cupy.asarray(data[0])
    target = cupy.empty_like(source)

    def copy():
        target[...] = source
        framework.finish(target)

    copy_seconds = median_time(copy, args.budget, args.quick)
    bandwidth = 2 * source.nbytes / copy_seconds  # read once, written once
    moved = (len(data) + 1) * source.nbytes  # every input read once, the output written once
    return {"seconds": moved / bandwidth, "bytes_moved": moved, "copy_GBps": bandwidth / 1e9,
            "device": framework.device, "version": framework.version}


def ratios(line):
    """theanolab's time over each other column's (below 1: theanolab is faster)."""
    ours = line["results"].get("theanolab", {}).get("seconds")
    return {f"theanolab / {name}": ours / result["seconds"] for name, result in line["results"].items()
            if name != "theanolab" and ours is not None and result.get("seconds")}


def _cell(result):
    if not result:  # a column this workload does not have
        return "—"
    if "seconds" in result:
        return format_seconds(result["seconds"])
    if result.get("missing"):
        return "n/a (not installed)"
    return "n/a" if "skipped" in result else "error"


def _notes(line):
    notes = [f"{LABELS[name]}: {result.get('skipped') or result.get('error')}"
             for name, result in line["results"].items()
             if ("error" in result or "skipped" in result) and not result.get("missing")]
    notes += [f"{LABELS[name]}: result does NOT match NumPy" for name, result in line["results"].items()
              if result.get("matches_numpy") is False]
    limit = line["results"].get("bandwidth_limit", {})
    if "copy_GBps" in limit:
        notes.append(f"copy bandwidth {limit['copy_GBps']:.0f} GB/s, {limit['bytes_moved'] / 1e6:.0f} MB moved")
    nodes = line["results"].get("theanolab", {}).get("nodes")
    if nodes:
        notes.append("theanolab nodes: " + ", ".join(f"{count} {where}" for where, count in sorted(nodes.items())))
    return "; ".join(notes).replace("|", "\\|")


def _target(line):
    target = line.get("target")
    if target is None:
        return "(simulated: no verdict)" if line["params"].get("simulated") else ""
    return f"{target['text']}: " + {True: "**met**", False: "**not met**", None: "not measured"}[target["met"]]


def _versions(lines):
    """Each library's version and the GPU names, as the columns' own processes reported them."""
    seen = {}
    for line in lines:
        for name, result in line.get("results", {}).items():
            if "version" in result:
                seen.setdefault(MODULES[name], result["version"])
    devices = sorted({result["device"] for line in lines for result in line.get("results", {}).values()
                      if "device" in result})
    return seen, devices


def render_markdown(lines, simulated):
    """The "GPU (CUDA backend)" section of docs/benchmarks.md: machine, times, theanolab's ratios."""
    versions, devices = _versions(lines)
    section = [
        "## GPU (CUDA backend)",
        "",
        f"- Date: {datetime.date.today().isoformat()}",
        f"- GPU: {', '.join(devices) or 'none found'}",
        f"- Versions: Python {platform.python_version()}, NumPy {np.__version__}, "
        + ", ".join(f"{name} {version}" for name, version in versions.items()),
        f"- **{SIMULATED_NOTE}.**" if simulated else
        ("- float32 everywhere, data already in GPU memory, full-float32 products (JAX's TF32 default off); "
         "median of 7 timed batches after two warm-up calls, the GPU synchronized after every call; "
         "each column in a process of its own"),
    ]
    section += [
        "",
        "| workload | size | unit | " + " | ".join(column.label for column in GPU_COLUMNS) + " | target | notes |",
        "| --- | --- | --- | " + " | ".join("---:" for _ in GPU_COLUMNS) + " | --- | --- |",
    ]
    for line in lines:
        size = ", ".join(f"{key}={value}" for key, value in line["params"].items() if key != "simulated")
        cells = " | ".join(_cell(line["results"].get(column.name, {})) for column in GPU_COLUMNS)
        section.append(f"| {line['workload']} | {size} | {line['unit']} | {cells} | {_target(line)} | "
                       f"{_notes(line)} |")
    others = GPU_COLUMNS[1:]
    section += ["", "theanolab's time over the others' (below 1×: theanolab is faster):", "",
                "| workload | " + " | ".join(f"theanolab / {column.label}" for column in others) + " |",
                "| --- | " + " | ".join("---:" for _ in others) + " |"]
    for line in lines:
        ratio = line.get("ratios", {})
        section.append(f"| {line['workload']} | " + " | ".join(
            f"{ratio[key]:.3g}×" if (key := f"theanolab / {column.name}") in ratio else "—" for column in others)
            + " |")
    return "\n".join(section)


def _row(workload, args):
    params = dict(workload.simulated_sizes if args.simulated else workload.sizes, dtype="float32")
    if args.simulated:
        params["simulated"] = True
    return Row(workload.title, params, workload.unit, None if args.simulated else TARGETS[workload.key])


def _measures(workload):
    measures = {family: functools.partial(measure, workload, family) for family in workload.builders}
    if workload.bandwidth_bound:
        measures["bandwidth"] = bandwidth_limit
    return measures


def main(argv=None):
    parser = argument_parser(__doc__.splitlines()[0], pin=False, columns=GPU_COLUMNS)
    parser.add_argument("--simulated", action="store_true",
                        help="theanolab on the CPU-simulated GPU, tiny sizes: a smoke test, the times mean nothing")
    parser.add_argument("--markdown", action="store_true", help="then print the section for docs/benchmarks.md")
    parser.add_argument("--workload", choices=[workload.key for workload in WORKLOADS], action="append",
                        help="run only this workload (repeatable)")
    args = parser.parse_args(argv)
    args.quick = args.quick or args.simulated
    if args.simulated and not args.column:  # every column's process inherits it
        add_flags(os.environ, "THEANOLAB_FLAGS", "gpu_simulator=True")
    lines = []
    for workload in WORKLOADS:
        if args.workload and workload.key not in args.workload:
            continue
        args.forward = ["--workload", workload.key] + (["--simulated"] if args.simulated else [])
        measured = measure_rows(args, _row(workload, args), lambda: workload.make_data(args.simulated),
                                columns=GPU_COLUMNS, **_measures(workload))
        if measured is None:  # this process was one column's: it printed its results
            return 0
        for line in measured:
            line["ratios"] = ratios(line)
            print(json.dumps(line), flush=True)
        lines += measured
    if args.markdown:
        print(render_markdown(lines, args.simulated))
    return 0


if __name__ == "__main__":
    sys.exit(main())
