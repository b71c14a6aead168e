"""The tensor rewrite rules; importing this package registers them in ``optdb``."""

from theanolab.tensor.rewriting import stabilize  # noqa: F401
