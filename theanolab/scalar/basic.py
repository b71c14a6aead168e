"""Scalar types, dtype promotion, and the scalar ops that Elemwise maps over arrays.

A scalar op is the meaning of one element: its NumPy ufunc (``nfunc``), its
output dtype rule, and its gradient.  :class:`theanolab.tensor.elemwise.Elemwise`
lifts it to tensors with broadcasting.  Gradients are written at the tensor
level (they receive and return tensor variables) because differentiation
happens before elementwise fusion, so it never needs scalar graphs.

Dtype promotion follows NumPy's rules on array dtypes (not values); Python
numbers become constants of the smallest dtype that holds them exactly
(see :func:`theanolab.tensor.variable.constant`), as in Theano.
"""

from __future__ import annotations

import numpy as np

from theanolab.graph.basic import Apply, Constant, Variable
from theanolab.graph.op import Op
from theanolab.graph.type import Type

BOOL = ("bool",)
INTEGER = ("int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64")
FLOAT = ("float16", "float32", "float64")
COMPLEX = ("complex64", "complex128")
ALL_DTYPES = BOOL + INTEGER + FLOAT + COMPLEX
DISCRETE = BOOL + INTEGER
CONTINUOUS = FLOAT + COMPLEX


def upcast(*dtypes):
    """The dtype NumPy gives to an operation on arrays of these dtypes."""
    return str(np.result_type(*[np.dtype(d) for d in dtypes]))


_TO_FLOAT = {"bool": "float32", "int8": "float32", "int16": "float32", "uint8": "float32",
             "uint16": "float32", "int32": "float64", "int64": "float64", "uint32": "float64",
             "uint64": "float64"}


def upgrade_to_float(*dtypes):
    """Promote, then turn integers into the smallest float that holds them (Theano's rule)."""
    dtype = upcast(*dtypes)
    return _TO_FLOAT.get(dtype, dtype)


# Output dtype rules: functions from input dtypes to the list of output dtypes.

def upcast_out(*dtypes):
    return [upcast(*dtypes)]


def upcast_out_nobool(*dtypes):
    dtype = upcast(*dtypes)
    return ["int8" if dtype == "bool" else dtype]


def upgrade_to_float_out(*dtypes):
    return [upgrade_to_float(*dtypes)]


def same_out(first, *rest):
    return [first]


def bool_out(*dtypes):
    return ["bool"]


def real_out(first, *rest):
    return [{"complex64": "float32", "complex128": "float64"}.get(first, first)]


class ScalarType(Type):
    """A single number of a given dtype (the element type Elemwise works on)."""

    def __init__(self, dtype):
        self.dtype = str(np.dtype(dtype))

    def filter(self, data, strict=False, allow_downcast=None):
        value = np.asarray(data)
        if value.ndim != 0:
            raise TypeError(f"{self} expects a scalar, got an array of shape {value.shape}")
        if strict and value.dtype != self.dtype:
            raise TypeError(f"{self} expects dtype {self.dtype}, got {value.dtype}")
        return value.astype(self.dtype)

    def __eq__(self, other):
        return type(self) is type(other) and self.dtype == other.dtype

    def __hash__(self):
        return hash((ScalarType, self.dtype))

    def __str__(self):
        return self.dtype

    def value_key(self, data):
        return (self.dtype, np.asarray(data).tobytes())


class ScalarVariable(Variable):
    pass


class ScalarConstant(Constant):
    pass


ScalarType.variable_type = ScalarVariable
ScalarType.constant_type = ScalarConstant


def as_scalar(value):
    if isinstance(value, Variable):
        if not isinstance(value.type, ScalarType):
            raise TypeError(f"{value} of type {value.type} is not a scalar")
        return value
    array = np.asarray(value)
    return ScalarConstant(ScalarType(array.dtype), array)


class ScalarOp(Op):
    """One elementwise operation.

    Subclasses set ``nin``, ``name`` (used in ``Elemwise{name,...}``), ``nfunc``
    (the NumPy ufunc or function computing it on arrays), ``output_dtypes`` (a
    rule from input dtypes to output dtypes) and, if differentiable, ``L_op``.
    """

    nin = 2
    nout = 1
    name = None
    nfunc = None
    output_dtypes = staticmethod(upcast_out)
    #: algebraic identity used by reductions (0 for add, 1 for mul...).
    identity = None
    commutative = False
    associative = False

    def output_types(self, dtypes):
        return self.output_dtypes(*dtypes)

    def make_node(self, *inputs):
        if self.nin >= 0 and len(inputs) != self.nin:
            raise TypeError(f"{self} takes {self.nin} inputs, got {len(inputs)}")
        inputs = [as_scalar(i) for i in inputs]
        dtypes = self.output_types([i.type.dtype for i in inputs])
        return Apply(self, inputs, [ScalarType(d)() for d in dtypes])

    def impl(self, *values):
        """The value of the op on NumPy scalars (or broadcastable arrays)."""
        return self.nfunc(*values)

    def perform(self, node, inputs, output_storage):
        results = self.impl(*inputs)
        if self.nout == 1:
            results = (results,)
        for storage, result, out in zip(output_storage, results, node.outputs):
            storage[0] = np.asarray(result, dtype=out.type.dtype)

    def L_op(self, inputs, outputs, output_grads):
        raise NotImplementedError(f"the scalar op {self} does not define a gradient")

    def __str__(self):
        return self.name or type(self).__name__.lower()


# ----------------------------------------------------------------- arithmetic


def _tensor():
    """The tensor namespace, imported late: gradients are tensor expressions."""
    import theanolab.tensor as T

    return T


class Add(ScalarOp):
    nin = -1
    name = "add"
    nfunc = staticmethod(np.add)
    identity = 0
    commutative = associative = True

    def impl(self, *values):
        total = values[0]
        for value in values[1:]:
            total = total + value
        return total

    def L_op(self, inputs, outputs, output_grads):
        return [output_grads[0]] * len(inputs)


class Mul(ScalarOp):
    nin = -1
    name = "mul"
    nfunc = staticmethod(np.multiply)
    identity = 1
    commutative = associative = True

    def impl(self, *values):
        product = values[0]
        for value in values[1:]:
            product = product * value
        return product

    def L_op(self, inputs, outputs, output_grads):
        (gz,) = output_grads
        grads = []
        for i in range(len(inputs)):
            others = inputs[:i] + inputs[i + 1:]
            term = gz
            for other in others:
                term = term * other
            grads.append(term)
        return grads


class Sub(ScalarOp):
    name = "sub"
    nfunc = staticmethod(np.subtract)

    def impl(self, x, y):
        return x - y

    def L_op(self, inputs, outputs, output_grads):
        (gz,) = output_grads
        return [gz, -gz]


def true_div_out(*dtypes):
    """Theano's rule for ``/``: integers alone give config.floatX (int8 / int8 is float64)."""
    from theanolab.config import config

    if all(dtype in DISCRETE for dtype in dtypes):
        return [config.floatX]
    return upgrade_to_float_out(*dtypes)


class TrueDiv(ScalarOp):
    name = "true_div"
    nfunc = staticmethod(np.true_divide)
    output_dtypes = staticmethod(true_div_out)

    def L_op(self, inputs, outputs, output_grads):
        x, y = inputs
        (gz,) = output_grads
        return [gz / y, -(gz * x) / (y * y)]


class IntDiv(ScalarOp):
    name = "int_div"
    nfunc = staticmethod(np.floor_divide)
    output_dtypes = staticmethod(upcast_out_nobool)

    def L_op(self, inputs, outputs, output_grads):
        T = _tensor()
        return [T.zeros_like(i, dtype=_grad_dtype(i)) for i in inputs]


class Mod(ScalarOp):
    name = "mod"
    nfunc = staticmethod(np.mod)
    output_dtypes = staticmethod(upcast_out_nobool)

    def L_op(self, inputs, outputs, output_grads):
        T = _tensor()
        x, y = inputs
        (gz,) = output_grads
        return [gz, -gz * T.floor(x / y)]


class Pow(ScalarOp):
    name = "pow"
    nfunc = staticmethod(np.power)
    output_dtypes = staticmethod(upcast_out_nobool)

    def impl(self, x, y):
        # NumPy refuses integers to negative integer powers; follow float semantics instead.
        if np.issubdtype(np.asarray(x).dtype, np.integer) and np.any(np.asarray(y) < 0):
            return np.power(np.asarray(x, dtype="float64"), y)
        return np.power(x, y)

    def L_op(self, inputs, outputs, output_grads):
        T = _tensor()
        x, y = inputs
        (gz,) = output_grads
        grad_x = gz * y * x ** (y - 1)
        grad_y = gz * outputs[0] * T.log(x) if y.type.dtype in CONTINUOUS else None
        return [grad_x, grad_y]


class Neg(ScalarOp):
    nin = 1
    name = "neg"
    nfunc = staticmethod(np.negative)
    output_dtypes = staticmethod(upcast_out_nobool)

    def L_op(self, inputs, outputs, output_grads):
        return [-output_grads[0]]


class _Extremum(ScalarOp):
    """maximum/minimum: the gradient goes to the input that won (to x on ties, as Theano)."""

    commutative = associative = True
    x_wins = y_wins = None  # names of the comparisons deciding which input won

    def L_op(self, inputs, outputs, output_grads):
        T = _tensor()
        x, y = inputs
        (gz,) = output_grads
        return [gz * getattr(T, self.x_wins)(x, y), gz * getattr(T, self.y_wins)(x, y)]


class Maximum(_Extremum):
    name = "maximum"
    nfunc = staticmethod(np.maximum)
    x_wins, y_wins = "ge", "lt"


class Minimum(_Extremum):
    name = "minimum"
    nfunc = staticmethod(np.minimum)
    x_wins, y_wins = "le", "gt"


class Second(ScalarOp):
    """``second(a, b)`` is ``b`` broadcast to the shape of ``a`` (``fill`` in pp)."""

    name = "second"
    output_dtypes = staticmethod(lambda a, b: [b])

    def impl(self, a, b):
        return np.broadcast_to(b, np.broadcast_shapes(np.shape(a), np.shape(b))).copy()

    def L_op(self, inputs, outputs, output_grads):
        T = _tensor()
        a, b = inputs
        return [T.zeros_like(a, dtype=_grad_dtype(a)), output_grads[0]]


class Identity(ScalarOp):
    nin = 1
    name = "identity"
    output_dtypes = staticmethod(same_out)

    def impl(self, x):
        return np.array(x, copy=True)

    def L_op(self, inputs, outputs, output_grads):
        return [output_grads[0]]


class Cast(ScalarOp):
    """Convert to ``dtype`` (``Elemwise{Cast{float32}}``)."""

    nin = 1
    __props__ = ("dtype",)

    def __init__(self, dtype):
        self.dtype = str(np.dtype(dtype))
        self.name = f"Cast{{{self.dtype}}}"

    def output_types(self, dtypes):
        return [self.dtype]

    def impl(self, x):
        return np.asarray(x).astype(self.dtype)

    def L_op(self, inputs, outputs, output_grads):
        T = _tensor()
        (x,) = inputs
        if x.type.dtype in DISCRETE or self.dtype in DISCRETE:
            return _zero_grads(inputs)
        return [T.cast(output_grads[0], x.type.dtype)]


# ----------------------------------------------------------------- comparisons and logic


def _zero_grads(inputs):
    """Float zeros for each input: the gradient of a piecewise-constant op (Theano's choice,
    so a cost built through comparisons is connected but flat)."""
    from theanolab.tensor.basic import zeros_like_float

    return [zeros_like_float(i) for i in inputs]


class _Comparison(ScalarOp):
    output_dtypes = staticmethod(bool_out)

    def L_op(self, inputs, outputs, output_grads):
        return _zero_grads(inputs)


def _comparison(class_name, name, nfunc, commutative=False):
    return type(class_name, (_Comparison,), {"name": name, "nfunc": staticmethod(nfunc),
                                             "commutative": commutative})


LT = _comparison("LT", "lt", np.less)
GT = _comparison("GT", "gt", np.greater)
LE = _comparison("LE", "le", np.less_equal)
GE = _comparison("GE", "ge", np.greater_equal)
EQ = _comparison("EQ", "eq", np.equal, commutative=True)
NEQ = _comparison("NEQ", "neq", np.not_equal, commutative=True)


class _Bitwise(ScalarOp):
    """Logical on bools, bitwise on integers; undefined on floats."""

    def output_types(self, dtypes):
        for dtype in dtypes:
            if dtype not in DISCRETE:
                raise TypeError(f"{self.name} needs bool or integer inputs, got {dtype}")
        return [upcast(*dtypes)]

    def L_op(self, inputs, outputs, output_grads):
        return _zero_grads(inputs)


AND = type("AND", (_Bitwise,), {"name": "and_", "nfunc": staticmethod(np.bitwise_and),
                                "identity": True, "commutative": True, "associative": True})
OR = type("OR", (_Bitwise,), {"name": "or_", "nfunc": staticmethod(np.bitwise_or),
                              "identity": False, "commutative": True, "associative": True})
XOR = type("XOR", (_Bitwise,), {"name": "xor", "nfunc": staticmethod(np.bitwise_xor),
                                "commutative": True, "associative": True})
Invert = type("Invert", (_Bitwise,), {"nin": 1, "name": "invert", "nfunc": staticmethod(np.invert)})


class Switch(ScalarOp):
    """``switch(cond, a, b)``: ``a`` where cond is true, else ``b``."""

    nin = 3
    name = "switch"
    output_dtypes = staticmethod(lambda cond, a, b: [upcast(a, b)])

    def impl(self, cond, a, b):
        return np.where(cond, a, b)

    def L_op(self, inputs, outputs, output_grads):
        T = _tensor()
        cond, a, b = inputs
        (gz,) = output_grads
        zeros = T.zeros_like(gz)
        return _zero_grads([cond]) + [T.switch(cond, gz, zeros), T.switch(cond, zeros, gz)]


def _grad_dtype(var):
    """Gradients of discrete variables are float zeros (of floatX, as in Theano)."""
    from theanolab.config import config

    return var.type.dtype if var.type.dtype in CONTINUOUS else config.floatX


add, mul, sub, true_div, int_div, mod, pow = Add(), Mul(), Sub(), TrueDiv(), IntDiv(), Mod(), Pow()
neg, maximum, minimum, second, identity = Neg(), Maximum(), Minimum(), Second(), Identity()
lt, gt, le, ge, eq, neq = LT(), GT(), LE(), GE(), EQ(), NEQ()
and_, or_, xor, invert, switch = AND(), OR(), XOR(), Invert(), Switch()
