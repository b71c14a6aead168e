"""``python -m theanolab.cache list|clear|stats`` (see :mod:`theanolab.cache.cli`)."""

import os
import sys

from theanolab.cache.cli import main

__all__ = []

try:
    sys.exit(main())
except BrokenPipeError:  # `python -m theanolab.cache list | head`: the reader stopped, which is no error
    os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    sys.exit(0)
