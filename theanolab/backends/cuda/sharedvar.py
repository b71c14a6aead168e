"""Shared variables in GPU memory: with ``device=cuda``, ``theanolab.shared(ndarray)`` lives on the GPU.

So a training step's weights stay on the GPU between calls and only the
minibatch crosses.  ``get_value()`` still returns a NumPy array (a copy),
as Theano's does, unless ``return_internal_type=True`` asks for the device
array; ``set_value`` takes NumPy or device arrays.  Python numbers, and
dtypes the GPU kernels lack (float16, complex), stay on the host.
"""

from __future__ import annotations

import numpy as np

from theanolab.backends.cuda.device import current_device
from theanolab.backends.cuda.types import GpuTensorType
from theanolab.compile.sharedvalue import shared_constructor
from theanolab.tensor.sharedvar import TensorSharedVariable, shared_pattern

__all__ = ["GpuTensorSharedVariable", "gpu_tensor_constructor"]


class GpuTensorSharedVariable(TensorSharedVariable):
    """A shared tensor whose value is a device array."""

    __hash__ = TensorSharedVariable.__hash__

    def get_value(self, borrow=False, return_internal_type=False):
        """The value as a NumPy array (a copy); the device array itself with ``return_internal_type=True``
        (a copy of it unless ``borrow=True``)."""
        value = self.container.storage[0]
        if return_internal_type:
            return value if borrow else value.copy()
        return self.type.to_host(value)


@shared_constructor
def gpu_tensor_constructor(value, name=None, strict=False, allow_downcast=None, borrow=False,
                           broadcastable=None):
    """A GPU shared variable for an array, when ``config.device`` is a GPU (else TypeError: not mine)."""
    device = current_device()
    if device is None:
        raise TypeError("config.device is 'cpu'")
    if not (isinstance(value, np.ndarray) or device.is_device_array(value)):
        raise TypeError(f"only arrays go to the GPU, not {type(value).__name__}")
    if value.dtype.kind not in "biuf" or value.dtype == np.float16:  # the kernels' dtypes (backends/c C_TYPES)
        raise TypeError(f"the GPU kernels do not handle {value.dtype}")
    gpu_type = GpuTensorType(value.dtype, shared_pattern(value, broadcastable))
    data = value if borrow and device.is_device_array(value) else device.to_device(value)
    return GpuTensorSharedVariable(gpu_type, data, name=name, strict=strict,
                                   allow_downcast=allow_downcast)
