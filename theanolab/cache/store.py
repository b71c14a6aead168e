"""The on-disk store of compiled modules: private folders, locked entries, vouched-for libraries.

Layout, for a backend ``kind`` such as ``"c"``::

    <config.compiledir>/<kind>/             the store's root, mode 0o700
        <key[:2]>/<key>/                    one entry per module, mode 0o700
            lock                            flock'd while the entry is built, loaded or removed
            <module>.c                      the generated source, kept for compile errors
            <module><EXT_SUFFIX>            the built library
            complete                        the marker (JSON), written last; or, for a
                                            kernel built into a bundle, a link marker
                                            naming the bundle's entry (no library here)
            compile-error.txt               the compiler's output of the last failed build
            .tmp-*                          scratch of a build in progress

Why each rule:

- Every file is written under a scratch name inside the entry and moved into
  place with ``os.replace``, and the marker comes last and records the
  library's size and SHA-256.  A reader trusts a library only if the marker
  vouches for it, so a build killed half-way, a truncated or garbled file, or
  a marker from another format is rebuilt instead of loaded (or crashing).
- Builders of one entry are serialized by ``flock`` on ``lock``.  The kernel
  releases it when a process dies, so a killed build never blocks the next
  one, and the next builder removes the dead one's scratch.
- A link marker is written only after its bundle's own marker, and is
  trusted only as far as that bundle's marker is: a link to a missing or
  damaged bundle is a missing entry.
- Loading a library runs its code, so an entry must belong to the user and be
  writable by nobody else; anything else is not loaded.  A compiledir that
  cannot be created, written or trusted is replaced, for this process, by a
  private temporary one, with one warning.
"""

from __future__ import annotations

import atexit
import contextlib
import fcntl
import hashlib
import json
import os
import shutil
import stat
import tempfile
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

from theanolab.config import config

__all__ = [
    "CompiledirWarning", "EntryInfo", "MARKER", "ERROR_LOG", "configured_root", "root", "open_entry", "locked",
    "clean_scratch", "scratch_dir", "write_atomic", "read_marker", "write_marker", "write_error_log",
    "write_link", "read_link", "entry_path", "discard_marker", "touch", "entries", "remove_entry", "private_problem",
]

MARKER = "complete"
LOCK = "lock"
ERROR_LOG = "compile-error.txt"
SCRATCH_PREFIX = ".tmp-"
FORMAT = 1  # marker format; a marker of any other format does not vouch for its entry


class CompiledirWarning(UserWarning):
    """The configured compiledir (or one entry of it) is not used; a private one is."""


def private_problem(path):
    """Why ``path`` is not a folder private to this user (a link counts as not), or None when it is."""
    try:
        info = path.lstat()
    except OSError as exc:
        return f"{path} cannot be read ({exc.strerror})"
    if stat.S_ISLNK(info.st_mode):
        return f"{path} is a symbolic link"
    if not stat.S_ISDIR(info.st_mode):
        return f"{path} is not a directory"
    if info.st_uid != os.geteuid():
        return f"{path} is owned by uid {info.st_uid}, not by you (uid {os.geteuid()})"
    if info.st_mode & 0o022:
        return f"{path} is writable by other users (mode {stat.S_IMODE(info.st_mode):o})"
    return None


def _make_private_dir(path):
    """Create ``path`` with mode 0o700 whatever the umask (or check the existing one)."""
    try:
        path.mkdir(mode=0o700)
    except FileExistsError:
        return private_problem(path)
    os.chmod(path, 0o700)
    return None


def _private_tree(base, *parts):
    """``(base/parts..., problem)``: each level created private; stops at the first problem (else None)."""
    path = base
    for part in parts:
        path = path / part
        problem = _make_private_dir(path)
        if problem is not None:
            return path, problem
    return path, None


def configured_root(kind):
    """``<config.compiledir>/<kind>``, as configured (nothing is created or checked)."""
    return Path(config.compiledir).expanduser() / kind


_roots = {}      # (compiledir, kind) -> the root in use
_fallbacks = {}  # compiledir -> this process's private temporary replacement
_warned_entries = set()  # untrusted entries already warned about


def _private_temporary(compiledir):
    """This process's private replacement for ``compiledir``, removed when the process exits."""
    if compiledir not in _fallbacks:
        path = Path(tempfile.mkdtemp(prefix="theanolab-compiledir-"))  # mode 0o700
        atexit.register(shutil.rmtree, path, True)
        _fallbacks[compiledir] = path
    return _fallbacks[compiledir]


def _usable_problem(path):
    """Why ``path`` cannot serve as a store root, or None after making sure it can."""
    try:
        compiledir = path.parent
        if not compiledir.is_dir():
            compiledir.parent.mkdir(parents=True, exist_ok=True)
            with contextlib.suppress(FileExistsError):
                compiledir.mkdir(mode=0o700)
        problem = _make_private_dir(path)
        if problem is None:
            handle, probe = tempfile.mkstemp(prefix=SCRATCH_PREFIX, dir=path)
            os.close(handle)
            os.unlink(probe)
        return problem
    except OSError as exc:
        return f"{exc.filename or path}: {exc.strerror or exc}"


def root(kind):
    """The store's root for ``kind``: the configured one, or a private temporary one (one warning)."""
    compiledir = config.compiledir
    cached = _roots.get((compiledir, kind))
    if cached is not None and cached.is_dir():
        return cached
    path = configured_root(kind)
    problem = _usable_problem(path)
    if problem is not None:
        fresh = compiledir not in _fallbacks
        path, _ = _private_tree(_private_temporary(compiledir), kind)
        if fresh:
            warnings.warn(
                f"config.compiledir {compiledir!r} cannot be used ({problem}); compiled modules go to "
                f"the private temporary directory {path.parent} for this process. Set "
                "THEANOLAB_FLAGS=compiledir=<a writable directory of yours> to keep them.",
                CompiledirWarning, stacklevel=4)
    _roots[(compiledir, kind)] = path
    return path


def open_entry(kind, key):
    """The entry folder of ``key``, created private; an untrusted one is replaced (one warning)."""
    entry, problem = _private_tree(root(kind), key[:2], key)
    if problem is None:
        return entry
    private, _ = _private_tree(_private_temporary(config.compiledir), kind, key[:2], key)
    if entry not in _warned_entries:
        _warned_entries.add(entry)
        warnings.warn(f"compiled module not loaded from the cache: {problem}; building it in the private "
                      f"temporary directory {private} instead", CompiledirWarning, stacklevel=4)
    return private


@contextlib.contextmanager
def locked(entry, blocking=True):
    """Hold ``entry``'s lock; yields True, or False (holding nothing) if busy and not ``blocking``.

    A lock taken on a lock file that was removed meanwhile (the entry was
    cleared while we waited) protects nothing: the entry is made again and
    the lock taken on its new file.
    """
    path = entry / LOCK
    while True:
        _private_tree(entry.parent.parent, entry.parent.name, entry.name)
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | (0 if blocking else fcntl.LOCK_NB))
            except BlockingIOError:
                yield False
                return
            try:
                current = os.stat(path)
            except FileNotFoundError:
                continue
            held = os.fstat(fd)
            if (current.st_dev, current.st_ino) == (held.st_dev, held.st_ino):
                yield True
                return
        finally:
            os.close(fd)  # closing releases the lock


def clean_scratch(entry):
    """Remove scratch left by a build that died (call with the lock held)."""
    for child in entry.iterdir():
        if child.name.startswith(SCRATCH_PREFIX):
            if child.is_dir() and not child.is_symlink():
                shutil.rmtree(child, ignore_errors=True)
            else:
                child.unlink(missing_ok=True)


def scratch_dir(entry):
    """A scratch folder inside ``entry`` (same file system, so ``os.replace`` works), removed after."""
    return tempfile.TemporaryDirectory(prefix=SCRATCH_PREFIX, dir=entry)


def write_atomic(path, data):
    """Write ``data`` (str or bytes) to ``path`` so readers see the old file or the whole new one."""
    handle, scratch = tempfile.mkstemp(prefix=SCRATCH_PREFIX, dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data.encode() if isinstance(data, str) else data)
        os.replace(scratch, path)
    except BaseException:
        Path(scratch).unlink(missing_ok=True)
        raise


def _digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _marker(entry):
    """The marker's fields if it parses and names a plain file of this entry, else None."""
    try:
        fields = json.loads((entry / MARKER).read_text())
    except (OSError, UnicodeDecodeError, ValueError):
        return None
    if not isinstance(fields, dict) or fields.get("format") != FORMAT:
        return None
    name = fields.get("library")
    if not isinstance(name, str) or Path(name).name != name or name in ("", ".", ".."):
        return None
    return fields


def read_marker(entry, verify=True):
    """The library the marker vouches for, or None (missing, garbled, truncated, foreign, altered).

    ``verify=False`` skips the SHA-256 (size only): enough for listing.
    """
    fields = _marker(entry)
    if fields is None:
        return None
    library = entry / fields["library"]
    try:
        info = library.lstat()
    except OSError:
        return None
    if not stat.S_ISREG(info.st_mode) or info.st_uid != os.geteuid() or info.st_size != fields.get("size"):
        return None
    if verify and _digest(library) != fields.get("sha256"):
        return None
    return library


def entry_path(kind, key):
    """Where the entry of ``key`` is (nothing is created or checked)."""
    return root(kind) / key[:2] / key


def _is_key(value):
    return isinstance(value, str) and len(value) == 64 and all(c in "0123456789abcdef" for c in value)


def write_link(entry, bundle_key, **details):
    """Point ``entry`` at the entry ``bundle_key`` (same store), whose library holds its code.

    Written after the bundle's marker, so a link never names a bundle still being built.
    """
    fields = {"format": FORMAT, "bundle": bundle_key, "created": time.time(), **details}
    write_atomic(entry / MARKER, json.dumps(fields, indent=1) + "\n")


def read_link(entry):
    """The bundle key ``entry``'s link marker names, or None (no link, garbled, another format)."""
    try:
        fields = json.loads((entry / MARKER).read_text())
    except (OSError, UnicodeDecodeError, ValueError):
        return None
    if not isinstance(fields, dict) or fields.get("format") != FORMAT or not _is_key(fields.get("bundle")):
        return None
    return fields["bundle"]


def write_marker(entry, library, **details):
    """Vouch for ``library`` (already in place): the last write of a build."""
    fields = {"format": FORMAT, "library": library.name, "size": library.stat().st_size,
              "sha256": _digest(library), "created": time.time(), **details}
    write_atomic(entry / MARKER, json.dumps(fields, indent=1) + "\n")


_ERROR_HEADER = "failed build of: "


def write_error_log(entry, description, text):
    """Keep a failed build's compiler output (its first line names the op for ``list``); returns the path."""
    log = entry / ERROR_LOG
    write_atomic(log, f"{_ERROR_HEADER}{' '.join(description.split())}\n{text}")
    return log


def _error_description(entry):
    with contextlib.suppress(OSError, UnicodeDecodeError):
        with open(entry / ERROR_LOG, encoding="utf-8") as log:
            first = log.readline().rstrip("\n")
        if first.startswith(_ERROR_HEADER):
            return first[len(_ERROR_HEADER):]
    return ""


def discard_marker(entry):
    (entry / MARKER).unlink(missing_ok=True)


def touch(entry):
    """Record a use (the marker's mtime is the entry's "last used" date); a read-only store is fine."""
    with contextlib.suppress(OSError):
        os.utime(entry / MARKER)


@dataclass(frozen=True)
class EntryInfo:
    """One entry as ``python -m theanolab.cache list`` shows it."""

    path: Path
    key: str
    status: str        # complete, failed (compiler error), incomplete, or foreign
    size: int          # bytes of all its files
    last_used: float   # seconds since the epoch
    description: str


def _describe(entry):
    files = [child for child in entry.iterdir() if child.is_file() and not child.is_symlink()]
    size = sum(child.stat().st_size for child in files)
    fields = _marker(entry) or {}
    bundle = read_link(entry)
    if bundle is not None:  # a kernel built into a bundle: complete while the bundle is
        fields = json.loads((entry / MARKER).read_text())
        fields["description"] = f"{fields.get('description', '')} (in bundle {bundle[:12]})"
    if private_problem(entry) is not None:
        status = "foreign"
    elif bundle is not None:
        linked = entry.parent.parent / bundle[:2] / bundle
        status = "complete" if read_marker(linked, verify=False) is not None else "incomplete"
    elif read_marker(entry, verify=False) is not None:
        status = "complete"
    elif (entry / ERROR_LOG).exists():
        status = "failed"
    else:
        status = "incomplete"
    description = str(fields.get("description", "")) if fields else _error_description(entry)
    dated = entry / MARKER if (entry / MARKER).exists() else entry
    return EntryInfo(entry, entry.name, status, size, dated.stat().st_mtime, description)


def entries(kind):
    """Every entry of the configured store, oldest use first (nothing is created)."""
    base = configured_root(kind)
    if not base.is_dir():
        return []
    found = []
    for prefix in base.iterdir():
        if prefix.is_dir() and not prefix.is_symlink() and len(prefix.name) == 2:
            for entry in prefix.iterdir():
                if entry.is_dir() and entry.name.startswith(prefix.name):  # a linked one shows as foreign
                    with contextlib.suppress(FileNotFoundError):  # removed meanwhile
                        found.append(_describe(entry))
    return sorted(found, key=lambda info: info.last_used)


def remove_entry(entry):
    """Remove ``entry`` unless a process is building or loading it; True if removed."""
    if entry.is_symlink():
        entry.unlink()  # the link only: what it points to is not ours to remove
        return True
    if not entry.is_dir():
        return True
    with locked(entry, blocking=False) as held:
        if not held:
            return False
        shutil.rmtree(entry, ignore_errors=True)
    with contextlib.suppress(OSError):
        entry.parent.rmdir()  # the prefix folder, once empty
    return True
