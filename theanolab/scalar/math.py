"""Scalar math functions (exp, log, trigonometry, rounding...), one class each.

Each op names its NumPy function, its output dtype rule and its gradient, on
one screen, so the forward and backward meaning can be read together.
"""

from __future__ import annotations

import numpy as np

from theanolab.scalar.basic import ScalarOp, _tensor, upgrade_to_float_out


class UnaryFloatOp(ScalarOp):
    """A one-input function whose result is float even for integer inputs."""

    nin = 1
    output_dtypes = staticmethod(upgrade_to_float_out)


class Exp(UnaryFloatOp):
    name = "exp"
    nfunc = staticmethod(np.exp)

    def L_op(self, inputs, outputs, output_grads):
        return [output_grads[0] * outputs[0]]


class Log(UnaryFloatOp):
    name = "log"
    nfunc = staticmethod(np.log)

    def L_op(self, inputs, outputs, output_grads):
        return [output_grads[0] / inputs[0]]


class Tanh(UnaryFloatOp):
    name = "tanh"
    nfunc = staticmethod(np.tanh)

    def L_op(self, inputs, outputs, output_grads):
        return [output_grads[0] * (1 - outputs[0] * outputs[0])]


exp, log, tanh = Exp(), Log(), Tanh()
