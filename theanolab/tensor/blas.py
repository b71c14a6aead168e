"""Matrix products: ``Dot``, ``BatchedDot``, the BLAS ops, ``dot``, ``outer``, ``tensordot``.

``Dot`` multiplies vectors and matrices with NumPy's ``np.dot`` meaning:
vector . vector is a scalar, matrix . vector a vector, vector . matrix a
vector and matrix . matrix a matrix.  Its ``perform`` is ``np.dot`` itself
(the ground truth the compiled backends are checked against); the later
BLAS rewrites (:mod:`theanolab.tensor.rewriting.blas`) replace it by the
BLAS-shaped ops defined at the end of this module:

============  ===========================================  ==================
op            computes                                     made from
============  ===========================================  ==================
Gemm          ``beta * z + alpha * dot(x, y)`` (matrices)  ``z + a * dot``
Gemv          ``beta * z + alpha * dot(A, x)`` (A matrix)  ``z + a * dot``
Ger           ``z + alpha * outer(x, y)``                  ``z + a * outer``
Dot22         ``dot(x, y)`` (two matrices)                 any matrix ``dot``
Dot22Scalar   ``a * dot(x, y)`` (two matrices)             ``a * dot``
============  ===========================================  ==================

Their inputs are in Theano's order (``Gemm(z, alpha, x, y, beta)``,
``Dot22Scalar(x, y, a)``), so graphs print as Theano prints them.  The
``perform`` of each is its NumPy definition; a compiled backend calls a real BLAS.

``dot`` also accepts what ``np.dot`` accepts beyond rank 2: a scalar
operand multiplies elementwise, and higher ranks go through ``tensordot``,
which flattens both operands to matrices around one ``Dot`` and reshapes
back, so gradients need no extra op.

>>> import theanolab, theanolab.tensor as T
>>> x, y = T.dvectors('x', 'y')
>>> theanolab.function([x, y], T.dot(x, y))([1, 2], [3, 4])
array(11.)
"""

from __future__ import annotations

import numpy as np

from theanolab.graph.basic import Apply, Variable
from theanolab.graph.op import Op
from theanolab.scalar.basic import DISCRETE, upcast
from theanolab.tensor.shape import reshape, shape_i
from theanolab.tensor.type import TensorType
from theanolab.tensor.variable import as_tensor_variable, constant

__all__ = ["Dot", "BatchedDot", "dot", "outer", "tensordot", "batched_dot",
           "BLAS_DTYPES", "Gemm", "Gemv", "Ger", "Dot22", "Dot22Scalar", "gemm_no_inplace",
           "gemm_inplace", "gemv_no_inplace", "gemv_inplace", "ger", "ger_destructive", "dot22",
           "dot22scalar"]


class _Product(Op):
    """A product bilinear in its two inputs: what ``Dot`` and ``BatchedDot`` share.

    Subclasses give ``ranks`` (the input ranks they take), ``function_name``
    (the user function for other ranks, named in errors), ``pattern`` (the
    output broadcastable pattern) and ``input_grads`` (the gradients of both
    inputs); bilinearity gives the R_op (the product rule) for free.
    """

    __props__ = ()
    ranks = ()

    def make_node(self, a, b):
        a, b = as_tensor_variable(a), as_tensor_variable(b)
        for position, operand in (("first", a), ("second", b)):
            if operand.ndim not in self.ranks:
                raise TypeError(
                    f"{self}: the {position} input {operand} ({operand.type}) has {operand.ndim} "
                    f"dimensions; expected {' or '.join(map(str, self.ranks))} "
                    f"(T.{self.function_name} takes other ranks)"
                )
        return Apply(self, [a, b], [TensorType(upcast(a.dtype, b.dtype), self.pattern(a, b))()])

    def grad(self, inputs, output_grads):
        from theanolab.tensor.basic import zeros_like_float

        grads = self.input_grads(*inputs, output_grads[0])
        return [zeros_like_float(x) if x.dtype in DISCRETE else g for x, g in zip(inputs, grads)]

    def R_op(self, inputs, eval_points):
        a, b = inputs
        da, db = eval_points
        terms = ([self(da, b)] if da is not None else []) + ([self(a, db)] if db is not None else [])
        if not terms:
            return [None]
        return [terms[0] + terms[1] if len(terms) == 2 else terms[0]]


class Dot(_Product):
    """The product of two vectors or matrices (``np.dot`` on ranks 1 and 2).

    The output dtype is the upcast of the inputs (int8 . int8 stays int8, as
    in NumPy); a dimension of the output is broadcastable when the input
    dimension it comes from is.
    """

    ranks = (1, 2)
    function_name = "dot"
    __props__ = ("bottom_up",)

    def __init__(self, bottom_up=False):
        #: A matrix-vector product that reads the matrix's rows last block first,
        #: so that a following top-down pass over the same matrix finds them in
        #: cache (set by the rewrite ``reuse_cached_rows``; the same numbers).
        self.bottom_up = bool(bottom_up)

    def __str__(self):
        return "dot{bottom-up}" if self.bottom_up else "dot"

    @staticmethod
    def pattern(a, b):
        return a.broadcastable[:-1] + b.broadcastable[1:]

    def perform(self, node, inputs, output_storage):
        a, b = inputs
        inner_a, inner_b = a.shape[-1], b.shape[0]
        if inner_a != inner_b:
            raise ValueError(
                f"dot: shapes {a.shape} and {b.shape} are not aligned: the last dimension of the "
                f"first input ({inner_a}) must equal the first dimension of the second ({inner_b})"
            )
        output_storage[0][0] = np.asarray(np.dot(a, b), dtype=node.outputs[0].type.dtype)

    def infer_shape(self, node, input_shapes):
        shape_a, shape_b = input_shapes
        return [tuple(shape_a[:-1]) + tuple(shape_b[1:])]

    @staticmethod
    def input_grads(a, b, gz):
        return _DOT_GRADS[(a.ndim, b.ndim)](a, b, gz)


# The gradient of dot(a, b) for each (a.ndim, b.ndim): (d cost/d a, d cost/d b) given gz.
_DOT_GRADS = {
    (1, 1): lambda a, b, gz: (gz * b, gz * a),  # z = sum_k a_k b_k
    (2, 1): lambda a, b, gz: (outer(gz, b), _dot(a.T, gz)),  # z_i = sum_k a_ik b_k
    (1, 2): lambda a, b, gz: (_dot(b, gz), outer(a, gz)),  # z_j = sum_k a_k b_kj
    (2, 2): lambda a, b, gz: (_dot(gz, b.T), _dot(a.T, gz)),  # z_ij = sum_k a_ik b_kj
}


class BatchedDot(_Product):
    """``out[i] = dot(a[i], b[i])`` for stacks of matrices: (B, n, k) . (B, k, m) -> (B, n, m).

    ``perform`` is ``np.matmul``; :func:`batched_dot` pads vectors-per-batch
    to matrices with broadcastable dimensions, so this op sees only rank 3.
    """

    ranks = (3,)
    function_name = "batched_dot"

    @staticmethod
    def pattern(a, b):
        return (a.broadcastable[0] and b.broadcastable[0], a.broadcastable[1], b.broadcastable[2])

    def perform(self, node, inputs, output_storage):
        a, b = inputs
        if a.shape[0] != b.shape[0] or a.shape[2] != b.shape[1]:
            raise ValueError(f"BatchedDot: shapes {a.shape} and {b.shape} do not fit: expected "
                             "(batch, n, k) and (batch, k, m) with equal batch and k")
        output_storage[0][0] = np.asarray(np.matmul(a, b), dtype=node.outputs[0].type.dtype)

    def infer_shape(self, node, input_shapes):
        shape_a, shape_b = input_shapes
        return [(shape_a[0], shape_a[1], shape_b[2])]

    def input_grads(self, a, b, gz):
        return self(gz, b.dimshuffle(0, 2, 1)), self(a.dimshuffle(0, 2, 1), gz)


_dot = Dot()
_batched_dot = BatchedDot()


def dot(a, b):
    """``np.dot(a, b)`` symbolically.

    Scalars multiply elementwise; vectors and matrices use the ``Dot`` op;
    for a higher rank the result sums over the last axis of ``a`` and the
    second-to-last axis of ``b`` (its only one when ``b`` is a vector), as in NumPy.

    >>> import theanolab.tensor as T
    >>> x, y = T.matrix(), T.matrix()
    >>> T.dot(x, y).owner.op
    dot
    """
    a, b = as_tensor_variable(a), as_tensor_variable(b)
    if a.ndim == 0 or b.ndim == 0:
        return a * b
    if a.ndim <= 2 and b.ndim <= 2:
        return _dot(a, b)
    return tensordot(a, b, [[a.ndim - 1], [max(b.ndim - 2, 0)]])


def tensordot(a, b, axes=2):
    """``np.tensordot(a, b, axes)``: sum over ``axes`` of ``a`` paired with ``axes`` of ``b``.

    ``axes`` is a number n (the last n axes of a with the first n of b) or a
    pair of axis lists.  The summed axes are moved together and both inputs
    reshaped to matrices around one ``Dot``, so the result needs no new
    gradient: it is the gradient of the reshapes, dimshuffles and ``Dot``.
    """
    a, b = as_tensor_variable(a), as_tensor_variable(b)
    a_axes, b_axes = _tensordot_axes(a, b, axes)
    a_free = [d for d in range(a.ndim) if d not in a_axes]
    b_free = [d for d in range(b.ndim) if d not in b_axes]
    a_shape = [shape_i(a, d) for d in range(a.ndim)]
    b_shape = [shape_i(b, d) for d in range(b.ndim)]
    summed = _product([a_shape[d] for d in a_axes])
    a_matrix = reshape(a.dimshuffle(a_free + a_axes),
                       (_product([a_shape[d] for d in a_free]), summed), ndim=2)
    b_matrix = reshape(b.dimshuffle(b_axes + b_free),
                       (summed, _product([b_shape[d] for d in b_free])), ndim=2)
    out_shape = [a_shape[d] for d in a_free] + [b_shape[d] for d in b_free]
    return reshape(_dot(a_matrix, b_matrix), out_shape, ndim=len(out_shape))


def _tensordot_axes(a, b, axes):
    """The two lists of summed axes (non-negative), checked to pair up."""
    if isinstance(axes, (int, np.integer)):
        if not 0 <= axes <= min(a.ndim, b.ndim):
            raise ValueError(f"tensordot: axes={axes} but the inputs have {a.ndim} and {b.ndim} dimensions")
        return list(range(a.ndim - axes, a.ndim)), list(range(axes))
    try:
        a_axes, b_axes = ([axis] if isinstance(axis, (int, np.integer)) else list(axis) for axis in axes)
    except (TypeError, ValueError):
        raise TypeError(f"tensordot: axes must be a number or a pair of axis lists, got {axes!r}") from None
    if len(a_axes) != len(b_axes):
        raise ValueError(f"tensordot: {len(a_axes)} axes of a but {len(b_axes)} axes of b ({axes!r})")
    checked = []
    for name, var, var_axes in (("a", a, a_axes), ("b", b, b_axes)):
        if any(not -var.ndim <= d < var.ndim for d in var_axes):
            raise ValueError(f"tensordot: an axis in {var_axes} is out of range for {name} "
                             f"({var.ndim} dimensions)")
        normalized = [int(d) % var.ndim for d in var_axes]
        if len(set(normalized)) != len(normalized):
            raise ValueError(f"tensordot: an axis of {name} is repeated in {var_axes}")
        checked.append(normalized)
    return checked


def _product(sizes):
    """The product of symbolic sizes, 1 for none (explicit: empty dimensions need no -1)."""
    total = constant(1, dtype="int64")
    for size in sizes:
        total = total * size
    return total


def outer(x, y):
    """The outer product ``outer(x, y)[i, j] == x[i] * y[j]``.

    Inputs that are not vectors are flattened first (as ``np.outer`` and
    Theano do).  Built as ``dot(x[:, None], y[None, :])``, so it prints as ``dot``.
    """
    x, y = as_tensor_variable(x), as_tensor_variable(y)
    x = x if x.ndim == 1 else x.flatten()
    y = y if y.ndim == 1 else y.flatten()
    return _dot(x.dimshuffle(0, "x"), y.dimshuffle("x", 0))


def batched_dot(a, b):
    """``batched_dot(a, b)[i] == dot(a[i], b[i])`` over the first (batch) axis.

    Each input has 1 to 3 dimensions, as in Theano: a vector is a batch of
    scalars (an elementwise product); a matrix is a batch of vectors.
    """
    a, b = as_tensor_variable(a), as_tensor_variable(b)
    for name, v in (("a", a), ("b", b)):
        if not 1 <= v.ndim <= 3:
            raise TypeError(f"batched_dot: {name} must have 1 to 3 dimensions (a batch axis first), "
                            f"got {v} with {v.ndim}")
    if a.ndim == 1:
        return a.dimshuffle([0] + ["x"] * (b.ndim - 1)) * b
    if b.ndim == 1:
        return a * b.dimshuffle([0] + ["x"] * (a.ndim - 1))
    a3 = a if a.ndim == 3 else a.dimshuffle(0, "x", 1)
    b3 = b if b.ndim == 3 else b.dimshuffle(0, 1, "x")
    kept = [0] + ([1] if a.ndim == 3 else []) + ([2] if b.ndim == 3 else [])
    out = _batched_dot(a3, b3)
    return out if len(kept) == 3 else out.dimshuffle(kept)


# --------------------------------------------------------------------------- BLAS ops

#: The dtypes BLAS computes in: the BLAS ops take only these, all operands of one dtype.
BLAS_DTYPES = ("float32", "float64", "complex64", "complex128")


class _BlasOp(Op):
    """What the BLAS ops share: operands checked against a signature, and a meaning.

    Subclasses give ``ranks`` (one entry per input; 0 marks a scalar
    coefficient, cast to the arrays' dtype when given as a number),
    ``compute`` (the op in NumPy: its ``perform``) and ``expression`` (the
    same with ``dot`` and elementwise ops: the gradient differentiates it).
    """

    __props__ = ()
    ranks = ()

    def make_node(self, *inputs):
        if len(inputs) != len(self.ranks):
            raise TypeError(f"{self} takes {len(self.ranks)} inputs, got {len(inputs)}")
        arrays = [as_tensor_variable(v) for v, rank in zip(inputs, self.ranks) if rank]
        dtype = arrays[0].dtype
        converted = []
        for position, (value, rank) in enumerate(zip(inputs, self.ranks)):
            if rank == 0 and not isinstance(value, Variable):
                value = constant(np.asarray(value, dtype=dtype))
            value = as_tensor_variable(value)
            if value.ndim != rank:
                raise TypeError(f"{self}: input {position} ({value}) must have {rank} dimensions, "
                                f"got {value.ndim}")
            if rank and value.dtype != dtype or rank == 0 and upcast(value.dtype, dtype) != dtype:
                raise TypeError(f"{self}: input {position} ({value}) has dtype {value.dtype}; every "
                                f"array must have the dtype of the first ({dtype}) and a scalar a "
                                "dtype that fits in it")
            converted.append(value)
        if dtype not in BLAS_DTYPES:
            raise TypeError(f"{self} computes in {', '.join(BLAS_DTYPES)}, not {dtype} "
                            f"(T.dot takes any dtype)")
        return Apply(self, converted, [TensorType(dtype, self.pattern(*converted))()])

    def perform(self, node, inputs, output_storage):
        output_storage[0][0] = np.asarray(self.compute(*inputs), dtype=node.outputs[0].dtype)

    def L_op(self, inputs, outputs, output_grads):
        from theanolab.gradient import Lop

        return Lop(self.expression(*inputs), list(inputs), output_grads[0])


def _aligned_dot(op, a, b):
    """``np.dot(a, b)``, with an error naming ``op`` when the shapes do not fit."""
    if a.shape[-1] != b.shape[0]:
        raise ValueError(f"{op}: shapes {a.shape} and {b.shape} are not aligned (the last dimension "
                         "of the first must equal the first dimension of the second)")
    return np.dot(a, b)


class _Update(_BlasOp):
    """``beta * z + alpha * product(a, b)``: inputs ``(z, alpha, a, b, beta)`` (Ger has no beta).

    As in BLAS, ``beta == 0`` means ``z`` is not read (so NaNs in it do not
    propagate).  The ``inplace`` variant overwrites ``z`` (``destroy_map``);
    only the in-place rewrite makes it, where the destroy handler allows.
    """

    __props__ = ("inplace",)

    def __init__(self, inplace=False):
        self.inplace = bool(inplace)
        self.destroy_map = {0: [0]} if self.inplace else {}

    def __str__(self):
        return f"{type(self).__name__}{{{'inplace' if self.inplace else 'no_inplace'}}}"

    @staticmethod
    def pattern(z, *operands):
        return z.broadcastable

    def product(self, a, b):
        return _aligned_dot(self, a, b)

    def compute(self, z, alpha, a, b, beta=1):
        product = self.product(a, b)
        if product.shape != z.shape:
            raise ValueError(f"{self}: the product of shapes {a.shape} and {b.shape} has shape "
                             f"{product.shape}, but the updated input has shape {z.shape}")
        return alpha * product if beta == 0 else beta * z + alpha * product

    def perform(self, node, inputs, output_storage):
        result = np.asarray(self.compute(*inputs), dtype=node.outputs[0].dtype)
        if self.inplace:
            np.copyto(inputs[0], result)
            result = inputs[0]
        output_storage[0][0] = result

    def expression(self, z, alpha, a, b, beta=1):
        return beta * z + alpha * _dot(a, b)

    def infer_shape(self, node, input_shapes):
        return [input_shapes[0]]


class Gemm(_Update):
    """``Gemm(z, alpha, x, y, beta) = beta * z + alpha * dot(x, y)`` for matrices z, x, y."""

    ranks = (2, 0, 2, 2, 0)


class Gemv(_Update):
    """``Gemv(z, alpha, A, x, beta) = beta * z + alpha * dot(A, x)`` for a matrix A, vectors z, x."""

    ranks = (1, 0, 2, 1, 0)


class Ger(_Update):
    """``Ger(z, alpha, x, y) = z + alpha * outer(x, y)``: a rank-one update of the matrix z."""

    ranks = (2, 0, 1, 1)

    def __str__(self):
        return f"Ger{{{'destructive' if self.inplace else 'non-destructive'}}}"

    def product(self, a, b):
        return np.outer(a, b)

    def expression(self, z, alpha, a, b):
        return z + alpha * outer(a, b)


class _MatrixProduct(_BlasOp):
    """A product of two matrices (the first two inputs), with the shape that implies."""

    @staticmethod
    def pattern(x, y, *scale):
        return (x.broadcastable[0], y.broadcastable[1])

    def infer_shape(self, node, input_shapes):
        return [(input_shapes[0][0], input_shapes[1][1])]


class Dot22(_MatrixProduct):
    """``dot(x, y)`` of two matrices of one BLAS dtype (what ``gemm`` computes with beta = 0)."""

    ranks = (2, 2)

    def compute(self, x, y):
        return _aligned_dot(self, x, y)

    def expression(self, x, y):
        return _dot(x, y)


class Dot22Scalar(_MatrixProduct):
    """``Dot22Scalar(x, y, a) = a * dot(x, y)`` for matrices x, y and a scalar a."""

    ranks = (2, 2, 0)

    def compute(self, x, y, a):
        return a * _aligned_dot(self, x, y)

    def expression(self, x, y, a):
        return a * _dot(x, y)


gemm_no_inplace, gemm_inplace = Gemm(), Gemm(inplace=True)
gemv_no_inplace, gemv_inplace = Gemv(), Gemv(inplace=True)
ger, ger_destructive = Ger(), Ger(inplace=True)
dot22, dot22scalar = Dot22(), Dot22Scalar()
