"""GPU-resident values in the graph: their type, the two transfers, and the op wrapper of a GPU node.

- :class:`GpuTensorType` is a :class:`~theanolab.tensor.type.TensorType`
  whose values live in device memory.  It *is* a TensorType (a subclass), so
  every tensor op accepts a GPU variable when a user builds a graph (a GPU
  shared weight in ``T.dot(x, w)``); types still compare unequal, so the
  placement rewrite and ``debugprint`` tell the two apart.  It prints like
  Theano's ``GpuArrayType<None>(float32, matrix)``.
- :class:`GpuFromHost` and :class:`HostFromGpu` copy a value across; the
  placement rewrite inserts them only at the edges of the GPU part of a graph.
- :class:`GpuOp` wraps a tensor op whose node runs on the GPU: same meaning
  (``infer_shape``, ``destroy_map``, ``view_map`` are the op's), GPU-typed
  outputs, and a ``perform`` that runs the implementation registered on
  :data:`~theanolab.backends.cuda.dispatch.cuda_impl`.  Wrapping, instead of
  a second class per op (Theano's ``GpuElemwise``, ``GpuDot22``...), keeps one
  definition of each op's meaning; a GPU op is a new table entry, nothing more.
  It prints as ``Gpu`` + the op: ``GpuElemwise{add,no_inplace}``.
"""

from __future__ import annotations

import weakref

import numpy as np

from theanolab.backends.cuda.device import DeviceUnavailable, current_device
from theanolab.graph.basic import Apply
from theanolab.graph.op import Op, base_op
from theanolab.tensor.type import TensorType

__all__ = ["GpuTensorType", "GpuFromHost", "HostFromGpu", "GpuOp", "gpu_from_host", "host_from_gpu",
           "gpu_type_of", "is_on_gpu", "active_device"]


def active_device():
    """The device GPU values live on (``config.device``); a clear error when functions run on the CPU."""
    device = current_device()
    if device is None:
        raise DeviceUnavailable("this graph holds GPU values (shared variables made with device=cuda), "
                                "but config.device is 'cpu': set device=cuda to run it")
    return device


class GpuTensorType(TensorType):
    """Arrays of ``dtype`` and pattern ``broadcastable`` in the memory of the active GPU."""

    def filter(self, data, strict=False, allow_downcast=None):
        """A device array of this type: device arrays are checked, anything else is checked as a
        host value (TensorType's rules) and copied to the device."""
        device = active_device()
        if device.is_device_array(data):
            if data.dtype != self.numpy_dtype:
                if strict or not (allow_downcast or np.can_cast(data.dtype, self.numpy_dtype, "safe")):
                    raise TypeError(f"{self} expects dtype {self.dtype}, got {data.dtype}: cast the data to "
                                    f"{self.dtype} first, or set allow_input_downcast=True")
                data = data.astype(self.dtype)
            self._check_shape(data)
            return data
        if strict:
            raise TypeError(f"{self} expects an array in GPU memory, got {type(data).__name__}")
        return device.to_device(super().filter(data, strict=False, allow_downcast=allow_downcast))

    def to_host(self, value):
        """``value`` as a NumPy array (a copy)."""
        return active_device().to_host(value)

    def values_eq(self, a, b):
        return super().values_eq(self.to_host(a), self.to_host(b))

    def values_eq_approx(self, a, b, rtol=None, atol=None):
        return super().values_eq_approx(self.to_host(a), self.to_host(b), rtol=rtol, atol=atol)

    def value_key(self, data):
        return super().value_key(self.to_host(data))

    def format_value(self, data):
        return super().format_value(self.to_host(data))

    def __str__(self):
        return f"GpuArrayType<None>({self.dtype}, {self.pattern_name()})"


def is_on_gpu(var):
    """True when ``var``'s values live in GPU memory."""
    return isinstance(var.type, GpuTensorType)


def gpu_type_of(tensor_type):
    """The GPU version of a tensor type (same dtype and pattern)."""
    return GpuTensorType(tensor_type.dtype, tensor_type.broadcastable)


def _host_type(gpu_type):
    return TensorType(gpu_type.dtype, gpu_type.broadcastable)


class _Transfer(Op):
    """A copy between host and GPU memory: ``copy`` names the device's method doing it."""

    __props__ = ()
    copy = ""

    def perform(self, node, inputs, output_storage):
        output_storage[0][0] = getattr(device_of(node), self.copy)(inputs[0])

    def infer_shape(self, node, input_shapes):
        return input_shapes


class GpuFromHost(_Transfer):
    """Copy a host array to the GPU."""

    copy = "to_device"

    def make_node(self, x):
        if not isinstance(x.type, TensorType) or is_on_gpu(x):
            raise TypeError(f"GpuFromHost expects a host tensor, got {x} of type {x.type}")
        return Apply(self, [x], [gpu_type_of(x.type).make_variable()])

    def __str__(self):
        return "GpuFromHost<None>"


class HostFromGpu(_Transfer):
    """Copy a GPU array to the host (waits for the kernels computing it)."""

    copy = "to_host"

    def make_node(self, x):
        if not is_on_gpu(x):
            raise TypeError(f"HostFromGpu expects a GPU tensor, got {x} of type {x.type}")
        return Apply(self, [x], [_host_type(x.type).make_variable()])

    def __str__(self):
        return "HostFromGpu(gpuarray)"


gpu_from_host = GpuFromHost()
host_from_gpu = HostFromGpu()


class GpuOp(Op):
    """``op`` computed on the GPU (see the module's docstring).

    Its inputs are GPU variables, except those the implementation reads on
    the host (``run.host_inputs``: index scalars, shapes); its outputs are the
    op's outputs, in GPU memory.
    """

    __props__ = ("op",)
    runs_on_device = True  # see theanolab.graph.op.base_op

    def __init__(self, op):
        self.op = op
        self.destroy_map = op.destroy_map
        self.view_map = op.view_map
        self.default_output = op.default_output

    def make_node(self, *inputs):
        # The op checks host stand-ins of the inputs (an in-place op asks that an input's type be its
        # output's, which a GPU input's never is): its output types are the GPU outputs' patterns.
        stand_ins = [_host_type(var.type).make_variable() if is_on_gpu(var) else var for var in inputs]
        node = self.op.make_node(*stand_ins)
        if list(node.inputs) != stand_ins:
            raise TypeError(f"{self.op} changed its inputs while being placed on the GPU")
        return Apply(self, list(inputs), [gpu_type_of(out.type).make_variable() for out in node.outputs])

    def perform(self, node, inputs, output_storage):
        device = device_of(node)
        run = _runs.get(node)
        if run is None:
            run = _runs[node] = implementation(node, device)
        if device.index:  # kernels launch on CUDA's current device: make it this one (cuda1...)
            with device.activate():
                run(inputs, output_storage)
        else:
            run(inputs, output_storage)

    @classmethod
    def node_like(cls, node, inputs):
        """``node`` computed on the GPU from ``inputs``: its outputs keep the exact types of ``node``'s
        (rewrites may have made them more specific than ``make_node`` would say)."""
        op = cls(node.op)
        op.make_node(*inputs)  # the op's own checks of the inputs
        outputs = []
        for out in node.outputs:
            outputs.append(gpu_type_of(out.type).make_variable(out.name))
            outputs[-1].tag.update(out.tag)  # the user's line that built it, for errors
        return Apply(op, list(inputs), outputs)

    def infer_shape(self, node, input_shapes):
        return self.op.infer_shape(node, input_shapes)

    def prepare_node(self, node, mode):
        """Ops compiling a graph of their own (scan) are told the function's mode, as on the CPU."""
        prepare = getattr(self.op, "prepare_node", None)
        if prepare is not None:
            prepare(node, mode)

    def __str__(self):
        return f"Gpu{self.op}"


#: ``{GPU node: its run function}``, beside the graph (a run function is a closure: graphs stay picklable).
_runs = weakref.WeakKeyDictionary()
#: ``{GPU node or transfer: its device}``, fixed when it first runs (no flag lookups per call).
_devices = weakref.WeakKeyDictionary()


def device_of(node):
    """The device ``node`` runs on: ``config.device``'s when the node first ran, the same ever after."""
    device = _devices.get(node)
    if device is None:
        device = _devices[node] = active_device()
    return device


def remember_implementation(node, run):
    """Keep ``run`` (built when ``node`` was placed) for ``node``'s calls."""
    _runs[node] = run


def implementation(node, device):
    """The function running ``node`` (a node of ``op``, or of ``GpuOp(op)``) on ``device``, or None."""
    from theanolab.backends.cuda.dispatch import cuda_impl, register_implementations

    register_implementations()
    return cuda_impl(base_op(node.op), node, device)
