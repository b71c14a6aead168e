"""``MRG_RandomStreams``: random variables from the MRG31k3p generator, the same on every backend.

Each draw owns a shared int32 matrix of generator states (one row per
stream, :mod:`theanolab.random.mrg31k3p` describes the layout) and a
:class:`mrg_uniform` node producing ``(new states, uniform sample)``; normal,
binomial, multinomial and choice are ordinary graphs on top of a uniform
draw, as in Theano 1.0, whose seeds give the same numbers here.

The reference backend runs :meth:`mrg_uniform.perform` (NumPy), the C
backend a kernel (``theanolab/backends/c/kernels/mrg.py``): they produce
identical bits because both follow the stream assignment of the layout.

>>> import theanolab
>>> srng = MRG_RandomStreams(seed=234)
>>> theanolab.function([], srng.uniform((2, 2)))().round(4)
array([[0.4499, 0.3062],
       [0.7898, 0.8255]])
"""

from __future__ import annotations

import warnings

import numpy as np

from theanolab import tensor as T
from theanolab.compile.sharedvalue import shared
from theanolab.config import config
from theanolab.gradient import grad_undefined, undefined_grad
from theanolab.graph.basic import Apply, Constant, Variable
from theanolab.graph.op import Op
from theanolab.random import mrg31k3p
from theanolab.random.multinomial import ChoiceFromUniform, MultinomialFromUniform
from theanolab.scalar.basic import INTEGER, upcast
from theanolab.tensor.type import TensorType
from theanolab.tensor.variable import as_tensor_variable, constant

__all__ = ["mrg_uniform", "MRG_RandomStreams", "guess_n_streams"]

#: streams used when the size is symbolic (Theano's 60 * 256, chosen to fill a GPU).
DEFAULT_N_STREAMS = 60 * 256


class mrg_uniform(Op):
    """``(states, size) -> (new states, uniform sample of shape size in (0, 1])``.

    ``states`` is the ``(n_streams, 6)`` int32 matrix; sample ``i`` comes from
    stream ``i % n_streams``.  The input states are never modified (the new
    ones are a copy, advanced), so the op is pure like any other.
    """

    __props__ = ("output_type",)

    def __init__(self, output_type):
        if output_type.dtype not in ("float32", "float64"):
            raise TypeError(f"MRG uniform samples are float32 or float64, not {output_type.dtype}")
        self.output_type = output_type

    def __str__(self):
        return f"mrg_uniform{{{self.output_type},no_inplace}}"

    @classmethod
    def new(cls, rstate, ndim, dtype, size):
        """The ``(new states, sample)`` of a draw of ``size`` (a vector) from ``rstate``."""
        size = as_tensor_variable(size)
        if ndim is None:
            from theanolab.tensor.shape import vector_length

            ndim = vector_length(size)
            if ndim is None:
                raise ValueError(f"the length of the symbolic size {size} is unknown: give ndim")
        return cls(TensorType(dtype, (False,) * ndim))(rstate, size)

    def make_node(self, rstate, size):
        rstate, size = as_tensor_variable(rstate), as_tensor_variable(size)
        if rstate.type.dtype != "int32" or rstate.ndim != 2:
            raise TypeError(f"{self}: the generator states must be an int32 matrix (n_streams, 6), got {rstate.type}")
        if size.ndim != 1 or size.dtype not in INTEGER:
            raise TypeError(f"{self}: size must be an integer vector, got {size.type}")
        known = size.data if isinstance(size, Constant) else [None] * self.output_type.ndim
        if len(known) != self.output_type.ndim:
            raise ValueError(f"{self}: size {tuple(known)} does not have {self.output_type.ndim} entries")
        sample = TensorType(self.output_type.dtype, tuple(bool(n == 1) for n in known))()
        return Apply(self, [rstate, T.cast(size, "int64")], [rstate.type(), sample])

    def sample_shape(self, rstate, size):
        """The sample's shape and size, after checking the size and the states (every backend's checks)."""
        shape = tuple(int(n) for n in size)
        if len(shape) != self.output_type.ndim:
            raise ValueError(f"{self}: size {shape} does not have {self.output_type.ndim} entries")
        if min(shape, default=0) < 0:
            raise ValueError(f"{self}: negative dimensions are not allowed (size {shape})")
        n = int(np.prod(shape, dtype=np.int64))
        if n > mrg31k3p.M1:
            raise ValueError(f"{self}: MRG draws are limited to 2**31 - 1 samples, {n} asked for")
        if rstate.ndim != 2 or rstate.shape[1] != 6 or rstate.shape[0] == 0:
            raise ValueError(f"{self}: the generator states must have shape (n_streams >= 1, 6), got {rstate.shape}")
        return shape, n

    def perform(self, node, inputs, output_storage):
        rstate, size = inputs
        shape, n = self.sample_shape(rstate, size)
        state = np.array(rstate, dtype=np.int32)  # a copy: the input states stay as they were
        sample = mrg31k3p.uniform_samples(state, n, self.output_type.dtype)
        output_storage[0][0] = state
        output_storage[1][0] = sample.reshape(shape)

    def infer_shape(self, node, input_shapes):
        size = node.inputs[1]
        return [input_shapes[0], tuple(size[d] for d in range(self.output_type.ndim))]

    def grad(self, inputs, output_grads):
        return [grad_undefined(self, k, inp, "random samples are not differentiable")
                for k, inp in enumerate(inputs)]

    def R_op(self, inputs, eval_points):
        return [None, None]


def guess_n_streams(size, warn=False):
    """Theano's number of streams for ``size``: a sixth of the samples for a tuple of ints
    (at most 15360), else 15360."""
    if isinstance(size, (tuple, list)) and all(isinstance(n, int) for n in size):
        count = int(np.prod(size, dtype=np.int64))
        return min(count // 6 if count > 6 else count, DEFAULT_N_STREAMS)
    if warn:
        warnings.warn(f"MRG_RandomStreams cannot tell the number of samples from the size {size}; "
                      f"using {DEFAULT_N_STREAMS} streams", stacklevel=3)
    return DEFAULT_N_STREAMS


def _check_size(size):
    """``size`` (an int, a tuple/list of ints or scalars, or a vector) as an integer vector."""
    if isinstance(size, Variable):
        if size.ndim == 1:
            return size
        if size.ndim == 0:
            return T.stack([size])
        raise ValueError(f"a symbolic size must be a scalar or a vector, got {size.type}")
    if isinstance(size, (int, np.integer)):
        return constant(np.array([size], dtype="int64"))
    if not isinstance(size, (tuple, list)):
        raise ValueError(f"size must be an int, a tuple or list, or a symbolic vector, got {size!r}")
    for n in size:
        if isinstance(n, Variable):
            if n.ndim != 0:
                raise ValueError(f"a symbolic entry of size must be a scalar, got {n.type} in {size}")
        elif not isinstance(n, (int, np.integer)) or n <= 0:
            raise ValueError(f"size entries must be positive integers or symbolic scalars, got {size}")
    if all(isinstance(n, (int, np.integer)) for n in size):
        return constant(np.array(size, dtype="int64"))
    return T.stack([T.cast(as_tensor_variable(n), "int64") for n in size])


class MRG_RandomStreams:
    """Random variables from MRG31k3p with Theano 1.0's ``MRG_RandomStreams`` interface.

    ``seed``: an int in [1, 2**31 - 21070) (repeated 6 times) or 6 ints.
    ``rstate`` is the state the next variable's streams start from;
    ``state_updates`` lists ``(states, new states, size, nstreams)`` per draw.
    """

    def __init__(self, seed=12345):
        self.state_updates = []
        self.default_instance_seed = seed
        self.set_rstate(seed)

    def updates(self):
        """The ``state_updates`` entries, as a list."""
        return list(self.state_updates)

    def set_rstate(self, seed):
        """Start the next variables' streams from ``seed`` (1 or 6 ints)."""
        self.rstate = mrg31k3p.validated_seed(seed)

    def seed(self, seed=None):
        """Restart from ``seed`` (the first seed if None) and give every variable new streams from it."""
        self.set_rstate(self.default_instance_seed if seed is None else seed)
        for states, new_states, size, nstreams in self.state_updates:
            n = self.n_streams(size) if nstreams is None else nstreams
            states.set_value(self.get_substream_rstates(n, new_states.owner.outputs[1].dtype), borrow=True)

    def inc_rstate(self):
        """Jump ``rstate`` 2**134 steps, to where the next variable's streams start."""
        self.rstate = mrg31k3p.jump_2p134(self.rstate)

    def get_substream_rstates(self, n_streams, dtype, inc_rstate=True):
        """``n_streams`` states spaced 2**72 steps apart from ``rstate`` (then jump it unless told not to)."""
        states = mrg31k3p.substreams(self.rstate, n_streams)
        if inc_rstate:
            self.inc_rstate()
        return states

    def n_streams(self, size):
        return guess_n_streams(size)

    def pretty_return(self, node_rstate, new_rstate, sample, size, nstreams):
        """Record the draw: ``sample.rstate``, ``sample.update``, the default update, ``state_updates``."""
        sample.rstate = node_rstate
        sample.update = (node_rstate, new_rstate)
        self.state_updates.append((node_rstate, new_rstate, size, nstreams))
        node_rstate.default_update = new_rstate
        return sample

    # ------------------------------------------------------------------ distributions

    def uniform(self, size, low=0.0, high=1.0, ndim=None, dtype=None, nstreams=None, **kwargs):
        """Uniform in (low, high); dtype at least floatX.  ``size``: a tuple of ints or a symbolic vector."""
        if kwargs:
            raise TypeError(f"uniform() got unexpected keyword arguments {sorted(kwargs)}")
        low, high = as_tensor_variable(low), as_tensor_variable(high)
        if dtype is None:
            dtype = upcast(config.floatX, low.dtype, high.dtype)
        low = undefined_grad(T.cast(low, dtype))
        high = undefined_grad(T.cast(high, dtype))
        if isinstance(size, tuple):
            if not all(isinstance(n, (int, np.integer, Variable)) for n in size):
                raise TypeError(f"size must be a tuple of ints or symbolic scalars, got {size}")
            if any(isinstance(n, (int, np.integer)) and n <= 0 for n in size):
                raise ValueError(f"the size {size} contains a dimension <= 0")
            vector = _check_size(size)
        elif isinstance(size, Variable) and size.ndim == 1:
            vector = size
        else:
            raise TypeError(f"size must be a tuple of ints or a symbolic vector, got {size!r} ({type(size).__name__})")
        states = shared(self.get_substream_rstates(self.n_streams(size) if nstreams is None else nstreams, dtype),
                        borrow=True)
        states.tag.is_rng = True
        new_states, u = mrg_uniform.new(states, ndim, dtype, vector)
        u = self.pretty_return(states, new_states, u, size=size, nstreams=nstreams)
        r = u * (high - low) + low
        if u.type.broadcastable != r.type.broadcastable:
            raise NotImplementedError("low and high broadcast the sample to more dimensions than size: "
                                      "give size the full shape")
        r.rstate, r.update = u.rstate, u.update
        return r

    def binomial(self, size=None, n=1, p=0.5, ndim=None, dtype="int64", nstreams=None, **kwargs):
        """1 with probability ``p``, else 0 (only ``n=1`` is implemented, as in Theano)."""
        if n != 1:
            raise NotImplementedError("MRG_RandomStreams.binomial with n > 1")
        p = undefined_grad(as_tensor_variable(p))
        x = self.uniform(size=size, nstreams=nstreams, **kwargs)
        return T.cast(x < p, dtype)

    def multinomial(self, size=None, n=1, pvals=None, ndim=None, dtype="int64", nstreams=None, **kwargs):
        """Counts of ``n`` draws from each row of the matrix ``pvals`` (``size``/``ndim`` unused)."""
        if pvals is None:
            raise TypeError("multinomial() needs pvals")
        pvals = undefined_grad(as_tensor_variable(pvals))
        if size is not None:
            raise ValueError("MRG_RandomStreams.multinomial does not use size: the shape is pvals'")
        if ndim is not None:
            raise ValueError("MRG_RandomStreams.multinomial does not use ndim: the shape is pvals'")
        if pvals.ndim != 2:
            raise NotImplementedError("MRG_RandomStreams.multinomial is implemented for a matrix pvals only")
        unis = self.uniform(size=pvals[:, 0].shape * n, ndim=1, nstreams=nstreams, **kwargs)
        return MultinomialFromUniform(dtype)(pvals, unis, as_tensor_variable(n))

    def choice(self, size=1, a=None, replace=True, p=None, ndim=None, dtype="int64", nstreams=None, **kwargs):
        """``size`` outcome indices per row of the matrix ``p``, without replacement (``replace=False``)."""
        if replace:
            raise NotImplementedError("MRG_RandomStreams.choice draws without replacement only: pass replace=False")
        if a is not None:
            raise TypeError("MRG_RandomStreams.choice samples indices 0 .. p.shape[1]-1: a must be None")
        if p is None:
            raise TypeError("MRG_RandomStreams.choice needs p")
        p = undefined_grad(as_tensor_variable(p))
        if ndim is not None:
            raise ValueError("MRG_RandomStreams.choice does not use ndim")
        if p.ndim != 2:
            raise NotImplementedError("MRG_RandomStreams.choice is implemented for a matrix p only")
        unis = self.uniform(size=p[:, 0].shape * size, ndim=1, nstreams=nstreams, **kwargs)
        return ChoiceFromUniform(odtype=dtype)(p, unis, as_tensor_variable(size))

    def multinomial_wo_replacement(self, size=None, n=1, pvals=None, ndim=None, dtype="int64", nstreams=None,
                                   **kwargs):
        """Theano's older name of ``choice(size=n, replace=False, p=pvals)``."""
        warnings.warn("MRG_RandomStreams.multinomial_wo_replacement() is deprecated: use choice(replace=False)",
                      DeprecationWarning, stacklevel=2)
        if size is not None:
            raise ValueError("multinomial_wo_replacement takes n, not size")
        return self.choice(size=n, a=None, replace=False, p=pvals, dtype=dtype, nstreams=nstreams, ndim=ndim,
                           **kwargs)

    def normal(self, size, avg=0.0, std=1.0, ndim=None, dtype=None, nstreams=None, **kwargs):
        """Normal samples by the Box-Muller transform of an even number of uniform samples."""
        size = _check_size(size)
        avg = undefined_grad(as_tensor_variable(avg))
        std = undefined_grad(as_tensor_variable(std))
        if dtype is None:
            dtype = upcast(config.floatX, avg.dtype, std.dtype)
        avg, std = T.cast(avg, dtype), T.cast(std, dtype)
        n_odd = T.prod(size, dtype="int64")
        n_even = n_odd + n_odd % 2
        u = self.uniform((n_even,), low=0.0, high=1.0, ndim=1, dtype=dtype, nstreams=nstreams, **kwargs)
        u1, u2 = u[:n_even // 2], u[n_even // 2:]
        radius = T.sqrt(-2.0 * T.log(u1))
        theta = constant(np.array(2.0 * np.pi, dtype=dtype)) * u2
        samples = T.join(0, radius * T.cos(theta), radius * T.sin(theta))[:n_odd]
        samples = T.reshape(samples, size, ndim=ndim)
        return samples * std + avg
