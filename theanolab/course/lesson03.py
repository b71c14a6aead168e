"""Lesson 3's exercises (notebooks/03_random_numbers.ipynb): random streams, their updates and state."""

import numpy as np

from theanolab.course.checking import Hint, exercise
from theanolab.course.probes import call, compiled, describe, error_text, explicit_inputs

# 3.1 -------------------------------------------------------------------------------------------


def _uniform_draws():
    import theanolab as theano
    from theanolab.tensor.shared_randomstreams import RandomStreams
    srng = RandomStreams(seed=42)
    # low and high set the range [low, high); the default is [0, 1).
    rv = srng.uniform((2, 3), low=-1, high=1)
    # No no_default_updates: each call advances rv's generator, so the numbers change.
    return theano.function([], rv)


def _uniform_draws_default_range():
    import theanolab as theano
    from theanolab.tensor.shared_randomstreams import RandomStreams
    return theano.function([], RandomStreams(seed=42).uniform((2, 3)))


def _uniform_draws_frozen():
    import theanolab as theano
    from theanolab.tensor.shared_randomstreams import RandomStreams
    rv = RandomStreams(seed=42).uniform((2, 3), low=-1, high=1)
    return theano.function([], rv, no_default_updates=True)


def _normal_draws():
    import theanolab as theano
    from theanolab.tensor.shared_randomstreams import RandomStreams
    return theano.function([], RandomStreams(seed=42).normal((2, 3)))


@exercise("3.1", "Fresh uniform draws in [-1, 1)", reference=_uniform_draws,
          wrong_answers=(_uniform_draws_default_range, _uniform_draws_frozen, _normal_draws))
def _check_uniform_draws(answer):
    f = compiled(answer)
    explicit_inputs(f, ())
    draws = [np.asarray(call(f)) for _ in range(10)]
    if draws[0].shape != (2, 3):
        raise Hint(f"your function returned an array of shape {draws[0].shape}; the exercise asks for (2, 3): "
                   "pass the shape as the first argument, srng.uniform((2, 3), ...)")
    if all(np.array_equal(draws[0], d) for d in draws[1:]):
        raise Hint("your function returned the same numbers on every call: its generator's state never moves "
                   "on. Compile it without no_default_updates=True, so each call updates the generator")
    values = np.concatenate([d.ravel() for d in draws])
    low, high = values.min(), values.max()
    if low < -1 or high >= 1:
        raise Hint(f"your draws range from {low:.3f} to {high:.3f}, outside [-1, 1): normal draws have no "
                   "bounds; use srng.uniform((2, 3), low=-1, high=1)")
    if low >= 0:
        raise Hint(f"all your draws lie between {low:.3f} and {high:.3f}: uniform's default range [0, 1). "
                   "Pass low=-1, high=1")
    if low > -0.5 or high < 0.5:
        raise Hint(f"60 of your draws all lie between {low:.3f} and {high:.3f}; uniform draws on [-1, 1) "
                   "spread over the whole range. Use srng.uniform((2, 3), low=-1, high=1)")


# 3.2 -------------------------------------------------------------------------------------------

def _draw_and_peek():
    import theanolab as theano
    from theanolab.tensor.shared_randomstreams import RandomStreams
    srng = RandomStreams(seed=42)
    # ONE random variable, so both functions read the same generator.
    rv = srng.uniform((3,))
    draw = theano.function([], rv)                            # draws and advances the generator
    peek = theano.function([], rv, no_default_updates=True)   # draws, leaves the generator as it was
    return draw, peek


def _peek_that_advances():
    import theanolab as theano
    from theanolab.tensor.shared_randomstreams import RandomStreams
    rv = RandomStreams(seed=42).uniform((3,))
    return theano.function([], rv), theano.function([], rv)


def _peek_at_another_variable():
    import theanolab as theano
    from theanolab.tensor.shared_randomstreams import RandomStreams
    srng = RandomStreams(seed=42)
    draw = theano.function([], srng.uniform((3,)))
    peek = theano.function([], srng.uniform((3,)), no_default_updates=True)
    return draw, peek


def _draw_that_never_advances():
    import theanolab as theano
    from theanolab.tensor.shared_randomstreams import RandomStreams
    rv = RandomStreams(seed=42).uniform((3,))
    return (theano.function([], rv, no_default_updates=True),
            theano.function([], rv, no_default_updates=True))


@exercise("3.2", "Peek at the next draw", reference=_draw_and_peek,
          wrong_answers=(_peek_that_advances, _peek_at_another_variable, _draw_that_never_advances))
def _check_draw_and_peek(answer):
    if not (isinstance(answer, (tuple, list)) and len(answer) == 2):
        raise Hint(f"your answer is a {type(answer).__name__}; the exercise asks for the pair (draw, peek)")
    draw, peek = (compiled(f, what=name) for f, name in zip(answer, ("draw", "peek")))
    seen = call(peek, what="peek")
    if not np.array_equal(seen, call(peek, what="peek")):
        raise Hint("peek() returned different numbers on two calls in a row: it advances the generator. "
                   "Compile peek with no_default_updates=True")
    drawn = call(draw, what="draw")
    if not np.array_equal(drawn, seen):
        raise Hint(f"peek() showed {describe(seen)} but the next draw() returned {describe(drawn)}: the two "
                   "functions use different random variables, each with its own generator (every "
                   "srng.uniform(...) call makes a new one). Build rv once and compile both from it")
    if np.array_equal(drawn, call(draw, what="draw")):
        raise Hint("draw() returned the same numbers twice: it never advances the generator. Only peek "
                   "needs no_default_updates=True")
    if np.array_equal(call(peek, what="peek"), drawn):
        raise Hint("after draw(), peek() still shows the numbers draw() already returned; peek must show the "
                   "next draw")


# 3.3 -------------------------------------------------------------------------------------------

def _replay():
    def twice(f, rv):
        # 1. save the generator's state before drawing
        state = rv.rng.get_value().get_state()
        first = f()
        # 2. put the state back: take the stored generator (borrow=True: not a copy),
        #    rewind it, and store it again
        rng = rv.rng.get_value(borrow=True)
        rng.set_state(state)
        rv.rng.set_value(rng, borrow=True)
        # 3. the same draw again
        second = f()
        return first, second
    return twice


def _twice_without_rewinding():
    def twice(f, rv):
        return f(), f()
    return twice


def _twice_rewinding_a_copy():
    def twice(f, rv):
        state = rv.rng.get_value().get_state()
        first = f()
        rv.rng.get_value().set_state(state)
        return first, f()
    return twice


def _twice_by_reseeding():
    def twice(f, rv):
        rv.rng.get_value(borrow=True).seed(1234)
        first = f()
        rv.rng.get_value(borrow=True).seed(1234)
        return first, f()
    return twice


@exercise("3.3", "Draw the same numbers twice", reference=_replay,
          wrong_answers=(_twice_without_rewinding, _twice_rewinding_a_copy, _twice_by_reseeding))
def _check_replay(answer):
    import theanolab as theano
    from theanolab.compile.function import Function
    from theanolab.graph.basic import Variable
    from theanolab.tensor.shared_randomstreams import RandomStreams
    if isinstance(answer, (Function, Variable)) or not callable(answer):
        raise Hint(f"your answer is a {type(answer).__name__}; the exercise asks for a Python function "
                   "twice(f, rv) (written with def) that returns the pair (first, second)")
    rv = RandomStreams(seed=1234).uniform((3,))
    f = theano.function([], rv)
    twin = theano.function([], RandomStreams(seed=1234).uniform((3,)))   # the same stream, untouched
    stream = [twin(), twin()]
    try:
        result = answer(f, rv)
    except Exception as error:  # noqa: BLE001 (the student's error is the hint)
        raise Hint(f"twice(f, rv) raised {error_text(error)}") from None
    if not (isinstance(result, (tuple, list)) and len(result) == 2):
        raise Hint(f"twice(f, rv) returned {describe(result) if result is not None else 'None'}; it should "
                   "return the pair (first, second)")
    first, second = (np.asarray(r) for r in result)
    if not np.array_equal(first, stream[0]):
        raise Hint(f"the first draw {describe(first)} is not the stream's next draw {describe(stream[0])}: "
                   "call f() before changing the generator (reseeding starts another stream)")
    if not np.array_equal(second, first):
        raise Hint(f"the second draw {describe(second)} differs from the first {describe(first)}: the generator "
                   "was not rewound. rv.rng.get_value() returns a copy; rewind the stored one with "
                   "rng = rv.rng.get_value(borrow=True); rng.set_state(state); rv.rng.set_value(rng, borrow=True)")
    after = np.asarray(f())
    if not np.array_equal(after, stream[1]):
        raise Hint(f"after twice(f, rv) the next f() returned {describe(after)}; the stream should go on with "
                   f"its second draw {describe(stream[1])}: restore the state saved before the first call")
