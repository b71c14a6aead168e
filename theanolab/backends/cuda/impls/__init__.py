"""The GPU implementations registered on :data:`~theanolab.backends.cuda.dispatch.cuda_impl`, one module per
op family (mirroring ``theanolab/tensor``): importing this package fills the table."""

from theanolab.backends.cuda.impls import elemwise, mrg  # noqa: F401
from theanolab.backends.cuda.impls import scan  # noqa: F401
from theanolab.backends.cuda.impls import blas, nnet, reduce, shape  # noqa: F401
