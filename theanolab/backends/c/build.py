"""Building C modules with cffi into an on-disk cache.

A module is identified by a key: the SHA-256 of its source, its cffi
declarations, the compiler and flags, the NumPy ABI, the platform and the
theanolab version.  Its entry ``<compiledir>/c/<key[:2]>/<key>/`` holds the
source (kept, so a compile error can point at it), the built library and a
``complete`` marker written last with the library's own hash.  So:

- a second call, or a second process, finds a complete entry and imports it
  with no compiler run;
- two processes building the same module are serialized by a lock file;
- an entry whose marker is missing or whose library does not match its
  marker (a build killed half-way, a truncated file) is rebuilt;
- a compiler error raises :class:`CompileError` naming the op(s), the kept
  source file and the compiler's message.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import importlib.util
import os
import platform
import shutil
import subprocess
import sys
import sysconfig
import tempfile
from pathlib import Path

import numpy as np

from theanolab.config import config

__all__ = ["CompileError", "load_module", "compiler_available", "stats", "cache_root", "kernel_include_dir"]


class CompileError(RuntimeError):
    """The C compiler refused generated code; the message names the op and the kept source."""


class _Stats:
    """What this process did: how often the compiler ran and the cache answered."""

    def __init__(self):
        self.compiler_runs = 0
        self.disk_hits = 0
        self.memory_hits = 0


stats = _Stats()
_loaded = {}


def cache_root():
    """``<compiledir>/c``, created private to the user."""
    root = Path(config.compiledir) / "c"
    root.mkdir(parents=True, exist_ok=True, mode=0o700)
    return root


def kernel_include_dir():
    """The folder of the shipped C headers (``kernels/c``), installed or in a checkout."""
    try:
        from importlib.resources import files

        path = Path(str(files("theanolab.kernels") / "c"))
        if (path / "theanolab.h").is_file():
            return path
    except ModuleNotFoundError:
        pass
    return Path(__file__).resolve().parents[3] / "kernels" / "c"


def _compiler():
    return config.cxx or sysconfig.get_config_var("CC") or "cc"


def compiler_available():
    """True if the configured C compiler runs."""
    command = _compiler().split()[0]
    return shutil.which(command) is not None


def _compiler_version():
    try:
        out = subprocess.run([_compiler().split()[0], "--version"], capture_output=True, text=True, timeout=30)
        return out.stdout.splitlines()[0] if out.stdout else ""
    except (OSError, subprocess.SubprocessError):
        return ""


def _module_key(cdef, source, options):
    from theanolab import __version__

    ingredients = [cdef, source, repr(sorted(options.items())), _compiler(), _compiler_version_cached(),
                   np.__version__, f"abi{np.dtype('intp').itemsize}", platform.platform(),
                   sys.implementation.cache_tag, __version__]
    return hashlib.sha256("\0".join(ingredients).encode()).hexdigest()


_version_cache = []


def _compiler_version_cached():
    if not _version_cache:
        _version_cache.append(_compiler_version())
    return _version_cache[0]


@contextlib.contextmanager
def _locked(directory):
    """An exclusive lock on ``directory`` shared with every other process."""
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    with open(directory / "lock", "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _complete_library(entry):
    """The entry's library if its marker vouches for it, else None."""
    marker = entry / "complete"
    if not marker.is_file():
        return None
    try:
        name, digest = marker.read_text().split()
    except ValueError:
        return None
    library = entry / name
    if not library.is_file() or _digest(library) != digest:
        return None
    return library


def _import(module_name, library):
    spec = importlib.util.spec_from_file_location(module_name, library)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def load_module(cdef, source, description="", **options):
    """Import (building first if needed) the cffi module of ``source`` declaring ``cdef``.

    ``options`` are cffi's ``set_source`` keywords (``include_dirs``,
    ``libraries``, ``library_dirs``, ``extra_compile_args``,
    ``extra_link_args``...).  ``description`` names the op(s) for errors.
    """
    options = {k: tuple(v) if isinstance(v, (list, tuple)) else v for k, v in options.items()}
    key = _module_key(cdef, source, options)
    if key in _loaded:
        stats.memory_hits += 1
        return _loaded[key]
    module_name = f"_theanolab_{key[:24]}"
    entry = cache_root() / key[:2] / key
    with _locked(entry):
        library = _complete_library(entry)
        if library is None:
            library = _build(entry, module_name, cdef, source, description, options)
        else:
            stats.disk_hits += 1
        try:
            module = _import(module_name, library)
        except ImportError:
            # A library that passes its hash but does not load: rebuild it once.
            (entry / "complete").unlink(missing_ok=True)
            module = _import(module_name, _build(entry, module_name, cdef, source, description, options))
    _loaded[key] = module
    return module


def _build(entry, module_name, cdef, source, description, options):
    import cffi

    (entry / "complete").unlink(missing_ok=True)
    source_path = entry / f"{module_name}.c.in"
    source_path.write_text(source)
    ffi = cffi.FFI()
    ffi.cdef(cdef)
    settings = {k: list(v) if isinstance(v, tuple) else v for k, v in options.items()}
    settings.setdefault("extra_compile_args", [])
    settings["extra_compile_args"] = ["-O3", "-fno-math-errno", "-Wno-unused-function"] + list(settings["extra_compile_args"])
    settings.setdefault("include_dirs", [])
    settings["include_dirs"] = [str(kernel_include_dir())] + list(settings["include_dirs"])
    ffi.set_source(module_name, source, **settings)
    stats.compiler_runs += 1
    with tempfile.TemporaryDirectory(dir=entry) as scratch:
        try:
            built = ffi.compile(tmpdir=scratch, verbose=False)
        except Exception as exc:
            log = entry / "compile-error.txt"
            log.write_text(str(exc))
            raise CompileError(
                f"the C compiler failed on the code for {description or module_name}: {exc}\n"
                f"source kept at {source_path}; compiler message saved in {log}"
            ) from None
        library = entry / Path(built).name
        os.replace(built, library)
    (entry / "complete").write_text(f"{library.name} {_digest(library)}\n")
    return library
