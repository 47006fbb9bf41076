"""The sparse synaptic step: a fixed sparse weight matrix times a spike vector.

    I = W S          W: n_post x n_pre (rows postsynaptic, columns presynaptic, as in ``nn.Linear``)
                     S: n_pre x batch  (neurons first: the fast layout for a CSR matrix)

Spikes are mostly zero and W is fixed, so a compressed-row (CSR) matrix touches only the stored
connections: the cost is O(connections x batch), not O(n_post x n_pre x batch). The liquid state
machine steps its reservoir with it; sparse inference reuses it. It lives in ``dynamics`` (pure
maths, imports only torch) so that every layer above may call it.

>>> w = to_sparse_weight(post_index, pre_index, values, (n_post, n_pre))
>>> current = sparse_spike_matmul(w, spikes)           # spikes [n_pre] or [n_pre, batch]
"""

from __future__ import annotations

import contextlib
import warnings

import torch
from torch import Tensor

__all__ = ["sparse_spike_matmul", "to_sparse_weight"]


@contextlib.contextmanager
def _quiet_beta_warning():
    """torch warns once that CSR support is in beta; that note is not for our users."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*[Ss]parse.*")
        yield


def to_sparse_weight(post_index: Tensor, pre_index: Tensor, values: Tensor, shape: tuple[int, int]) -> Tensor:
    """A CSR matrix of ``shape`` (n_post, n_pre) with ``values`` at (post_index, pre_index);
    duplicate positions are summed."""
    if post_index.shape != pre_index.shape or post_index.shape != values.shape:
        raise ValueError(f"to_sparse_weight: post_index, pre_index and values must have one shape, got "
                         f"{tuple(post_index.shape)}, {tuple(pre_index.shape)}, {tuple(values.shape)}")
    with _quiet_beta_warning():
        coo = torch.sparse_coo_tensor(torch.stack([post_index.long(), pre_index.long()]), values, shape)
        return coo.coalesce().to_sparse_csr()


def sparse_spike_matmul(weight: Tensor, spikes: Tensor) -> Tensor:
    """``W @ S`` for a sparse (CSR or COO) or dense ``weight`` [n_post, n_pre] and ``spikes``
    [n_pre] or [n_pre, batch]; returns [n_post] or [n_post, batch] in the spikes' dtype."""
    if spikes.dim() not in (1, 2) or spikes.shape[0] != weight.shape[1]:
        raise ValueError(f"sparse_spike_matmul: spikes must be [n_pre] or [n_pre, batch] with n_pre = "
                         f"{weight.shape[1]} (the weight's columns), got shape {tuple(spikes.shape)}")
    column = spikes.dim() == 1
    s = spikes.unsqueeze(1) if column else spikes
    if weight.dtype != s.dtype:
        s = s.to(weight.dtype)
    out = (weight @ s.contiguous()).to(spikes.dtype)     # CSR @ dense: the fastest sparse path in torch
    return out.squeeze(1) if column else out
