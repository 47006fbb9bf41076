"""RSNN: a recurrent spiking network of LIF and adaptive LIF neurons (LSNN-style; Bellec et al.,
NeurIPS 2018) with a membrane readout, for sequences such as sequential Fashion-MNIST.

    I(t) = W_in X(t) + W_rec S(t-1)                       (no self connections)
    S(t) = ALIF(I(t)),  beta = 0 for the first n_lif units (plain LIF), beta > 0 for the rest;
           the input is not divided by tau (decay_input=False), so V integrates I over ~tau steps
    Y(t) = NonSpikingLIF(W_out S(t))                      (the readout's membrane potential)

Input ``T x N x features``; output ``T x N x classes`` (the loss uses the mean over T).
The ANN twin (``ann=True``) is the same recurrence with an activation in place of the neurons
(an Elman RNN) and a plain linear readout.
"""

from __future__ import annotations

import torch
from torch import nn

from .. import layer
from ..neuron import AdaptiveLIFNode, NonSpikingLIFNode
from .blocks import make_activation


class RSNN(nn.Module):
    def __init__(
        self,
        in_features: int = 28,
        num_classes: int = 10,
        n_lif: int = 64,
        n_alif: int = 64,
        tau: float = 20.0,
        tau_adapt: float = 200.0,
        beta: float = 1.8,
        tau_out: float = 20.0,
        surrogate: str | None = "atan",
        detach_reset: bool = True,
        ann: bool = False,
        activation: str = "relu",
    ):
        super().__init__()
        hidden = n_lif + n_alif
        if hidden < 1:
            raise ValueError("RSNN: n_lif + n_alif must be >= 1")
        self.is_ann = ann
        if ann:
            cell = make_activation(activation)
        else:
            betas = torch.cat([torch.zeros(n_lif), torch.full((n_alif,), float(beta))])
            cell = AdaptiveLIFNode(tau=tau, tau_adapt=tau_adapt, beta=betas, v_reset=None, decay_input=False,
                                   surrogate_function=surrogate, detach_reset=detach_reset)
        self.recurrent = layer.Recurrent(nn.Linear(in_features, hidden), cell, hidden_size=hidden,
                                         self_connections=False, step_mode="m")
        self.readout = layer.Linear(hidden, num_classes, step_mode="m")
        self.readout_neuron = None if ann else NonSpikingLIFNode(tau=tau_out, step_mode="m")

    def forward(self, x_seq: torch.Tensor) -> torch.Tensor:
        y = self.readout(self.recurrent(x_seq))
        return y if self.readout_neuron is None else self.readout_neuron(y)
