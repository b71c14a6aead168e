"""Where the BLAS is: its headers, its shared library and the prefix of its symbols.

The dot family's C kernels (``backends/c/kernels/blas.py``) call a real BLAS,
never a hand-written product.  theanolab depends on the ``scipy-openblas32``
wheel: a prebuilt OpenBLAS with 32-bit integers and a CBLAS header, whose
symbols carry a ``scipy_`` prefix (``scipy_cblas_dgemm``) so that it never
clashes with another BLAS loaded in the same process (NumPy's own, say).

The kernels are linked against the wheel's library with an rpath, so they
load without ``LD_LIBRARY_PATH``; since the locations are build options, they
are part of each module's cache key, and moving or upgrading the BLAS gives
new builds instead of stale ones.

>>> from theanolab.backends.c.blas_library import find_blas
>>> find_blas().prefix                              # doctest: +SKIP
'scipy_'
"""

from __future__ import annotations

import ctypes
import functools
import os
import re
import warnings
from dataclasses import dataclass

__all__ = ["BlasLibrary", "find_blas"]

#: The CBLAS functions the kernels call; a library lacking one is not used.
REQUIRED_FUNCTIONS = ("sgemm", "dgemm", "sgemv", "dgemv", "sger", "dger", "sdot", "ddot")


@dataclass(frozen=True)
class BlasLibrary:
    """A CBLAS with 32-bit integers: what the compiler and linker need to call it."""

    name: str
    include_dir: str
    library_dir: str
    library: str
    prefix: str

    def build_options(self):
        """Keywords for :class:`~theanolab.backends.c.dispatch.CKernel` (``kernels/c/blas.h`` reads the prefix)."""
        return {
            "include_dirs": (self.include_dir,),
            "library_dirs": (self.library_dir,),
            "libraries": (self.library,),
            "extra_compile_args": (f"-DTL_CBLAS_PREFIX={self.prefix}",),
            "extra_link_args": (f"-Wl,-rpath,{self.library_dir}",),
        }


def _scipy_openblas32():
    """The scipy-openblas32 wheel's BLAS, or None when it is not installed or not usable."""
    try:
        import scipy_openblas32 as wheel
    except ImportError:
        return None
    match = re.search(r"-DBLAS_SYMBOL_PREFIX=(\w+)", wheel.get_pkg_config())
    library = BlasLibrary(
        name=f"scipy-openblas32 {wheel.__version__}",
        include_dir=wheel.get_include_dir(),
        library_dir=wheel.get_lib_dir(),
        library=wheel.get_library(),
        prefix=match.group(1) if match else "",
    )
    shared = ctypes.CDLL(os.path.join(library.library_dir, wheel.get_library(fullname=True)))
    if not all(hasattr(shared, f"{library.prefix}cblas_{name}") for name in REQUIRED_FUNCTIONS):
        return None
    return library


@functools.cache
def find_blas():
    """The BLAS the C kernels link to, or None (then products run through ``Op.perform``, i.e. NumPy).

    Looked up once per process; a missing BLAS warns once, naming the package to install.
    """
    library = _scipy_openblas32()
    if library is None:
        warnings.warn("theanolab's C backend found no BLAS (pip install scipy-openblas32): "
                      "matrix products run through NumPy", stacklevel=2)
    return library
