"""Lesson 10's exercises (notebooks/10_backends.ipynb): choosing a backend, float32 for the GPU, node_backends."""

import numpy as np

from theanolab.course.checking import Hint, exercise
from theanolab.course.probes import call, compiled, expect_close, explicit_inputs


# 10.1 ------------------------------------------------------------------------------------------

def _reference_backend():
    import theanolab as theano
    import theanolab.tensor as T
    from theanolab.compile.mode import Mode
    x, y = T.dvectors('x', 'y')
    # linker='py' picks the NumPy reference backend: every node runs its op's perform().
    # (mode='FAST_COMPILE' would too, with fewer rewrites.)
    return theano.function([x, y], x * y + 1, mode=Mode(linker='py'))


def _c_backend():
    import theanolab as theano
    import theanolab.tensor as T
    from theanolab.compile.mode import Mode
    x, y = T.dvectors('x', 'y')
    return theano.function([x, y], x * y + 1, mode=Mode(linker='c|py'))


def _reference_backend_other_expression():
    import theanolab as theano
    import theanolab.tensor as T
    x, y = T.dvectors('x', 'y')
    return theano.function([x, y], x + y + 1, mode='FAST_COMPILE')


@exercise("10.1", "Run a function on the reference backend", reference=_reference_backend,
          wrong_answers=(_c_backend, _reference_backend_other_expression))
def _check_reference_backend(answer):
    f = compiled(answer)
    explicit_inputs(f, ("x", "y"))
    args = (np.array([1.0, 2.0, -3.0]), np.array([0.5, 4.0, 2.0]))
    expect_close(call(f, *args), args[0] * args[1] + 1, inputs=args)
    mode = f.maker.mode
    if mode.backend != "py":
        ran = sorted(set(f.node_backends.values()))
        raise Hint(f"your function was compiled with {mode!r}, whose linker {mode.linker!r} runs nodes on the C "
                   f"backend (f.node_backends says {', '.join(map(repr, ran))}); ask for the reference one: "
                   "mode=Mode(linker='py'), with Mode from theanolab.compile.mode, or mode='FAST_COMPILE'")


# 10.2 ------------------------------------------------------------------------------------------

def _float32_all_along():
    import numpy as np
    import theanolab as theano
    import theanolab.tensor as T
    x = T.fvector('x')   # float32 input
    # The Python number 0.1 has no exact float32 value, so on its own it would become a
    # float64 constant and pull the whole result up to float64. Say float32 explicitly.
    # (1 is exact in any dtype: it stays small.)
    return theano.function([x], x * np.float32(0.1) + 1)


def _float64_constant():
    import numpy as np
    import theanolab as theano
    import theanolab.tensor as T
    x = T.fvector('x')
    learning_rate = np.float64(0.1)   # e.g. read from a NumPy computation
    return theano.function([x], x * learning_rate + 1)


def _float64_input():
    import numpy as np
    import theanolab as theano
    import theanolab.tensor as T
    x = T.dvector('x')
    return theano.function([x], x * np.float32(0.1) + 1)


@exercise("10.2", "Stay in float32", reference=_float32_all_along, wrong_answers=(_float64_constant, _float64_input))
def _check_float32(answer):
    f = compiled(answer)
    (x,) = explicit_inputs(f, ("x",))
    if x.type.dtype != "float32":
        raise Hint(f"your input is declared {x.type} (dtype {x.type.dtype}); the exercise's data is float32: "
                   "declare it with T.fvector('x')")
    value = np.array([1.0, -2.5, 40.0], dtype="float32")
    got = call(f, value)
    expect_close(got, value * np.float32(0.1) + 1, inputs=(value,), rtol=1e-6)
    dtype = f.maker.fgraph.outputs[0].type.dtype
    if dtype != "float32":
        raise Hint(f"the values are right, but your output is {dtype}: a {dtype} value entered the graph and "
                   "everything after it was upcast. A Python number like 0.1 has no exact float32 value, "
                   "so it becomes a float64 constant (so does a NumPy float64); write np.float32(0.1), or "
                   "run with floatX=float32, which makes such numbers float32")


# 10.3 ------------------------------------------------------------------------------------------

def _python_nodes():
    def python_nodes(f):
        # f.node_backends maps each node of the optimized graph to 'c', 'py' or 'cuda':
        # keep the nodes that run their op's perform() in Python.
        return [node for node, backend in f.node_backends.items() if backend == 'py']
    return python_nodes


def _every_node():
    def python_nodes(f):
        return list(f.node_backends)
    return python_nodes


def _c_nodes():
    def python_nodes(f):
        return [node for node, backend in f.node_backends.items() if backend == 'c']
    return python_nodes


def _test_functions():
    """Functions whose nodes run on different backends: mixed, all in Python, and one whole C function."""
    import theanolab as theano
    import theanolab.tensor as T
    from theanolab.compile.mode import Mode
    from theanolab.tensor.shared_randomstreams import RandomStreams
    x = T.dvector('x')
    noise = RandomStreams(seed=7).uniform(x.shape)
    return [theano.function([x], x * noise + 1, mode=Mode(linker='c|py')),
            theano.function([x], T.exp(x).sum(), mode=Mode(linker='py')),
            theano.function([x], T.exp(x).sum(), mode=Mode(linker='c|py'))]


@exercise("10.3", "Which nodes run in Python?", reference=_python_nodes, wrong_answers=(_every_node, _c_nodes))
def _check_python_nodes(answer):
    from theanolab.compile.function import Function
    if isinstance(answer, Function) or not callable(answer):
        raise Hint("your answer should be the Python function python_nodes itself (answer = python_nodes), "
                   "which takes a compiled function and returns a list of its nodes")
    for f in _test_functions():
        backends = f.node_backends
        expected = [node for node in f.maker.fgraph.toposort() if backends[node] == "py"]
        try:
            got = answer(f)
        except Exception as error:  # noqa: BLE001 (the student's error is the hint)
            raise Hint(f"python_nodes(f) raised {type(error).__name__}: {str(error).strip()[:200]}") from None
        if not isinstance(got, (list, tuple, set)):
            raise Hint(f"python_nodes(f) returned a {type(got).__name__}; return a list of nodes")
        if any(isinstance(node, str) for node in got):
            raise Hint("python_nodes(f) returned strings; return the nodes themselves, the keys of f.node_backends")
        if set(got) == set(expected):
            continue
        where = ", ".join(f"{node.op}: {backend!r}" for node, backend in backends.items())
        if set(got) == set(backends):
            raise Hint(f"you returned every node of f; keep only those whose backend is 'py' (here: {where})")
        if set(got) == {node for node, backend in backends.items() if backend == "c"}:
            raise Hint(f"you returned the nodes that run in C; the exercise asks for the ones that run in "
                       f"Python, backend 'py' (here: {where})")
        raise Hint(f"for a function whose nodes run as {{{where}}} you returned {len(got)} node(s); "
                   f"expected the {len(expected)} with backend 'py'")
