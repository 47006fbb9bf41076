import pytest
import torch

from _conv_helpers import trained_cnn


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    """The networks here are tiny: one intra-op thread avoids oversubscription on a busy machine."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)
    yield


@pytest.fixture(scope="module")
def cnn(_one_thread):
    """(ann, x, y): a small CNN trained briefly on synthetic 12x12 images of 4 classes."""
    return trained_cnn()
