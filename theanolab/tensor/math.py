"""Elementwise math on tensors: one function per scalar op, lifted by Elemwise.

>>> import theanolab.tensor as T
>>> x = T.dmatrix('x')
>>> T.exp(-x).owner.op
Elemwise{exp,no_inplace}
"""

from __future__ import annotations

from theanolab import scalar as ts
from theanolab.tensor.elemwise import Elemwise


def elemwise_function(scalar_op, name, doc):
    """Make the user-facing function applying ``Elemwise(scalar_op)``."""
    op = Elemwise(scalar_op)

    def apply(*inputs):
        return op(*inputs)

    apply.__name__ = apply.__qualname__ = name
    apply.__doc__ = doc
    apply.op = op
    return apply


add = elemwise_function(ts.add, "add", "x + y + ... elementwise, with broadcasting.")
sub = elemwise_function(ts.sub, "sub", "x - y elementwise.")
mul = elemwise_function(ts.mul, "mul", "x * y * ... elementwise.")
true_div = elemwise_function(ts.true_div, "true_div", "x / y elementwise; integers give floats.")
int_div = elemwise_function(ts.int_div, "int_div", "x // y elementwise (floor division).")
mod = elemwise_function(ts.mod, "mod", "x % y elementwise, with the sign of y as in Python.")
pow = elemwise_function(ts.pow, "pow", "x ** y elementwise.")
neg = elemwise_function(ts.neg, "neg", "-x elementwise.")
maximum = elemwise_function(ts.maximum, "maximum", "The larger of x and y, elementwise.")
minimum = elemwise_function(ts.minimum, "minimum", "The smaller of x and y, elementwise.")
second = elemwise_function(ts.second, "second", "y broadcast to the shape of x (``fill(x, y)``).")
fill = second
tensor_copy = elemwise_function(ts.identity, "tensor_copy", "A copy of x.")

lt = elemwise_function(ts.lt, "lt", "x < y elementwise (bool).")
gt = elemwise_function(ts.gt, "gt", "x > y elementwise (bool).")
le = elemwise_function(ts.le, "le", "x <= y elementwise (bool).")
ge = elemwise_function(ts.ge, "ge", "x >= y elementwise (bool).")
eq = elemwise_function(ts.eq, "eq", "x == y elementwise (bool).")
neq = elemwise_function(ts.neq, "neq", "x != y elementwise (bool).")
and_ = elemwise_function(ts.and_, "and_", "x & y: logical on bools, bitwise on integers.")
or_ = elemwise_function(ts.or_, "or_", "x | y: logical on bools, bitwise on integers.")
xor = elemwise_function(ts.xor, "xor", "x ^ y: logical on bools, bitwise on integers.")
invert = elemwise_function(ts.invert, "invert", "~x: logical not on bools, bitwise on integers.")
bitwise_and, bitwise_or, bitwise_xor, bitwise_not = and_, or_, xor, invert
switch = elemwise_function(ts.switch, "switch", "a where cond is true, else b (``numpy.where``).")
where = switch

exp = elemwise_function(ts.exp, "exp", "e ** x elementwise.")
log = elemwise_function(ts.log, "log", "Natural logarithm, elementwise.")
tanh = elemwise_function(ts.tanh, "tanh", "Hyperbolic tangent, elementwise.")
