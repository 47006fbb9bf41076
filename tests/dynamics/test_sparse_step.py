import pytest
import torch

from spikesmith.dynamics.sparse_step import sparse_spike_matmul, to_sparse_weight


def test_sparse_step_equals_the_dense_product():
    g = torch.Generator().manual_seed(0)
    post, pre = torch.randint(0, 30, (200,), generator=g), torch.randint(0, 50, (200,), generator=g)
    values = torch.randn(200, generator=g)
    w = to_sparse_weight(post, pre, values, (30, 50))
    dense = torch.zeros(30, 50).index_put_((post, pre), values, accumulate=True)   # duplicates summed
    spikes = (torch.rand(50, 4, generator=g) < 0.2).float()
    assert w.is_sparse_csr
    assert torch.allclose(sparse_spike_matmul(w, spikes), dense @ spikes, atol=1e-5)
    assert torch.allclose(sparse_spike_matmul(w, spikes[:, 0]), dense @ spikes[:, 0], atol=1e-5)
    assert torch.allclose(sparse_spike_matmul(dense, spikes), dense @ spikes)


def test_sparse_step_refuses_a_wrong_shape():
    w = to_sparse_weight(torch.tensor([0]), torch.tensor([1]), torch.tensor([1.0]), (3, 4))
    with pytest.raises(ValueError, match="n_pre = 4"):
        sparse_spike_matmul(w, torch.zeros(3, 2))
