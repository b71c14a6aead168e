"""Every generated CUDA kernel compiles with ``nvcc`` (acceptance: no syntax error lands unseen without a GPU).

The kernels are the standalone translation units of
:func:`theanolab.backends.cuda.elemwise.standalone_source` for every scalar op
of the C backend's table (``tests/c/test_c_elemwise.py``) on every dtype case,
one multi-output Composite per case, and the MRG kernels.  nvcc costs seconds
per run, so all of them go into ONE .cu file (the prelude and the shared
headers have include guards, so each text after the first adds only its
kernel).  Skipped where nvcc is not installed.

The same text goes through NVRTC too, where its library is installed (the
``nvidia-cuda-nvrtc-cu12`` wheel, or CuPy's CUDA toolkit): that is the
compiler CuPy uses, and the only one defining ``__CUDACC_RTC__``, so it checks
the prelude's branch for a compiler without system headers.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import glob
import os
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


def _all_kernels():
    """Every generated kernel's translation unit, in one text."""
    sources = _elementwise_sources()
    assert len(sources) > 500, f"only {len(sources)} elementwise kernels rendered"
    sources.update(mrg_source(dtype) for dtype in ("float32", "float64"))
    return "\n".join(sources.values())


@pytest.mark.skipif(NVCC is None, reason="nvcc (the CUDA toolkit) is not installed")
def test_every_kernel_compiles_with_nvcc(tmp_path):
    path = tmp_path / "kernels.cu"
    path.write_text(_all_kernels())
    result = subprocess.run([NVCC, *NVCC_FLAGS, str(path), "-o", str(tmp_path / "kernels.o")],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, f"nvcc refused the generated CUDA ({path}):\n{result.stderr[-5000:]}"
    assert (tmp_path / "kernels.o").stat().st_size > 0


def _nvrtc_library():
    """The path of libnvrtc (the pip wheel's, or the system's), or None."""
    try:
        import nvidia.cuda_nvrtc

        found = glob.glob(os.path.join(list(nvidia.cuda_nvrtc.__path__)[0], "lib", "libnvrtc.so*"))
        found = [path for path in found if ".alt." not in path]
        if found:
            return found[0]
    except ImportError:
        pass
    return ctypes.util.find_library("nvrtc")


NVRTC = _nvrtc_library()


@pytest.mark.skipif(NVRTC is None, reason="NVRTC is not installed (pip install nvidia-cuda-nvrtc-cu12)")
def test_every_kernel_compiles_with_nvrtc():
    nvrtc = ctypes.CDLL(NVRTC)
    program = ctypes.c_void_p()
    assert nvrtc.nvrtcCreateProgram(ctypes.byref(program), _all_kernels().encode(), b"kernels.cu", 0, None, None) == 0
    options = [b"--gpu-architecture=compute_90", b"--fmad=false"]  # CupyDevice.COMPILE_OPTIONS
    status = nvrtc.nvrtcCompileProgram(program, len(options), (ctypes.c_char_p * len(options))(*options))
    size = ctypes.c_size_t()
    nvrtc.nvrtcGetProgramLogSize(program, ctypes.byref(size))
    log = ctypes.create_string_buffer(size.value)
    nvrtc.nvrtcGetProgramLog(program, log)
    nvrtc.nvrtcDestroyProgram(ctypes.byref(program))
    assert status == 0, f"NVRTC refused the generated CUDA:\n{log.value.decode()[-5000:]}"
