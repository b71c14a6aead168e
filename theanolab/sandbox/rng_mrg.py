"""``theano.sandbox.rng_mrg``: the MRG31k3p random streams (see :mod:`theanolab.random.mrg`)."""

from theanolab.random.mrg import MRG_RandomStreams, guess_n_streams, mrg_uniform  # noqa: F401
from theanolab.random.multinomial import ChoiceFromUniform, MultinomialFromUniform  # noqa: F401

__all__ = ["MRG_RandomStreams", "mrg_uniform", "guess_n_streams", "MultinomialFromUniform", "ChoiceFromUniform"]
