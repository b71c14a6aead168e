"""The catalog of registered rewrites: every phase and rule, with its tags, source and rule text.

It is what ``docs/rewrites.md`` shows, generated rather than written by hand
so it cannot drift from the code::

    python -m theanolab.graph.rewriting.catalog            # the Markdown table
    python -m theanolab.graph.rewriting.catalog --write docs/rewrites.md

The graph layer knows no tensor rule, so the command first imports the module
that registers them (``theanolab.tensor.rewriting``, or ``--rules MODULE``).

>>> from theanolab.graph.rewriting.catalog import catalog
>>> [row.name for row in catalog() if row.phase == "merge1"]
['merge']
"""

from __future__ import annotations

import argparse
import importlib
import posixpath
import sys
from dataclasses import dataclass
from pathlib import Path

from theanolab.graph.rewriting.basic import GraphRewriter
from theanolab.graph.rewriting.db import RewriteGroup, optdb
from theanolab.graph.rewriting.pattern import PatternRewriter

__all__ = ["RuleInfo", "catalog", "reason_of", "reasons", "markdown_table", "replace_between_markers", "BEGIN", "END", "main"]

BEGIN = "<!-- rules:begin (written by python -m theanolab.graph.rewriting.catalog --write) -->"
END = "<!-- rules:end -->"

#: tags every rule of a phase carries anyway: left out of the table to keep it readable
_IMPLIED_TAGS = {"fast_run"}


@dataclass(frozen=True)
class RuleInfo:
    """One row of the catalog: a rule (or a whole-phase graph rewriter) and where it runs."""

    phase: str
    position: float
    name: str
    kind: str  # "pattern", "node" or "graph"
    tags: tuple
    source: tuple | None  # (file relative to the theanolab package, line)
    doc: str
    why: str = ""  # one sentence: the reason the rule fires (see reason_of)

    @property
    def where(self):
        """``theanolab/<file>:<line>``, the place a student opens to read the rule."""
        return f"{posixpath.normpath('theanolab/' + self.source[0])}:{self.source[1]}" if self.source else ""


def _kind(rewriter):
    if isinstance(rewriter, PatternRewriter):
        return "pattern"
    return "graph" if isinstance(rewriter, GraphRewriter) else "node"


def _first_line(rewriter):
    doc = getattr(rewriter, "__doc__", None) or ""
    lines = [line.strip() for line in doc.strip().splitlines()]
    return lines[0] if lines else ""


def reason_of(rewriter):
    """The one sentence saying why ``rewriter`` fires, shown by the catalog and the rewrite stepper.

    It is the docstring's ``Why:`` paragraph, or else what follows the first
    ``": "`` after the arrow of the first line (``log(1 + x) -> log1p(x): for
    |x| < 1e-16, ...``); empty when the docstring says neither.
    """
    lines = [line.strip() for line in (getattr(rewriter, "__doc__", None) or "").strip().splitlines()]
    for index, line in enumerate(lines):
        if line.startswith("Why:"):
            paragraph = [line[len("Why:"):].strip()]
            for more in lines[index + 1:]:
                if not more:
                    break
                paragraph.append(more)
            return " ".join(paragraph)
    _, arrow, result = (lines[0] if lines else "").partition("->")
    return result.split(": ", 1)[1] if arrow and ": " in result else ""


def _info(phase, rewriter, name, tags):
    return RuleInfo(phase.name, phase.position, name, _kind(rewriter),
                    tuple(sorted(set(tags) - {name} - _IMPLIED_TAGS)),
                    getattr(rewriter, "source", None), _first_line(rewriter), reason_of(rewriter))


def catalog(db=optdb):
    """Every phase of ``db`` in running order, and inside a group every rule in registration order."""
    rows = []
    for phase in sorted(db.entries.values(), key=lambda e: (e.position, e.name)):
        if isinstance(phase.rewriter, RewriteGroup):
            rows.extend(_info(phase, entry.rewriter, entry.name, entry.tags)
                        for entry in phase.rewriter.entries.values())
        else:
            name = phase.rewriter.name or phase.name
            rows.append(_info(phase, phase.rewriter, name, phase.tags - {phase.name}))
    return rows


def reasons(db=optdb):
    """``{rule name: why it fires}`` for every rule of ``db`` (what the rewrite stepper shows)."""
    return {row.name: row.why for row in catalog(db)}


def _escape(text):
    return text.replace("|", "\\|")


def markdown_table(rows):
    """The catalog as a Markdown table (one line per rule)."""
    lines = ["| phase | rule | kind | other tags | what it does | why it fires | source |",
             "| --- | --- | --- | --- | --- | --- | --- |"]
    for row in rows:
        lines.append(f"| {row.phase} ({row.position:g}) | `{row.name}` | {row.kind} | {', '.join(row.tags)} "
                     f"| {_escape(row.doc)} | {_escape(row.why)} | `{row.where}` |")
    return "\n".join(lines)


def replace_between_markers(document, text, begin=BEGIN, end=END):
    """``document`` with what lies between the ``begin`` and ``end`` markers replaced by ``text``.

    Generated sections of hand-written pages (this rules table, the benchmark
    table) are kept between such markers so the prose around them survives.
    """
    if begin not in document or end not in document:
        raise ValueError(f"the document must contain the markers {begin!r} and {end!r}")
    head, rest = document.split(begin, 1)
    _, tail = rest.split(end, 1)
    return f"{head}{begin}\n{text}\n{end}{tail}"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rules", default="theanolab.tensor.rewriting",
                        help="the module whose import registers the rules (default: %(default)s)")
    parser.add_argument("--write", metavar="FILE", help="replace the table between the markers in FILE")
    args = parser.parse_args(argv)
    importlib.import_module(args.rules)
    table = markdown_table(catalog())
    if args.write:
        path = Path(args.write)
        path.write_text(replace_between_markers(path.read_text(), table))
    else:
        sys.stdout.write(table + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
