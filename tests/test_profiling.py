"""function(..., profile=True): per-node time and output bytes, accumulated over calls."""

import numpy as np
import pytest

import theanolab
import theanolab.tensor as T
from theanolab.compile.profiling import ProfileStats
from theanolab.config import change_flags


def profiled(**kwargs):
    x = T.dvector("x")
    return theanolab.function([x], [T.exp(x).sum(), T.log(x) * 2], **kwargs)


@pytest.mark.cpu_only
@pytest.mark.parametrize("linker", ["py", "c|py"])
def test_every_node_is_timed_and_measured(linker):
    f = profiled(profile=True, mode=theanolab.Mode(linker=linker))
    data = np.arange(1.0, 101.0)
    for _ in range(3):
        total, logs = f(data)
    assert np.isclose(total, np.exp(data).sum()) and np.allclose(logs, np.log(data) * 2)
    stats = f.profile
    rows = stats.node_rows()
    assert stats.calls == 3 and {row.node for row in rows} == set(f.maker.fgraph.apply_nodes)
    assert all(row.calls == 3 and row.time > 0 for row in rows)
    assert [row.time for row in rows] == sorted((row.time for row in rows), reverse=True)
    sizes = {row.op: row.memory for row in rows}
    assert sizes["Elemwise{exp,no_inplace}"] == data.nbytes and sizes["Sum{acc_dtype=float64}"] == 8
    assert stats.call_time >= stats.node_time > 0
    assert not f.one_c_function  # nodes run one by one so each has a time
    expected = {node: backend for node, backend in f.node_backends.items()}
    assert {row.node: row.backend for row in rows} == expected


def test_summary_table():
    f = profiled(profile=True, name="logs")
    f(np.ones(4))
    text = f.profile.summary(file="str")
    assert text.startswith("Function profiling: logs\n  1 call(s)")
    assert "<% time>" in text and "Elemwise{exp,no_inplace}" in text
    assert f.profile.summary(file="str", n_apply_to_print=1).rstrip().endswith("more node(s)")


def test_one_stats_object_shared_by_two_functions_and_config_flag():
    shared = ProfileStats("both")
    f = profiled(profile=shared, name="f")
    g = profiled(profile=shared, name="g")
    f(np.ones(2))
    g(np.ones(2))
    assert shared.calls == 2 and {row.function for row in shared.node_rows()} == {"f", "g"}
    with change_flags(profile=True):
        assert isinstance(profiled().profile, ProfileStats)
    assert not hasattr(profiled(), "profile")


def test_checking_modes_refuse_profiling():
    with pytest.raises(ValueError, match="needs a plain Mode"):
        profiled(profile=True, mode="DebugMode")


@pytest.mark.cpu_only
def test_errors_still_name_the_node_when_profiled():
    x = T.dvector("x")
    i = T.lscalar("i")
    f = theanolab.function([x, i], x[i], profile=True)
    with pytest.raises(IndexError) as info:
        f(np.ones(2), 5)
    assert info.value.node.op.__class__.__name__ == "Subtensor" and info.value.input_shapes == [(2,), ()]
