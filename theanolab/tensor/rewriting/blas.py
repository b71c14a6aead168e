"""BLAS rewrites: products, scalings and sums become the calls BLAS makes fast.

Two families, both tagged ``fast_run``:

- in ``specialize``, sums of elementwise products that are really products
  become ``dot``: ``(x * y).sum() -> dot(x, y)``, ``(A * v).sum(axis=1) ->
  dot(A, v)``, ``(A * v[:, None]).sum(axis=0) -> dot(v, A)`` (in float32 the
  product then accumulates in float32, as BLAS does, where the sum used float64);
- in ``blas``, a sum of scaled terms holding one product becomes one BLAS
  update, ``b*z + a*dot(x, y) -> Gemm(z, a, x, y, b)`` (Gemv for a
  matrix-vector product, Ger for an outer product), then every remaining
  product of two matrices becomes ``Dot22``, and a scaled one ``Dot22Scalar``.

To see ``z - 0.1 * (dot(x, y) + 0.02 * z)`` as ``0.998*z - 0.1*dot(x, y)``,
an expression is read as a list of *terms*, each a leaf variable times a
scale (a number and symbolic scalars), looking through add, sub, neg and
multiplications or divisions by scalars.  A node is looked through only when
nothing else uses it, so the product a BLAS call absorbs is computed once.

In ``inplace``, an update whose ``z`` is a temporary nobody else reads
writes into it (``Gemm{inplace}``), as the destroy handler allows; and a
matrix read by two matrix-vector passes, a layer's forward product ``A @ x``
and its gradient's ``A.T @ g``, is read bottom-up by the first
(``dot{bottom-up}``), so that each pass starts on the rows the previous one
left in cache: for a matrix larger than the cache (the tutorial's 400x784
inputs) that saves about 15% of a training step's time, with the same numbers.

Matrix-vector and vector-vector products with nothing to add to stay ``dot``:
Theano turns them into ``Gemv`` on an uninitialized output, which costs two
more nodes; the C backend gives ``dot`` itself a BLAS call.
"""

from __future__ import annotations

from dataclasses import dataclass

from theanolab import scalar as ts
from theanolab.graph.destroyhandler import ensure_destroy_handler
from theanolab.graph.rewriting import node_rewriter, register
from theanolab.tensor import math as tm
from theanolab.tensor.basic import cast
from theanolab.tensor.blas import (
    BLAS_DTYPES,
    Dot,
    _dot,
    dot22,
    dot22scalar,
    gemm_no_inplace,
    Gemv,
    gemv_no_inplace,
    ger,
)
from theanolab.tensor.elemwise import DimShuffle
from theanolab.tensor.reduce import Sum
from theanolab.tensor.rewriting.utils import elemwise_scalar_op, is_elemwise, scalar_constant_value
from theanolab.tensor.variable import constant

__all__ = ["dot_to_blas_update", "dot_to_dot22", "scaled_dot22", "sum_of_products_to_dot",
           "blas_update_inplace", "reuse_cached_rows"]


# --------------------------------------------------------------------------- terms


@dataclass(frozen=True)
class Scale:
    """A number times the product of symbolic scalars (0-d variables)."""

    number: complex = 1
    factors: tuple = ()

    def times(self, other):
        return Scale(self.number * other.number, self.factors + other.factors)

    def negated(self):
        return Scale(-self.number, self.factors)

    def is_one(self):
        return self.number == 1 and not self.factors

    def variable(self, dtype):
        """This scale as a 0-d variable of ``dtype`` (a constant when it is a number)."""
        if not self.factors:
            return constant(self.number, dtype=dtype)
        product = self.factors[0]
        for factor in self.factors[1:]:
            product = product * factor
        if self.number == -1:
            product = -product
        elif self.number != 1:
            product = product * constant(self.number, dtype=dtype)
        return cast(product, dtype)


def total_scale(scales, dtype):
    """The sum of ``scales`` as one 0-d variable of ``dtype``."""
    if all(not s.factors for s in scales):
        return Scale(sum(s.number for s in scales)).variable(dtype)
    if len(scales) == 1:
        return scales[0].variable(dtype)
    return cast(tm.add(*[s.variable(dtype) for s in scales]), dtype)


def _scalar_of(var):
    """The Scale a scalar-like variable (all dimensions broadcastable) multiplies by."""
    value = scalar_constant_value(var)
    if value is not None:
        return Scale(value.item())
    while var.owner is not None and isinstance(var.owner.op, DimShuffle) and var.ndim:
        var = var.owner.inputs[0]
    return Scale(factors=(var.dimshuffle() if var.ndim else var,))


def _is_scalar_like(var):
    return all(var.broadcastable)


def _used_once(fgraph, var):
    return len(fgraph.clients[var]) == 1


def _children(node):
    """``[(Scale, input)]`` when ``node`` is a scaled sum of its inputs, else None."""
    inputs = node.inputs
    if is_elemwise(node, ts.Add):
        return [(Scale(), inp) for inp in inputs]
    if is_elemwise(node, ts.Sub):
        return [(Scale(), inputs[0]), (Scale(-1), inputs[1])]
    if is_elemwise(node, ts.Neg):
        return [(Scale(-1), inputs[0])]
    if is_elemwise(node, ts.Mul):
        others = [inp for inp in inputs if not _is_scalar_like(inp)]
        if len(others) != 1:
            return None
        scale = Scale()
        for inp in inputs:
            if inp is not others[0]:
                scale = scale.times(_scalar_of(inp))
        return [(scale, others[0])]
    if is_elemwise(node, ts.TrueDiv) and _is_scalar_like(inputs[1]) and not _is_scalar_like(inputs[0]):
        divisor = scalar_constant_value(inputs[1])
        if divisor is not None and divisor != 0:
            return [(Scale(1 / divisor.item()), inputs[0])]
    return None


def _read_through(fgraph, var, dtype):
    """Whether ``terms_of`` looks inside ``var`` when it meets it below the root."""
    return var.owner is not None and var.dtype == dtype and _used_once(fgraph, var)


def terms_of(fgraph, var, scale=Scale(), dtype=None):
    """``var`` as ``[(Scale, leaf variable)]`` whose scaled sum it is (see the module docstring).

    The root is always looked through; an inner node only when ``var`` is its
    only use and it has the root's dtype (so rebuilding a term never changes
    the precision it was computed in).
    """
    if dtype is None:
        dtype = var.dtype
        children = var.owner and _children(var.owner)
    else:
        children = _children(var.owner) if _read_through(fgraph, var, dtype) else None
    if not children:
        return [(scale, var)]
    return [term for s, child in children for term in terms_of(fgraph, child, scale.times(s), dtype)]


def is_inner(fgraph, var):
    """Whether ``var`` is read as terms of the expression that uses it (which is the root then)."""
    if not _read_through(fgraph, var, var.dtype):
        return False
    parent = fgraph.clients[var][0][0]
    if parent == "output" or parent.outputs[0].dtype != var.dtype:
        return False
    return any(child is var for _, child in _children(parent) or ())


def rebuild(scale, var, dtype):
    """``scale * var`` as a graph again."""
    if scale.is_one():
        return var
    if scale.number == -1 and not scale.factors:
        return -var
    return scale.variable(dtype) * var


# --------------------------------------------------------------------------- products


@dataclass(frozen=True)
class Product:
    """A product a BLAS update can absorb: ``scale * update(z, alpha, a, b[, beta])``."""

    update: object  # the no-inplace update op: gemm, gemv or ger
    a: object
    b: object
    scale: Scale


def _matrix_product(var):
    """``(x, y, Scale)`` when ``var`` is a product of two matrices (dot, Dot22, Dot22Scalar)."""
    node = var.owner
    if node is None:
        return None
    if (isinstance(node.op, Dot) or node.op == dot22) and all(i.ndim == 2 for i in node.inputs):
        return node.inputs[0], node.inputs[1], Scale()
    if node.op == dot22scalar:
        x, y, a = node.inputs
        return x, y, _scalar_of(a)
    return None


def _outer_operands(x, y):
    """``(u, v)`` when ``dot(x, y)`` is ``outer(u, v)``: a column times a row made from vectors."""
    for var, order in ((x, (0, "x")), (y, ("x", 0))):
        node = var.owner
        if node is None or not isinstance(node.op, DimShuffle) or node.op.new_order != order:
            return None
    return x.owner.inputs[0], y.owner.inputs[0]


def products_of(var):
    """The Products ``var`` is, best first (an outer product is also a matrix product).

    Every operand must have ``var``'s dtype, one of the BLAS dtypes.
    """
    if var.dtype not in BLAS_DTYPES or var.owner is None:
        return []
    found = _matrix_product(var)
    if found is not None:
        x, y, scale = found
        outer = _outer_operands(x, y)
        products = [Product(ger, *outer, scale)] if outer else []
        products.append(Product(gemm_no_inplace, x, y, scale))
    elif isinstance(var.owner.op, Dot) and var.ndim == 1:
        a, b = var.owner.inputs
        products = [Product(gemv_no_inplace, a, b, Scale()) if a.ndim == 2
                    else Product(gemv_no_inplace, b.T, a, Scale())]
    else:
        return []
    return [p for p in products if p.a.dtype == var.dtype and p.b.dtype == var.dtype]


# --------------------------------------------------------------------------- rules


def traced(new, old):
    """``new``, remembering the user's line that built ``old`` (run-time errors name it)."""
    if "trace" in old.tag:
        new.tag.trace = old.tag.trace
    return new


@register("blas", "fast_run")
@node_rewriter([elemwise_scalar_op(ts.Add, ts.Sub, ts.Neg, ts.Mul, ts.TrueDiv)])
def dot_to_blas_update(fgraph, node):
    """beta*z + alpha*dot(x, y) + ... -> Gemm(z, alpha, x, y, beta) + ... (Gemv, Ger likewise)

    Why: BLAS computes beta*z + alpha*dot(x, y) in one pass over memory, with no temporary for the product.
    """
    out = node.outputs[0]
    # The whole sum is rewritten at once, from its outermost node.
    if out.dtype not in BLAS_DTYPES or out.ndim not in (1, 2) or is_inner(fgraph, out):
        return None
    terms = terms_of(fgraph, out)
    candidates = [i for i, (_, var) in enumerate(terms)
                  if var.type == out.type and _used_once(fgraph, var) and products_of(var)]
    others = [i for i, (_, var) in enumerate(terms) if var.type == out.type]
    if not candidates or len(others) < 2:
        return None
    index = candidates[0]
    # z: a term of the output's type, preferably one that is not itself a product.
    others.remove(index)
    z = terms[min(others, key=lambda i: (bool(products_of(terms[i][1])), i))][1]
    beta = [scale for scale, var in terms if var is z]
    # Ger adds to z as it is; with another scale on z the outer product goes through Gemm.
    product = next(p for p in products_of(terms[index][1]) if p.update != ger or beta == [Scale()])
    alpha = terms[index][0].times(product.scale).variable(out.dtype)
    if product.update == ger:
        update = ger(z, alpha, product.a, product.b)
    else:
        update = product.update(z, alpha, product.a, product.b, total_scale(beta, out.dtype))
    rest = [rebuild(scale, var, out.dtype) for i, (scale, var) in enumerate(terms)
            if i != index and var is not z]
    return [traced(tm.add(update, *rest) if rest else update, out)]


@register("blas", "fast_run")
@node_rewriter([Dot])
def dot_to_dot22(fgraph, node):
    """dot(x, y) -> Dot22(x, y) for matrices x, y of one BLAS dtype

    Why: Dot22 calls BLAS's matrix product directly, skipping the general dot's checks and dispatch.
    """
    x, y = node.inputs
    if x.ndim == y.ndim == 2 and x.dtype == y.dtype and x.dtype in BLAS_DTYPES:
        return [traced(dot22(x, y), node.outputs[0])]
    return None


@register("blas", "fast_run")
@node_rewriter([elemwise_scalar_op(ts.Mul, ts.Neg, ts.TrueDiv)])
def scaled_dot22(fgraph, node):
    """a * Dot22(x, y) -> Dot22Scalar(x, y, a)

    Why: BLAS scales while it multiplies, which saves a pass over the result.
    """
    out = node.outputs[0]
    terms = terms_of(fgraph, out)
    if len(terms) != 1 or out.dtype not in BLAS_DTYPES:
        return None
    scale, var = terms[0]
    found = _matrix_product(var)
    if found is None or var.type != out.type or not _used_once(fgraph, var):
        return None
    x, y, inner = found
    if x.dtype != out.dtype or y.dtype != out.dtype:
        return None
    return [traced(dot22scalar(x, y, scale.times(inner).variable(out.dtype)), out)]


@register("inplace", "fast_run")
@node_rewriter([gemm_no_inplace, gemv_no_inplace, ger])
def blas_update_inplace(fgraph, node):
    """Gemm{no_inplace}(z, ...) -> Gemm{inplace}(z, ...) where z is needed by nobody else

    Why: nothing else reads z, so the update can write over it instead of copying it first.
    """
    z = node.inputs[0]
    # BLAS must not read an operand it is writing: z may not also be x or y.
    if z in node.inputs[1:] or ensure_destroy_handler(fgraph).refusal(node, 0) is not None:
        return None
    return [traced(type(node.op)(inplace=True)(*node.inputs), node.outputs[0])]


def _is_transpose(node):
    return isinstance(node.op, DimShuffle) and tuple(node.op.new_order) == (1, 0)


def _reads_transposed(fgraph, matrix):
    """True when a matrix-vector product reads ``matrix`` as its transpose: ``A.T @ g`` or ``g @ A``.

    BLAS reads a row-major matrix's transpose top-down, each output element
    summing over all its rows: the gradient pass of a layer whose forward pass
    is ``A @ x``.
    """
    for client, index in fgraph.clients.get(matrix, ()):
        if client == "output":
            continue
        if isinstance(client.op, Dot) and index == 1 and client.inputs[0].ndim == 1:
            return True
        if _is_transpose(client):
            for user, position in fgraph.clients.get(client.outputs[0], ()):
                if user == "output":
                    continue
                if isinstance(user.op, Gemv) and position == 2:
                    return True
                if isinstance(user.op, Dot) and position == 0 and user.inputs[1].ndim == 1:
                    return True
    return False


@register("inplace", "fast_run")
@node_rewriter([Dot])
def reuse_cached_rows(fgraph, node):
    """dot(A, x) -> dot{bottom-up}(A, x) when A.T @ g also reads A (a layer's forward and gradient passes)

    Why: the gradient's pass reads A top-down; read bottom-up, the forward pass leaves A's first rows in cache for it, and the gradient's pass leaves the last rows for the next call's forward pass.
    """
    a, x = node.inputs
    if (node.op.bottom_up or a.ndim != 2 or x.ndim != 1 or a.dtype not in BLAS_DTYPES
            or not _reads_transposed(fgraph, a)):
        return None
    return [traced(Dot(bottom_up=True)(a, x), node.outputs[0])]


# The sums of products that are products: {(rank, summed axis): builder(full, vector)}.
_SUMMED_PRODUCTS = {
    (1, 0): lambda full, vector: _dot(full, vector),  # sum_i x_i y_i
    (2, 1): lambda full, vector: _dot(full, vector),  # sum_j A_ij v_j
    (2, 0): lambda full, vector: _dot(vector, full),  # sum_i v_i A_ij
}


def _vector_of(var, axis):
    """``var`` (a vector, or a row/column broadcastable on ``1 - axis``) as a vector along ``axis``."""
    if var.ndim == 1:
        return var
    node = var.owner
    kept = (0, "x") if axis == 0 else ("x", 0)
    if node is not None and isinstance(node.op, DimShuffle) and node.op.new_order == kept:
        return node.inputs[0]
    return var.dimshuffle(axis)


@register("specialize", "fast_run")
@node_rewriter([Sum])
def sum_of_products_to_dot(fgraph, node):
    """sum(x * y) -> dot(x, y); sum(A * v[None, :], axis=1) -> dot(A, v); axis 0 -> dot(v, A)

    Why: a dot product is one BLAS call that never builds the elementwise product array.
    """
    product = node.inputs[0]
    out = node.outputs[0]
    inner = product.owner
    if inner is None or not is_elemwise(inner, ts.Mul):
        return None
    axes = node.op.axes_of(product)
    build = _SUMMED_PRODUCTS.get((product.ndim, axes[0])) if len(axes) == 1 else None
    if build is None or out.dtype != product.dtype or out.dtype not in BLAS_DTYPES:
        return None
    (axis,) = axes
    kept = [d for d in range(product.ndim) if d != axis]
    for index, vector in enumerate(inner.inputs):
        # The vector factor runs along the summed axis and is broadcast over the other one;
        # the product of the other factors (the full one) has the summed axis at full length.
        rest = inner.inputs[:index] + inner.inputs[index + 1:]
        if vector.broadcastable[axis] or not all(vector.broadcastable[d] for d in kept):
            continue
        if all(inp.broadcastable[axis] for inp in rest):
            continue
        full = rest[0] if len(rest) == 1 else tm.mul(*rest)
        return [traced(build(full, _vector_of(vector, axis)), out)]
    return None
