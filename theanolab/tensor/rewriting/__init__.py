"""The tensor rewrite rules; importing this package registers them in ``optdb``."""

from theanolab.tensor.rewriting import shape  # noqa: F401
from theanolab.tensor.rewriting import canonicalize  # noqa: F401
from theanolab.tensor.rewriting import specialize  # noqa: F401
from theanolab.tensor.rewriting import stabilize  # noqa: F401
from theanolab.tensor.rewriting import blas  # noqa: F401
from theanolab.tensor.rewriting import fusion  # noqa: F401
from theanolab.tensor.rewriting import inplace  # noqa: F401
from theanolab.tensor.rewriting import subtensor  # noqa: F401  (reading back what inc_subtensor wrote)
from theanolab.scan import rewrites as scan_rewrites  # noqa: F401  (the scan rules: loops, theanolab/scan/rewrites.py)
from theanolab.scan import pushout as scan_pushout  # noqa: F401  (the scan rules moving work out of loops: theanolab/scan/pushout.py)
