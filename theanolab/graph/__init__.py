"""The graph IR: variables, Apply nodes, ops, types and FunctionGraph.

Imports nothing else from theanolab except the configuration.
"""

from theanolab.graph.basic import (  # noqa: F401
    Apply,
    Constant,
    Variable,
    ancestors,
    clone,
    clone_get_equiv,
    clone_replace,
    graph_inputs,
    io_toposort,
)
from theanolab.graph.fgraph import FunctionGraph, InconsistencyError, MissingInputError  # noqa: F401
from theanolab.graph.op import Op  # noqa: F401
from theanolab.graph.type import Type  # noqa: F401
