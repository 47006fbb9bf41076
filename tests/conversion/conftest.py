import pytest
import torch

from _conv_helpers import trained_cnn


@pytest.fixture(autouse=True, scope="module")
def _one_thread(one_thread):
    """The networks here are tiny: the shared one-thread fixture for every test of the folder."""


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)
    yield


@pytest.fixture(scope="module")
def cnn(_one_thread):
    """(ann, x, y): a small CNN trained briefly on synthetic 12x12 images of 4 classes."""
    return trained_cnn()
