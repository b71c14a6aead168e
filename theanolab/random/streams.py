"""``RandomStreams``: random variables whose generators are shared variables, seeded from one seed.

Each draw (``srng.uniform((2, 2))``) gets its own NumPy ``RandomState``,
seeded by the stream's seed generator ``RandomState(seed)`` as Theano 1.0
did, so a seed gives the numbers it gave there.  The variable keeps its
generator as ``rv.rng`` (a shared variable) with ``rv.rng.default_update``
set to the generator after the draw: every function using ``rv`` advances
it, unless compiled with ``no_default_updates=True``.

>>> import theanolab
>>> srng = RandomStreams(seed=234)
>>> rv_u = srng.uniform((2, 2))
>>> f = theanolab.function([], rv_u)
>>> f().round(4)
array([[0.1267, 0.9709],
       [0.1399, 0.8875]])
"""

from __future__ import annotations

import numpy as np

from theanolab.compile.sharedvalue import shared
from theanolab.random import ops

__all__ = ["RandomStreams"]


class RandomStreams:
    """A factory of random variables with NumPy's ``RandomState`` interface (Theano 1.0's).

    ``state_updates`` lists ``(generator, generator after the draw)`` for each
    variable drawn, in order: copying the generators' values from one
    stream's list to another's makes two graphs draw alike.
    """

    def __init__(self, seed=None):
        self.state_updates = []
        self.default_instance_seed = seed
        self.gen_seedgen = np.random.RandomState(seed)

    def updates(self):
        """The ``(generator, new generator)`` pairs, as a list (for ``function(updates=...)``)."""
        return list(self.state_updates)

    def seed(self, seed=None):
        """Reseed every generator of this stream from ``RandomState(seed)`` (the first seed if None)."""
        seedgen = np.random.RandomState(self.default_instance_seed if seed is None else seed)
        for generator, _ in self.state_updates:
            generator.set_value(np.random.RandomState(int(seedgen.randint(2 ** 30))), borrow=True)

    def __getitem__(self, generator):
        """The ``RandomState`` of one of this stream's generators (``rv.rng``)."""
        return generator.get_value(borrow=True)

    def __setitem__(self, generator, value):
        generator.set_value(value, borrow=True)

    def gen(self, op, *args, **kwargs):
        """A new random variable: ``op(generator, *args, **kwargs)`` on a fresh seeded generator.

        ``op`` is a distribution of :mod:`theanolab.random.ops`, returning
        ``(new generator, sample)``; the sample is returned, holding
        ``.rng`` and ``.update``.
        """
        generator = shared(np.random.RandomState(int(self.gen_seedgen.randint(2 ** 30))), borrow=True)
        generator.tag.is_rng = True
        new_generator, sample = op(generator, *args, **kwargs)
        sample.rng = generator
        sample.update = (generator, new_generator)
        generator.default_update = new_generator
        self.state_updates.append(sample.update)
        return sample

    def uniform(self, size=None, low=0.0, high=1.0, ndim=None, dtype=None):
        """Uniform in [low, high); the dtype is at least floatX."""
        return self.gen(ops.uniform, size, low, high, ndim=ndim, dtype=dtype)

    def normal(self, size=None, avg=0.0, std=1.0, ndim=None, dtype=None):
        """Normal with mean ``avg`` and standard deviation ``std``."""
        return self.gen(ops.normal, size, avg, std, ndim=ndim, dtype=dtype)

    def binomial(self, size=None, n=1, p=0.5, ndim=None, dtype="int64", prob=None):
        """Successes among ``n`` trials of probability ``p``."""
        return self.gen(ops.binomial, size, n, p, ndim=ndim, dtype=dtype, prob=prob)

    def random_integers(self, size=None, low=0, high=1, ndim=None, dtype="int64"):
        """Integers between ``low`` and ``high``, both included (Theano's)."""
        return self.gen(ops.random_integers, size, low, high, ndim=ndim, dtype=dtype)

    def integers(self, size=None, low=0, high=1, ndim=None, dtype="int64"):
        """Integers in [low, high), ``high`` excluded as in NumPy's ``randint``."""
        return self.gen(ops.integers, size, low, high, ndim=ndim, dtype=dtype)

    def choice(self, size=None, a=2, replace=True, p=None, ndim=None, dtype="int64"):
        """Elements of ``a`` (range(a) for a scalar), with or without replacement."""
        return self.gen(ops.choice, size, a, replace, p, ndim=ndim, dtype=dtype)

    def poisson(self, size=None, lam=None, ndim=None, dtype="int64"):
        """Poisson counts of mean ``lam``."""
        return self.gen(ops.poisson, size, 1.0 if lam is None else lam, ndim=ndim, dtype=dtype)

    def permutation(self, size=None, n=1, ndim=None, dtype="int64"):
        """Permutations of range(n), one per index of ``size``."""
        return self.gen(ops.permutation, size, n, ndim=ndim, dtype=dtype)

    def multinomial(self, size=None, n=1, pvals=(0.5, 0.5), ndim=None, dtype="int64"):
        """Counts of ``n`` trials among the outcomes of each ``pvals[..., :]``."""
        return self.gen(ops.multinomial, size, n, pvals, ndim=ndim, dtype=dtype)

