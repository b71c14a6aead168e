"""The tensor API, used as ``import theanolab.tensor as T``.

Variables (``T.dmatrix('x')``), elementwise math (``T.exp``), reductions,
shape manipulation, indexing, ``T.dot``, ``T.nnet``, ``T.grad``, and NumPy's
array functions (``T.sort``, ``T.cumsum``, ``T.diag``... in ``extra_ops``).
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
from theanolab.tensor.rebroadcast import *  # noqa: F401,F403
from theanolab.tensor.sort import *  # noqa: F401,F403
from theanolab.tensor.diagonals import *  # noqa: F401,F403
from theanolab.tensor.extra_ops import *  # noqa: F401,F403
from theanolab.tensor import extra_ops  # noqa: F401
from theanolab.gradient import Lop, Rop, grad, hessian, jacobian, verify_grad  # noqa: F401
