"""Random ops over NumPy's ``RandomState``: ``(rng, size, *parameters) -> (new rng, sample)``.

A draw is a node with two outputs, the generator after the draw and the
sample, so "the state advances" is an ordinary value in the graph: a
function writes the new generator back through the shared variable's
``default_update``.  The node never changes its input generator (it draws
from a copy), so a graph may read the old state elsewhere and rewrites may
treat it like any other pure op: two draws are two nodes on two generators
and stay distinct, one variable used twice is one node, drawn once.

Copying a ``RandomState`` costs about 100 us, more than drawing a small
sample, so FAST_RUN's inplace phase (:mod:`theanolab.random.rewriting`) turns
a draw into ``RandomFunction(..., inplace=True)`` (printed
``RandomFunction{uniform}[inplace]``), which advances its input generator
itself, wherever the :class:`~theanolab.graph.destroyhandler.DestroyHandler`
allows it: the generator is a shared variable whose update in this function is
this node's new state, and nothing else reads it.

The samplers reproduce Theano 1.0's ``raw_random`` call for call (element
by element for ``random_integers`` and ``multinomial``, as Theano looped),
so a seed gives the numbers it gave there.

Each distribution function (``uniform(random_state, size, low, high)``...)
returns ``(new_state, sample)``; :class:`~theanolab.random.streams.RandomStreams`
gives it a fresh generator and keeps the pair.

>>> import numpy as np, theanolab
>>> rng = theanolab.shared(np.random.RandomState(1))
>>> new_rng, sample = uniform(rng, size=(2,))
>>> theanolab.function([], sample)().round(4)
array([0.417 , 0.7203])
"""

from __future__ import annotations

import numpy as np

from theanolab.config import config
from theanolab.gradient import grad_undefined
from theanolab.graph.basic import Apply, Constant, Variable
from theanolab.graph.op import Op
from theanolab.random.type import RandomStateType
from theanolab.scalar.basic import INTEGER, upcast
from theanolab.tensor.basic import cast, stack
from theanolab.tensor.type import TensorType
from theanolab.tensor.variable import as_tensor_variable, constant

__all__ = ["RandomFunction", "SAMPLERS", "copy_generator", "uniform", "normal", "binomial", "random_integers", "integers",
           "choice", "poisson", "permutation", "multinomial"]


# ----------------------------------------------------------------------------- samplers


def _broadcast_indices(out_shape, *shapes):
    """For each output index (in C order), the index of each of ``shapes`` broadcast to ``out_shape``."""
    for shape in shapes:
        for d, (n, m) in enumerate(zip(shape, out_shape)):
            if n not in (m, 1):
                raise ValueError(f"a parameter of shape {tuple(shape)} cannot be broadcast to the sample "
                                 f"shape {tuple(out_shape)} (axis {d})")
    for index in np.ndindex(*out_shape):
        yield (index, *(tuple(i if n != 1 else 0 for i, n in zip(index, shape)) for shape in shapes))


def _left_padded(array, ndim, name):
    if array.ndim > ndim:
        raise ValueError(f"{name} has {array.ndim} dimensions, more than the {ndim} of the sample size")
    return array.reshape((1,) * (ndim - array.ndim) + array.shape)


def _random_integers(rng, low, high, size):
    """Integers in [low, high] (both included), one ``randint`` per element as Theano drew them."""
    ndim = len(size) if size is not None else max(low.ndim, high.ndim)
    low, high = _left_padded(low, ndim, "low"), _left_padded(high, ndim, "high")
    shape = tuple(size) if size is not None else tuple(max(a, b) for a, b in zip(low.shape, high.shape))
    out = np.ndarray(shape)
    for index, li, hi in _broadcast_indices(shape, low.shape, high.shape):
        out[index] = rng.randint(low=low[li], high=high[hi] + 1)
    return out


def _choice(rng, a, replace, p, size):
    """``RandomState.choice`` with ``replace`` a 0/1 tensor and ``p`` empty for uniform."""
    if a.ndim > 1:
        raise ValueError(f"choice: `a` must be a scalar or a vector, got {a.ndim} dimensions")
    if p.ndim != 1:
        raise ValueError(f"choice: `p` must be a vector, got {p.ndim} dimensions")
    return rng.choice(a, size, bool(replace), None if p.size == 0 else p)


def _permutation(rng, n, size):
    """A permutation of range(n) for each index of ``size`` (output shape ``size + (n,)``)."""
    if n.shape != ():
        raise ValueError(f"permutation: n must be a scalar, got shape {n.shape}")
    n = int(n)
    shape = () if size is None else tuple(size)
    out = np.empty(shape + (n,), dtype=np.int64)
    for index in np.ndindex(*shape):
        out[index] = rng.permutation(n)
    return out


def _multinomial(rng, n, pvals, size):
    """Counts of ``n`` trials among ``pvals.shape[-1]`` outcomes, one NumPy call per distribution."""
    ndim = len(size) if size is not None else max(n.ndim, pvals.ndim - 1)
    n = _left_padded(n, ndim, "n")
    pvals = _left_padded(pvals, ndim + 1, "pvals")
    shape = tuple(size) if size is not None else tuple(max(a, b) for a, b in zip(n.shape, pvals.shape))
    if pvals.size and pvals.min() < 0:
        raise ValueError("multinomial: pvals must not be negative")
    out = np.ndarray(shape + (pvals.shape[-1],))
    for index, ni, pi in _broadcast_indices(shape, n.shape, pvals.shape[:-1]):
        row = pvals[pi]
        total = np.sum(row)
        # NumPy refuses probabilities summing to more than 1 by a rounding error: Theano scaled
        # such rows down a little (and rows ending in a tiny probability), and so do we.
        if 1.0 < total < 1.0 + 1e-5 or row[-1] < 5e-5:
            row = row * (1.0 - 5e-5)
        if np.sum(row) > 1.0:
            raise ValueError(f"multinomial: the probabilities {row} sum to more than 1")
        out[index] = rng.multinomial(n=n[ni], pvals=row.astype("float64"))
    return out


#: name -> ``sampler(random_state, *parameters, size)`` (size None: the parameters' shape).
SAMPLERS = {
    "uniform": lambda rng, low, high, size: rng.uniform(low, high, size),
    "normal": lambda rng, avg, std, size: rng.normal(avg, std, size),
    "binomial": lambda rng, n, p, size: rng.binomial(n, p, size),
    "poisson": lambda rng, lam, size: rng.poisson(lam, size),
    "integers": lambda rng, low, high, size: rng.randint(low, high, size),
    "random_integers": _random_integers,
    "choice": _choice,
    "permutation": _permutation,
    "multinomial": _multinomial,
}


# ----------------------------------------------------------------------------- the op


def copy_generator(rng):
    """An independent ``RandomState`` in ``rng``'s state (``copy.copy`` would share NumPy's bit
    generator, so drawing from the copy would advance the original)."""
    new = np.random.RandomState(0)
    new.set_state(rng.get_state())
    return new


class RandomFunction(Op):
    """Draw from ``SAMPLERS[fn]``: inputs ``(rng, size, *parameters)``, outputs ``(new rng, sample)``.

    ``size`` is an int64 vector; empty means "the parameters' shape".  The
    sample has ``len(size) + ndim_added`` dimensions (a permutation or a
    multinomial adds one).  Rewrites may merge two nodes only when they
    draw from the same generator with the same parameters, which gives the
    same numbers: merging never changes a result.

    ``inplace=True``: the draw advances the input generator itself and
    returns it as the new state (``destroy_map``), instead of drawing from
    a copy; only the inplace rewrite makes these, where that is safe.
    """

    __props__ = ("fn", "outtype", "ndim_added", "inplace")

    def __init__(self, fn, outtype, ndim_added=0, inplace=False):
        if fn not in SAMPLERS:
            raise ValueError(f"unknown distribution {fn!r}; expected one of {', '.join(SAMPLERS)}")
        self.fn = fn
        self.outtype = outtype
        self.ndim_added = ndim_added
        self.inplace = bool(inplace)
        self.destroy_map = {0: [0]} if self.inplace else {}

    def __str__(self):
        return f"RandomFunction{{{self.fn}}}[inplace]" if self.inplace else f"RandomFunction{{{self.fn}}}"

    def with_inplace(self, inplace):
        """This draw, advancing its input generator itself (``inplace=True``) or drawing from a copy."""
        return RandomFunction(self.fn, self.outtype, self.ndim_added, inplace)

    def no_inplace(self):
        """The copying version (what a graph that loses the generator's update must run)."""
        return self.with_inplace(False)

    def make_node(self, rng, size, *parameters):
        if not (isinstance(rng, Variable) and isinstance(rng.type, RandomStateType)):
            raise TypeError(f"{self}: the first input must be a RandomState variable "
                            f"(theanolab.shared(numpy.random.RandomState(seed))), got {rng!r}")
        size = as_tensor_variable(size)
        if size.ndim != 1 or size.dtype not in INTEGER:
            raise TypeError(f"{self}: size must be an integer vector, got {size.type}")
        parameters = [as_tensor_variable(p) for p in parameters]
        return Apply(self, [rng, cast(size, "int64"), *parameters], [rng.type(), self.outtype()])

    def perform(self, node, inputs, output_storage):
        rng, size, *parameters = inputs
        size = None if len(size) == 0 else tuple(int(s) for s in size)
        ndim = self.outtype.ndim
        if size is not None and len(size) + self.ndim_added != ndim:
            raise ValueError(f"{self}: a size of {len(size)} entries does not give the {ndim} dimension(s) "
                             f"of the sample ({len(size)} + {self.ndim_added} expected)")
        if not self.inplace:
            rng = copy_generator(rng)  # the input generator keeps its state: the new one is the first output
        sample = np.asarray(SAMPLERS[self.fn](rng, *parameters, size), dtype=self.outtype.dtype)
        if size is None and sample.ndim == 0 and ndim > 0:
            sample = sample.reshape((1,) * ndim)
        if sample.ndim != ndim:
            raise ValueError(f"{self}: the sample has {sample.ndim} dimensions, not the {ndim} of its type; "
                             "give size or ndim")
        if size is not None and sample.shape[:len(size)] != size:
            raise ValueError(f"{self}: the sample has shape {sample.shape}, not the size {size} asked for")
        output_storage[0][0] = rng
        output_storage[1][0] = sample

    def infer_shape(self, node, input_shapes):
        size = node.inputs[1]
        if self.ndim_added or (isinstance(size, Constant) and len(size.data) == 0):
            raise NotImplementedError(f"{self}: the sample's shape is known when it is drawn")
        return [None, tuple(size[d] for d in range(self.outtype.ndim))]

    def grad(self, inputs, output_grads):
        return [grad_undefined(self, k, inp, "random samples are not differentiable")
                for k, inp in enumerate(inputs)]

    def R_op(self, inputs, eval_points):
        return [None, None]


# ----------------------------------------------------------------------------- size and broadcasting


def _auto_length(i, ndim, parameters):
    """Length ``-1`` at axis ``i``: the first parameter (right-aligned) not broadcastable there."""
    overlapping = False
    for p in parameters:
        k = i + p.ndim - ndim
        if k >= 0:
            overlapping = True
            if not p.broadcastable[k]:
                return p.shape[k], False
    if not overlapping:
        raise ValueError(f"size entry {i} is -1, but no parameter has a dimension there to take its length from")
    return constant(1, dtype="int64"), True


def size_and_pattern(ndim, size, *parameters):
    """``(ndim, int64 size vector, broadcastable pattern)`` of a draw, from ``size`` or the parameters.

    ``size`` is a tuple/list of ints or scalar variables (``-1``: the length
    of a parameter there), a symbolic vector, or None (the parameters'
    broadcast shape).
    """
    needed = max((p.ndim for p in parameters), default=0)
    if isinstance(size, (tuple, list)):
        if ndim is None:
            ndim = len(size)
        elif ndim != len(size):
            raise ValueError(f"ndim={ndim} but size={tuple(size)} has {len(size)} entries")
        entries, pattern = [], []
        for i, s in enumerate(size):
            if isinstance(s, Variable):
                entries.append(s)
                pattern.append(False)
            elif not isinstance(s, (int, np.integer)):
                raise TypeError(f"size entries must be integers or symbolic integer scalars, got {tuple(size)}")
            elif int(s) >= 0:
                entries.append(int(s))
                pattern.append(int(s) == 1)
            elif int(s) == -1:
                length, broadcastable = _auto_length(i, ndim, parameters)
                entries.append(length)
                pattern.append(broadcastable)
            else:
                raise ValueError(f"size entries must be >= 0 (or -1), got {tuple(size)}")
        if all(isinstance(e, int) for e in entries):
            vector = constant(np.array(entries, dtype="int64"))
        else:
            vector = stack([cast(as_tensor_variable(e), "int64") for e in entries])
    elif size is None:
        if not parameters:
            raise TypeError("without parameters to take it from, the sample needs a size")
        template = parameters[0]
        for p in parameters[1:]:
            template = template + p
        vector, pattern, ndim = template.shape, list(template.broadcastable), template.ndim
    else:
        vector = _argument(size, "size", "a tuple of integers or a symbolic integer vector")
        if vector.ndim != 1:
            raise TypeError(f"size must be a vector or a list of scalars, got {vector.type}")
        if ndim is None:
            from theanolab.tensor.shape import vector_length

            ndim = vector_length(vector)
            if ndim is None:
                raise ValueError(f"the length of the symbolic size {vector} is unknown: give ndim")
        pattern = [False] * ndim
    if vector.dtype not in INTEGER:
        raise TypeError(f"size must be integers, got {vector.dtype}")
    if needed > ndim:
        raise ValueError(f"the parameters have {needed} dimensions, more than the {ndim} of the sample")
    return ndim, cast(vector, "int64"), tuple(pattern)


def _draw(fn, random_state, size, ndim, dtype, parameters, pattern_of=None, ndim_added=0, extra_pattern=()):
    shape_from = parameters if pattern_of is None else pattern_of
    ndim, vector, pattern = size_and_pattern(ndim, size, *shape_from)
    op = RandomFunction(fn, TensorType(dtype, pattern + tuple(extra_pattern)), ndim_added=ndim_added)
    new_state, sample = op(random_state, vector, *parameters)
    return new_state, sample


def _float_dtype(dtype, *parameters):
    return dtype if dtype is not None else upcast(config.floatX, *(p.dtype for p in parameters))


# ----------------------------------------------------------------------------- distributions


def _argument(value, what, expected="a number, an array or a symbolic tensor"):
    """``value`` as a tensor, or a TypeError naming the argument ``what`` and what it takes."""
    try:
        return as_tensor_variable(value)
    except TypeError:
        raise TypeError(f"{what} must be {expected}, got {value!r}") from None


def uniform(random_state, size=None, low=0.0, high=1.0, ndim=None, dtype=None):
    """Uniform in [low, high); dtype at least floatX (and the bounds' dtype)."""
    low, high = _argument(low, "uniform: low"), _argument(high, "uniform: high")
    return _draw("uniform", random_state, size, ndim, _float_dtype(dtype, low, high), [low, high])


def normal(random_state, size=None, avg=0.0, std=1.0, ndim=None, dtype=None):
    """Normal with mean ``avg`` and standard deviation ``std``."""
    avg, std = _argument(avg, "normal: avg"), _argument(std, "normal: std")
    return _draw("normal", random_state, size, ndim, _float_dtype(dtype, avg, std), [avg, std])


def binomial(random_state, size=None, n=1, p=0.5, ndim=None, dtype="int64", prob=None):
    """Successes among ``n`` trials of probability ``p`` (``prob`` is Theano's older name)."""
    if prob is not None:
        p = prob
    n, p = _argument(n, "binomial: n"), _argument(p, "binomial: p")
    ndim, vector, _ = size_and_pattern(ndim, size, n, p)
    op = RandomFunction("binomial", TensorType(dtype, (False,) * ndim))
    return tuple(op(random_state, vector, n, p))


def random_integers(random_state, size=None, low=0, high=1, ndim=None, dtype="int64"):
    """Integers between ``low`` and ``high``, both included."""
    low, high = as_tensor_variable(low), as_tensor_variable(high)
    return _draw("random_integers", random_state, size, ndim, dtype, [low, high])


def integers(random_state, size=None, low=0, high=1, ndim=None, dtype="int64"):
    """Integers in [low, high) (``high`` excluded, as NumPy's ``randint``/``integers``)."""
    low, high = as_tensor_variable(low), as_tensor_variable(high)
    return _draw("integers", random_state, size, ndim, dtype, [low, high])


def choice(random_state, size=None, a=2, replace=True, p=None, ndim=None, dtype="int64"):
    """Elements of ``a`` (or of range(a) for a scalar), with or without replacement, weights ``p``."""
    a = as_tensor_variable(a)
    replace = constant(replace, dtype="int8") if isinstance(replace, bool) else as_tensor_variable(replace)
    p = as_tensor_variable(p if p is not None else np.zeros(0))
    return _draw("choice", random_state, size, ndim, dtype, [a, replace, p], pattern_of=[])


def poisson(random_state, size=None, lam=1.0, ndim=None, dtype="int64"):
    """Counts of a Poisson process with mean ``lam``."""
    lam = as_tensor_variable(lam)
    return _draw("poisson", random_state, size, ndim, dtype, [lam], pattern_of=[])


def permutation(random_state, size=None, n=1, ndim=None, dtype="int64"):
    """A permutation of range(n), or one per index of ``size`` (output shape ``size + (n,)``)."""
    n = as_tensor_variable(n)
    if size is None or size == ():
        if ndim not in (None, 1):
            raise TypeError(f"one permutation has 1 dimension, but ndim={ndim} was asked for")
        op = RandomFunction("permutation", TensorType(dtype, (False,)), ndim_added=1)
        return tuple(op(random_state, constant(np.zeros(0, dtype="int64")), n))
    return _draw("permutation", random_state, size, ndim, dtype, [n], pattern_of=[], ndim_added=1,
                 extra_pattern=(False,))


def multinomial(random_state, size=None, n=1, pvals=(0.5, 0.5), ndim=None, dtype="int64"):
    """Counts of ``n`` trials among the outcomes of each distribution ``pvals[..., :]``."""
    n, pvals = as_tensor_variable(n), as_tensor_variable(list(pvals) if isinstance(pvals, tuple) else pvals)
    if pvals.ndim < 1:
        raise ValueError("multinomial: pvals must have at least one dimension (the outcomes)")
    first_outcome = pvals.T[0].T
    return _draw("multinomial", random_state, size, ndim, dtype, [n, pvals], pattern_of=[n, first_outcome],
                 ndim_added=1, extra_pattern=(pvals.broadcastable[-1],))
