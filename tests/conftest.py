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
