"""Random numbers in graphs: NumPy-backed ``RandomStreams`` and the MRG31k3p ``MRG_RandomStreams``.

Both follow one protocol: a random variable's generator state is a shared
variable whose ``default_update`` is the state after the draw, so compiled
functions (and ``scan`` loops) carry it forward like any other update.
"""

from theanolab.random.type import RandomStateSharedVariable, RandomStateType, random_state_type  # noqa: F401
from theanolab.random.ops import RandomFunction  # noqa: F401
from theanolab.random import rewriting  # noqa: F401  (registers the in-place draw in FAST_RUN)
from theanolab.random.streams import RandomStreams  # noqa: F401
from theanolab.random.mrg import MRG_RandomStreams, mrg_uniform  # noqa: F401

__all__ = ["RandomStateType", "random_state_type", "RandomStateSharedVariable", "RandomFunction",
           "RandomStreams", "MRG_RandomStreams", "mrg_uniform"]
