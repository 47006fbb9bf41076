"""Plain references the attention and block tests share: the LIF recurrence and a token projection by hand."""

from __future__ import annotations

import torch


def lif_ref(x_seq: torch.Tensor, v_th: float = 1.0) -> torch.Tensor:
    """LIF with tau = 2, hard reset to 0: H = V + (X - V) / 2, S = [H >= V_th], V = H (1 - S)."""
    v = torch.zeros_like(x_seq[0])
    out = []
    for x in x_seq:
        h = v + (x - v) / 2
        s = (h >= v_th).to(x.dtype)
        v = h * (1 - s)
        out.append(s)
    return torch.stack(out)


def proj_ref(x: torch.Tensor, tp, neuron: bool = True) -> torch.Tensor:
    """Linear -> eval batch norm -> (LIF) by hand."""
    y = x @ tp.linear.weight.T
    if tp.linear.bias is not None:
        y = y + tp.linear.bias
    bn = tp.bn
    y = (y - bn.running_mean) / torch.sqrt(bn.running_var + bn.eps) * bn.weight + bn.bias
    return lif_ref(y) if neuron else y
