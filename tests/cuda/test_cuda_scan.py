"""Scan on the (simulated) GPU: the loop's states stay in device memory, its body's nodes run on the
GPU with no transfer at a step's edges, and values and gradients equal the CPU's."""

import numpy as np
import pytest

import theanolab as theano
import theanolab.tensor as T
from theanolab.backends.cuda.types import GpuFromHost, GpuOp, HostFromGpu
from theanolab.config import change_flags
from theanolab.scan.op import Scan


def _rnn():
    rng = np.random.default_rng(1)
    x = T.dtensor3("x")
    h0 = T.dmatrix("h0")
    w = theano.shared(rng.normal(size=(4, 4)) * 0.5, name="w")
    u = theano.shared(rng.normal(size=(3, 4)) * 0.5, name="u")
    states, _ = theano.scan(lambda x_t, h: T.tanh(T.dot(x_t, u) + T.dot(h, w)), sequences=x, outputs_info=h0)
    cost = (states[-1] ** 2).sum()
    f = theano.function([x, h0], [states, cost] + T.grad(cost, [w, u]))
    return f, (rng.normal(size=(6, 2, 3)), rng.normal(size=(2, 4)))


def _scan_nodes(function):
    return [node for node in function.maker.fgraph.toposort()
            if isinstance(node.op, GpuOp) and isinstance(node.op.op, Scan)]


def test_an_rnn_and_its_gradient_through_time_run_on_the_gpu_with_the_cpu_numbers():
    f_cpu, args = _rnn()
    expected = f_cpu(*args)
    with change_flags(device="cuda", gpu_simulator=True):
        f_gpu, args = _rnn()
        got = f_gpu(*args)
        assert len(_scan_nodes(f_gpu)) == 2  # the forward loop and the loop of its gradient
    for value, want in zip(got, expected):
        assert type(value) is np.ndarray
        np.testing.assert_allclose(value, want, rtol=1e-10, atol=1e-12)


def test_the_body_of_a_gpu_loop_has_no_transfers():
    with change_flags(device="cuda", gpu_simulator=True):
        k = T.iscalar("k")
        a = T.fvector("a")
        powers, _ = theano.scan(lambda prior, a: prior * a, outputs_info=T.ones_like(a), non_sequences=a,
                                n_steps=k)
        f = theano.function([a, k], powers[-1])
        assert np.allclose(f(np.arange(5, dtype="float32"), 3), np.arange(5) ** 3)
        (node,) = _scan_nodes(f)
        from theanolab.backends.cuda.impls.scan import gpu_body

        cells, run = gpu_body(node.op.op, node.op.op.inner_mode(node))
        body = run.fgraph
        assert not [n for n in body.toposort() if isinstance(n.op, (GpuFromHost, HostFromGpu))]
        assert all(isinstance(n.op, GpuOp) for n in body.toposort())


def test_a_scan_reading_a_numpy_random_stream_stays_on_the_cpu():
    from theanolab.tensor.shared_randomstreams import RandomStreams

    with change_flags(device="cuda", gpu_simulator=True):
        srng = RandomStreams(seed=3)
        x = T.dmatrix("x")
        noisy, _ = theano.scan(lambda v: v + srng.normal((2,)), sequences=x)
        f = theano.function([x], noisy)
        assert f(np.zeros((3, 2))).shape == (3, 2)
        assert not _scan_nodes(f)


def test_a_gpu_shared_variable_may_be_the_initial_state():
    with change_flags(device="cuda", gpu_simulator=True):
        h0 = theano.shared(np.ones((2, 3), dtype="float32"), name="h0")
        states, _ = theano.scan(lambda h: h * 2, outputs_info=h0, n_steps=3)
        f = theano.function([], states[-1], updates=[(h0, states[-1])])
        assert np.array_equal(f(), np.full((2, 3), 8, dtype="float32"))
        assert np.array_equal(h0.get_value(), np.full((2, 3), 8, dtype="float32"))
