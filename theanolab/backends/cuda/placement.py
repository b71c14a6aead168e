"""The placement rewrite: every node that has a GPU implementation moves to the GPU.

Run last, on the fully rewritten graph (``Mode.rewrite``), whenever
``config.device`` is a GPU, whatever the optimizer (a graph holding GPU
shared variables cannot run otherwise).  Walking the nodes in order, a node
whose op has an implementation in :data:`~theanolab.backends.cuda.dispatch.cuda_impl`
becomes ``GpuOp(op)`` on GPU copies of its inputs, and its outputs are
replaced by host copies of the GPU ones.  Transfers meet in pairs inside a
GPU region (``HostFromGpu`` feeding a ``GpuFromHost``); the walk skips such a
pair (the next GPU node reads the GPU value directly) so transfers remain
only at the edges: function inputs, outputs, and nodes that stay on the CPU.
Each variable crosses at most once in each direction.

Kept on the CPU: nodes without an implementation; shape arithmetic (nodes
whose outputs are all integer scalars and whose inputs are all on the host:
moving them would only add transfers); ``Shape`` and ``Shape_i``, which read
a GPU array's shape where it is, without a transfer.  Constants moved to the
GPU are copied once, at compile time.  Updates of GPU shared variables stay
on the GPU; outputs come back to the host, as NumPy arrays (except in a body
compiled for a loop on the GPU, ``fgraph.outputs_on_device``).

Every change is a step of the rewrite record (``gpu_placement``), so the
teaching layer shows where each node runs and which transfers were added.
"""

from __future__ import annotations

import numpy as np

from theanolab.backends.cuda.device import current_device
from theanolab.backends.cuda.types import (GpuFromHost, GpuOp, HostFromGpu, active_device, gpu_from_host,
                                           gpu_type_of, host_from_gpu, implementation, is_on_gpu,
                                           remember_implementation)
from theanolab.graph.basic import Constant
from theanolab.graph.fgraph import OUTPUT
from theanolab.tensor.shape import Shape, Shape_i
from theanolab.tensor.type import TensorType

__all__ = ["place_for_device", "place_on_gpu"]

REASON = "gpu_placement"
#: ops that only read their input's shape: they run on the CPU, on the GPU array, with no transfer.
_SHAPE_READERS = (Shape, Shape_i)


def place_for_device(fgraph):
    """Place ``fgraph``'s nodes for ``config.device`` (nothing to do on the CPU)."""
    device = current_device()
    if device is None:
        if any(is_on_gpu(var) for var in fgraph.inputs):
            active_device()  # raises: GPU values, but no GPU to run them on
        return
    place_on_gpu(fgraph, device)


def place_on_gpu(fgraph, device):
    """Move every node of ``fgraph`` that has an implementation on ``device`` there (see the module)."""
    crossings = _Crossings(device)
    for node in list(fgraph.toposort()):
        if node not in fgraph.apply_nodes or isinstance(node.op, GpuOp):
            continue
        if isinstance(node.op, (GpuFromHost, HostFromGpu)):  # a transfer written by hand: it may cancel
            cross = crossings.on_gpu if isinstance(node.op, GpuFromHost) else crossings.on_host
            fgraph.replace_all([(node.outputs[0], cross(node.inputs[0]))], reason=REASON)
            continue
        run = _implementation_worth_moving(node, device)
        if run is not None:
            host_inputs = getattr(run, "host_inputs", ())
            inputs = [crossings.on_host(var) if k in host_inputs else crossings.on_gpu(var)
                      for k, var in enumerate(node.inputs)]
            gpu_node = GpuOp.node_like(node, inputs)
            gpu_node.tag = node.tag  # it takes over the node's annotations (a scan's iteration records)
            remember_implementation(gpu_node, run)
            fgraph.replace_all([(out, crossings.on_host(gpu_out)) for out, gpu_out in
                                zip(node.outputs, gpu_node.outputs)], reason=REASON)
        elif not isinstance(node.op, _SHAPE_READERS):
            _change_inputs(fgraph, node, [crossings.on_host(var) for var in node.inputs])
    updated = {out: fgraph.inputs[inp] for out, inp in getattr(fgraph, "update_mapping", {}).items()}
    on_device = getattr(fgraph, "outputs_on_device", False)
    _change_inputs(fgraph, OUTPUT, [
        crossings.on_gpu(var) if on_device or (index in updated and is_on_gpu(updated[index]))
        else crossings.on_host(var) for index, var in enumerate(fgraph.outputs)])


class _Crossings:
    """The transfers of one graph: each variable crosses at most once each way; a pair cancels."""

    def __init__(self, device):
        self.device = device
        self.to_gpu = {}
        self.to_host = {}

    def on_gpu(self, var):
        if is_on_gpu(var):
            return var
        if var.owner is not None and isinstance(var.owner.op, HostFromGpu):
            return var.owner.inputs[0]
        if var not in self.to_gpu:
            if isinstance(var, Constant):
                self.to_gpu[var] = gpu_type_of(var.type).make_constant(self.device.to_device(var.data), name=var.name)
            else:
                self.to_gpu[var] = gpu_from_host(var)
        return self.to_gpu[var]

    def on_host(self, var):
        if not is_on_gpu(var):
            return var
        if var.owner is not None and isinstance(var.owner.op, GpuFromHost):
            return var.owner.inputs[0]
        if var not in self.to_host:
            self.to_host[var] = host_from_gpu(var)
        return self.to_host[var]


def _implementation_worth_moving(node, device):
    """The GPU implementation of ``node``, or None if it has none or moving it would only add transfers."""
    variables = [*node.inputs, *node.outputs]
    if not all(isinstance(var.type, TensorType) for var in variables):
        return None
    shape_arithmetic = all(out.type.ndim == 0 and np.dtype(out.type.dtype).kind in "biu" for out in node.outputs)
    if shape_arithmetic and not any(is_on_gpu(var) for var in node.inputs):
        return None
    return implementation(node, device)


def _change_inputs(fgraph, node, wanted):
    """Make ``node``'s inputs (``OUTPUT``: the graph's outputs) the variables ``wanted``, as one named step of
    the record (``replace_all`` would replace a variable for every client; this changes one client)."""
    current = fgraph.outputs if node == OUTPUT else node.inputs
    changes = [(k, new) for k, (old, new) in enumerate(zip(current, wanted)) if new is not old]
    if not changes:
        return
    fgraph.execute_callbacks("on_step_begin", REASON, [(current[k], new) for k, new in changes])
    try:
        for k, new in changes:
            fgraph.change_node_input(node, k, new, reason=REASON)
    finally:
        fgraph.execute_callbacks("on_step_end", REASON, True)
