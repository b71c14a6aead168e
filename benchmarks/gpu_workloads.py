"""The GPU benchmark's workloads, and the frameworks that run them, for ``benchmarks/gpu.py``.

The three workloads are the CPU benchmarks' own (``models.py``), in float32:
the fused elementwise expression, one MLP training step, and the tanh RNN's
forward and backward pass through scan.  Each framework is wrapped in a
:class:`Framework` (where arrays go, how to read them back, how to wait for
the GPU), so a workload says once what it computes and each column only how
its framework writes it.  Every framework is imported inside its own
function: a column's process imports only its own library.

Fair comparison, deliberately: every framework finds its data already in GPU
memory (theanolab in shared variables, as Theano's tutorials keep training
data on the GPU), and float32 products are full float32 everywhere (JAX's
default on recent GPUs is TF32, about three significant digits: it is set to
``highest``; PyTorch's is full float32 for products and is left so).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from elemwise_fused import make_data as fused_data
from models import (LEARNING_RATE, fused_expression, jax_mlp_step, jax_rnn, mlp_data, mlp_training, numpy_mlp_step,
                    numpy_rnn, rnn_cost_and_grads, rnn_data)
from rnn_scan import TOLERANCE as RNN_TOLERANCE

__all__ = ["WORKLOADS", "Framework", "NoGpu", "Workload", "frameworks", "tree_map"]

#: float32 against a float64 reference: single rounding errors of exp, tanh and 784-term sums.
FLOAT32_TOLERANCE = {"rtol": 1e-4, "atol": 1e-4}


class NoGpu(Exception):
    """The framework is installed but cannot use a GPU here: its column is skipped with this reason."""


@dataclass(frozen=True)
class Framework:
    """One framework on the GPU: its array module and how arrays cross and are waited for.

    ``finish(result)`` returns once the GPU has computed ``result`` (timers stop
    after it); ``compile`` is ``jax.jit`` for JAX and nothing for eager ones.
    """

    version: str
    device: str
    xp: object
    to_device: object = np.asarray
    to_host: object = np.asarray
    finish: object = lambda result: None
    compile: object = lambda function: function
    module: object = None


def tree_map(function, tree):
    """``function`` applied to every array of nested tuples and lists (the data of ``models.py``)."""
    if isinstance(tree, (tuple, list)):
        return type(tree)(tree_map(function, value) for value in tree)
    return function(tree)


def _theanolab(lib, T):
    """theanolab as ``config.device`` places it (the column's ``THEANOLAB_FLAGS`` say ``device=cuda``)."""
    from theanolab.backends.cuda.device import current_device

    device = current_device()
    if device is None:
        raise NoGpu(f"theanolab runs on the CPU here (device={lib.config.device})")
    return Framework(lib.__version__, device.name, T, finish=lambda result: device.synchronize(), module=lib)


def _cupy():
    import cupy

    try:
        count = cupy.cuda.runtime.getDeviceCount()
    except Exception as exc:  # noqa: BLE001  (CUDARuntimeError: no driver, no GPU)
        raise NoGpu(f"CuPy finds no GPU ({type(exc).__name__})") from None
    if count == 0:
        raise NoGpu("CuPy finds no GPU")
    name = cupy.cuda.runtime.getDeviceProperties(0)["name"]
    runtime, driver = cupy.cuda.runtime.runtimeGetVersion(), cupy.cuda.runtime.driverGetVersion()
    return Framework(f"{cupy.__version__} (CUDA runtime {runtime}, driver {driver})",
                     name.decode() if isinstance(name, bytes) else name, cupy, cupy.asarray, cupy.asnumpy,
                     lambda result: cupy.cuda.Device().synchronize())


def _torch():
    import torch

    if not torch.cuda.is_available():
        raise NoGpu(f"PyTorch {torch.__version__} has no CUDA GPU here")
    torch.backends.cuda.matmul.allow_tf32 = False  # its default, said out loud: full float32 like the others
    return Framework(f"{torch.__version__} (CUDA {torch.version.cuda})", torch.cuda.get_device_name(0), torch,
                     lambda array: torch.as_tensor(array, device="cuda"),
                     lambda tensor: tensor.detach().cpu().numpy(), lambda result: torch.cuda.synchronize(),
                     module=torch)


def _jax(jax, jnp):
    if jax.default_backend() != "gpu":
        raise NoGpu(f"JAX {jax.__version__} has no GPU backend here ({jax.default_backend()} only; "
                    "pip install 'jax[cuda12]')")
    jax.config.update("jax_default_matmul_precision", "highest")
    return Framework(f"{jax.__version__}", jax.devices()[0].device_kind, jnp, jax.device_put, np.asarray,
                     jax.block_until_ready, jax.jit, module=jax)


#: a column's family (benchmarks/gpu.py) -> its framework, given the modules common.py hands that family.
frameworks = {"theano": _theanolab, "cupy": _cupy, "torch": _torch, "jax": _jax}


def _flat_step(result):
    """``(cost, params)`` of a training step as one list, the form the check compares."""
    cost, params = result
    return [cost, *params]


def _on_device(framework, data):
    return tree_map(framework.to_device, data)


# Each builder takes (framework, float32 data) and returns (call, outputs): ``call()`` runs one unit of
# work, ``outputs(result)`` lists what it computed (for the check against NumPy after the first call).

def _theanolab_fused(fw, data):
    lib, T = fw.module, fw.xp
    x, y = (lib.shared(value, name=name) for value, name in zip(data, "xy"))
    # The result goes to a shared variable, as Theano's GPU programs keep it: no copy to the host per call.
    z = lib.shared(np.empty_like(data[0]), name="z")
    step = lib.function([], [], updates=[(z, fused_expression(x, y, T.exp, T.tanh))])
    return step, lambda _: [z.get_value()]


def _array_fused(fw, data):
    x, y = _on_device(fw, data)
    fused = fw.compile(lambda x, y: fused_expression(x, y, fw.xp.exp, fw.xp.tanh))
    return lambda: fused(x, y), lambda result: [result]


def _theanolab_mlp(fw, data):
    lib, T = fw.module, fw.xp
    x, y, params = data
    shared = [lib.shared(value, name=name) for value, name in zip(params, ("W1", "b1", "w2", "b2"))]
    cost, updates = mlp_training(T, lib.shared(x, name="x"), lib.shared(y, name="y"), shared)
    train = lib.function([], cost, updates=updates)
    return train, lambda result: [result, *(p.get_value() for p in shared)]


def _cupy_mlp(fw, data):
    """NumPy's hand-written step on CuPy arrays: NumPy's functions dispatch to CuPy's (NEP 13 and 18)."""
    x, y, params = _on_device(fw, data)
    return lambda: numpy_mlp_step(x, y, params), _flat_step


def _torch_mlp(fw, data):
    """The step as a PyTorch user writes it: autograd, ``backward`` and ``torch.optim.SGD``."""
    torch = fw.module
    x, y, params = _on_device(fw, data)
    params = [p.clone().requires_grad_() for p in params]
    optimizer = torch.optim.SGD(params, lr=LEARNING_RATE)

    def step():
        w1, b1, w2, b2 = params
        z = torch.tanh(x @ w1 + b1) @ w2 + b2
        cost = torch.nn.functional.binary_cross_entropy_with_logits(z, y)
        optimizer.zero_grad()
        cost.backward()
        optimizer.step()
        return cost

    return step, lambda result: [result, *params]


def _jax_mlp(fw, data):
    x, y, params = _on_device(fw, data)
    step = jax_mlp_step(fw.module, fw.xp)
    return lambda: step(params, x, y), _flat_step


def _theanolab_rnn(fw, data):
    lib, T = fw.module, fw.xp
    xs, h0, weights = data
    sequence, *weights = (lib.shared(value, name=name) for value, name in zip((xs, *weights), ("xs", "W", "U", "b")))
    # The initial state is the one argument (16 KB at full size): each sequence starts from its own.
    initial = T.matrix("h0", dtype=h0.dtype)
    run = lib.function([lib.In(initial, value=h0)], rnn_cost_and_grads(lib, T, sequence, initial, *weights))
    return run, list


def _torch_rnn(fw, data):
    """The RNN as a PyTorch user writes it: a Python loop over the steps, then ``autograd.grad``."""
    torch = fw.module
    xs, h0, weights = _on_device(fw, data)
    weights = [w.clone().requires_grad_() for w in weights]

    def forward_backward():
        w_in, w_h, bias = weights
        h, states = h0, []
        for x_t in xs.unbind(0):
            h = torch.tanh(x_t @ w_in + h @ w_h + bias)
            states.append(h)
        cost = 0.5 * (torch.stack(states) ** 2).sum() / xs.shape[1]
        return [cost, *torch.autograd.grad(cost, weights)]

    return forward_backward, list


def _jax_rnn(fw, data):
    xs, h0, weights = _on_device(fw, data)
    run = jax_rnn(fw.module, fw.xp)
    return lambda: run(xs, h0, *weights), list


def _float32(tree):
    return tree_map(lambda value: np.asarray(value, dtype=np.float32), tree)


@dataclass(frozen=True)
class Workload:
    """One row of the GPU table.

    ``sizes`` and ``simulated_sizes`` are ``data``'s keyword arguments (full
    size on a GPU; tiny for the simulated GPU); ``reference(data)`` is NumPy's
    answer, computed in float64 from the same float32 inputs; ``builders``
    maps a column family to its builder.
    """

    key: str
    title: str
    unit: str
    sizes: dict
    simulated_sizes: dict
    data: object
    reference: object
    builders: dict
    tolerance: dict = field(default_factory=lambda: FLOAT32_TOLERANCE)
    bandwidth_bound: bool = False

    def make_data(self, simulated):
        return _float32(self.data(**(self.simulated_sizes if simulated else self.sizes)))

    def expected(self, data):
        return self.reference(tree_map(lambda value: value.astype(np.float64), data))


WORKLOADS = (
    Workload("fused", "fused elementwise", "s/call", {"size": 2**26}, {"size": 1000}, fused_data,
             lambda data: [fused_expression(*data, np.exp, np.tanh)],
             {"theano": _theanolab_fused, "cupy": _array_fused, "torch": _array_fused, "jax": _array_fused},
             bandwidth_bound=True),
    # The sizes of benchmarks/mlp_step.py and benchmarks/rnn_scan.py (tiny ones: their --quick sizes).
    Workload("mlp", "MLP step", "s/step", {"samples": 400, "features": 784, "hidden": 300},
             {"samples": 40, "features": 20, "hidden": 8}, mlp_data,
             lambda data: _flat_step(numpy_mlp_step(*data)),
             {"theano": _theanolab_mlp, "cupy": _cupy_mlp, "torch": _torch_mlp, "jax": _jax_mlp}),
    Workload("rnn", "tanh RNN forward + gradient (scan)", "s/call",
             {"steps": 200, "batch": 32, "inputs": 64, "hidden": 128},
             {"steps": 5, "batch": 2, "inputs": 3, "hidden": 4}, rnn_data,
             lambda data: numpy_rnn(*data),
             {"theano": _theanolab_rnn, "torch": _torch_rnn, "jax": _jax_rnn}, RNN_TOLERANCE),
)
