"""theanolab: an optimizing compiler for tensor expressions, with Theano's API, for teaching.

>>> import theanolab as theano
>>> import theanolab.tensor as T
>>> x = T.dmatrix('x')
>>> logistic = theano.function([x], 1 / (1 + T.exp(-x)))
>>> logistic([[0, 1], [-1, -2]]).round(8).tolist()
[[0.5, 0.73105858], [0.26894142, 0.11920292]]

Importing theanolab loads no Jupyter, graphviz, matplotlib or CuPy module:
the teaching layer lives in ``theanolab.viz`` and is imported on demand.
"""

__version__ = "0.1.0"

from theanolab.config import config, change_flags  # noqa: F401
from theanolab import tensor  # noqa: F401  (also registers the tensor shared constructor)
from theanolab.tensor import sharedvar as _tensor_shared  # noqa: F401
from theanolab.compile import (  # noqa: F401
    DebugMode,
    Function,
    In,
    Mode,
    NanGuardMode,
    Param,
    SharedVariable,
    function,
    shared,
)
from theanolab import gradient  # noqa: F401
from theanolab.gradient import Lop, Rop, grad  # noqa: F401
from theanolab.graph.basic import Apply, Constant, Variable  # noqa: F401  (theano.Op etc., for writing ops)
from theanolab.graph.fgraph import FunctionGraph  # noqa: F401
from theanolab.graph.op import Op  # noqa: F401
from theanolab.graph.type import Type  # noqa: F401
from theanolab.printing import debugprint, pp, pprint  # noqa: F401
from theanolab.tensor import dot  # noqa: F401
from theanolab.scan import foldl, foldr, map, reduce, scan  # noqa: F401  (Theano's names; they shadow builtins)
from theanolab import scan_module  # noqa: F401,E402  (theanolab.scan_module.until, as in Theano)
from theanolab import random as _random  # noqa: F401  (registers shared(numpy.random.RandomState(...)))
from theanolab.backends.cuda import sharedvar as _gpu_shared  # noqa: F401  (device=cuda: shared arrays on the GPU)


def load_ipython_extension(ipython):
    """``%load_ext theanolab`` in Jupyter: graphs display as pictures (imports theanolab.viz only now)."""
    from theanolab.viz import load_ipython_extension as load

    load(ipython)
