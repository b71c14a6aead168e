"""Stability rewrites: forms that keep their digits where the naive one overflows or cancels."""

from __future__ import annotations

from theanolab.tensor import math as tm
from theanolab.tensor.rewriting.utils import pattern_rule

pattern_rule("stabilize", "log1p", (tm.log, (tm.add, 1, "x")), (tm.log1p, "x"), "fast_run")
