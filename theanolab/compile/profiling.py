"""Per-node profiling of compiled functions: ``function(..., profile=True)`` then ``f.profile.summary()``.

In Theano's spirit (``ProfileStats``): a profiled function runs its nodes one
by one in the virtual machine (never as one generated C function, where a node
has no time of its own), with a VM hook that times every node and measures the
bytes of what it outputs.  The numbers accumulate over calls, so a student
calls the function a few times and then reads which nodes cost what:

>>> import theanolab, theanolab.tensor as T
>>> x = T.dvector('x')
>>> f = theanolab.function([x], T.exp(x).sum(), profile=True)
>>> _ = f([1.0, 2.0]); _ = f([3.0, 4.0])
>>> f.profile.calls, sorted(row.op for row in f.profile.node_rows())  # doctest: +SKIP
(2, ['Elemwise{exp,no_inplace}', 'Sum{acc_dtype=float64}'])

One :class:`ProfileStats` may be shared by several functions (pass it as
``profile=``): each node row then names its function.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass

import numpy as np

__all__ = ["ProfileStats", "NodeRow", "attach_profile"]


@dataclass
class NodeRow:
    """What one node cost, summed over the calls (``time`` in seconds, ``memory`` in bytes)."""

    function: str
    index: int  # position in the function's toposort
    node: object
    op: str
    time: float
    calls: int
    memory: int  # bytes of the node's outputs at its largest
    backend: str  # 'c' (a C kernel) or 'py' (Op.perform)

    @property
    def time_per_call(self):
        return self.time / self.calls if self.calls else 0.0


class _NodeStats:
    __slots__ = ("time", "calls", "memory")

    def __init__(self):
        self.time, self.calls, self.memory = 0.0, 0, 0


def _nbytes(value):
    return int(getattr(value, "nbytes", 0) or np.asarray(value).nbytes) if value is not None else 0


class _Timer:
    """VM hook: the clock starts before a node and stops after it (see ``VM``'s ``hook``)."""

    def __init__(self, stats, function_name):
        self.stats = stats
        self.function_name = function_name
        self.started = 0.0

    def before(self, index, node, inputs):
        self.started = time.perf_counter()

    def after(self, index, node, inputs, output_cells):
        elapsed = time.perf_counter() - self.started
        entry = self.stats._nodes.setdefault((self.function_name, index, node), _NodeStats())
        entry.time += elapsed
        entry.calls += 1
        entry.memory = max(entry.memory, sum(_nbytes(cell[0]) for cell in output_cells))


class ProfileStats:
    """Times and output sizes of every node of the functions profiled into it.

    ``calls`` and ``call_time`` count whole calls; :meth:`node_rows` gives one
    :class:`NodeRow` per node, most expensive first; :meth:`summary` prints
    them as a table.
    """

    def __init__(self, name="profile"):
        self.name = name
        self.calls = 0
        self.call_time = 0.0
        self._nodes = {}
        self._backends = {}

    def node_rows(self):
        """Every node that ran, most time first."""
        rows = [NodeRow(function, index, node, str(node.op), entry.time, entry.calls, entry.memory,
                        self._backends.get(node, "py"))
                for (function, index, node), entry in self._nodes.items()]
        return sorted(rows, key=lambda row: (-row.time, row.function, row.index))

    @property
    def node_time(self):
        """Seconds spent inside nodes (the rest of ``call_time`` is the VM and argument checks)."""
        return sum(entry.time for entry in self._nodes.values())

    def summary(self, file=None, n_apply_to_print=20):
        """Print (or return, with ``file='str'``) the per-node table, most expensive first."""
        rows = self.node_rows()
        total = self.node_time or 1e-300
        lines = [
            f"Function profiling: {self.name}",
            f"  {self.calls} call(s), {self.call_time:.6f}s in calls, {self.node_time:.6f}s in nodes",
            "",
            "   <% time> <sum %> <time (s)> <per call (s)> <calls> <output bytes> <backend> <id> <node>",
        ]
        cumulative = 0.0
        for row in rows[:n_apply_to_print]:
            share = 100.0 * row.time / total
            cumulative += share
            lines.append(f"   {share:7.1f}% {cumulative:6.1f}% {row.time:10.6f} {row.time_per_call:13.3e} "
                         f"{row.calls:7d} {row.memory:14d} {row.backend:>9} {row.index:4d} {row.op}"
                         + (f"  ({row.function})" if len({r.function for r in rows}) > 1 else ""))
        if len(rows) > n_apply_to_print:
            lines.append(f"   ... {len(rows) - n_apply_to_print} more node(s)")
        text = "\n".join(lines) + "\n"
        if file == "str":
            return text
        (sys.stdout if file is None else file).write(text)
        return None

    def __repr__(self):
        return f"<ProfileStats {self.name!r}: {self.calls} call(s), {len(self._nodes)} node(s)>"


class _ProfiledRunner:
    """The function's runner wrapped to count calls and their time."""

    def __init__(self, vm, stats):
        self.vm, self.stats = vm, stats
        self.cells, self.thunks = vm.cells, getattr(vm, "thunks", {})

    def __call__(self):
        started = time.perf_counter()
        try:
            return self.vm()
        finally:
            self.stats.calls += 1
            self.stats.call_time += time.perf_counter() - started


def attach_profile(function, profile):
    """Make ``function`` run node by node under a timer; return its :class:`ProfileStats`.

    ``profile`` is True (a new ProfileStats named after the function), a name,
    or a ProfileStats to accumulate into.  The nodes run where the mode would
    run them (C kernels with the C backend), in the virtual machine.
    """
    from theanolab.backends.py import VM
    from theanolab.compile.function import _outputs_that_may_alias
    from theanolab.compile.mode import Mode
    from theanolab.config import config

    maker = function.maker
    if type(maker.mode).build_runner is not Mode.build_runner:
        raise ValueError(f"profile=True needs a plain Mode; {type(maker.mode).__name__} runs its own checks "
                         "on every node (profile the function compiled with mode='FAST_RUN' instead)")
    if isinstance(profile, ProfileStats):
        stats = profile
    else:
        stats = ProfileStats(profile if isinstance(profile, str) else (function.name or "function"))
    timer = _Timer(stats, function.name or "function")
    cells = [c.storage for c in function._containers]
    if maker.mode.backend == "c":
        from theanolab.backends.c.linker import build_c_runner

        vm = build_c_runner(maker.fgraph, cells, allow_gc=config.allow_gc, hook=timer)
    else:
        vm = VM(maker.fgraph, cells, allow_gc=config.allow_gc, hook=timer)
    stats._backends.update({node: "c" if node in getattr(vm, "thunks", {}) else "py" for node in vm.nodes})
    function._vm = _ProfiledRunner(vm, stats)
    function._fast = None
    function._aliased_outputs = _outputs_that_may_alias(maker.fgraph, maker.n_outputs)
    function.profile = stats
    return stats
