"""The libraries a benchmark compares: one column of the table each, one process each.

Every column runs in a process of its own (see :func:`common.run`), so that one
library's settings, threads or crash cannot touch another's numbers, and so that
the same library can be measured twice with different settings: PyTensor's C
backend once as pip installs it (its own BLAS detection, which finds no BLAS on
a plain Debian machine) and once linked to the OpenBLAS of the scipy-openblas32
wheel that theanolab itself uses (same BLAS build on both sides).  What a column
is, apart from its library, is only the environment of its process:

- ``THEANOLAB_FLAGS`` picks theanolab's linker (``c|py``, the default, or ``py``);
- ``PYTENSOR_FLAGS`` picks PyTensor's C linker (``cvm``; its default in 3.x is
  Numba) and ``PYTENSORRC`` gives it the OpenBLAS (a file, since the flags are
  comma-separated and linker options are not);
- ``JAX_ENABLE_X64`` makes JAX compute in float64 like everybody else (it
  silently rounds to float32 otherwise), on the CPU.

Threads: every BLAS and OpenMP runtime gets the same count (1 unless the
script asks for more), and with more than one, theanolab's and PyTensor's own
OpenMP switches are turned on too.  (The process is also pinned to that many
cores: see ``common._use_cores``.)
"""

from __future__ import annotations

import ctypes
import functools
import importlib.util
import os
import re
import shutil
from dataclasses import dataclass, field

__all__ = ["COLUMNS", "Column", "add_flags", "by_name", "openblas_ldflags", "process_environment"]

THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS")

#: The Fortran BLAS routines PyTensor's C code declares (``dgemm_``...).
_BLAS_TYPES, _BLAS_ROUTINES = "sdcz", ("gemm", "gemv", "ger", "gerc", "geru", "dot", "dotu", "dotc", "axpy",
                                       "scal", "copy", "swap", "symm", "syrk", "trmm", "trsm")


@dataclass(frozen=True)
class Column:
    """One library, set up one way.

    ``family`` names the script's function that measures it (``theano``: the
    Theano API, given the library and its tensor module; ``numpy``, ``jax``,
    ``c``: a hand-written anchor); ``module`` must be importable for it to run.
    """

    name: str
    label: str
    family: str
    module: str
    flags: dict = field(default_factory=dict)
    openblas: bool = False

    def missing(self):
        """Why this column cannot run here, or None."""
        if self.module and importlib.util.find_spec(self.module) is None:
            return f"{self.module} is not installed (pip install -e '.[bench]')"
        if self.family == "c" and shutil.which("cc") is None:
            return "no C compiler (cc)"
        if self.openblas and openblas_ldflags() is None:
            return "the scipy-openblas32 wheel is not installed"
        return None


COLUMNS = (
    Column("theanolab", "theanolab C", "theano", "theanolab", {"THEANOLAB_FLAGS": ["linker=c|py"]}),
    Column("theanolab_py", "theanolab py", "theano", "theanolab", {"THEANOLAB_FLAGS": ["linker=py"]}),
    Column("numpy", "NumPy", "numpy", "numpy"),
    Column("pytensor_c", "PyTensor C (pip)", "theano", "pytensor", {"PYTENSOR_FLAGS": ["linker=cvm"]}),
    Column("pytensor_openblas", "PyTensor C + OpenBLAS", "theano", "pytensor", {"PYTENSOR_FLAGS": ["linker=cvm"]},
           openblas=True),
    Column("jax", "JAX", "jax", "jax", {"JAX_PLATFORMS": ["cpu"], "JAX_ENABLE_X64": ["1"]}),
    Column("handwritten_c", "hand-written C", "c", ""),
)


def by_name(name, columns=COLUMNS):
    return next(column for column in columns if column.name == name)


def add_flags(env, variable, *flags):
    """Append ``flags`` to a comma-separated variable (``THEANOLAB_FLAGS``...); later ones win."""
    env[variable] = ",".join(filter(None, [env.get(variable, ""), *flags]))
    return env


@functools.cache
def openblas_ldflags():
    """PyTensor's ``blas__ldflags`` for the scipy-openblas32 wheel, or None without it.

    The wheel's symbols carry a prefix (``scipy_dgemm_``) so that they never
    clash with NumPy's BLAS; ``-Ddgemm_=scipy_dgemm_`` renames PyTensor's calls
    to them (its BLAS ops compile with these flags), and the rpath lets the
    built modules find the library without ``LD_LIBRARY_PATH``.
    """
    try:
        import scipy_openblas32 as wheel
    except ImportError:
        return None
    directory = wheel.get_lib_dir()
    library = ctypes.CDLL(os.path.join(directory, wheel.get_library(fullname=True)))
    match = re.search(r"-DBLAS_SYMBOL_PREFIX=(\w+)", wheel.get_pkg_config())
    prefix = match.group(1) if match else ""
    names = [f"{kind}{routine}_" for kind in _BLAS_TYPES for routine in _BLAS_ROUTINES]
    renames = [f"-D{name}={prefix}{name}" for name in names if prefix and hasattr(library, prefix + name)]
    return " ".join([f"-L{directory}", f"-Wl,-rpath,{directory}", f"-l{wheel.get_library()}", *renames])


def process_environment(column, threads, scratch):
    """The environment of ``column``'s process; ``scratch`` is a folder for the PyTensor rc file."""
    env = dict(os.environ)
    env.update({variable: str(threads) for variable in THREAD_VARIABLES})
    for variable, flags in column.flags.items():
        add_flags(env, variable, *flags)
    if threads > 1:
        add_flags(env, "THEANOLAB_FLAGS", "openmp=True")
        add_flags(env, "PYTENSOR_FLAGS", "openmp=True")
    if column.openblas:
        rc = os.path.join(scratch, "pytensorrc")
        with open(rc, "w") as file:
            file.write(f"[blas]\nldflags = {openblas_ldflags()}\n")
        env["PYTENSORRC"] = rc
    return env
