"""theanolab.config: defaults, THEANOLAB_FLAGS, the rc file, dotted flags, change_flags, floatX."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

import theanolab as theano
import theanolab.tensor as T
from theanolab import change_flags, config
from theanolab.config import ConfigError

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

PRINT_FLAGS = ("import json, theanolab; c = theanolab.config; "
               "print(json.dumps({n: v for n, (v, _) in c.flags().items()}))")


def flags_in_fresh_process(flags=None, rcfile=None, tmp_path=None):
    """The flag values a new interpreter sees with this environment."""
    env = {k: v for k, v in os.environ.items() if k not in ("THEANOLAB_FLAGS", "THEANOLABRC")}
    env["PYTHONPATH"] = ROOT + os.pathsep + env.get("PYTHONPATH", "")
    env["THEANOLABRC"] = rcfile or os.path.join(str(tmp_path), "no-such-rcfile")
    if flags is not None:
        env["THEANOLAB_FLAGS"] = flags
    result = subprocess.run([sys.executable, "-c", PRINT_FLAGS], capture_output=True, text=True, env=env,
                            timeout=60)
    if result.returncode != 0:
        raise RuntimeError(result.stderr)
    return json.loads(result.stdout)


def test_defaults(tmp_path):
    values = flags_in_fresh_process(tmp_path=tmp_path)
    assert values["floatX"] == "float64"
    assert values["device"] == "cpu"
    assert values["mode"] == "FAST_RUN"
    assert values["traceback.limit"] == 8
    assert values["allow_gc"] is True
    assert values["compiledir"].endswith("theanolab")


def test_theanolab_flags(tmp_path):
    values = flags_in_fresh_process("floatX=float32, device=cuda0,traceback__limit=3,allow_gc=False,",
                                    tmp_path=tmp_path)
    assert values["floatX"] == "float32"
    assert values["device"] == "cuda0"
    assert values["traceback.limit"] == 3
    assert values["allow_gc"] is False


def test_rcfile_and_precedence(tmp_path):
    rc = tmp_path / "theanolabrc"
    rc.write_text("[global]\nfloatX = float32\nmode = FAST_COMPILE\n\n[traceback]\nlimit = 20\n")
    values = flags_in_fresh_process(rcfile=str(rc), tmp_path=tmp_path)
    assert (values["floatX"], values["mode"], values["traceback.limit"]) == ("float32", "FAST_COMPILE", 20)
    overridden = flags_in_fresh_process("floatX=float64", rcfile=str(rc), tmp_path=tmp_path)
    assert overridden["floatX"] == "float64" and overridden["mode"] == "FAST_COMPILE"


def test_bad_rcfile_names_the_file(tmp_path):
    rc = tmp_path / "theanolabrc"
    rc.write_text("[global]\nflaotX = float32\n")
    with pytest.raises(RuntimeError) as info:
        flags_in_fresh_process(rcfile=str(rc), tmp_path=tmp_path)
    assert str(rc) in str(info.value) and "flaotX" in str(info.value)


def test_dotted_flags():
    assert config.traceback.limit == config.traceback__limit == config["traceback.limit"]
    with change_flags(traceback__limit=2):
        assert config.traceback.limit == 2
    with change_flags(**{"traceback.limit": 4}):
        assert config.traceback__limit == 4
    old = config.traceback.limit
    try:
        config.traceback.limit = 5
        assert config.traceback__limit == 5
    finally:
        config.traceback.limit = old
    with pytest.raises(ConfigError, match="expected an integer"):
        config.traceback.limit = "many"


def test_change_flags_restores_even_after_an_error():
    before = (config.floatX, config.mode)
    with pytest.raises(RuntimeError):
        with change_flags(floatX="float32", mode="FAST_COMPILE"):
            assert (config.floatX, config.mode) == ("float32", "FAST_COMPILE")
            raise RuntimeError("inside")
    assert (config.floatX, config.mode) == before
    assert theano.config is config and theano.change_flags == config.change_flags


def test_change_flags_refuses_bad_values_without_changing_anything():
    before = config.floatX
    with pytest.raises(ConfigError, match="float31"):
        with change_flags(floatX="float31"):
            pass
    assert config.floatX == before


def test_unknown_flag_read_is_an_attribute_error():
    with pytest.raises(AttributeError, match="flaotX"):
        config.flaotX


def test_flags_listing_and_dir():
    listing = config.flags()
    assert listing["floatX"][0] == config.floatX and "dtype" in listing["floatX"][1]
    names = dir(config)
    assert "floatX" in names and "traceback" in names and "traceback__limit" in names


CONSTRUCTORS = [("scalar", ()), ("vector", (False,)), ("row", (True, False)), ("col", (False, True)),
                ("matrix", (False, False)), ("tensor3", (False,) * 3), ("tensor4", (False,) * 4)]


@pytest.mark.parametrize("floatX", ["float32", "float64"])
@pytest.mark.parametrize("kind, broadcastable", CONSTRUCTORS)
def test_floatx_sets_unprefixed_constructors(floatX, kind, broadcastable):
    with change_flags(floatX=floatX):
        var = getattr(T, kind)('v')
        plural = getattr(T, kind[:-1] + "ces" if kind == "matrix" else kind + "s")('a', 'b')
    assert var.dtype == floatX and var.broadcastable == broadcastable and var.name == 'v'
    assert [p.dtype for p in plural] == [floatX, floatX]
    assert getattr(T, "d" + kind)().dtype == "float64"
    assert getattr(T, "f" + kind)().dtype == "float32"
    assert getattr(T, kind)(dtype="int32").dtype == "int32"


@pytest.mark.parametrize("floatX, number, dtype", [
    ("float64", 0.5, "float32"), ("float64", 0.1, "float64"), ("float32", 0.1, "float32"),
    ("float32", 1.5, "float32"), ("float64", 3, "int8"), ("float32", 3, "int8"),
])
def test_floatx_sets_python_float_constants(floatX, number, dtype):
    with change_flags(floatX=floatX):
        assert T.constant(number).dtype == dtype


def test_floatx_float32_keeps_expressions_in_float32():
    with change_flags(floatX="float32"):
        x = T.matrix('x')
        y = x * 0.1 + 1.7
        assert y.dtype == "float32"
        f = theano.function([x], y)
        value = f(np.ones((2, 2), dtype="float32"))
    assert value.dtype == "float32"
    np.testing.assert_allclose(value, 1.8, rtol=1e-6)


def test_floatx_float64_upcasts_float32_with_inexact_python_float():
    x = T.fmatrix('x')
    with change_flags(floatX="float64"):
        assert (x * 0.1).dtype == "float64"
        assert (x * 0.5).dtype == "float32"
