"""Fixtures shared by every test folder."""

import pytest
import torch
from _fake_datasets import write_fake_idx_dataset

from spikesmith.data.locate import ENV_VAR


@pytest.fixture(scope="module")
def one_thread():
    """Tiny networks: one intra-op thread avoids oversubscription on a busy machine (a module uses it with
    ``pytestmark = pytest.mark.usefixtures("one_thread")``)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture
def fake_fashion_mnist(tmp_path, monkeypatch):
    """A tiny made-up Fashion-MNIST (64 train, 32 test images) found through ``$SPIKESMITH_DATA``.

    For tests about behaviour rather than the real data: they run where the real files are absent and
    nothing can be downloaded, and do not depend on them where they are. Returns the data folder.
    """
    root = tmp_path / "datasets"
    monkeypatch.setenv(ENV_VAR, str(root))
    return write_fake_idx_dataset(root / "fashion_mnist")
