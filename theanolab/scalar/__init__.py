"""Scalar types and the scalar ops that elementwise tensor ops are made of."""

from theanolab.scalar.basic import *  # noqa: F401,F403
from theanolab.scalar.basic import ScalarOp, ScalarType, upcast, upgrade_to_float  # noqa: F401
from theanolab.scalar.math import *  # noqa: F401,F403
from theanolab.scalar.composite import Composite  # noqa: F401
