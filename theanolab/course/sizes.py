"""Problem sizes for the course notebooks: the tutorial's full size, or a small one under CI.

The notebooks run top to bottom in the test suite; there, training for the
tutorial's 10,000 steps on 400x784 data would take most of a minute per
notebook.  ``THEANOLAB_COURSE_SMALL=1`` (set by ``tests/course``) swaps in small
sizes while the notebook's code stays the one a student reads.
"""

import os

__all__ = ["SMALL", "size"]

SMALL = os.environ.get("THEANOLAB_COURSE_SMALL", "").lower() not in ("", "0", "false", "no")


def size(full, small):
    """``full`` normally, ``small`` when the course runs under CI (``THEANOLAB_COURSE_SMALL=1``).

    >>> size(10000, small=100) in (10000, 100)
    True
    """
    return small if SMALL else full
