import pytest

from theanolab.scalar import composite as composite_module


@pytest.fixture(params=["whole", "blocked"])
def blocked(request, monkeypatch):
    """Run a test with the default block size (small arrays: whole) and with 64-element blocks."""
    if request.param == "blocked":
        monkeypatch.setattr(composite_module, "BLOCK", 64)
    return request.param
