"""The NumPy reference backend: every node runs its Op's ``perform``."""

from theanolab.backends.py.vm import VM  # noqa: F401
