"""Accuracy of a converted network against T, read from one run (``forward_seq``)."""

from __future__ import annotations

from typing import Optional, Sequence

import torch
from torch import Tensor, nn

from .network import ConvertedSNN


@torch.no_grad()
def ann_accuracy(ann: nn.Module, x: Tensor, y: Tensor, batch_size: int = 512) -> float:
    ann.eval()
    device = next(iter(ann.parameters())).device
    correct = 0
    for i in range(0, x.shape[0], batch_size):
        correct += int((ann(x[i:i + batch_size].to(device)).argmax(-1).cpu() == y[i:i + batch_size]).sum())
    return correct / max(x.shape[0], 1)


@torch.no_grad()
def accuracy_over_time(snn: ConvertedSNN, x: Tensor, y: Tensor, steps: Optional[Sequence[int]] = None,
                       batch_size: Optional[int] = None) -> dict[int, float]:
    """``{t: accuracy of the output averaged over the first t steps}`` for t in ``steps`` (<= ``snn.T``).

    One run of ``snn.T`` steps gives every t: this equals converting for t steps only when the
    conversion does not depend on T (no MSE thresholds, V_th/(2T) shift or calibration).
    """
    steps = sorted(set(steps or [snn.T]))
    if steps[0] < 1 or steps[-1] > snn.T:
        raise ValueError(f"accuracy_over_time: steps must lie in 1..T={snn.T}, got {steps}")
    batch_size = batch_size or max(16, 4096 // snn.T)
    device = next(iter(snn.parameters())).device
    idx = torch.tensor([t - 1 for t in steps])
    correct = torch.zeros(len(steps), dtype=torch.long)
    for i in range(0, x.shape[0], batch_size):
        out = snn.forward_seq(x[i:i + batch_size].to(device))
        pred = out[idx.to(out.device)].argmax(-1).cpu()
        correct += (pred == y[i:i + batch_size].unsqueeze(0)).sum(1)
    n = max(x.shape[0], 1)
    return {t: int(c) / n for t, c in zip(steps, correct)}
