import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(__file__))


@pytest.fixture(autouse=True, scope="session")
def private_compiledir(tmp_path_factory):
    """Compiled C modules of the whole session, and of the Python processes it starts, go to a
    temporary folder, never into the user's ~/.cache (one folder, so later tests reuse builds)."""
    from theanolab.config import change_flags

    compiledir = str(tmp_path_factory.mktemp("compiledir"))
    flags = ",".join(filter(None, [os.environ.get("THEANOLAB_FLAGS", ""), f"compiledir={compiledir}"]))
    with pytest.MonkeyPatch.context() as patch, change_flags(compiledir=compiledir):
        patch.setenv("THEANOLAB_FLAGS", flags)
        yield compiledir


@pytest.fixture(autouse=True)
def raise_on_rewrite_errors():
    """A rule that fails must fail the test, not be skipped with a warning as for users."""
    from theanolab.config import change_flags

    with change_flags(on_opt_error="raise"):
        yield


def pytest_configure(config):
    config.addinivalue_line("markers", "cpu_graph: checks the graph compiled for the CPU (which CPU op a rewrite "
                                       "produced, C kernels): runs with device=cpu even in a device=cuda pass")


@pytest.fixture(autouse=True)
def cpu_graph_on_the_cpu(request):
    """A ``cpu_graph`` test asserts the CPU graph's structure: under device=cuda its nodes would be GpuOps."""
    if request.node.get_closest_marker("cpu_graph") is None:
        yield
        return
    from theanolab.config import change_flags

    with change_flags(device="cpu"):
        yield


#: folders whose tests all check CPU graphs: the CPU rewrites, and the C backend's kernels.
_CPU_GRAPH_FOLDERS = ("rewriting", "c")


#: ... except the rewrite record's tests, which hold on any device (and make shared variables at import).
_ANY_DEVICE_FILES = ("test_history.py",)


def pytest_collection_modifyitems(config, items):
    for item in items:
        path = str(item.fspath)
        if os.path.basename(os.path.dirname(path)) in _CPU_GRAPH_FOLDERS and \
                os.path.basename(path) not in _ANY_DEVICE_FILES:
            item.add_marker(pytest.mark.cpu_graph)
