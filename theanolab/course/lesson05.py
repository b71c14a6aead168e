"""Lesson 5's exercises (notebooks/05_graphs_and_optimization.ipynb): walking a graph, modes, DebugMode.

The checkers name the mistakes students make here: counting a shared node
once per path that reaches it, stopping at the first Apply node, trusting
``x / x`` to stay a division, and writing an op that scribbles over its input
(which the fast modes silently accept and DebugMode refuses).
"""

import numpy as np

from theanolab.course.checking import Hint, exercise
from theanolab.course.probes import call, compiled, describe, error_text, expect_close

__all__ = []


# ---------------------------------------------------------------- 5.1 walking a graph


def _count_apply_nodes():
    def count_apply_nodes(variable):
        """How many Apply nodes compute ``variable``, each counted once."""
        seen = set()
        to_visit = [variable]
        while to_visit:
            var = to_visit.pop()
            node = var.owner              # None for an input or a constant: the walk stops there
            if node is not None and node not in seen:
                seen.add(node)            # a node used twice, as in (x + y) * (x + y), is still one node
                to_visit.extend(node.inputs)
        return len(seen)
    return count_apply_nodes


def _count_every_path():
    def count_apply_nodes(variable):
        if variable.owner is None:
            return 0
        return 1 + sum(count_apply_nodes(i) for i in variable.owner.inputs)
    return count_apply_nodes


def _count_only_the_last_node():
    def count_apply_nodes(variable):
        return 0 if variable.owner is None else 1
    return count_apply_nodes


def _examples_5_1():
    """(description, variable, number of Apply nodes) for the graphs the checker walks."""
    import theanolab.tensor as T
    x, y = T.dscalars('x', 'y')
    s = x + y
    return [
        ("the input x itself", x, 0),
        ("x + y", x + y, 1),
        ("T.exp(x) * y + 1", T.exp(x) * y + 1, 3),
        ("(x + y) * (x + y), where the node x + y is built once and used twice", s * s, 2),
        ("T.log(s * s) - s with s = x + y", T.log(s * s) - s, 4),
    ]


@exercise("5.1", "Count the Apply nodes of a graph", reference=_count_apply_nodes,
          wrong_answers=(_count_every_path, _count_only_the_last_node))
def _check_count_apply_nodes(answer):
    from theanolab.compile.function import Function
    if isinstance(answer, Function) or not callable(answer):
        raise Hint("the exercise asks for a plain Python function, def count_apply_nodes(variable): ..., "
                   "that takes a symbolic variable and returns a number")
    for description, variable, expected in _examples_5_1():
        if expected == 0:
            try:
                got = answer(variable)
            except Exception as error:  # noqa: BLE001 (the student's error is the hint)
                raise Hint(f"your function raised {type(error).__name__} ({error}) on {description}, a graph "
                           "input: its owner is None. An input or a constant is where the walk stops; "
                           "it counts 0") from None
        else:
            got = call(answer, variable, what="count_apply_nodes")
        if got == expected:
            continue
        if expected == 0:
            raise Hint(f"for {description} (a graph input: its owner is None) your function returns {got!r}; "
                       "an input has no Apply node above it, so the count is 0")
        if got == 1 and expected > 1:
            raise Hint(f"for {description} your function returns 1: it counts only variable.owner. "
                       "Go on through owner.inputs, and their owners, down to the inputs")
        if isinstance(got, (int, np.integer)) and got > expected:
            raise Hint(f"for {description} your function returns {got}, but the graph has {expected} Apply "
                       "nodes: a node that two paths reach is counted twice. Keep a set of the nodes "
                       "already seen and count each one once")
        raise Hint(f"for {description} your function returns {got!r}; the graph has {expected} Apply nodes")


# ---------------------------------------------------------------- 5.2 x / x without the rewrite


def _division_as_written():
    import theanolab as theano
    import theanolab.tensor as T
    x = T.dscalar('x')
    # Without an optimizer, no rewrite replaces x / x by 1: the division runs, and 0 / 0 is nan.
    # mode='FAST_COMPILE' would also do: its few cheap rewrites do not include div_self.
    return theano.function([x], x / x, mode=theano.Mode(optimizer=None))


def _division_default_mode():
    import theanolab as theano
    import theanolab.tensor as T
    x = T.dscalar('x')
    return theano.function([x], x / x)


@exercise("5.2", "x / x that gives nan at 0", reference=_division_as_written,
          wrong_answers=(_division_default_mode,))
def _check_division_as_written(answer):
    f = compiled(answer)
    with np.errstate(divide="ignore", invalid="ignore"):
        expect_close(call(f, 2.5), 1.0, inputs=(2.5,))
        at_zero = float(np.asarray(call(f, 0.0)))
    if at_zero == 1.0:
        raise Hint("your function gives 1.0 at x = 0: the optimizer's div_self rewrite replaced x / x by 1 "
                   "(look for it in f.maker.rewrite_history). Compile it so that no rewrite runs: "
                   "mode=theano.Mode(optimizer=None), or the few rewrites of mode='FAST_COMPILE'")
    if not np.isnan(at_zero):
        raise Hint(f"your function gives {at_zero!r} at x = 0; 0 / 0 computed as written is nan")


# ---------------------------------------------------------------- 5.3 an op that DebugMode accepts


def _double_op():
    import theanolab.tensor as T
    import theanolab as theano

    class Double(theano.Op):
        """Doubles a tensor, writing the result into a new array."""
        __props__ = ()

        def make_node(self, x):
            x = T.as_tensor_variable(x)
            return theano.Apply(self, [x], [x.type()])

        def perform(self, node, inputs, output_storage):
            (x,) = inputs
            # x * 2 allocates a new array: the caller's input stays as it was.
            # (x *= 2 would overwrite it, which only an op declaring destroy_map may do.)
            output_storage[0][0] = x * 2

    return Double()


def _double_with(perform):
    """The reference op with another ``perform``: each mistake below changes only that."""
    return type("Double", (type(_double_op()),), {"perform": perform})()


def _perform_in_place(self, node, inputs, output_storage):
    (x,) = inputs
    x *= 2
    output_storage[0][0] = x


def _perform_in_single_precision(self, node, inputs, output_storage):
    output_storage[0][0] = (inputs[0] * 2).astype('float32')


@exercise("5.3", "An op that DebugMode accepts", reference=_double_op,
          wrong_answers=(lambda: _double_with(_perform_in_place), lambda: _double_with(_perform_in_single_precision),
                         lambda: type(_double_op())))
def _check_double_op(answer):
    import theanolab as theano
    import theanolab.tensor as T
    from theanolab.compile.debugmode import BadDestroyMap, BadViewMap, DebugModeError
    from theanolab.graph.op import Op

    if isinstance(answer, type) and issubclass(answer, Op):
        raise Hint(f"your answer is the class {answer.__name__}; the exercise asks for an instance of it: "
                   f"{answer.__name__}()")
    if not isinstance(answer, Op):
        raise Hint(f"your answer is of type {type(answer).__name__}; the exercise asks for an op, an instance "
                   "of your Op subclass (double = Double())")
    v = T.dvector('v')
    try:
        f = theano.function([v], answer(v), mode='DebugMode')
    except Exception as error:  # noqa: BLE001 (the student's make_node error is the hint)
        raise Hint(f"building answer(v) for a T.dvector v raised {error_text(error)}") from None
    data = np.array([1.0, -2.0, 3.5])
    given = data.copy()
    try:
        result = f(given)
    except BadDestroyMap:
        raise Hint("DebugMode raised BadDestroyMap: your perform wrote into its input (x *= 2 changes the "
                   "caller's array). Compute a new array instead: output_storage[0][0] = x * 2") from None
    except BadViewMap:
        raise Hint("DebugMode raised BadViewMap: your output is the input array itself (or a view of it). "
                   "Return a new array, such as x * 2") from None
    except DebugModeError as error:
        raise Hint(f"DebugMode raised {error_text(error)}. Check that perform "
                   "returns an array of the output type's dtype (float64 here) and number of "
                   "dimensions") from None
    except Exception as error:  # noqa: BLE001 (the student's perform error is the hint)
        raise Hint(f"calling a function of your op on {describe(data)} raised {error_text(error)}") from None
    if not np.array_equal(given, data):
        raise Hint(f"your op changed its input from {describe(data)} to {describe(given)}; compute a new array")
    expect_close(result, 2 * data, inputs=(data,), what="your op")
