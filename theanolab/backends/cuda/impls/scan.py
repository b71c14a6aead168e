"""Scan on the GPU: the loop keeps every state, sequence and collected output in GPU memory.

The body is compiled again for the GPU: its inputs become GPU variables (a
step reads rows of device buffers) and its outputs stay on the device
(``outputs_on_device``), so the placement rewrite moves its nodes to the GPU
with no transfer at a step's edges.  The loop itself is ``Scan.loop``, the
reference's, on CuPy arrays: the same taps, buffers, ``until`` and shared
updates, so the GPU loop cannot drift from the CPU one.  Only the number of
steps is read on the host; an ``until`` condition is read back once per
step (a wait for the GPU, as in any loop that decides on the device's data).

A scan whose outer inputs are not all tensors (a ``RandomStreams`` state:
NumPy's generator has no GPU version) stays on the CPU.
"""

from __future__ import annotations

from theanolab.backends.cuda.dispatch import cuda_impl
from theanolab.backends.cuda.types import gpu_type_of
from theanolab.graph.basic import clone_replace
from theanolab.scan.op import Scan
from theanolab.tensor.type import TensorType

__all__ = ["gpu_body"]


def gpu_body(op, mode):
    """``(input cells, run)``: ``op``'s body compiled by ``mode`` with inputs and outputs in GPU memory."""
    from theanolab.compile.function import FunctionMaker

    inner = op.fgraph
    stand_ins = [gpu_type_of(var.type).make_variable(var.name) for var in inner.inputs]
    outputs = clone_replace(list(inner.outputs), dict(zip(inner.inputs, stand_ins)))
    maker = FunctionMaker(stand_ins, outputs, mode=mode, on_unused_input="ignore", outputs_on_device=True)
    cells = [[None] for _ in stand_ins]
    return cells, maker.mode.build_runner(maker, cells)


@cuda_impl.register(Scan)
def _scan(op, node, device):
    if not all(isinstance(var.type, TensorType) for var in [*node.inputs, *node.outputs, *op.fgraph.inputs]):
        return None
    bodies = {}

    def run(inputs, output_cells):
        mode = op.inner_mode(node)
        if mode not in bodies:
            bodies[mode] = gpu_body(op, mode)
        op.loop(node, inputs, output_cells, bodies[mode], device.xp)

    run.host_inputs = (0,)  # the number of steps
    return run
