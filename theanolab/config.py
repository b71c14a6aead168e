"""Configuration flags.

Every flag is declared here, in one table, so that an unknown flag given in
``THEANOLAB_FLAGS`` or ``~/.theanolabrc`` is an error at import time instead of
a silently ignored typo.  Flags are read in this order, later wins:

1. the default in the table below,
2. ``~/.theanolabrc`` (or the file named by ``THEANOLABRC``), an INI file whose
   ``[global]`` section holds plain names and whose other sections hold dotted
   names (``[traceback]`` / ``limit = 20`` sets ``traceback.limit``),
3. ``THEANOLAB_FLAGS``, a comma-separated list ``floatX=float32,device=cuda``,
4. assignments in code: ``theanolab.config.floatX = 'float32'``.

Dotted flags are reachable both as ``config.traceback.limit`` and
``config.traceback__limit`` (Theano's spelling).

>>> from theanolab import config
>>> with config.change_flags(floatX='float32'):
...     config.floatX
'float32'
"""

from __future__ import annotations

import configparser
import contextlib
import os
from dataclasses import dataclass
from typing import Any, Callable


class ConfigError(ValueError):
    """A flag name is unknown or its value is not allowed."""


@dataclass
class Flag:
    name: str
    default: Any
    doc: str
    parse: Callable[[Any], Any]


def _choice(*allowed):
    def parse(value):
        if value not in allowed:
            raise ConfigError(f"expected one of {allowed}, got {value!r}")
        return value

    parse.allowed = allowed
    return parse


def _bool(value):
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off"):
        return False
    raise ConfigError(f"expected a boolean, got {value!r}")


def _int(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ConfigError(f"expected an integer, got {value!r}") from None


def _device(value):
    value = str(value)
    if value == "cpu" or value == "cuda" or (value.startswith("cuda") and value[4:].isdigit()):
        return value
    raise ConfigError(f"expected 'cpu', 'cuda' or 'cudaN', got {value!r}")


def _default_compiledir():
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "theanolab")


_FLAGS = [
    Flag("floatX", "float64", "dtype of T.scalar(), T.matrix()... and of Python floats given to them",
         _choice("float64", "float32", "float16")),
    Flag("device", "cpu", "where compiled functions run: cpu, cuda, cudaN", _device),
    Flag("device_fallback", False, "with device=cuda and no usable GPU: warn and run on the CPU "
         "instead of raising", _bool),
    Flag("gpu_simulator", False, "device=cuda runs on a simulated GPU (NumPy arrays stand for GPU memory, "
         "the CUDA kernels are compiled for the CPU): for testing the CUDA backend without a GPU", _bool),
    Flag("mode", "FAST_RUN", "default compilation mode of theanolab.function",
         _choice("FAST_RUN", "FAST_COMPILE", "DebugMode", "DEBUG_MODE", "Mode", "NanGuardMode")),
    Flag("linker", "c|py", "default backend: c|py (C kernels where ops have them, NumPy elsewhere), "
         "c (the same), py (the NumPy reference, every node through Op.perform)", _choice("py", "c", "c|py")),
    Flag("optimizer", "fast_run", "default rewrite set", _choice("fast_run", "fast_compile", "None")),
    Flag("optimizer_verbose", False, "print every rewrite as it is applied", _bool),
    Flag("on_opt_error", "warn", "what a failing rewrite does: warn and skip it, ignore it, or raise",
         _choice("warn", "ignore", "raise")),
    Flag("optimizer_including", "", "colon-separated rewrite tags to add to the mode", str),
    Flag("optimizer_excluding", "", "colon-separated rewrite tags to remove from the mode", str),
    Flag("compiledir", _default_compiledir(), "on-disk cache of compiled C modules (read by the C backend)", str),
    Flag("cxx", "", "C compiler for the C backend (empty: the one Python was built with)", str),
    Flag("openmp", False, "C backend: parallelize large elementwise and reduction loops", _bool),
    Flag("openmp_elemwise_minsize", 200000, "smallest elementwise size run with OpenMP", _int),
    Flag("traceback.limit", 8, "user stack frames kept on every node to locate errors", _int),
    Flag("exception_verbosity", "low", "how much an error inside a compiled call says", _choice("low", "high")),
    Flag("allow_gc", True, "free intermediate results as soon as their last client ran", _bool),
    Flag("scan_trace", False, "scan records every iteration's inputs and outputs (f.scan_traces)", _bool),
    Flag("profile", False, "time every node of every compiled function (read f.profile.summary())", _bool),
]


class _Section:
    """A dotted prefix such as ``config.traceback`` giving access to ``limit``."""

    def __init__(self, config, prefix):
        object.__setattr__(self, "_config", config)
        object.__setattr__(self, "_prefix", prefix)

    def __getattr__(self, name):
        return self._config[f"{self._prefix}.{name}"]

    def __setattr__(self, name, value):
        self._config[f"{self._prefix}.{name}"] = value


class Config:
    """All flags; attribute access reads and writes them with validation."""

    def __init__(self, flags):
        object.__setattr__(self, "_flags", {f.name: f for f in flags})
        object.__setattr__(self, "_values", {f.name: f.parse(f.default) for f in flags})

    def _canonical(self, name):
        name = name.replace("__", ".")
        if name not in self._flags:
            known = ", ".join(sorted(self._flags))
            raise ConfigError(f"unknown config flag {name!r}; known flags: {known}")
        return name

    def __getitem__(self, name):
        return self._values[self._canonical(name)]

    def __setitem__(self, name, value):
        name = self._canonical(name)
        try:
            self._values[name] = self._flags[name].parse(value)
        except ConfigError as exc:
            raise ConfigError(f"config flag {name!r}: {exc}") from None

    def __getattr__(self, name):
        values = self._values
        if name in values:  # the common case, read on hot paths (config.floatX)
            return values[name]
        if name.startswith("_"):
            raise AttributeError(name)
        if any(flag.startswith(name + ".") for flag in self._flags):
            return _Section(self, name)
        try:
            return self[name]
        except ConfigError as exc:
            raise AttributeError(str(exc)) from None

    def __setattr__(self, name, value):
        self[name] = value

    def __dir__(self):
        return sorted({n.split(".")[0] for n in self._flags} | {n.replace(".", "__") for n in self._flags})

    def flags(self):
        """Return ``{name: (value, doc)}`` for every flag."""
        return {n: (self._values[n], f.doc) for n, f in self._flags.items()}

    @contextlib.contextmanager
    def change_flags(self, **changes):
        """Set flags inside a ``with`` block and restore them afterwards."""
        old = {name: self[name] for name in changes}
        try:
            for name, value in changes.items():
                self[name] = value
            yield self
        finally:
            for name, value in old.items():
                self[name] = value

    def update_from_string(self, text, origin):
        """Apply ``name=value,name=value`` pairs; ``origin`` names the source in errors."""
        for item in filter(None, (part.strip() for part in text.split(","))):
            if "=" not in item:
                raise ConfigError(f"{origin}: {item!r} is not of the form name=value")
            name, value = item.split("=", 1)
            try:
                self[name.strip()] = value.strip()
            except ConfigError as exc:
                raise ConfigError(f"{origin}: {exc}") from None

    def update_from_rcfile(self, path):
        parser = configparser.ConfigParser()
        parser.optionxform = str  # flag names are case sensitive (floatX)
        parser.read(path)
        for section in parser.sections():
            for name, value in parser.items(section):
                full = name if section == "global" else f"{section}.{name}"
                try:
                    self[full] = value
                except ConfigError as exc:
                    raise ConfigError(f"{path}: {exc}") from None


def _load():
    config = Config(_FLAGS)
    rcfile = os.environ.get("THEANOLABRC", os.path.join(os.path.expanduser("~"), ".theanolabrc"))
    if os.path.isfile(rcfile):
        config.update_from_rcfile(rcfile)
    config.update_from_string(os.environ.get("THEANOLAB_FLAGS", ""), "THEANOLAB_FLAGS")
    return config


config = _load()
change_flags = config.change_flags
