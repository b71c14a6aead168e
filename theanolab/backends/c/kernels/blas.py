"""C kernels for the dot family (``tensor/blas.py``): every product is one BLAS call.

Each kernel is a one-line call into ``kernels/c/blas.h``, which hands the
operands to the BLAS found by :mod:`theanolab.backends.c.blas_library` as
they are when their layout allows (a transposed matrix as ``CblasTrans``)
and packs a contiguous copy otherwise, so any view is computed correctly
and the common ones without copying.  The table below says which entry
point each op calls; ``dot`` picks one by its operands' ranks.

Kernels exist for float32 and float64 (every array of the node in the same
dtype); other dtypes, and any node when no BLAS is installed, return None
and run ``Op.perform``.  Scalar coefficients (alpha, beta) are read in
their own dtype, any that fits in the arrays' one.

An in-place op (``Gemm{inplace}``...) computes into its output: when the
caller passes the destroyed ``z`` as the output it is updated where it
lies, otherwise ``z`` is copied into the output first, which is always
correct.
"""

from __future__ import annotations

import json

from theanolab.backends.c.blas_library import find_blas
from theanolab.backends.c.dispatch import CKernel, c_kernel, c_shape_rule, kernel_name
from theanolab.tensor.blas import Dot, Dot22, Dot22Scalar, Gemm, Gemv, Ger

__all__ = ["blas_kernel"]

#: Bytes per element of the dtypes BLAS computes in here (blas.h dispatches on it).
ELEMENT_SIZES = {"float32": 4, "float64": 8}

#: C types of the dtypes a scalar coefficient may have (any that fits in a float dtype).
SCALAR_CTYPES = {
    "bool": "uint8_t", "int8": "int8_t", "int16": "int16_t", "int32": "int32_t", "int64": "int64_t",
    "uint8": "uint8_t", "uint16": "uint16_t", "uint32": "uint32_t", "uint64": "uint64_t",
    "float32": "float", "float64": "double",
}


def _update_shape(inputs):
    return [inputs[0].shape]


def _matrix_product_shape(inputs):
    return [(inputs[0].shape[0], inputs[1].shape[1])]


def _dot_shape(inputs):
    return [inputs[0].shape[:-1] + inputs[1].shape[1:]]


#: the same rules in C, for whole-function drivers: the output's dimensions from the node's inputs' ranks
_C_SHAPES = {
    _update_shape: lambda ranks: [f"inputs[0].shape[{d}]" for d in range(ranks[0])],
    _matrix_product_shape: lambda ranks: ["inputs[0].shape[0]", "inputs[1].shape[1]"],
    _dot_shape: lambda ranks: ([f"inputs[0].shape[{d}]" for d in range(ranks[0] - 1)]
                               + [f"inputs[1].shape[{d}]" for d in range(1, ranks[1])]),
}

# op class -> (the blas.h call, with {op}, {isz} and {s[i]} for scalar input i; the output shape rule)
_CALLS = {
    Gemm: ("tl_blas_gemm({op}, {isz}, &inputs[0], {s[1]}, &inputs[2], &inputs[3], {s[4]}, &outputs[0], error)",
           _update_shape),
    Gemv: ("tl_blas_gemv({op}, {isz}, &inputs[0], {s[1]}, &inputs[2], &inputs[3], {s[4]}, 0, &outputs[0], error)",
           _update_shape),
    Ger: ("tl_blas_ger({op}, {isz}, &inputs[0], {s[1]}, &inputs[2], &inputs[3], &outputs[0], error)",
          _update_shape),
    Dot22: ("tl_blas_gemm({op}, {isz}, NULL, 1, &inputs[0], &inputs[1], 0, &outputs[0], error)",
            _matrix_product_shape),
    Dot22Scalar: ("tl_blas_gemm({op}, {isz}, NULL, {s[2]}, &inputs[0], &inputs[1], 0, &outputs[0], error)",
                  _matrix_product_shape),
}

# dot's call for each (rank of the first operand, rank of the second)
_DOT_CALLS = {
    (1, 1): "tl_blas_dot({op}, {isz}, &inputs[0], &inputs[1], &outputs[0], error)",
    (2, 1): "tl_blas_gemv({op}, {isz}, NULL, 1, &inputs[0], &inputs[1], 0, {bottom_up}, &outputs[0], error)",
    (1, 2): "tl_blas_vector_matrix({op}, {isz}, &inputs[0], &inputs[1], &outputs[0], error)",
    (2, 2): "tl_blas_gemm({op}, {isz}, NULL, 1, &inputs[0], &inputs[1], 0, &outputs[0], error)",
}


def _call(op, node):
    """The blas.h call template and output shape rule of ``node``, or None."""
    if isinstance(op, Dot):
        ranks = tuple(v.ndim for v in node.inputs)
        return (_DOT_CALLS[ranks], _dot_shape) if ranks in _DOT_CALLS else None
    return _CALLS.get(type(op))


def blas_kernel(op, node):
    """The CKernel of a dot-family node, or None (other dtypes, other ranks, or no BLAS installed)."""
    dtype = node.outputs[0].dtype
    arrays = [v for v in node.inputs if v.ndim]
    scalars = {i: v.dtype for i, v in enumerate(node.inputs) if not v.ndim}
    found = _call(op, node)
    if (found is None or dtype not in ELEMENT_SIZES or any(v.dtype != dtype for v in arrays)
            or any(d not in SCALAR_CTYPES for d in scalars.values())):
        return None
    blas = find_blas()
    if blas is None:
        return None
    template, output_shapes = found
    reads = {i: f"(double)*(const {SCALAR_CTYPES[d]} *)inputs[{i}].data" for i, d in scalars.items()}
    call = template.format(op=json.dumps(str(op)), isz=ELEMENT_SIZES[dtype], s=reads,
                           bottom_up=int(getattr(op, "bottom_up", False)))
    name = kernel_name(type(op).__name__, call)
    code = f"int {name}(const tl_array *inputs, tl_array *outputs, char *error) {{\n    return {call};\n}}\n"
    c_shapes = c_shape_rule("blas", _C_SHAPES[output_shapes]([v.ndim for v in node.inputs]))
    return CKernel(name=name, code=code, output_shapes=output_shapes, c_shapes=c_shapes, ops=str(op),
                   headers=("theanolab.h", "blas.h"), **blas.build_options())


for _op_class in (Dot, *_CALLS):
    c_kernel.register(_op_class)(blas_kernel)
