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

Bundles.  A compiler run costs ~0.12 s before any code (cc1 starting,
parsing Python.h for cffi's glue), and a small elementwise kernel at -O3
~0.06 s more; a function's kernels, one module each, paid the first cost
once per kernel.  :func:`load_pieces` builds the pieces (kernels, a
whole-function driver) a function is missing into few modules instead: one
per group of equal compile flags, split across the cores when its code
outweighs a run's fixed cost, all compiled concurrently.  Each piece keeps
its own key (that of the module it would have alone), and its entry holds
a link marker naming the bundle's entry, written after the bundle's own
marker.  So a piece is found by its key alone, from any later function or
process, whatever else its bundle held; a link counts only while the
bundle it names is complete (a damaged bundle is a missing piece, rebuilt);
processes building the same pieces make the same bundles (deterministic
partition) and serialize on the bundle's lock; ``list`` shows the bundle
and each piece as ``(in bundle KEY)``.  An index per piece (rather than a
bundle named by a function) is what lets the cache answer for a kernel it
saw in another function.  A bundle the compiler refuses is built again piece
by piece, so the error names the failing op and keeps that piece's source.

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
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from theanolab.cache import store
from theanolab.config import config

__all__ = [
    "CompileError", "Piece", "load_module", "load_pieces", "forget_loaded", "compiler_available", "compiler_command", "stats",
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
    _require_compiler(description, recipe)
    return _load_or_build(key, cdef, source, description, recipe)


def _require_compiler(description, recipe):
    if not compiler_available():
        raise CompileError(f"cannot build the C code for {description or 'a C module'}: the C compiler "
                           f"{recipe[0][0]!r} was not found (set config.cxx, e.g. THEANOLAB_FLAGS=cxx=gcc)",
                           description)


def _module_name(key):
    return f"_theanolab_{key[:24]}"


def _load_or_build(key, cdef, source, description, recipe):
    """The module of ``key``: from memory, from its complete entry, else built there (its lock held)."""
    module_name = _module_name(key)
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


@dataclass(frozen=True)
class Piece:
    """One C function to build, alone or in a bundle with others (:func:`load_pieces`).

    ``code`` defines ``symbol``, declared to cffi by ``declaration`` (which
    may use the types of ``typedefs``); ``headers`` are shipped headers it
    includes; ``options`` are cffi ``set_source`` keywords as ``(name,
    values)`` pairs; ``description`` names the op(s) for errors and ``list``.
    Pieces bundle together only when their ``typedefs`` and compile flags
    agree (include folders and link arguments are united), and their code
    must then share one translation unit: file-scope names other than
    ``symbol`` are ``static`` and unique to the piece.  A ``portable``
    piece (a whole-function driver: calls, copies, integer arithmetic) is
    correct under any flags, so it joins any bundle; at most one piece of a
    call may define a given non-static name.
    """

    symbol: str
    declaration: str
    code: str
    headers: tuple = ()
    typedefs: str = ""
    description: str = ""
    options: tuple = ()
    portable: bool = False

    def alone(self):
        """``(cdef, source)`` of this piece's own module: the one its cache key names."""
        return self.typedefs + self.declaration, "".join(f'#include "{h}"\n' for h in self.headers) + self.code


def load_pieces(pieces, bundles=None):
    """The module exporting each piece's symbol, one per piece, building the missing ones in few compiler runs.

    A piece's key is the key of its own module (``Piece.alone``).  Pieces in
    memory or in the cache (their own entry, or a link to a bundle) load
    with no compiler run; the missing ones are built into at most
    ``bundles`` modules (default: one per core), compiled concurrently, and
    their entries linked to the bundle that holds them.  A bundle the
    compiler refuses is built again piece by piece, so the error names the
    failing op and keeps its own source.
    """
    pieces = list(pieces)
    recipes = [_recipe(dict(piece.options)) for piece in pieces]
    keys = [_module_key(*piece.alone(), recipe) for piece, recipe in zip(pieces, recipes)]
    found, missing = {}, {}
    for piece, recipe, key in zip(pieces, recipes, keys):
        if key in found or key in missing:
            continue
        if key in _loaded:
            stats.memory_hits += 1
            found[key] = _loaded[key]
        else:
            missing[key] = (piece, recipe)
    if missing:
        piece, recipe = next(iter(missing.values()))
        _require_compiler(piece.description or piece.symbol, recipe)
    for key, (piece, recipe) in list(missing.items()):
        module = _from_disk(key, piece, recipe)
        if module is not None:
            found[key] = module
            del missing[key]
    groups = _partition(missing, bundles or os.cpu_count() or 1)
    if len(groups) == 1:
        found.update(_build_bundle(*groups[0]))
    elif groups:
        with ThreadPoolExecutor(max_workers=len(groups)) as pool:  # the compiler runs as a subprocess
            for built in pool.map(lambda group: _build_bundle(*group), groups):
                found.update(built)
    return [found[key] for key in keys]


def _from_disk(key, piece, recipe):
    """The module holding ``piece`` if the cache has it complete (its own entry or its bundle's), else None."""
    entry = store.entry_path("c", key)
    bundle = store.read_link(entry)
    if bundle is not None:
        module = _load_complete(bundle)
        if module is not None:
            _loaded[key] = module
        return module
    if store.read_marker(entry, verify=False) is not None:  # built alone (a bundle that failed, an old cache)
        return _load_or_build(key, *piece.alone(), piece.description or piece.symbol, recipe)
    return None


def _load_complete(key):
    """The module of the complete entry ``key`` (a bundle), or None if it is missing, damaged or does not load."""
    if key in _loaded:
        return _loaded[key]
    if not store.entry_path("c", key).is_dir():
        return None
    entry = store.open_entry("c", key)
    with store.locked(entry):
        if key in _loaded:
            return _loaded[key]
        library = store.read_marker(entry)
        if library is None:
            return None
        try:
            module = _import(_module_name(key), library)
        except ImportError:
            return None  # rebuilt with the pieces it should hold
        stats.disk_hits += 1
        store.touch(entry)
        _loaded[key] = module
    return module


#: the compiler's cost of one module beyond its pieces' code (parsing Python.h...), in units of one small
#: kernel's code at -O3 (measured: ~0.12 s per module, ~0.06 s per elementwise kernel of ~1,500 characters)
_MODULE_COST = 2.0
_PIECE_CHARS = 1500


def _cost(piece):
    return 1.0 + len(piece.code) / _PIECE_CHARS


def _compile_flags(recipe):
    """What pieces must agree on to share a compiler run: the compiler and its arguments, include
    folders aside (deduplicated, so ``-fwrapv`` given twice is ``-fwrapv`` once)."""
    compiler, compile_args, _ = recipe
    return compiler, tuple(dict.fromkeys(a for a in compile_args if not a.startswith("-I")))


def _merged_recipe(recipes):
    """One recipe building pieces of equal compile flags: their include folders and link arguments
    united (additive: a library or folder one piece needs changes no other piece's code)."""
    compiler = recipes[0][0]
    return (compiler, tuple(dict.fromkeys(a for r in recipes for a in r[1])),
            tuple(dict.fromkeys(a for r in recipes for a in r[2])))


def _partition(missing, bundles):
    """``[(recipe, [(key, piece, recipe)...])...]``: the missing pieces grouped by compile flags, a group
    split into up to ``bundles`` modules when its code outweighs a module's fixed cost, balanced
    by code size; ``portable`` pieces join the largest group.  Deterministic, so processes building
    the same pieces at once make the same bundles and share their lock."""
    if not missing:
        return []
    by_flags, portable = {}, []
    for key, (piece, recipe) in sorted(missing.items()):
        if piece.portable:
            portable.append((key, piece, recipe))
        else:
            by_flags.setdefault((piece.typedefs, _compile_flags(recipe)), []).append((key, piece, recipe))
    if not by_flags:
        by_flags[None], portable = portable, []
    groups = []
    for members in by_flags.values():
        total = sum(_cost(m[1]) for m in members)
        count = max(1, min(bundles, len(members), int(total // (8 * _MODULE_COST))))
        bins = [[0.0, []] for _ in range(count)]
        for member in sorted(members, key=lambda m: (-_cost(m[1]), m[0])):
            lightest = min(bins, key=lambda b: b[0])
            lightest[0] += _cost(member[1])
            lightest[1].append(member)
        groups += [sorted(b[1]) for b in bins]
    groups.sort(key=lambda group: (-len(group), group[0][0]))
    groups[0] = sorted(groups[0] + portable)
    return [(_merged_recipe([m[2] for m in group if not m[1].portable] or [group[0][2]]), group)
            for group in groups]


def _build_bundle(recipe, members):
    """``{key: module}`` of ``members`` built into one module (alone if one), their entries linked to it."""
    if len(members) == 1:
        key, piece, own = members[0]
        return {key: _load_or_build(key, *piece.alone(), piece.description or piece.symbol, own)}
    typedefs = members[0][1].typedefs
    headers = list(dict.fromkeys(h for _, piece, _ in members for h in piece.headers))
    cdef = typedefs + "\n".join(piece.declaration for _, piece, _ in members)
    source = "".join(f'#include "{h}"\n' for h in headers) + "\n".join(piece.code for _, piece, _ in members)
    key = _module_key(cdef, source, recipe)
    description = f"bundle of {len(members)}: " + "; ".join(piece.description or piece.symbol
                                                             for _, piece, _ in members)
    try:
        module = _load_or_build(key, cdef, source, description, recipe)
    except CompileError:
        # Which piece fails?  Built alone, the failing one raises naming its op, with its own source.
        with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
            alone = list(pool.map(lambda m: _load_or_build(m[0], *m[1].alone(), m[1].description or m[1].symbol,
                                                           m[2]), members))
        return {member[0]: built for member, built in zip(members, alone)}
    for piece_key, piece, _ in members:
        _loaded[piece_key] = module
        _link(piece_key, key, piece)
    return {member[0]: module for member in members}


def _link(key, bundle_key, piece):
    """Record in the entry of ``key`` that ``bundle_key`` holds its code (a cache that cannot be written
    only loses the shortcut: a later process builds the piece again)."""
    try:
        entry = store.open_entry("c", key)
        if store.read_link(entry) == bundle_key:
            return
        with store.locked(entry):
            store.write_link(entry, bundle_key, description=piece.description or piece.symbol, symbol=piece.symbol)
    except OSError:
        pass


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
