"""Graph rewriting: rules, drivers, the registry of phases, and the rewrite history.

The phases every mode chooses from, in order (positions in parentheses):

====================  ======  =====================================================
phase                 tags    what it does
====================  ======  =====================================================
merge1 (0)            all     identical constants and nodes become one
canonicalize (1)      all     one normal form: flatten add/mul, collect terms, x*1 -> x
stabilize (1.5)       run     numerically safer forms: log(1+x) -> log1p(x)
specialize (2)        run     faster forms: x**2 -> sqr(x)
blas (2.5)            run     dot + add/scale -> GEMM/GEMV
merge2 (2.9)          run     merge again after the algebra
fusion (3)            run     chains of elementwise ops -> one composite loop (one
                              or several outputs)
inplace (4)           run     write results over inputs nobody needs afterwards;
                              read a matrix's passes in cache-friendly orders
merge3 (5)            all     a last merge
====================  ======  =====================================================

"all" means both ``fast_run`` and ``fast_compile``; "run" means ``fast_run``
only.  Inside the rule groups, FAST_COMPILE keeps only rules tagged
``fast_compile``.
"""

from theanolab.graph.rewriting.basic import (  # noqa: F401
    EquilibriumRewriter,
    GraphRewriter,
    NodeRewriter,
    RewriteError,
    SequenceRewriter,
    WalkingRewriter,
    apply_node_rewriter,
    graph_rewriter,
    node_rewriter,
)
from theanolab.graph.rewriting.db import PhaseDB, Query, RewriteGroup, optdb, register  # noqa: F401
from theanolab.graph.rewriting.history import RewriteHistory, RewriteStep  # noqa: F401
from theanolab.graph.rewriting.merge import MergeRewriter  # noqa: F401
from theanolab.graph.rewriting.pattern import Bind, PatternRewriter  # noqa: F401

ALL = ("fast_run", "fast_compile")


def _register_phases():
    optdb.register_phase("merge1", MergeRewriter(), 0, "merge", *ALL)
    for name, position, tags in [("canonicalize", 1, ALL), ("stabilize", 1.5, ("fast_run",)),
                                 ("specialize", 2, ("fast_run",)), ("blas", 2.5, ("fast_run",)),
                                 ("fusion", 3, ("fast_run",)), ("inplace", 4, ("fast_run",))]:
        group = RewriteGroup(name)
        if name in ("canonicalize", "stabilize", "specialize"):
            group.register(MergeRewriter(), *ALL)
        optdb.register_phase(name, group, position, *tags)
    optdb.register_phase("merge2", MergeRewriter(), 2.9, "merge", "fast_run")
    optdb.register_phase("merge3", MergeRewriter(), 5, "merge", *ALL)


_register_phases()
