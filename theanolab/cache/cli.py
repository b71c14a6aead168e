"""``python -m theanolab.cache list|clear|stats``: look into or empty the compiled-module cache.

The build counters of :mod:`theanolab.backends.c.build` belong to one process,
so this command reports what is on disk: entries, their state, size and last
use.  It reads ``config.compiledir`` like every theanolab process
(``THEANOLAB_FLAGS=compiledir=...``) and creates nothing.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter

from theanolab.cache import store

__all__ = ["main"]

KIND = "c"
_DAY = 86400.0


def _size(count):
    """Bytes in the units ``du -h`` would use."""
    for unit in ("B", "KiB", "MiB", "GiB"):
        if count < 1024 or unit == "GiB":
            return f"{count:.0f} {unit}" if unit == "B" else f"{count:.1f} {unit}"
        count /= 1024


def _modules(count):
    return f"{count} compiled module{'' if count == 1 else 's'}"


def _date(seconds):
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(seconds))


def _list(args, out):
    found = store.entries(KIND)
    location = store.configured_root(KIND)
    if not found:
        print(f"no compiled modules in {location}", file=out)
        return 0
    print(f"{_modules(len(found))} in {location} (oldest use first)", file=out)
    print(f"{'key':<14}{'status':<12}{'size':>10}  {'last used':<18}description", file=out)
    for info in found:
        print(f"{info.key[:12]:<14}{info.status:<12}{_size(info.size):>10}  {_date(info.last_used):<18}"
              f"{' '.join(info.description.split())}", file=out)  # one line, whatever the op's name
    return 0


def _clear(args, out):
    location = store.configured_root(KIND)
    cutoff = None if args.older_than is None else time.time() - args.older_than * _DAY
    removed, freed, busy = 0, 0, 0
    for info in store.entries(KIND):
        if cutoff is not None and info.last_used >= cutoff:
            continue
        if store.remove_entry(info.path):
            removed, freed = removed + 1, freed + info.size
        else:
            busy += 1
    days = args.older_than
    scope = "" if cutoff is None else f" unused for {days:g} day{'' if days == 1 else 's'}"
    print(f"removed {_modules(removed)}{scope} ({_size(freed)}) from {location}", file=out)
    if busy:
        print(f"kept {busy} in use by a running process", file=out)
    return 0


def _stats(args, out):
    from theanolab.backends.c import build

    found = store.entries(KIND)
    states = Counter(info.status for info in found)
    compiler = " ".join(build.compiler_command())
    rows = [
        ("cache directory", str(store.configured_root(KIND))),
        ("entries", f"{len(found)}" + (f" ({', '.join(f'{n} {s}' for s, n in sorted(states.items()))})"
                                       if found else "")),
        ("total size", _size(sum(info.size for info in found))),
    ]
    if found:
        rows.append(("last used", f"{_date(found[0].last_used)} (oldest) to {_date(found[-1].last_used)} (newest)"))
    rows.append(("C compiler", f"{compiler} ({'found' if build.compiler_available() else 'NOT FOUND'})"))
    for name, value in rows:
        print(f"{name:<17}{value}", file=out)
    return 0


def _parser():
    parser = argparse.ArgumentParser(
        prog="python -m theanolab.cache",
        description="Inspect or empty theanolab's cache of compiled C modules (config.compiledir).")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("list", help="one line per module: key, status, size, last use, op(s)")
    clear = commands.add_parser("clear", help="remove all modules, or those unused for some days")
    clear.add_argument("--older-than", type=float, metavar="DAYS",
                       help="remove only modules not used for DAYS days")
    commands.add_parser("stats", help="entries, total size, the C compiler in use")
    return parser


_COMMANDS = {"list": _list, "clear": _clear, "stats": _stats}


def main(argv=None, out=None):
    """Run the command line ``argv`` (default ``sys.argv[1:]``); returns the exit status."""
    args = _parser().parse_args(argv)
    if args.command == "clear" and args.older_than is not None and args.older_than < 0:
        _parser().error(f"--older-than expects a number of days >= 0, got {args.older_than:g}")
    return _COMMANDS[args.command](args, out or sys.stdout)
