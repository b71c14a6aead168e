"""The promise of the slides: the tutorial's programs run unchanged with ``device=cuda``.

The whole seed suite (tests/test_seeds.py: every runnable example of the tutorial texts, with their
values) runs again in a child process with ``THEANOLAB_FLAGS=device=cuda`` on the simulated GPU, so
this holds on every machine; on a machine with a GPU, ``tools/gpu_validation.py`` runs it on the GPU.
"""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_every_seed_example_runs_unchanged_with_device_cuda():
    flags = ",".join(filter(None, [os.environ.get("THEANOLAB_FLAGS", ""), "device=cuda", "gpu_simulator=True"]))
    result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/test_seeds.py"],
                            cwd=ROOT, env={**os.environ, "THEANOLAB_FLAGS": flags}, capture_output=True, text=True,
                            timeout=600)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert " passed" in result.stdout and " failed" not in result.stdout
