"""GPU products: Dot, BatchedDot and the BLAS ops (Gemm, Gemv, Ger, Dot22, Dot22Scalar).

The products are the array module's ``dot``/``matmul``/``outer``: on a GPU,
CuPy hands float and complex products to cuBLAS (integer ones run a CuPy
kernel).  The scale and update around a product are in-place array
operations on the fresh product, so ``beta * z + alpha * dot(x, y)`` costs
the product and at most two elementwise passes.

The coefficients ``alpha`` and ``beta`` are 0-d device arrays and are never
read back (no synchronisation).  When the graph makes one a constant, its
value is known when the node is placed: a factor 1 is skipped (exact), and
``beta == 0`` means ``z`` is not read, as in BLAS (NaNs in it do not
propagate).  A run-time ``beta`` that turns out to be 0 gives the same by
selecting 0 instead of ``beta * z`` on the device.

In-place variants (``destroy_map``) write the result into ``z`` and return it.
Boolean ``Dot`` stays on the CPU: NumPy's logical product has no cuBLAS
counterpart.
"""

from __future__ import annotations

import numpy as np

from theanolab.backends.cuda.dispatch import cuda_impl
from theanolab.backends.cuda.impls.support import as_output
from theanolab.graph.basic import Constant
from theanolab.tensor.blas import BatchedDot, Dot, Dot22, Dot22Scalar, Gemm, Gemv, Ger

__all__ = ["dot", "batched_dot", "blas_update", "dot22", "dot22scalar"]


def _known(variable):
    """A constant coefficient's value as a Python number, None for a run-time one."""
    return np.asarray(variable.data).item() if isinstance(variable, Constant) else None


def _aligned_dot(xp, name, a, b):
    """``xp.dot(a, b)`` with the ValueError of ``perform`` when the shapes do not fit."""
    if a.shape[-1] != b.shape[0]:
        raise ValueError(f"{name}: shapes {a.shape} and {b.shape} are not aligned (the last dimension "
                         "of the first must equal the first dimension of the second)")
    return xp.dot(a, b)


def _scaled(xp, product, factor, known):
    """``factor * product``, in the fresh array ``product``; nothing to do for a known factor 1."""
    return product if known == 1 else xp.multiply(product, factor, out=product)


@cuda_impl.register(Dot)
def dot(op, node, device):
    """``np.dot`` of vectors and matrices (any numeric dtype; the output dtype is the node's)."""
    if "bool" in (node.inputs[0].dtype, node.inputs[1].dtype):
        return None
    xp, out_dtype = device.xp, node.outputs[0].dtype

    def run(inputs, output_cells):
        output_cells[0][0] = as_output(xp, _aligned_dot(xp, "dot", *inputs), out_dtype)

    return run


@cuda_impl.register(BatchedDot)
def batched_dot(op, node, device):
    """``matmul`` of two stacks of matrices (one batched cuBLAS call on a GPU)."""
    if "bool" in (node.inputs[0].dtype, node.inputs[1].dtype):
        return None
    xp, out_dtype = device.xp, node.outputs[0].dtype

    def run(inputs, output_cells):
        a, b = inputs
        if a.shape[0] != b.shape[0] or a.shape[2] != b.shape[1]:
            raise ValueError(f"BatchedDot: shapes {a.shape} and {b.shape} do not fit: expected "
                             "(batch, n, k) and (batch, k, m) with equal batch and k")
        output_cells[0][0] = as_output(xp, xp.matmul(a, b), out_dtype)

    return run


def _kept_term(xp, z, beta, known):
    """``beta * z``; None where ``beta`` is known to be 0 and ``z`` must not be read.

    A run-time ``beta`` equal to 0 selects 0, never ``0 * z`` (NaN for an
    infinite or NaN ``z``), on the device.
    """
    if known == 0:
        return None
    if known == 1:
        return z
    if known is not None:
        return xp.multiply(beta, z)
    with np.errstate(invalid="ignore"):  # 0 * inf, not selected (NumPy warns; CuPy does not)
        term = xp.multiply(beta, z)
    return xp.where(beta == 0, xp.zeros((), term.dtype), term)


@cuda_impl.register(Gemm)
@cuda_impl.register(Gemv)
@cuda_impl.register(Ger)
def blas_update(op, node, device):
    """``beta * z + alpha * product(a, b)`` (Ger: ``z + alpha * outer(a, b)``), in ``z`` when in place."""
    xp = device.xp
    name = str(op)
    alpha_known = _known(node.inputs[1])
    beta_known = _known(node.inputs[4]) if len(node.inputs) == 5 else 1  # Ger has no beta: z is kept
    product_of = (lambda a, b: xp.outer(a, b)) if isinstance(op, Ger) else (
        lambda a, b: _aligned_dot(xp, name, a, b))

    def run(inputs, output_cells):
        z, alpha, a, b, *beta = inputs
        product = product_of(a, b)
        if product.shape != z.shape:
            raise ValueError(f"{name}: the product of shapes {a.shape} and {b.shape} has shape "
                             f"{product.shape}, but the updated input has shape {z.shape}")
        scaled = _scaled(xp, product, alpha, alpha_known)
        kept = _kept_term(xp, z, beta[0] if beta else None, beta_known)
        if kept is None:
            result = scaled
        elif op.inplace and kept is z:
            result = xp.add(z, scaled, out=z)
        else:
            result = xp.add(scaled, kept, out=scaled)
        if op.inplace and result is not z:
            z[...] = result
            result = z
        output_cells[0][0] = result

    return run


@cuda_impl.register(Dot22)
def dot22(op, node, device):
    """``dot(x, y)`` of two matrices of one BLAS dtype."""
    xp, name = device.xp, str(op)

    def run(inputs, output_cells):
        output_cells[0][0] = _aligned_dot(xp, name, *inputs)

    return run


@cuda_impl.register(Dot22Scalar)
def dot22scalar(op, node, device):
    """``a * dot(x, y)`` of two matrices, scaled in the product's memory."""
    xp, name = device.xp, str(op)
    known = _known(node.inputs[2])

    def run(inputs, output_cells):
        x, y, a = inputs
        output_cells[0][0] = _scaled(xp, _aligned_dot(xp, name, x, y), a, known)

    return run
