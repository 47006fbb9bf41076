"""RSNN: a recurrent spiking network of LIF and adaptive LIF neurons (LSNN-style; Bellec et al.,
NeurIPS 2018) with a membrane readout, for sequences such as sequential Fashion-MNIST.

    I(t) = W_in X(t) + W_rec S(t-1)                       (no self connections)
    S(t) = ALIF(I(t)),  beta = 0 for the first n_lif units (plain LIF), beta > 0 for the rest;
           the input is not divided by tau (decay_input=False), so V integrates I over ~tau steps
    Y(t) = NonSpikingLIF(W_out S(t))                      (the readout's membrane potential)

Input ``T x N x features``; output ``T x N x classes`` (the loss uses the mean over T).
``delays`` (``fixed`` or ``learnable``, up to ``max_delay`` steps, ``models.delays``) gives the input
synapses W_in a delay each: W_in X(t) becomes sum_d W_in,d X(t - d); the recurrence stays undelayed.
The ANN twin (``ann=True``) is the same recurrence with an activation in place of the neurons
(an Elman RNN) and a plain linear readout.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import torch
from torch import nn

from .. import layer
from ..learning.feedback import FEEDBACK_PLANS, FeedbackPlan
from ..neuron import NonSpikingLIFNode
from .blocks import make_activation
from .delays import delay_synapse, refuse_delays_for_feedback
from .neuron_spec import NeuronSpec
from .options import DelayOptions, ModelInput, SpikeOptions, option
from .registry import MODELS


@dataclass
class RSNNConfig(DelayOptions, SpikeOptions):
    hidden: int = option(128, "recurrent units: the first half plain LIF, the rest adaptive")
    tau: float = option(20.0, "membrane time constant of the recurrent neurons")
    tau_adapt: float = option(200.0, "time constant of the adaptive threshold")
    beta: float = option(1.8, "threshold increase per spike of the adaptive neurons")
    tau_out: float = option(20.0, "time constant of the non-spiking readout")

    def __post_init__(self):
        super().__post_init__()
        self.check(self.hidden >= 1, "hidden must be >= 1")

    def arguments(self, data: ModelInput) -> dict:
        if not data.temporal or len(data.sample_shape) != 2:
            raise ValueError(f"rsnn needs a temporal dataset (samples T x features), got input shape "
                             f"{tuple(data.sample_shape)}")
        n_lif, n_alif = split_hidden(self.hidden)
        return {"in_features": data.step_shape[-1], "num_classes": data.num_classes, "n_lif": n_lif,
                "n_alif": n_alif, "tau": self.tau, "tau_adapt": self.tau_adapt, "beta": self.beta,
                "tau_out": self.tau_out, "surrogate": self.surrogate, "detach_reset": self.detach_reset,
                **self.delay_arguments(data)}

    @property
    def neuron_name(self) -> Optional[str]:
        return "alif"


def split_hidden(hidden: int) -> tuple[int, int]:
    """``hidden`` units as (plain LIF, adaptive LIF): half each, the odd one adaptive."""
    return hidden // 2, hidden - hidden // 2


_D = RSNNConfig
_N_LIF, _N_ALIF = split_hidden(_D.hidden)


@MODELS.register("rsnn", config=RSNNConfig)
class RSNN(nn.Module):
    def __init__(
        self,
        in_features: int = 28,
        num_classes: int = 10,
        n_lif: int = _N_LIF,
        n_alif: int = _N_ALIF,
        tau: float = _D.tau,
        tau_adapt: float = _D.tau_adapt,
        beta: float = _D.beta,
        tau_out: float = _D.tau_out,
        surrogate: Optional[str] = _D.surrogate,
        detach_reset: bool = _D.detach_reset,
        ann: bool = False,
        activation: str = "relu",
        delays: str = _D.delays,
        max_delay: int = _D.max_delay,
    ):
        super().__init__()
        hidden = n_lif + n_alif
        if hidden < 1:
            raise ValueError("RSNN: n_lif + n_alif must be >= 1")
        RSNNConfig(delays=delays, max_delay=max_delay)                 # the delay options, checked
        if ann and delays != "none":
            raise ValueError(f"RSNN: delays={delays!r} has no ANN twin (an Elman RNN); use delays='none' for the twin")
        self.is_ann = ann
        if ann:
            cell = make_activation(activation)
        else:
            spec = NeuronSpec.of("alif", tau=tau, surrogate=surrogate, detach_reset=detach_reset)
            betas = torch.cat([torch.zeros(n_lif), torch.full((n_alif,), float(beta))])
            cell = spec.build(tau_adapt=tau_adapt, beta=betas, v_reset=None, decay_input=False, step_mode="s")
        # delayed input synapses run on the whole sequence before the recurrence (which loops over steps)
        self.delayed_input = None if delays == "none" else delay_synapse(delays, in_features, hidden, max_delay,
                                                                         bias=True)
        layer_in = nn.Linear(in_features, hidden) if self.delayed_input is None else None
        self.recurrent = layer.Recurrent(layer_in, cell, hidden_size=hidden, self_connections=False, step_mode="m")
        self.readout = layer.Linear(hidden, num_classes, step_mode="m")
        self.readout_neuron = None if ann else NonSpikingLIFNode(tau=tau_out, step_mode="m")

    def forward(self, x_seq: torch.Tensor) -> torch.Tensor:
        if self.delayed_input is not None:
            x_seq = self.delayed_input(x_seq)
        y = self.readout(self.recurrent(x_seq))
        return y if self.readout_neuron is None else self.readout_neuron(y)


@FEEDBACK_PLANS.register(RSNN)
def _rsnn_feedback(model: RSNN) -> FeedbackPlan:
    """The readout and the recurrent weight carry the error (to the spikes, and back in time); the
    recurrent layer's spikes get DFA's projected error."""
    refuse_delays_for_feedback(model)
    return FeedbackPlan(routes=[model.readout, model.recurrent], hidden=[(model.recurrent, model.recurrent.hidden_size)],
                        recurrent=[model.recurrent], num_classes=model.readout.out_features)
