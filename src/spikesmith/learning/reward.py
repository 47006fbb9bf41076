"""Reward-modulated STDP: STDP writes an eligibility trace, a reward signal turns it into learning.

Each synapse keeps an eligibility ``e`` that collects the pair-STDP change and decays with
``tau_e`` (Izhikevich 2007; Florian 2007):

    e[t] = exp(-dt/tau_e) e[t-1] + (A+ f+(W) s_post[t] x[t]^T - A- f-(W) y[t] s_pre[t]^T)
    dW   = reward * e                  at each ``step(reward)``

The contributions of the recorded steps are weighted by ``exp(-(T-1-t) dt/tau_e)`` and summed in
one matrix product, so the eligibility after a multi-step call is exact without a loop over
time. Online (single-step, ``step(r_t)`` every step) this is dW_t = r_t e_t; batched (reward at
the end of a sequence) it is dW = r e_T. With ``per_sample=True`` each sample keeps its own
eligibility (``N x weight shape``) and ``reward`` may be a tensor ``[N]``; the change is then the
mean (or sum) of ``reward[n] e[n]``. Without it, the eligibility is reduced over the batch and
the reward is one number.

>>> learner = RewardSTDPLearner(fc, lif, a_plus=1e-3, a_minus=1e-3, tau_e=200.0)
>>> lif(fc(spikes)); learner.step(reward=+1.0 if correct else -1.0)
"""

from __future__ import annotations

from typing import Optional, Union

import torch
from torch import Tensor, nn

from .stdp import STDPLearner
from .synapses import outer_sum, outer_sum_per_sample
from .traces import check_positive, decay_factor, decay_weights


class RewardSTDPLearner(STDPLearner):
    """Reward-modulated pair STDP with an eligibility trace (see the module docstring).

    Args:
        tau_e: eligibility time constant (unit of ``dt``).
        per_sample: keep one eligibility per sample so rewards may differ between samples.
        **kwargs: the :class:`~spikesmith.learning.STDPLearner` arguments.
    """

    def __init__(self, synapse: nn.Module, neuron: nn.Module, tau_e: float = 200.0, per_sample: bool = False,
                 **kwargs):
        self.tau_e = check_positive(tau_e, type(self).__name__, "tau_e")
        self.per_sample = bool(per_sample)
        super().__init__(synapse, neuron, **kwargs)
        self.eligibility: Optional[Tensor] = None

    def _eligibility_update(self, pre: Tensor, post: Tensor) -> Tensor:
        x, y = self.traces(pre, post)
        T, N = pre.shape[0], pre.shape[1]
        d = decay_factor(self.tau_e, self.dt)
        wt = decay_weights(T, d, pre).view(T, *([1] * (post.dim() - 1)))
        f_plus, f_minus = self._weight_factors(self.synapse.weight.detach())
        if self.per_sample:
            ltp = outer_sum_per_sample(self.synapse, post * wt, x)
            ltd = outer_sum_per_sample(self.synapse, y * wt, pre)
        else:
            ltp = self._reduce(outer_sum(self.synapse, post * wt, x), N)
            ltd = self._reduce(outer_sum(self.synapse, y * wt, pre), N)
        new = self.a_plus * f_plus * ltp - self.a_minus * f_minus * ltd
        if self.eligibility is not None:
            if self.eligibility.shape != new.shape:
                raise ValueError(f"{type(self).__name__}: the eligibility has shape {list(self.eligibility.shape)} "
                                 f"but this recording gives {list(new.shape)}; call learner.reset() between inputs")
            new = new + (d ** T) * self.eligibility
        self.eligibility = new
        return new

    def compute(self, reward: Union[float, Tensor, None] = None) -> Tensor:
        """Advance the eligibility over the recorded steps; return ``reward * e`` (zeros for no reward)."""
        pre, post = self._take()
        e = self._eligibility_update(pre, post)
        if reward is None:
            return torch.zeros_like(self.synapse.weight)
        r = torch.as_tensor(reward, dtype=e.dtype, device=e.device)
        if self.per_sample:
            if r.dim() == 0:
                r = r.expand(e.shape[0])
            if r.shape != (e.shape[0],):
                raise ValueError(f"{type(self).__name__}: reward must be a number or a tensor of shape [{e.shape[0]}] "
                                 f"(one per sample), got shape {list(r.shape)}")
            return self._reduce((r.view(-1, *([1] * (e.dim() - 1))) * e).sum(0), e.shape[0])
        if r.dim() != 0:
            raise ValueError(f"{type(self).__name__}: reward must be one number unless per_sample=True, got a tensor "
                             f"of shape {list(r.shape)}")
        return r * e

    def step(self, reward: Union[float, Tensor, None] = None, apply: bool = True) -> Tensor:
        """Advance the eligibility, then apply ``reward * eligibility`` (``reward=None``: no change)."""
        dw = self.compute(reward)
        if apply and reward is not None:
            self.apply(dw)
        return dw

    def reset(self) -> None:
        super().reset()
        self.eligibility = None
