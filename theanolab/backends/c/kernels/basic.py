"""C kernel for Alloc, and what the kernels of this package share: dtype tables, error formats,
build options (vectorization, OpenMP).

``Alloc`` broadcasts its value into a fresh C-contiguous output: a fill when
the value is a scalar (``zeros``, ``ones``), a row copy per output row
otherwise.  DimShuffle, Reshape and the shape ops keep ``perform`` on the
mixed machine: they return NumPy views or tiny arrays, so C would only add a
call; their C (``kernels/shape.py``) is inlined into whole-function drivers.

The tables map the dtypes the kernels compute exactly (bool, the integers,
float32 and float64) to C; float16 and complex are absent on purpose, so a
kernel looking a dtype up gets None and leaves the node to ``perform``.
"""

from __future__ import annotations

import ctypes
import functools
import platform
import subprocess
from string import Template

from theanolab.backends.c.build import compiler_command
from theanolab.backends.c.dispatch import CKernel, c_kernel, c_shape_rule, kernel_name
from theanolab.config import config
from theanolab.tensor.basic import Alloc

__all__ = ["C_TYPES", "LOWEST", "HIGHEST", "c_types", "c_format", "vector_options", "openmp_settings",
           "alloc_kernel"]

#: the C type of each dtype a kernel handles (NumPy bools are bytes holding 0 or 1).
C_TYPES = {
    "bool": "uint8_t", "int8": "int8_t", "int16": "int16_t", "int32": "int32_t", "int64": "int64_t",
    "uint8": "uint8_t", "uint16": "uint16_t", "uint32": "uint32_t", "uint64": "uint64_t",
    "float32": "float", "float64": "double",
}
#: the smallest and largest value of each dtype, as C expressions (the folds of max and min start there).
LOWEST = {"bool": "0", "int8": "INT8_MIN", "int16": "INT16_MIN", "int32": "INT32_MIN", "int64": "INT64_MIN",
          "uint8": "0", "uint16": "0", "uint32": "0", "uint64": "0", "float32": "-INFINITY",
          "float64": "-INFINITY"}
HIGHEST = {"bool": "1", "int8": "INT8_MAX", "int16": "INT16_MAX", "int32": "INT32_MAX", "int64": "INT64_MAX",
           "uint8": "UINT8_MAX", "uint16": "UINT16_MAX", "uint32": "UINT32_MAX", "uint64": "UINT64_MAX",
           "float32": "INFINITY", "float64": "INFINITY"}


def c_types(*dtypes):
    """The C types of ``dtypes``, or None if a kernel cannot compute one of them exactly."""
    if not all(dtype in C_TYPES for dtype in dtypes):
        return None
    return [C_TYPES[dtype] for dtype in dtypes]


def c_format(*pieces):
    """A C string literal for printf: ``pieces`` alternate text (escaped, ``%`` doubled) and conversions.

    So a kernel's error keeps ``perform``'s wording with holes for what only
    the kernel knows: ``c_format("an input of shape ", "%s", " is empty")``.
    """
    escape = {"\\": "\\\\", '"': '\\"', "%": "%%", "\n": "\\n"}
    text = "".join(piece if k % 2 else "".join(escape.get(ch, ch) for ch in piece) for k, piece in enumerate(pieces))
    return f'"{text}"'


#: Floating-point semantics of every build: no fused multiply-add (NumPy rounds a * b + c twice),
#: no reliance on FP traps (so branches may be evaluated as vector selects), omp simd pragmas on.
_FLAGS = ("-fopenmp-simd", "-ffp-contract=off", "-fno-trapping-math")
#: GCC only: no scalar iterations peeled off for alignment (every element goes through the vector code).
_GCC_FLAGS = ("--param=vect-max-peeling-for-alignment=0",)


@functools.cache
def platform_options(compiler):
    """Build options for ``compiler``: GCC's parameters, and glibc's vector math library where it is."""
    try:
        version = subprocess.run([compiler, "--version"], capture_output=True, text=True, timeout=60,
                                 check=False).stdout
    except (OSError, subprocess.SubprocessError):
        version = ""
    gcc = "Free Software Foundation" in version and "clang" not in version
    flags = _FLAGS + (_GCC_FLAGS if gcc else ())
    if not gcc or platform.system() != "Linux" or platform.machine() != "x86_64":
        return {"extra_compile_args": flags}
    try:
        ctypes.CDLL("libmvec.so.1")
    except OSError:
        return {"extra_compile_args": flags}
    return {"extra_compile_args": flags + ("-DTL_USE_LIBMVEC",), "libraries": ("m", ":libmvec.so.1")}


def vector_options():
    """Build options for kernels with vectorized loops: the elementwise kernels' (``omp simd``
    pragmas on, no fused multiply-add, no reliance on FP traps, glibc's vector math where it is),
    so every kernel rounds alike.  Loops marked ``TL_VECTOR_CLONES`` (``kernels/c/elemwise.h``)
    are compiled for AVX-512, AVX2 and the baseline, the best chosen when the module loads."""
    return platform_options(compiler_command()[0])


def openmp_settings():
    """``(enabled, minsize, build options)`` from ``config.openmp`` and ``config.openmp_elemwise_minsize``.

    Both settings are part of the generated code (``#if`` and a constant),
    so changing them gives another kernel rather than a stale build.
    """
    if not config.openmp:
        return 0, 0, {}
    return 1, int(config.openmp_elemwise_minsize), {"extra_compile_args": ("-fopenmp",),
                                                    "extra_link_args": ("-fopenmp",)}


_ALLOC = Template(r"""
#include <string.h>

/* Broadcast inputs[0] (the value) into outputs[0]; inputs[1:] are the shape scalars. */
int $name(const tl_array *inputs, tl_array *outputs, char *error)
{
    const tl_array *v = &inputs[0];
    tl_array *out = &outputs[0];
    const int64_t nd = out->ndim, lead = nd - v->ndim, total = tl_size(out);
    int64_t vs[$ndim + 1];
    vs[0] = 0;
    int constant = 1;
    for (int64_t d = 0; d < nd; d++) {
        const int64_t k = d - lead;
        if (k < 0 || v->shape[k] == 1) { vs[d] = 0; continue; }
        if (v->shape[k] != out->shape[d]) {
            char have[200], want[200];
            tl_format_shape(have, sizeof have, v->shape, v->ndim);
            tl_format_shape(want, sizeof want, out->shape, nd);
            snprintf(error, TL_ERROR_SIZE, "Alloc: cannot broadcast a value of shape %s to shape %s", have, want);
            return 1;
        }
        vs[d] = v->strides[k];
        constant = 0;
    }
    $c_t *o = ($c_t *)out->data;
    if (total == 0) return 0;
    if (constant) {
        const $c_t value = *(const $c_t *)v->data;
        for (int64_t k = 0; k < total; k++) o[k] = value;
        return 0;
    }
    /* One output row (the last dimension) at a time, the value's row offset kept by a counter. */
    const int64_t n = out->shape[nd - 1], step = vs[nd - 1];
    int64_t count[$ndim + 1];
    memset(count, 0, sizeof count);
    const char *row = v->data;
    for (int64_t r = 0; r < total / n; r++, o += n) {
        if (step == sizeof($c_t)) memcpy(o, row, n * sizeof($c_t));
        else for (int64_t k = 0; k < n; k++) o[k] = *(const $c_t *)(row + k * step);
        for (int64_t d = nd - 2; d >= 0; d--) {
            row += vs[d];
            if (++count[d] < out->shape[d]) break;
            row -= vs[d] * out->shape[d];
            count[d] = 0;
        }
    }
    return 0;
}
""")


def _alloc_c_shapes(shape_dtypes):
    """Alloc's shape rule in C: the values of the shape scalars (of ``shape_dtypes``), none negative
    (NumPy's message, which the Python rule's ``np.empty`` raises)."""
    dims = [f"(int64_t)*(const {c_types(dtype)[0]} *)inputs[{k + 1}].data" for k, dtype in enumerate(shape_dtypes)]
    checks = "".join(
        f"    if ({dim} < 0) {{ snprintf(error, TL_ERROR_SIZE, {c_format('negative dimensions are not allowed')}); "
        "return 1; }\n" for dim in dims)
    return c_shape_rule("alloc", dims, checks)


def alloc_kernel(dtype, ndim, shape_dtypes=None):
    """The C kernel broadcasting a ``dtype`` value into a fresh array of ``ndim`` dimensions
    (with its C shape rule when the dtypes of the shape scalars are given)."""
    types = c_types(dtype)
    if types is None or (shape_dtypes is not None and c_types(*shape_dtypes) is None):
        return None
    name = kernel_name("alloc", dtype, ndim)
    return CKernel(
        name=name, code=_ALLOC.substitute(name=name, c_t=types[0], ndim=ndim),
        output_shapes=lambda arrays: [tuple(int(s) for s in arrays[1:])],
        c_shapes=None if shape_dtypes is None else _alloc_c_shapes(shape_dtypes),
        ops=f"Alloc of {dtype} to {ndim} dimension(s)", headers=("theanolab.h", "reduce.h"),
    )


@c_kernel.register(Alloc)
def _(op, node):
    return alloc_kernel(node.outputs[0].dtype, node.outputs[0].ndim, tuple(v.dtype for v in node.inputs[1:]))
