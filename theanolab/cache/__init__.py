"""The on-disk cache of compiled modules, and its command line.

:mod:`theanolab.cache.store` keeps the entries (layout, locks, completion
markers, privacy checks); backends build into it (the C backend through
:func:`theanolab.backends.c.build.load_module`).  Inspect or empty it with::

    python -m theanolab.cache list
    python -m theanolab.cache stats
    python -m theanolab.cache clear [--older-than DAYS]
"""

from theanolab.cache import store

__all__ = ["store"]
