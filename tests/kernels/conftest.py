import pytest

from spikesmith import kernels


def pytest_collection_modifyitems(config, items):
    """Skip the kernel tests (with the reason) where the kernels cannot be built here."""
    if kernels.available():
        return
    skip = pytest.mark.skip(reason=f"fused CPU kernels unavailable: {kernels.unavailable_reason()}")
    for item in items:
        if "tests/kernels" in str(item.fspath).replace("\\", "/"):
            item.add_marker(skip)
