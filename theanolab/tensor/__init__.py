"""The tensor API, used as ``import theanolab.tensor as T``.

Variables (``T.dmatrix('x')``), elementwise math (``T.exp``), reductions,
shape manipulation, indexing, ``T.dot``, ``T.nnet`` and ``T.grad``.
"""

from theanolab.tensor.type import *  # noqa: F401,F403  (TensorType and every constructor)
from theanolab.tensor.variable import (  # noqa: F401
    TensorConstant,
    TensorVariable,
    as_tensor_variable,
    constant,
)
from theanolab.tensor.elemwise import DimShuffle, Elemwise  # noqa: F401
from theanolab.tensor.math import *  # noqa: F401,F403
from theanolab.tensor.basic import *  # noqa: F401,F403
from theanolab.tensor.reduce import *  # noqa: F401,F403
from theanolab.tensor.shape import *  # noqa: F401,F403
from theanolab.tensor.subtensor import *  # noqa: F401,F403
from theanolab.tensor.blas import *  # noqa: F401,F403
from theanolab.tensor import nnet  # noqa: F401
from theanolab.tensor.nnet import *  # noqa: F401,F403
from theanolab.gradient import Lop, Rop, grad, hessian, jacobian, verify_grad  # noqa: F401
