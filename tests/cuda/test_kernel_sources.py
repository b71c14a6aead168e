"""Every generated CUDA kernel compiles with ``nvcc`` (acceptance: no syntax error lands unseen without a GPU).

The kernels are the standalone translation units of
:func:`theanolab.backends.cuda.elemwise.standalone_source` for every scalar op
of the C backend's table (``tests/c/test_c_elemwise.py``) on every dtype case,
one multi-output Composite per case, and the MRG kernels.  nvcc costs seconds
per run, so all of them go into ONE .cu file (the prelude and the shared
headers have include guards, so each text after the first adds only its
kernel).  Skipped where nvcc is not installed.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from theanolab.backends.cuda.elemwise import elementwise_parts, standalone_source
from theanolab.backends.cuda.mrg import mrg_source
from theanolab.scalar.basic import ScalarType
from theanolab.scalar.composite import Composite

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "c"))
import test_c_elemwise as table  # noqa: E402  (the C backend's op table: one table for both backends)

NVCC = shutil.which("nvcc")
pytestmark = pytest.mark.skipif(NVCC is None, reason="nvcc (the CUDA toolkit) is not installed")
#: an architecture every CUDA 12 and 13 toolkit accepts; -diag-suppress 177: unused scalar.h helpers.
NVCC_FLAGS = ["-c", "--gpu-architecture=sm_90", "-diag-suppress", "177"]


def _scalar_outputs(first, second):
    """The scalar op outputs of the table that have CUDA on the case's dtypes."""
    variables = {role: ScalarType(dtype)(name=role) for role, dtype in table._dtypes(first, second).items()}
    outputs = []
    for build, _ in table.OPS.values():
        try:
            out = build(SimpleNamespace(**variables))
        except TypeError:
            continue
        if out is not None:
            outputs.append(out)
    return list(variables.values()), outputs


def _parts_of(node):
    return elementwise_parts(node.op, tuple(v.type.dtype for v in node.inputs),
                             tuple(v.type.dtype for v in node.outputs))


def _elementwise_sources():
    """``{name: standalone source}`` of every op of the table and each case's Composite."""
    sources = {}
    for first, second in table.DTYPE_CASES:
        inputs, outputs = _scalar_outputs(first, second)
        parts = [_parts_of(out.owner) for out in outputs]
        rendered = [out for out, p in zip(outputs, parts) if p is not None]
        composite = Composite(inputs, rendered)
        parts.append(_parts_of(SimpleNamespace(op=composite, inputs=inputs, outputs=composite.inner_outputs)))
        sources.update((p.name, standalone_source(p)) for p in parts if p is not None)
    return sources


def test_every_kernel_compiles_with_nvcc(tmp_path):
    sources = _elementwise_sources()
    assert len(sources) > 500, f"only {len(sources)} elementwise kernels rendered"
    sources.update(mrg_source(dtype) for dtype in ("float32", "float64"))
    path = tmp_path / "kernels.cu"
    path.write_text("\n".join(sources.values()))
    result = subprocess.run([NVCC, *NVCC_FLAGS, str(path), "-o", str(tmp_path / "kernels.o")],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, f"nvcc refused the generated CUDA ({path}):\n{result.stderr[-5000:]}"
    assert (tmp_path / "kernels.o").stat().st_size > 0
