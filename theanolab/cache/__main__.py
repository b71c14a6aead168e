"""``python -m theanolab.cache list|clear|stats`` (see :mod:`theanolab.cache.cli`)."""

import sys

from theanolab.cache.cli import main

__all__ = []

sys.exit(main())
