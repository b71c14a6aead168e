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
    config.addinivalue_line("markers", "cpu_only: checks CPU behaviour (which CPU op a rewrite produced, C kernels, "
                                       "host shared values): runs with device=cpu even in a device=cuda pass")


@pytest.fixture(autouse=True, scope="module")
def cpu_only_modules_on_the_cpu(request):
    """A module marked ``cpu_only`` runs with device=cpu, its module-scoped fixtures included."""
    marked = request.node.get_closest_marker("cpu_only") is not None
    yield from _on_the_cpu(marked)


@pytest.fixture(autouse=True)
def cpu_only_tests_on_the_cpu(request):
    """A ``cpu_only`` test asserts CPU behaviour: under device=cuda its nodes would be GpuOps."""
    yield from _on_the_cpu(request.node.get_closest_marker("cpu_only") is not None)


def _on_the_cpu(marked):
    if not marked:
        yield
        return
    from theanolab.config import change_flags

    with change_flags(device="cpu"):
        yield


#: folders whose tests all check CPU graphs: the CPU rewrites, and the C backend's kernels.
_CPU_ONLY_FOLDERS = ("rewriting", "c")


def pytest_collection_modifyitems(config, items):
    for item in items:
        if os.path.basename(os.path.dirname(str(item.fspath))) in _CPU_ONLY_FOLDERS:
            item.add_marker(pytest.mark.cpu_only)
