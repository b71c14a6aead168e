"""Building C modules with cffi into the on-disk cache.

A module is identified by a key: the SHA-256 of its cffi declarations, its
source, the shipped headers it may include, the full compiler command line,
the compiler's version, NumPy, the platform's extension ABI and the theanolab
version.  Its entry in :mod:`theanolab.cache.store` (``<compiledir>/c/...``)
keeps the generated source, the library and a completion marker.  So:

- a second call is answered from memory, a second process from disk, with
  no compiler run (``stats`` counts each);
- processes building the same module are serialized by the entry's lock, and
  the second one finds the first one's complete entry;
- a missing or garbled marker, or a library that does not match it, is
  rebuilt;
- a compiler error raises :class:`CompileError` naming the op(s), the kept
  source file and the compiler's own message.

cffi writes the C source (``make_c_source``); the compiler is run here, not
through setuptools, so that ``config.cxx`` is the compiler really used, its
messages can be captured, and a build costs one process instead of a
setuptools import.
"""

from __future__ import annotations

import functools
import hashlib
import os
import shlex
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import numpy as np

from theanolab.cache import store
from theanolab.config import config

__all__ = [
    "CompileError", "load_module", "forget_loaded", "compiler_available", "compiler_command", "stats",
    "cache_root", "kernel_include_dir", "DEFAULT_FLAGS",
]

# -O3 without -ffast-math: results must match NumPy's bit for bit outside
# transcendental functions, so no implicit a*b+c -> fma either (GCC contracts
# by default where FMA is in the base ISA, e.g. aarch64).  -fno-math-errno lets
# sqrt & co. vectorize (NumPy never reads errno).  -fwrapv makes signed integer
# overflow wrap, as NumPy's does, instead of being undefined.  No
# -march=native: one cache may serve several machines of one kind.
DEFAULT_FLAGS = ("-O3", "-fno-math-errno", "-ffp-contract=off", "-fwrapv", "-fPIC", "-Wno-unused-function")

# cffi's set_source keywords (distutils Extension fields) -> compiler arguments,
# and whether they belong before the source (compiling) or after it (linking).
_OPTIONS = {
    "include_dirs": ("compile", lambda values: [f"-I{v}" for v in values]),
    "define_macros": ("compile", lambda values: [f"-D{n}" if v is None else f"-D{n}={v}" for n, v in values]),
    "undef_macros": ("compile", lambda values: [f"-U{v}" for v in values]),
    "extra_compile_args": ("compile", list),
    "library_dirs": ("link", lambda values: [f"-L{v}" for v in values]),
    "runtime_library_dirs": ("link", lambda values: [f"-Wl,-rpath,{v}" for v in values]),
    "libraries": ("link", lambda values: [f"-l{v}" for v in values]),
    "extra_objects": ("link", list),
    "extra_link_args": ("link", list),
}

_SHARED = ["-bundle", "-undefined", "dynamic_lookup"] if sys.platform == "darwin" else ["-shared"]

ERROR_LINES = 40  # compiler output quoted in a CompileError (all of it is in the entry's log)


class CompileError(RuntimeError):
    """The C compiler refused generated code (or there is none).

    The message names the op(s), quotes the compiler and points at the kept
    source; ``description``, ``source_path``, ``log_path`` and ``output``
    hold the same facts for programs.
    """

    def __init__(self, message, description="", source_path=None, log_path=None, output=""):
        super().__init__(message)
        self.description = description
        self.source_path = source_path
        self.log_path = log_path
        self.output = output


class _Stats:
    """What this process did: how often the compiler ran and the cache answered."""

    def __init__(self):
        self.compiler_runs = 0
        self.disk_hits = 0
        self.memory_hits = 0

    def __repr__(self):
        return (f"<build stats: {self.compiler_runs} compiler runs, {self.disk_hits} disk hits, "
                f"{self.memory_hits} memory hits>")


stats = _Stats()
_loaded = {}  # key -> imported module


def forget_loaded():
    """Forget the modules imported by this process, so the next load goes to the disk cache."""
    _loaded.clear()


def cache_root():
    """``<compiledir>/c``, created private to the user (or this process's private fallback)."""
    return store.root("c")


@functools.cache
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


def compiler_command():
    """The C compiler as an argument list: ``config.cxx``, else the one Python was built with."""
    return shlex.split(config.cxx or sysconfig.get_config_var("CC") or "cc")


def compiler_available():
    """True if the configured C compiler can be found."""
    return shutil.which(compiler_command()[0]) is not None


@functools.cache
def _environment(compiler):
    """Key ingredients that are fixed for a process and a compiler (computed once)."""
    try:
        out = subprocess.run([compiler, "--version"], capture_output=True, text=True, timeout=60)
        version = out.stdout.splitlines()[0] if out.stdout else ""
    except (OSError, subprocess.SubprocessError):
        version = ""
    headers = hashlib.sha256()
    for header in sorted(kernel_include_dir().glob("*.h")):
        headers.update(header.name.encode() + b"\0" + header.read_bytes() + b"\0")
    from theanolab import __version__

    return (version, headers.hexdigest(), np.__version__, sysconfig.get_platform(),
            sysconfig.get_config_var("EXT_SUFFIX") or "", __version__)


@functools.cache
def _include_args():
    """The shipped headers and Python's (cffi's generated code includes Python.h)."""
    return [f"-I{kernel_include_dir()}", f"-I{sysconfig.get_paths()['include']}"]


def _recipe(options):
    """``(compiler, compile_args, link_args)`` from config and cffi's set_source keywords."""
    args = {"compile": [*DEFAULT_FLAGS, *_include_args()], "link": list(_SHARED)}
    for name, values in options.items():
        if name not in _OPTIONS:
            raise TypeError(f"load_module: unknown build option {name!r}; expected one of {sorted(_OPTIONS)}")
        if isinstance(values, (str, bytes)):
            raise TypeError(f"load_module: build option {name!r} takes a list, got the string {values!r}")
        phase, to_args = _OPTIONS[name]
        args[phase] += to_args(values)
    return tuple(compiler_command()), tuple(args["compile"]), tuple(args["link"])


def _argv(recipe, source, output):
    compiler, compile_args, link_args = recipe
    return [*compiler, *compile_args, str(source), "-o", str(output), *link_args]


def _module_key(cdef, source, recipe):
    command = shlex.join(_argv(recipe, "SOURCE", "LIBRARY"))
    ingredients = (cdef, source, command) + _environment(recipe[0][0])
    return hashlib.sha256("\0".join(ingredients).encode()).hexdigest()


def load_module(cdef, source, description="", **options):
    """Import (building first if needed) the cffi module of ``source`` declaring ``cdef``.

    ``options`` are cffi's ``set_source`` keywords (``include_dirs``,
    ``libraries``, ``library_dirs``, ``extra_compile_args``,
    ``extra_link_args``...).  ``description`` names the op(s) for errors.
    """
    recipe = _recipe(options)
    key = _module_key(cdef, source, recipe)
    if key in _loaded:
        stats.memory_hits += 1
        return _loaded[key]
    if not compiler_available():
        raise CompileError(f"cannot build the C code for {description or 'a C module'}: the C compiler "
                           f"{recipe[0][0]!r} was not found (set config.cxx, e.g. THEANOLAB_FLAGS=cxx=gcc)",
                           description)
    module_name = f"_theanolab_{key[:24]}"
    entry = store.open_entry("c", key)
    with store.locked(entry):
        if key in _loaded:  # another thread of this process built it while we waited
            stats.memory_hits += 1
            return _loaded[key]
        library = store.read_marker(entry)
        if library is None:
            library = _build(entry, module_name, cdef, source, description, recipe)
        else:
            stats.disk_hits += 1
            store.touch(entry)
        try:
            module = _import(module_name, library)
        except ImportError:
            # A library that matches its marker but does not load: rebuild it once.
            store.discard_marker(entry)
            module = _import(module_name, _build(entry, module_name, cdef, source, description, recipe))
        _loaded[key] = module
    return module


def _import(module_name, library):
    import importlib.util

    spec = importlib.util.spec_from_file_location(module_name, library)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _build(entry, module_name, cdef, source, description, recipe):
    """Compile into ``entry`` (its lock held); a failing write (a full disk...) leaves no marker."""
    try:
        return _compile(entry, module_name, cdef, source, description or module_name, recipe)
    except OSError as exc:
        raise CompileError(f"cannot write the build of the C code for {description or module_name} "
                           f"into {entry}: {exc}", description) from exc


def _compile(entry, module_name, cdef, source, what, recipe):
    """Source, then library, then the marker, each written under a scratch name and moved in place."""
    import cffi
    from cffi.recompiler import make_c_source

    store.discard_marker(entry)
    store.clean_scratch(entry)
    ffi = cffi.FFI()
    try:
        ffi.cdef(cdef)
    except cffi.CDefError as exc:
        raise CompileError(f"the cffi declarations of the C code for {what} do not parse: {exc}", what) from None
    source_path = entry / f"{module_name}.c"
    library = entry / (module_name + (sysconfig.get_config_var("EXT_SUFFIX") or ".so"))
    with store.scratch_dir(entry) as scratch:
        scratch = Path(scratch)
        make_c_source(ffi, module_name, source, str(scratch / source_path.name), verbose=False)
        os.replace(scratch / source_path.name, source_path)
        built = scratch / library.name
        argv = _argv(recipe, source_path, built)
        stats.compiler_runs += 1
        try:
            result = subprocess.run(argv, cwd=scratch, capture_output=True, text=True, errors="replace")
        except OSError as exc:
            raise CompileError(f"cannot run the C compiler {argv[0]!r} for {what}: {exc}", what, source_path) from None
        if result.returncode != 0 or not built.is_file():
            output = (result.stderr + result.stdout).strip()
            log = store.write_error_log(entry, what, f"$ {shlex.join(argv)}\n{output}\n")
            raise CompileError(_failure_message(what, result.returncode, output, source_path, log),
                               what, source_path, log, output)
        os.replace(built, library)
    (entry / store.ERROR_LOG).unlink(missing_ok=True)
    store.write_marker(entry, library, description=what, source=source_path.name)
    return library


def _failure_message(what, status, output, source_path, log):
    lines = output.splitlines() or ["(the compiler printed nothing)"]
    if len(lines) > ERROR_LINES:
        lines = lines[:ERROR_LINES] + [f"... {len(lines) - ERROR_LINES} more lines in {log}"]
    quoted = "\n".join("    " + line for line in lines)
    return (f"the C compiler failed (exit status {status}) on the code for {what}:\n{quoted}\n"
            f"source kept at {source_path}\ncompiler command and full output in {log}")
