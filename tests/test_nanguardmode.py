"""NanGuardMode: the first node producing NaN, Inf or a huge value is named, with the user's line."""

import sys

import numpy as np
import pytest

import theanolab
import theanolab.tensor as T
from theanolab import function
from theanolab.compile import get_mode
from theanolab.compile.nanguardmode import NanGuardError, NanGuardMode


def _line_before():
    return sys._getframe(1).f_lineno - 1


def test_the_node_that_makes_a_nan_is_named():
    x = T.dvector()
    y = T.log(x) * 2
    line = _line_before()
    f = function([x], y, mode=NanGuardMode(nan_is_error=True, inf_is_error=True, big_is_error=True))
    np.testing.assert_allclose(f([1.0, np.e]), [0.0, 2.0])
    with np.errstate(invalid="ignore"), pytest.raises(NanGuardError) as info:
        f([-1.0])
    message = str(info.value)
    assert message.startswith("NaN detected in output 0 of ")
    assert "log" in message.splitlines()[0]
    assert "Inputs values: [[-1.]]" in message
    assert f"line {line}" in message and __file__ in message
    assert isinstance(info.value, ValueError)


# (what, graph, argument, the flag that makes it an error)
PROBLEMS = [
    ("NaN", lambda x: T.log(x) + 1, [-1.0], "nan_is_error"),
    ("Inf", lambda x: T.log(x) + 1, [0.0], "inf_is_error"),
    ("Inf", lambda x: T.exp(x) * 2, [1000.0], "inf_is_error"),
    (r"a big value \(1.0686\d*e\+13, above 1e\+10 in absolute value\)", lambda x: T.exp(x) * 2, [30.0],
     "big_is_error"),
]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("what, graph, argument, flag", PROBLEMS, ids=[f"{p[0][:5]}-{p[3]}" for p in PROBLEMS])
def test_each_flag_turns_its_problem_into_an_error(what, graph, argument, flag, dtype):
    x = T.vector('x', dtype=dtype)
    off = {"nan_is_error": False, "inf_is_error": False, "big_is_error": False}
    quiet = function([x], graph(x), mode=NanGuardMode(**off))
    loud = function([x], graph(x), mode=NanGuardMode(**{**off, flag: True}))
    with np.errstate(all="ignore"):
        quiet(np.array(argument, dtype=dtype))
        with pytest.raises(NanGuardError, match=f"^{what} detected in output 0 of "):
            loud(np.array(argument, dtype=dtype))


def test_the_first_node_is_named_not_its_consumers():
    x = T.dvector('x')
    f = function([x], T.exp(T.sqrt(x)) + 1, mode=NanGuardMode())
    with np.errstate(invalid="ignore"), pytest.raises(NanGuardError, match=r"^NaN detected in output 0 of \S*sqrt"):
        f([-4.0])


def test_an_argument_holding_nan_is_named_before_any_node_runs():
    x, y = T.dvectors('x', 'y')
    f = function([x, y], x * 2 + y, mode=NanGuardMode())
    with pytest.raises(NanGuardError, match=r"^NaN detected in the function's input 1 \(y\)"):
        f([1.0], [np.nan])


@pytest.mark.parametrize("values", [[], [1e300, -1e300]], ids=["empty", "finite_big_allowed"])
def test_clean_values_pass(values):
    x = T.dvector('x')
    f = function([x], x * 1.5, mode=NanGuardMode())
    np.testing.assert_array_equal(f(values), np.array(values) * 1.5)


def test_integers_are_never_big():
    i = T.lvector('i')
    f = function([i], i * 10, mode=NanGuardMode(big_is_error=True))
    np.testing.assert_array_equal(f([10 ** 12]), [10 ** 13])


def test_presets_exports_and_equality():
    from theanolab.compile.mode import NanGuardMode as from_mode

    assert theanolab.NanGuardMode is theanolab.compile.NanGuardMode is from_mode is NanGuardMode
    preset = get_mode('NanGuardMode')
    assert isinstance(preset, NanGuardMode) and (preset.nan_is_error, preset.inf_is_error) == (True, True)
    assert NanGuardMode() == NanGuardMode() != NanGuardMode(big_is_error=True)
    assert isinstance(NanGuardMode().excluding("fusion"), NanGuardMode)
    x = T.dvector('x')
    with theanolab.change_flags(mode='NanGuardMode'):
        f = function([x], T.log(x))
    with np.errstate(invalid="ignore"), pytest.raises(NanGuardError):
        f([-1.0])
