"""Pooling layers: adaptive pooling to the size the input already has."""

import pytest
import torch

from spikesmith import layer


def test_adaptive_pool_to_the_input_size_is_the_identity():
    """Same values and gradients as torch's pool (the mean over one-element windows), no new tensor."""
    x = torch.rand(2, 3, 4, 7, 7, requires_grad=True)
    pool = layer.AdaptiveAvgPool2d((7, 7), step_mode="m")
    y = pool(x)
    assert y is x
    ref = torch.nn.AdaptiveAvgPool2d(7)(x.detach().flatten(0, 1)).unflatten(0, (2, 3))
    torch.testing.assert_close(y.detach(), ref)
    assert pool(torch.rand(2, 3, 4, 8, 8)).shape == (2, 3, 4, 7, 7)  # a real pool otherwise
    assert layer.AdaptiveAvgPool2d((None, 7))(torch.rand(3, 5, 7)).shape == (3, 5, 7)
    with pytest.raises(ValueError, match="single-step input"):
        pool(torch.rand(3, 4, 7, 7))
