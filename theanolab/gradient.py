"""Symbolic differentiation: grad, Lop, Rop, jacobian, hessian, verify_grad.

``grad`` walks the graph from the cost back to the variables asked for, in
reverse topological order, asking each node's Op for the gradient of its
inputs given the gradients of its outputs (``Op.L_op``).  The result is an
ordinary graph, so it can be printed, rewritten and differentiated again.

Conventions an Op's ``L_op`` follows: return one entry per input, ``None``
where the input does not influence the outputs (disconnected), or the
result of :func:`grad_undefined` / :func:`grad_not_implemented` where no
gradient exists; gradients of discrete (bool/int) inputs are float zeros.

>>> import theanolab.tensor as T
>>> from theanolab import pp
>>> x = T.dscalar('x')
>>> pp(T.grad(x ** 2, x))
'((fill((x ** 2), 1.0) * 2) * (x ** (2 - 1)))'
"""

from __future__ import annotations

import warnings

import numpy as np

from theanolab.graph.basic import Apply, Constant, Variable, graph_inputs, io_toposort
from theanolab.graph.op import Op
from theanolab.graph.type import Type


class DisconnectedInputError(ValueError):
    """``grad`` was asked for a variable the cost does not depend on."""


class NullTypeGradError(TypeError):
    """A gradient needed for the result is undefined or not implemented."""


class GradientError(AssertionError):
    """``verify_grad`` found the symbolic gradient differs from finite differences."""

    def __init__(self, message, arg, abs_err, rel_err, analytic, numeric):
        super().__init__(message)
        self.arg, self.abs_err, self.rel_err = arg, abs_err, rel_err
        self.analytic, self.numeric = analytic, numeric


# ---------------------------------------------------------------- undefined gradients


class NullType(Type):
    """The type of an undefined gradient; carries why it is undefined."""

    def __init__(self, why):
        self.why = why

    def filter(self, data, strict=False, allow_downcast=None):
        raise ValueError(f"an undefined gradient has no value: {self.why}")

    def __eq__(self, other):
        return type(self) is type(other) and self.why == other.why

    def __hash__(self):
        return hash((NullType, self.why))

    def __str__(self):
        return "NullType"


def grad_undefined(op, x_pos, x, comment=""):
    """The gradient of ``op`` with respect to its input ``x_pos`` is mathematically undefined."""
    return NullType(f"the gradient of {op} with respect to its input {x_pos} ({x}) is undefined. {comment}")()


def grad_not_implemented(op, x_pos, x, comment=""):
    """The gradient exists but theanolab does not implement it."""
    return NullType(
        f"the gradient of {op} with respect to its input {x_pos} ({x}) is not implemented. {comment}"
    )()


class DisconnectedType(Type):
    """The type of the gradient of a variable the cost does not depend on.

    ``grad(..., return_disconnected='Disconnected')`` returns a variable of this
    type so a caller can tell "does not depend on it" from "depends on it with a
    zero derivative", which a zeros gradient cannot show.
    """

    def filter(self, data, strict=False, allow_downcast=None):
        raise ValueError("a disconnected gradient has no value")

    def __eq__(self, other):
        return type(self) is type(other)

    def __hash__(self):
        return hash(DisconnectedType)

    def __str__(self):
        return "DisconnectedType"


disconnected_type = DisconnectedType()


def _zeros_like_float(var):
    from theanolab.tensor.basic import zeros_like_float

    return zeros_like_float(var)


# What grad returns for a disconnected wrt variable, by ``return_disconnected``.
_DISCONNECTED_RESULTS = {
    "zero": _zeros_like_float,
    "None": lambda var: None,
    "Disconnected": lambda var: disconnected_type(),
}


def _is_null(var):
    return isinstance(var, Variable) and isinstance(var.type, NullType)


# ---------------------------------------------------------------- gradient-blocking ops


class _GradBlock(Op):
    """Identity in the forward pass; what flows back is decided by subclasses."""

    __props__ = ()
    view_map = {0: [0]}

    def make_node(self, x):
        from theanolab.tensor.variable import as_tensor_variable

        x = as_tensor_variable(x)
        return Apply(self, [x], [x.type()])

    def perform(self, node, inputs, output_storage):
        output_storage[0][0] = inputs[0]

    def infer_shape(self, node, input_shapes):
        return input_shapes

    def R_op(self, inputs, eval_points):
        return [None]


class ZeroGrad(_GradBlock):
    """Forward identity whose gradient is zero."""

    def grad(self, inputs, output_grads):
        from theanolab.tensor.basic import zeros_like

        return [zeros_like(output_grads[0])]


class DisconnectedGrad(_GradBlock):
    """Forward identity through which no gradient flows (the input is disconnected)."""

    def grad(self, inputs, output_grads):
        return [None]


class UndefinedGrad(_GradBlock):
    """Forward identity whose gradient is undefined (a random sample's parameters, say)."""

    def grad(self, inputs, output_grads):
        return [grad_undefined(self, 0, inputs[0])]


zero_grad_ = ZeroGrad()
disconnected_grad_ = DisconnectedGrad()
undefined_grad_ = UndefinedGrad()


def zero_grad(x):
    """``x``, but gradients through it are zero."""
    return zero_grad_(x)


def disconnected_grad(x):
    """``x``, but treated as a constant (disconnected) by ``grad``."""
    return disconnected_grad_(x)


def undefined_grad(x):
    """``x``, but asking ``grad`` for a gradient through it is an error (NullTypeGradError)."""
    return undefined_grad_(x)


consider_constant = zero_grad


# ---------------------------------------------------------------- reverse mode


def _as_list(value):
    return list(value) if isinstance(value, (list, tuple)) else [value]


def _sum_terms(terms):
    total = terms[0]
    for term in terms[1:]:
        total = total + term
    return total


def _conform(grad, var, node):
    """Check a gradient has its variable's rank; cast floats to its dtype."""
    from theanolab.tensor.basic import cast
    from theanolab.tensor.variable import as_tensor_variable

    grad = as_tensor_variable(grad)
    if grad.ndim != var.ndim:
        raise ValueError(
            f"{node.op} returned a gradient of {grad.ndim} dimensions for its input {var} "
            f"of {var.ndim} dimensions"
        )
    if var.dtype in ("float16", "float32", "float64", "complex64", "complex128") and grad.dtype != var.dtype:
        grad = cast(grad, var.dtype)
    return grad


def _backpropagate(seeds, wrt, consider_constant=()):
    """Accumulate gradients from ``seeds = {variable: gradient}`` back to ``wrt``.

    Returns ``{variable: gradient or NullType variable}`` for every variable
    reached.  Only nodes on a path from some ``wrt`` to some seed are visited.
    """
    blockers = set(consider_constant)
    wrt_set = set(wrt)
    outputs = list(seeds)
    nodes = io_toposort(graph_inputs(outputs, blockers), outputs)
    # Variables that depend on a wrt variable: only their gradients matter.
    relevant = set(wrt_set)
    for node in nodes:
        if any(i in relevant and i not in blockers for i in node.inputs):
            relevant.update(node.outputs)
    terms = {var: [g] for var, g in seeds.items()}
    for node in reversed(nodes):
        if not any(o in terms for o in node.outputs):
            continue
        if not any(i in relevant and i not in blockers for i in node.inputs):
            continue
        output_grads = []
        for out in node.outputs:
            if out in terms:
                output_grads.append(_sum_terms(terms[out]))
            else:
                from theanolab.tensor.basic import zeros_like
                from theanolab.tensor.type import TensorType

                # A non-tensor output (a random generator's new state) has no gradient: None.
                output_grads.append(zeros_like(out) if isinstance(out.type, TensorType) else None)
        null = next((g for g in output_grads if _is_null(g)), None)
        if null is not None:
            input_grads = [null] * len(node.inputs)
        else:
            input_grads = node.op.L_op(list(node.inputs), list(node.outputs), output_grads)
            if len(input_grads) != len(node.inputs):
                raise ValueError(f"{node.op}.L_op returned {len(input_grads)} gradients for "
                                 f"{len(node.inputs)} inputs")
        for var, g in zip(node.inputs, input_grads):
            if g is None or var in blockers or var not in relevant:
                continue
            terms.setdefault(var, []).append(g if _is_null(g) else _conform(g, var, node))
    result = {}
    for var, var_terms in terms.items():
        null = next((t for t in var_terms if _is_null(t)), None)
        result[var] = null if null is not None else _sum_terms(var_terms)
    return result


def _finish(wrt, grads, disconnected_inputs, return_disconnected, null_gradients):
    if disconnected_inputs not in ("ignore", "warn", "raise"):
        raise ValueError(f"disconnected_inputs must be 'ignore', 'warn' or 'raise', got {disconnected_inputs!r}")
    if return_disconnected not in _DISCONNECTED_RESULTS:
        raise ValueError(
            f"return_disconnected must be 'zero', 'None' or 'Disconnected', got {return_disconnected!r}"
        )
    results = []
    for index, var in enumerate(wrt):
        g = grads.get(var)
        if g is None:
            message = (
                f"grad was asked for the gradient with respect to {var} (wrt[{index}]), which is "
                "not part of the computational graph of the cost, or is used only by a "
                "non-differentiable operation. To make this an error-free zero, pass "
                "disconnected_inputs='ignore' (or 'warn')."
            )
            if disconnected_inputs == "raise":
                raise DisconnectedInputError(message)
            if disconnected_inputs == "warn":
                warnings.warn(message, stacklevel=3)
            g = _DISCONNECTED_RESULTS[return_disconnected](var)
        elif _is_null(g):
            if null_gradients == "raise":
                raise NullTypeGradError(f"cannot compute the gradient with respect to {var}: {g.type.why}")
        results.append(g)
    return results


def grad(cost, wrt, consider_constant=None, disconnected_inputs="raise", add_names=True,
         known_grads=None, return_disconnected="zero", null_gradients="raise"):
    """Gradient of the scalar ``cost`` with respect to ``wrt`` (a variable or a list).

    ``consider_constant`` lists variables to treat as constants;
    ``known_grads={var: gradient}`` starts backpropagation from given
    gradients (``cost`` may then be None); ``disconnected_inputs`` says what
    to do when the cost does not depend on a ``wrt`` variable, and
    ``return_disconnected`` what to return for it when that is not an error:
    ``'zero'`` (zeros shaped like it), ``'None'``, or ``'Disconnected'`` (a
    variable of :class:`DisconnectedType`).
    """
    from theanolab.tensor.basic import ones_like
    from theanolab.tensor.variable import as_tensor_variable

    if cost is None and not known_grads:
        raise ValueError("grad needs a cost, or known_grads to start from")
    single = not isinstance(wrt, (list, tuple))
    wrt = _as_list(wrt)
    for index, var in enumerate(wrt):
        if not isinstance(var, Variable):
            raise TypeError(f"grad: wrt[{index}] must be a symbolic variable, got {var!r}")
    seeds = {}
    if cost is not None:
        cost = as_tensor_variable(cost)
        if cost.ndim != 0:
            raise TypeError(
                f"grad: the cost must be a scalar, but {cost} has {cost.ndim} dimension(s) "
                f"({cost.type}). Reduce it first (e.g. cost.sum() or cost.mean()), or use "
                "jacobian() for the derivative of every element."
            )
        seeds[cost] = ones_like(cost) if cost.dtype[0] in "fc" else ones_like(cost, dtype=_float_dtype())
    for var, g in (known_grads or {}).items():
        g = as_tensor_variable(g)
        if g.ndim != var.ndim:
            raise ValueError(f"known_grads: the gradient of {var} must have {var.ndim} dimensions, got {g.ndim}")
        seeds[var] = g
    grads = _backpropagate(seeds, wrt, consider_constant or ())
    results = _finish(wrt, grads, disconnected_inputs, return_disconnected, null_gradients)
    if add_names and cost is not None and cost.name:
        for var, g in zip(wrt, results):
            if g is not None and g.name is None and var.name and not isinstance(g.type, DisconnectedType):
                g.name = f"(d{cost.name}/d{var.name})"
    return results[0] if single else results


def _float_dtype():
    from theanolab.config import config

    return config.floatX


def Lop(f, wrt, eval_points, consider_constant=None, disconnected_inputs="raise"):
    """Vector-Jacobian product: ``eval_points`` times the Jacobian of ``f`` w.r.t. ``wrt``."""
    f_list, points = _as_list(f), _as_list(eval_points)
    if len(f_list) != len(points):
        raise ValueError(f"Lop: {len(f_list)} expressions but {len(points)} eval_points")
    result = grad(None, wrt, consider_constant=consider_constant, disconnected_inputs=disconnected_inputs,
                  known_grads=dict(zip(f_list, points)))
    return result


def Rop(f, wrt, eval_points, disconnected_outputs="raise"):
    """Jacobian-vector product: the Jacobian of ``f`` w.r.t. ``wrt`` times ``eval_points``.

    Forward mode: each node's ``R_op`` maps its inputs' directions to its
    outputs' directions.  As in Theano, what does not depend on ``wrt`` (an
    input not in ``wrt``, a shared variable, a constant, a value computed
    from those only or from ``wrt`` only through its shape) has the
    direction zero, not none: w.r.t. ``W``, the R_op of ``dot(x, W)`` is
    ``dot(zeros_like(x), W) + dot(x, V)``, so the result keeps every input
    of ``f`` and a function computing it must list them all (Theano's
    tutorial relies on this).  The optimizer removes the zero terms.
    Theano reaches the zero of a computed value by running R_op over zeros
    through the nodes above it; ``zeros_like(value)`` is the same number
    without asking ops that never see ``wrt`` for an R_op.

    >>> import theanolab, theanolab.tensor as T
    >>> W, V, x = T.dmatrix('W'), T.dmatrix('V'), T.dvector('x')
    >>> JV = T.Rop(T.dot(x, W), W, V)
    >>> theanolab.function([W, V, x], JV)([[1, 1], [1, 1]], [[2, 2], [2, 2]], [0, 1]).tolist()
    [2.0, 2.0]
    """
    from theanolab.tensor.basic import zeros_like
    from theanolab.tensor.type import TensorType
    from theanolab.tensor.variable import as_tensor_variable

    single = not isinstance(f, (list, tuple))
    f_list, wrt_list, points = _as_list(f), _as_list(wrt), _as_list(eval_points)
    if len(wrt_list) != len(points):
        raise ValueError(f"Rop: {len(wrt_list)} wrt variables but {len(points)} eval_points")
    directions = {}  # wrt and what depends on it; None where an op gives no direction (a shape)
    for var, point in zip(wrt_list, points):
        point = as_tensor_variable(point)
        if point.ndim != var.ndim:
            raise ValueError(f"Rop: the eval point of {var} must have {var.ndim} dimensions, got {point.ndim}")
        directions[var] = point
    zeros = {}  # what does not depend on wrt: zeros of its type (none for random states and the like)

    def direction(var):
        if var in directions:
            return directions[var]
        if var not in zeros:
            zeros[var] = zeros_like(var) if isinstance(var.type, TensorType) else None
        return zeros[var]

    for node in io_toposort(wrt_list, f_list):
        if all(directions.get(i) is None for i in node.inputs):
            continue  # no direction reaches it (only zeros, or none through a shape): its outputs' is zero
        in_points = [direction(i) for i in node.inputs]
        try:
            out_points = node.op.R_op(list(node.inputs), in_points)
        except NotImplementedError:
            raise NotImplementedError(f"Rop: {node.op} does not define R_op (needed for {node})") from None
        directions.update(zip(node.outputs, out_points))
    results = []
    for out in f_list:
        point = direction(out) if out in directions or out.owner is not None else None
        if point is None:
            if disconnected_outputs == "raise":
                raise DisconnectedInputError(
                    f"Rop: {out} is not computed from any of {wrt_list}, or only through an operation "
                    "with no derivative (such as a shape)")
            point = zeros_like(out)
        results.append(point)
    return results[0] if single else results


# ---------------------------------------------------------------- jacobian and hessian


class JacobianRows(Op):
    """Evaluate an inner graph for every index ``i`` in ``range(n)`` and stack the results.

    This is the loop jacobian() needs: row ``i`` is the gradient of element
    ``i`` of the expression with respect to each ``wrt``.  Each instance has
    its own inner graph, so instances compare by identity.  (Theano builds
    the same loop with scan; this op needs no scan machinery.)
    """

    def __init__(self, index, others, rows, wrt):
        self.index, self.others, self.rows, self.wrt = index, list(others), list(rows), list(wrt)
        self._compiled = None

    __eq__ = object.__eq__
    __hash__ = object.__hash__

    def __str__(self):
        return "JacobianRows"

    @property
    def inner_inputs(self):
        """The inner graph's inputs, standing for the node's ``(n, *others)``: ``i`` runs over ``range(n)``."""
        return [self.index, *self.others]

    @property
    def inner_outputs(self):
        """Row ``i`` of each Jacobian (what ``theanolab.printing`` shows as the inner graph)."""
        return list(self.rows)

    def __getstate__(self):
        state = dict(self.__dict__)
        state["_compiled"] = None
        return state

    def make_node(self, n, *others):
        from theanolab.tensor.type import TensorType

        outputs = [TensorType(r.dtype, (False,) + r.broadcastable)() for r in self.rows]
        return Apply(self, [n, *others], outputs)

    def _functions(self):
        from theanolab.compile.function import function

        if self._compiled is None:
            row = function([self.index, *self.others], self.rows, on_unused_input="ignore", mode="FAST_COMPILE")
            shapes = function(self.others, [w.shape for w in self.wrt], on_unused_input="ignore",
                              mode="FAST_COMPILE")
            self._compiled = (row, shapes)
        return self._compiled

    def perform(self, node, inputs, output_storage):
        row_fn, shape_fn = self._functions()
        n, *others = inputs
        rows = [row_fn(i, *others) for i in range(int(n))]
        shapes = None if rows else shape_fn(*others)
        for j, (storage, out) in enumerate(zip(output_storage, node.outputs)):
            if rows:
                storage[0] = np.stack([r[j] for r in rows]).astype(out.type.dtype)
            else:
                storage[0] = np.zeros((0, *shapes[j]), dtype=out.type.dtype)

    def infer_shape(self, node, input_shapes):
        n = node.inputs[0]
        return [(n,) + tuple(r.shape[d] for d in range(r.ndim)) for r in self.rows]


def jacobian(expression, wrt, consider_constant=None, disconnected_inputs="raise"):
    """Jacobian of ``expression`` (any rank) w.r.t. ``wrt``: shape ``expression.shape + wrt.shape``.

    >>> import theanolab, theanolab.tensor as T
    >>> x = T.dvector('x')
    >>> J = theanolab.gradient.jacobian(x ** 2, x)
    >>> theanolab.function([x], J)([4, 4]).tolist()
    [[8.0, 0.0], [0.0, 8.0]]
    """
    from theanolab.tensor.variable import as_tensor_variable
    from theanolab.tensor.type import lscalar

    expression = as_tensor_variable(expression)
    single = not isinstance(wrt, (list, tuple))
    wrt_list = _as_list(wrt)
    if expression.ndim == 0:
        result = grad(expression, wrt_list, consider_constant=consider_constant,
                      disconnected_inputs=disconnected_inputs)
        return result[0] if single else result
    flat = expression.flatten()
    index = lscalar("i")
    rows = grad(flat[index], wrt_list, consider_constant=consider_constant,
                disconnected_inputs=disconnected_inputs)
    others = [v for v in graph_inputs(rows + wrt_list) if v is not index and not isinstance(v, Constant)]
    op = JacobianRows(index, others, rows, wrt_list)
    outputs = op(flat.shape[0], *others)
    outputs = outputs if isinstance(outputs, list) else [outputs]
    results = [out.reshape(tuple(expression.shape[d] for d in range(expression.ndim))
                           + tuple(w.shape[d] for d in range(w.ndim)), ndim=expression.ndim + w.ndim)
               for out, w in zip(outputs, wrt_list)]
    return results[0] if single else results


def hessian(cost, wrt, consider_constant=None, disconnected_inputs="raise"):
    """Hessian of the scalar ``cost`` w.r.t. each vector in ``wrt``.

    >>> import theanolab, theanolab.tensor as T
    >>> x = T.dvector('x')
    >>> H = theanolab.gradient.hessian((x ** 2).sum(), x)
    >>> theanolab.function([x], H)([4, 4]).tolist()
    [[2.0, 0.0], [0.0, 2.0]]
    """
    single = not isinstance(wrt, (list, tuple))
    results = []
    for var in _as_list(wrt):
        if var.ndim != 1:
            raise TypeError(f"hessian: wrt must be vectors, but {var} has {var.ndim} dimensions")
        first = grad(cost, var, consider_constant=consider_constant, disconnected_inputs=disconnected_inputs)
        results.append(jacobian(first, var, consider_constant=consider_constant,
                                disconnected_inputs=disconnected_inputs))
    return results[0] if single else results


# ---------------------------------------------------------------- finite differences


def verify_grad(fun, pt, n_tests=2, rng=None, eps=None, out_type=None, abs_tol=None, rel_tol=None,
                mode=None, cast_to_output_type=False, no_debug_ref=True):
    """Check the symbolic gradient of ``fun`` at ``pt`` against central finite differences.

    ``fun`` takes symbolic variables (one per array in ``pt``) and returns a
    tensor.  A random projection turns its output into a scalar cost, whose
    gradient is compared with the numeric one.  Raises :class:`GradientError`
    naming the argument and the largest error when they differ.
    """
    from theanolab.compile.function import function
    from theanolab.tensor.type import TensorType

    if rng is None:
        rng = np.random.default_rng(42)
    elif isinstance(rng, np.random.RandomState):
        rng = np.random.default_rng(rng.randint(2**31))
    pt = [np.array(p) for p in pt]
    for p in pt:
        if p.dtype.kind not in "fc":
            raise TypeError(f"verify_grad needs float inputs, got dtype {p.dtype}")
    lowest = min((p.dtype for p in pt), key=lambda d: d.itemsize)
    low_precision = lowest.itemsize <= 4
    eps = eps or (1e-2 if low_precision else 1e-6)
    abs_tol = abs_tol if abs_tol is not None else (3e-2 if low_precision else 1e-4)
    rel_tol = rel_tol if rel_tol is not None else (3e-2 if low_precision else 1e-4)

    symbolic_inputs = [TensorType(p.dtype, (False,) * p.ndim)(f"input_{i}") for i, p in enumerate(pt)]
    output = fun(*symbolic_inputs)
    if isinstance(output, (list, tuple)):
        raise TypeError("verify_grad needs fun to return one tensor, got a list")
    evaluate = function(symbolic_inputs, output, mode=mode, on_unused_input="ignore")
    for _ in range(n_tests):
        out_shape = np.shape(evaluate(*pt))
        projection = rng.uniform(0.5, 1.5, size=out_shape).astype(output.dtype)
        cost = (output * projection).sum()
        grads = grad(cost, symbolic_inputs, disconnected_inputs="ignore")
        analytic = function(symbolic_inputs, grads, mode=mode, on_unused_input="ignore")(*pt)
        cost_fn = function(symbolic_inputs, cost, mode=mode, on_unused_input="ignore")
        for arg, (point, symbolic_grad) in enumerate(zip(pt, analytic)):
            if np.shape(symbolic_grad) != point.shape:
                raise GradientError(
                    f"verify_grad: the symbolic gradient with respect to input {arg} has shape "
                    f"{np.shape(symbolic_grad)}, but the input has shape {point.shape}",
                    arg, np.inf, np.inf, symbolic_grad, None,
                )
            numeric = _central_difference(cost_fn, pt, arg, eps)
            abs_err = np.abs(symbolic_grad - numeric)
            rel_err = abs_err / np.maximum(np.abs(symbolic_grad) + np.abs(numeric), 1e-8)
            bad = (abs_err > abs_tol) & (rel_err > rel_tol)
            if np.any(bad):
                worst = np.unravel_index(np.argmax(np.where(bad, abs_err, -1)), abs_err.shape) if abs_err.ndim else ()
                raise GradientError(
                    f"verify_grad: the gradient with respect to input {arg} differs from finite "
                    f"differences: at index {tuple(int(i) for i in worst)} the symbolic gradient is "
                    f"{symbolic_grad[worst]!r} and the numeric one {numeric[worst]!r} (abs error "
                    f"{abs_err.max():.3g} > {abs_tol}, rel error {rel_err.max():.3g} > {rel_tol})",
                    arg, abs_err.max(), rel_err.max(), symbolic_grad, numeric,
                )


def _central_difference(cost_fn, pt, arg, eps):
    point = pt[arg]
    numeric = np.zeros(point.shape, dtype="float64")
    flat = point.reshape(-1)
    for k in range(flat.size):
        original = flat[k].copy()
        flat[k] = original + eps
        plus = float(cost_fn(*pt))
        flat[k] = original - eps
        minus = float(cost_fn(*pt))
        flat[k] = original
        numeric.reshape(-1)[k] = (plus - minus) / (2 * eps)
    return numeric


numeric_grad = _central_difference
