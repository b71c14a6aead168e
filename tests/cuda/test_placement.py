"""device=cuda end to end on the simulated GPU: shared variables in device memory, the placement
rewrite (GPU nodes, transfers only at the edges, every step recorded), results equal to the CPU's,
and the errors when no GPU can be used."""

import numpy as np
import pytest

import theanolab as theano
import theanolab.tensor as T
from theanolab.backends.cuda import device as device_module
from theanolab.backends.cuda.device import DeviceUnavailable
from theanolab.backends.cuda.sharedvar import GpuTensorSharedVariable
from theanolab.backends.cuda.types import GpuFromHost, GpuOp, GpuTensorType, HostFromGpu, is_on_gpu
from theanolab.config import change_flags


@pytest.fixture
def simulated_gpu():
    with change_flags(device="cuda", gpu_simulator=True):
        yield device_module.current_device()


def _ops(function, op_type):
    return [node for node in function.maker.fgraph.toposort() if isinstance(node.op, op_type)]


def test_shared_arrays_live_on_the_gpu_and_read_back_as_numpy(simulated_gpu):
    value = np.arange(6.0).reshape(2, 3)
    w = theano.shared(value, name="w")
    assert isinstance(w, GpuTensorSharedVariable)
    assert str(w.type) == "GpuArrayType<None>(float64, matrix)"
    assert type(w.get_value()) is np.ndarray and np.array_equal(w.get_value(), value)
    assert simulated_gpu.is_device_array(w.get_value(return_internal_type=True))
    w.set_value(np.zeros((4, 3)))
    assert w.get_value().shape == (4, 3)
    with pytest.raises(TypeError, match="Wrong number of dimensions"):
        w.set_value(np.zeros(3))
    # Python numbers stay on the host, as in Theano
    assert not is_on_gpu(theano.shared(1.5))


def _logistic_regression():
    rng = np.random.default_rng(0)
    x, y = T.dmatrix("x"), T.dvector("y")
    w = theano.shared(rng.normal(size=5), name="w")
    b = theano.shared(0.0, name="b")
    p = 1 / (1 + T.exp(-T.dot(x, w) - b))
    cost = (-y * T.log(p) - (1 - y) * T.log(1 - p)).mean() + 0.01 * (w ** 2).sum()
    gw, gb = T.grad(cost, [w, b])
    train = theano.function([x, y], [p > 0.5, cost], updates=[(w, w - 0.1 * gw), (b, b - 0.1 * gb)])
    data = rng.normal(size=(20, 5)), (rng.random(20) > 0.5).astype(float)
    return train, w, data


def test_a_training_step_gives_the_cpu_numbers_and_keeps_the_weights_on_the_gpu(simulated_gpu):
    with change_flags(device="cpu"):
        train, w, data = _logistic_regression()
        expected = [train(*data) for _ in range(3)], w.get_value()
    train, w, data = _logistic_regression()
    got = [train(*data) for _ in range(3)], w.get_value()
    for (prediction, cost), (want_prediction, want_cost) in zip(got[0], expected[0]):
        assert type(cost) is np.ndarray and np.allclose(cost, want_cost, rtol=1e-12)
        assert np.array_equal(prediction, want_prediction)
    assert np.allclose(got[1], expected[1], rtol=1e-12)
    fgraph = train.maker.fgraph
    assert all(is_on_gpu(fgraph.outputs[index]) for index, inp in fgraph.update_mapping.items()
               if is_on_gpu(fgraph.inputs[inp]))


def test_transfers_only_at_the_edges(simulated_gpu):
    x = T.fmatrix("x")
    w = theano.shared(np.ones((3, 2), dtype="float32"), name="w")
    f = theano.function([x], T.tanh(T.dot(x, w) + 1).sum(axis=1))
    # x goes up once, the one output comes down once; everything between stays on the GPU
    assert len(_ops(f, GpuFromHost)) == 1 and len(_ops(f, HostFromGpu)) == 1
    gpu_nodes = _ops(f, GpuOp)
    assert len(gpu_nodes) >= 2
    for node in gpu_nodes:
        assert all(is_on_gpu(var) or node.op.op is not None for var in node.inputs)
        assert all(isinstance(out.type, GpuTensorType) for out in node.outputs)
    assert set(f.node_backends.values()) <= {"cuda", "py", "c"} and "cuda" in f.node_backends.values()
    out = f(np.ones((4, 3), dtype="float32"))
    assert type(out) is np.ndarray and out.dtype == np.float32
    assert np.allclose(out, 2 * np.tanh(4.0))


def test_debugprint_and_the_rewrite_record_show_where_nodes_run(simulated_gpu):
    x = T.fvector("x")
    f = theano.function([x], T.exp(x) * 2)
    text = theano.printing.debugprint(f, file="str")
    assert "HostFromGpu(gpuarray)" in text and "GpuFromHost<None>" in text and "GpuElemwise" in text
    steps = [step.rewrite for step in f.maker.rewrite_history.steps]
    assert "gpu_placement" in steps


def test_shape_arithmetic_stays_on_the_cpu_and_shapes_are_read_without_a_transfer(simulated_gpu):
    x = T.fmatrix("x")
    f = theano.function([x], x.shape[0] * 2 + x.shape[1])
    assert not _ops(f, GpuOp) and not _ops(f, GpuFromHost)
    assert f(np.zeros((3, 4), dtype="float32")) == 10


def test_a_function_without_gpu_values_keeps_its_constants_on_the_gpu_once(simulated_gpu):
    x = T.fvector("x")
    f = theano.function([x], x + np.arange(3, dtype="float32"))
    assert len(_ops(f, GpuFromHost)) == 1  # x only: the constant was copied at compile time
    assert np.array_equal(f(np.ones(3, dtype="float32")), [1, 2, 3])


def test_gpu_values_with_device_cpu_give_a_clear_error(simulated_gpu):
    w = theano.shared(np.ones(3), name="w")
    with change_flags(device="cpu"):
        with pytest.raises(DeviceUnavailable, match="config.device is 'cpu'"):
            theano.function([], w * 2)


def test_without_cupy_device_cuda_fails_with_one_clear_error(monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_cupy(name, *args, **kwargs):
        if name == "cupy" or name.startswith("cupy."):
            raise ImportError("No module named 'cupy'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_cupy)
    device_module._device.cache_clear()
    try:
        with change_flags(device="cuda", gpu_simulator=False):
            with pytest.raises(DeviceUnavailable, match=r"needs CuPy.*theanolab\[cuda\]"):
                theano.shared(np.ones(3))
            with change_flags(device_fallback=True), pytest.warns(UserWarning, match="running on the CPU"):
                w = theano.shared(np.ones(3))
            assert not is_on_gpu(w)
            with change_flags(device_fallback=True):
                assert theano.function([], w * 2)().tolist() == [2, 2, 2]
    finally:
        device_module._device.cache_clear()


def test_config_rejects_unknown_devices():
    from theanolab.config import ConfigError

    with pytest.raises(ConfigError, match="'cpu', 'cuda' or 'cudaN'"):
        with change_flags(device="gpu2x"):
            pass


def test_shapes_and_index_scalars_stay_on_the_host(simulated_gpu):
    x = T.fmatrix("x")
    i = T.lscalar("i")
    f = theano.function([x, i], x.reshape((x.shape[0] * x.shape[1],))[i:] * 2)
    # only x goes up: the reshape's shape and the slice's start are host integers, read without a transfer
    assert [node.inputs[0].name for node in _ops(f, GpuFromHost)] == ["x"]
    value = np.arange(6, dtype="float32").reshape(2, 3)
    assert np.array_equal(f(value, 2), np.arange(2, 6) * 2)


def test_mrg_streams_draw_the_cpu_numbers_on_the_gpu(simulated_gpu):
    from theanolab.sandbox.rng_mrg import MRG_RandomStreams

    def draws():
        srng = MRG_RandomStreams(seed=234)
        f = theano.function([], srng.uniform((3, 4), dtype="float32"))
        return f, [f(), f()]

    f, got = draws()
    assert any(isinstance(node.op, GpuOp) for node in f.maker.fgraph.toposort())
    assert [node.inputs[0].name for node in _ops(f, GpuFromHost)] == []  # the states live on the GPU
    with change_flags(device="cpu"):
        _, expected = draws()
    for value, want in zip(got, expected):
        assert np.array_equal(value, want)
