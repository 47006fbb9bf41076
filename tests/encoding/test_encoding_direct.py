"""Direct input and the identity ('none') encoder."""

import pytest
import torch

from spikesmith.encoding import DirectEncoder, IdentityEncoder, direct_encode


def test_repeats_input_at_every_step():
    x = torch.tensor([[0.2, -3.0], [7.5, 0.0]])
    out = direct_encode(x, 3)
    assert out.shape == (3, 2, 2) and out.dtype == x.dtype
    for t in range(3):
        assert torch.equal(out[t], x)


def test_view_by_default_copy_when_contiguous():
    x = torch.rand(2, 3)
    view = direct_encode(x, 4)
    assert view.stride(0) == 0 and view.data_ptr() == x.data_ptr()
    copy = direct_encode(x, 4, contiguous=True)
    assert copy.is_contiguous() and copy.data_ptr() != x.data_ptr()
    copy[0, 0, 0] = 99.0
    assert x[0, 0] != 99.0 and torch.equal(copy[1], x)


def test_module_and_gradient_flow():
    x = torch.rand(2, 3, requires_grad=True)
    out = DirectEncoder(T=5, contiguous=True)(x)
    out.sum().backward()
    assert torch.equal(x.grad, torch.full_like(x, 5.0))


def test_identity_passes_temporal_data_through():
    x = torch.rand(6, 2, 3)
    assert IdentityEncoder()(x) is x
    assert IdentityEncoder(T=6)(x) is x
    with pytest.raises(ValueError, match="T=4"):
        IdentityEncoder(T=4)(x)
