import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(__file__))


@pytest.fixture(autouse=True)
def raise_on_rewrite_errors():
    """A rule that fails must fail the test, not be skipped with a warning as for users."""
    from theanolab.config import change_flags

    with change_flags(on_opt_error="raise"):
        yield
