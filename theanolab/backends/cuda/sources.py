"""CUDA source text shared by the kernels, the simulator and the nvcc check.

- :func:`preamble`: ``kernels/cuda/prelude.cuh`` followed by the C headers a
  kernel needs (``scalar.h``, ``mrg31k3p.h``), pasted as text: NVRTC, which
  CuPy compiles with, has no include path of ours, and pasting makes the
  headers part of the source that CuPy (and the simulator's build cache)
  key their caches on.  The C backend reads the very same files, so a scalar
  helper has one definition on every backend.
- :func:`parse_params`: CuPy's parameter lists (``"float32 x0, uint8 x1"``).
- :func:`grid_stride_kernel`: an elementwise kernel's ``operation`` inside a
  ``__global__`` grid-stride loop over contiguous operands: the complete
  translation unit that ``nvcc`` checks and that the simulator runs.  (On a
  GPU CuPy writes its own loop around the same operation and preamble.)
"""

from __future__ import annotations

import functools
import re
from typing import NamedTuple

from theanolab.backends.c.build import kernel_include_dir
from theanolab.backends.c.kernels.basic import C_TYPES

__all__ = ["Param", "cuda_header", "preamble", "parse_params", "grid_stride_kernel"]

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


@functools.cache
def cuda_header(name):
    """The text of ``kernels/cuda/<name>`` (beside ``kernels/c``, in a checkout or an installed wheel)."""
    return (kernel_include_dir().parent / "cuda" / name).read_text()


@functools.cache
def preamble(*c_headers):
    """The CUDA prelude, then the text of each ``kernels/c`` header in ``c_headers``."""
    texts = [cuda_header("prelude.cuh")]
    texts += [f"/* ---- kernels/c/{name} ---- */\n" + (kernel_include_dir() / name).read_text() for name in c_headers]
    return "\n".join(texts)


class Param(NamedTuple):
    """One parameter of a CuPy parameter list: its dtype, its C type and its name."""

    dtype: str
    ctype: str
    name: str


def parse_params(text):
    """The :class:`Param` list of a CuPy parameter string such as ``"float32 x0, uint8 x1"``.

    Only what our kernels use is accepted (a NumPy dtype the C tables know and
    a name; no ``raw`` or type placeholders), so anything else is a bug in a
    renderer, reported here rather than as a compiler error.
    """
    params = []
    for item in filter(None, (piece.strip() for piece in text.split(","))):
        words = item.split()
        if len(words) != 2 or words[0] not in C_TYPES or words[0] == "bool" or not _IDENTIFIER.match(words[1]):
            raise ValueError(f"unsupported elementwise kernel parameter {item!r} in {text!r}: expected "
                             f"'DTYPE NAME' with DTYPE one of {sorted(set(C_TYPES) - {'bool'})}")
        params.append(Param(words[0], C_TYPES[words[0]], words[1]))
    return params


def grid_stride_kernel(in_params, out_params, operation, name, preamble_text):
    """A complete CUDA translation unit: ``operation`` applied to every element, grid-stride.

    The kernel is ``name(int64_t n, const T *_in_x0, ..., T *_out_y0, ...)``
    on contiguous operands of ``n`` elements; like CuPy's, it binds each input
    to a local of its parameter's name, and each output to a local written
    back after ``operation`` ran (CuPy binds a reference).  No ``__restrict__``:
    an in-place node passes one array as an input and an output.
    """
    ins, outs = parse_params(in_params), parse_params(out_params)
    signature = ", ".join(["int64_t n"] + [f"const {p.ctype} *_in_{p.name}" for p in ins]
                          + [f"{p.ctype} *_out_{p.name}" for p in outs])
    body = [f"        const {p.ctype} {p.name} = _in_{p.name}[i];" for p in ins]
    body += [f"        {p.ctype} {p.name};" for p in outs]
    body += ["        {", *(f"            {line}" for line in operation.splitlines()), "        }"]
    body += [f"        _out_{p.name}[i] = {p.name};" for p in outs]
    return (f"{preamble_text}\n\nTL_KERNEL void {name}({signature})\n{{\n"
            "    const int64_t step = (int64_t)blockDim.x * gridDim.x;\n"
            "    for (int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += step) {\n"
            + "\n".join(body) + "\n    }\n}\n")
