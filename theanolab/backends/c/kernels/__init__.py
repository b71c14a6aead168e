"""C kernels by op family; importing this package registers them on ``c_kernel``."""
from theanolab.backends.c.kernels import blas  # noqa: F401  (dot family, through BLAS)
from theanolab.backends.c.kernels import basic  # noqa: F401  (Alloc)
from theanolab.backends.c.kernels import reduce  # noqa: F401  (CAReduce family, MaxAndArgmax)
from theanolab.backends.c.kernels import nnet  # noqa: F401  (softmax family, one-hot cross-entropy)
from theanolab.backends.c.kernels import elemwise  # noqa: F401  (Elemwise and fused Composites)
from theanolab.backends.c.kernels import shape  # noqa: F401  (DimShuffle, Reshape, shape ops: inline)
from theanolab.backends.c.kernels import mrg  # noqa: F401  (mrg_uniform: the MRG31k3p generator)
