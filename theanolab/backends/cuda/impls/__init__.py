"""The GPU implementations registered on :data:`~theanolab.backends.cuda.dispatch.cuda_impl`, one module per
op family (mirroring ``theanolab/tensor``): importing this package fills the table."""

from theanolab.backends.cuda.impls import blas, elemwise, mrg, nnet, reduce, scan, shape  # noqa: F401
