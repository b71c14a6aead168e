"""``theano.tensor.opt``: the path Theano programs import ``Assert`` and ``assert_op`` from (see
:mod:`theanolab.tensor.debug_ops`; the tensor rewrites live in :mod:`theanolab.tensor.rewriting`)."""

from theanolab.tensor.debug_ops import Assert, assert_op  # noqa: F401

__all__ = ["Assert", "assert_op"]
