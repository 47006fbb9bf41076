"""Fixtures shared by every test folder."""

import urllib.error
import urllib.request

import pytest
import torch
from _fake_datasets import write_fake_idx_dataset

from spikesmith.data.locate import ENV_VAR


def _no_download(url, *args, **kwargs):
    raise urllib.error.URLError(f"tests download nothing (asked for {getattr(url, 'full_url', url)}); "
                                "make small data in the test (fixture fake_fashion_mnist) or skip it")


@pytest.fixture(autouse=True)
def no_download(monkeypatch):
    """Every test: opening a URL fails at once (an OSError, as offline), so a test that would need a
    download fails the same way on every machine instead of fetching the data where there is a network."""
    monkeypatch.setattr(urllib.request, "urlopen", _no_download)


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
