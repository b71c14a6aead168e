"""Run the test suite with ``device=cuda`` on a real GPU and write ``docs/gpu-validation.md``.

    python tools/gpu_validation.py                 # the whole suite, then the record
    python tools/gpu_validation.py tests/cuda -x   # arguments go to pytest (the record says which)

The record holds the date, the GPU, the driver, CUDA and CuPy versions, the
command, and pytest's summary lines, so a reader can tell exactly what was
validated where.  It refuses to run on the simulated GPU: the record is
about real hardware.  (On a machine without a GPU, ``tests/cuda`` covers the
backend with ``gpu_simulator=True``.)
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _gpu_facts():
    import cupy

    runtime = cupy.cuda.runtime
    properties = runtime.getDeviceProperties(0)
    name = properties["name"]
    version = runtime.runtimeGetVersion()
    return {
        "GPU": name.decode() if isinstance(name, bytes) else name,
        "driver (CUDA version it supports)": _cuda_version(runtime.driverGetVersion()),
        "CUDA runtime": _cuda_version(version),
        "CuPy": cupy.__version__,
        "NumPy": __import__("numpy").__version__,
        "Python": platform.python_version(),
    }


def _cuda_version(number):
    return f"{number // 1000}.{number % 1000 // 10}"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", default=str(ROOT / "docs" / "gpu-validation.md"))
    args, pytest_args = parser.parse_known_args(argv)
    pytest_args = pytest_args or ["tests"]
    facts = _gpu_facts()
    flags = ",".join(filter(None, [os.environ.get("THEANOLAB_FLAGS", ""), "device=cuda", "gpu_simulator=False"]))
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *pytest_args]
    started = datetime.datetime.now(datetime.timezone.utc)
    result = subprocess.run(command, cwd=ROOT, env={**os.environ, "THEANOLAB_FLAGS": flags},
                            capture_output=True, text=True)
    seconds = (datetime.datetime.now(datetime.timezone.utc) - started).total_seconds()
    output = result.stdout + result.stderr
    summary = [line for line in output.splitlines() if line.startswith(("FAILED", "ERROR", "SKIPPED"))
               or " passed" in line or " failed" in line][-60:]
    lines = [
        "# GPU validation",
        "",
        f"Written by `tools/gpu_validation.py` on {started:%Y-%m-%d %H:%M} UTC.",
        "",
        "| what | version |",
        "| --- | --- |",
        *[f"| {key} | {value} |" for key, value in facts.items()],
        "",
        f"Command: `THEANOLAB_FLAGS={flags} {' '.join(command[1:])}` ({seconds:.0f} s, exit status "
        f"{result.returncode}).",
        "",
        "```",
        *summary,
        "```",
        "",
    ]
    Path(args.output).write_text("\n".join(lines))
    print(output[-4000:])
    print(f"wrote {args.output}")
    return result.returncode


if __name__ == "__main__":
    sys.exit(main())
