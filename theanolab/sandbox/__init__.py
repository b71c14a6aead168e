"""Theano's ``sandbox`` package: where ``rng_mrg.MRG_RandomStreams`` lived."""

__all__ = []
