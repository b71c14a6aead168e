"""The profiling view: where a compiled function spends its time, as a table and as heat on its graph.

Compile with ``profile=True``, call the function, then ``profile_view(f)``:
each node of the optimized graph is filled from pale yellow (no time) to red (the
most expensive) and labelled with its time and share; the table lists the
same numbers with the bytes each node outputs (see
:mod:`theanolab.compile.profiling`).
"""

from __future__ import annotations

import html

from theanolab.viz.graphview import graph

__all__ = ["ProfileView", "profile_view", "heat"]


def heat(share):
    """A fill colour for ``share`` in [0, 1]: pale yellow, through orange, to red."""
    share = min(1.0, max(0.0, float(share)))
    green_blue = int(round(255 * (1 - share)))
    return f"#ff{green_blue:02x}{int(round(green_blue * 0.8)):02x}"


def _bytes(count):
    for unit in ("B", "KiB", "MiB", "GiB"):
        if count < 1024 or unit == "GiB":
            return f"{count:.0f} {unit}" if unit == "B" else f"{count:.1f} {unit}"
        count /= 1024
    return f"{count} B"


class ProfileView:
    """A profiled function's table and heat-coloured graph (``rows``: :class:`NodeRow`, most time first)."""

    def __init__(self, function, engine=None):
        stats = getattr(function, "profile", None)
        if stats is None:
            raise ValueError(f"{function} was not compiled with profile=True: nothing to show")
        if not stats.calls:
            raise ValueError(f"{function} was compiled with profile=True but never called: call it first")
        self.function, self.stats = function, stats
        nodes = set(function.maker.fgraph.apply_nodes)
        self.rows = [row for row in stats.node_rows() if row.node in nodes]
        total = sum(row.time for row in self.rows) or 1e-300
        self.share = {row.node: row.time / total for row in self.rows}
        top = max(self.share.values(), default=1.0) or 1.0
        self.graph = graph(function, engine=engine, title="time per node (red: most)",
                           fill={node: heat(share / top) for node, share in self.share.items()},
                           notes={row.node: f"{1e3 * row.time_per_call:.3f} ms/call ({100 * self.share[row.node]:.0f}%)"
                                  for row in self.rows})

    def table_html(self):
        rows = "".join(
            f"<tr><td style='background:{heat(self.share[row.node] / max(self.share.values()))}'>"
            f"{100 * self.share[row.node]:.1f}%</td><td>{1e3 * row.time_per_call:.4f}</td><td>{row.calls}</td>"
            f"<td>{_bytes(row.memory)}</td><td>{row.backend}</td><td>{row.index}</td>"
            f"<td style='text-align:left'><code>{html.escape(row.op)}</code></td></tr>" for row in self.rows)
        return ("<table class='tl-profile'><thead><tr><th>time</th><th>ms/call</th><th>calls</th>"
                "<th>output</th><th>backend</th><th>id</th><th>node</th></tr></thead>"
                f"<tbody>{rows}</tbody></table>")

    def html(self):
        return (f"<div class='tl-profile-view'><div>{self.stats.calls} call(s), "
                f"{1e3 * self.stats.call_time / self.stats.calls:.3f} ms per call</div>"
                f"{self.table_html()}{self.graph.html()}</div>")

    def _repr_mimebundle_(self, include=None, exclude=None):
        return {"text/html": self.html(), "text/plain": self.stats.summary(file="str")}

    def __repr__(self):
        return self.stats.summary(file="str")


def profile_view(function, engine=None):
    """A :class:`ProfileView` of ``function`` (compiled with ``profile=True`` and called at least once)."""
    return ProfileView(function, engine)
