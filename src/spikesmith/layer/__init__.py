"""Step-mode-aware layers and containers (SpikingJelly's ``activation_based.layer`` names).

Stateless torch layers with a ``step_mode`` (``'s'``: exactly the torch layer on ``[N, ...]``;
``'m'``: the same layer on every step of ``[T, N, ...]``, time folded into the batch):
``Linear``, ``Conv1d/2d/3d``, ``BatchNorm1d/2d/3d``, ``MaxPool1d/2d/3d``, ``AvgPool1d/2d/3d``,
``AdaptiveAvgPool1d/2d/3d``, ``Flatten``, ``GroupNorm``, ``VotingLayer`` (class score = mean of
``voting_size`` neurons); ``StepwiseLayer`` to wrap more.

Containers: ``SeqToANNContainer`` (stateless modules, folded), ``MultiStepContainer`` (stateful
modules, step by step), ``StepModeContainer`` (either, following ``step_mode``).

Over time: ``Dropout`` / ``Dropout2d`` (one mask per sequence), ``Recurrent`` (feedback of the
previous spikes through a recurrent weight), SpikingJelly's ``ElementWiseRecurrentContainer`` and
``LinearRecurrentContainer``, ``SynapseFilter`` (an exponential synaptic current).
Normalisation in time: ``ThresholdDependentBatchNorm2d`` (tdBN: statistics over T, N, H, W, scaled
by alpha V_th), ``TemporalEffectiveBatchNorm2d`` (TEBN: shared statistics, a scale per step), ``BNTT``
(statistics and gamma per step, no beta); what folding does with each: ``eval_affine``.
Delays: ``Delay`` (integer, per channel), ``DelayedLinear`` (integer, per synapse), ``LearnableDelay``
(a learned delay per synapse, DCLS-style: Gaussian taps in training, exact shifts in eval).
Unpooling: ``MaxUnpool1d/2d/3d`` (the inverse of ``MaxPool*d(return_indices=True)``).

Spiking transformers (tokens ``[T, N, L, D]``): ``SpikingSelfAttention`` (Spikformer's SSA),
``SpikeDrivenSelfAttention`` (SDT v1's SDSA), ``QKTokenAttention`` / ``QKChannelAttention`` (QKFormer),
``SpikingPatchSplitting`` (the SPS stem) with ``RelativePositionEmbedding``, ``SpikingMLP`` and
``TransformerEncoderBlock``, each with a spike-element-wise or a membrane shortcut (``shortcut``).

Gated: ``SpikingLSTM`` / ``SpikingGRU`` (stacked, multi-step) and ``SpikingLSTMCell`` /
``SpikingGRUCell``, in SpikingJelly's or snnTorch's formulation (``variant``), with signed spike
channels and a phased-LSTM time gate as options (``PhasedTimeGate``).

>>> net = nn.Sequential(layer.Conv2d(2, 8, 3, padding=1), layer.BatchNorm2d(8), neuron.LIFNode(),
...                     layer.MaxPool2d(2), layer.Flatten(), layer.Linear(8 * 16 * 16, 10), neuron.LIFNode())
>>> functional.set_step_mode(net, "m")
>>> net(torch.rand(4, 16, 2, 32, 32)).shape                   # [T, N, 10]
"""

from .bntt import BNTT
from .container import MultiStepContainer, SeqToANNContainer, StepModeContainer
from .conv import Conv1d, Conv2d, Conv3d
from .delay import Delay, DelayedLinear
from .dropout import Dropout, Dropout2d
from .flatten import Flatten
from .group_norm import GroupNorm
from .gated_rnn import SpikingGRU, SpikingGRUCell, SpikingLSTM, SpikingLSTMCell
from .learnable_delay import LearnableDelay
from .linear import Linear
from .norm import BatchNorm1d, BatchNorm2d, BatchNorm3d
from .phased_gate import PhasedTimeGate
from .pool import (
    AdaptiveAvgPool1d,
    AdaptiveAvgPool2d,
    AdaptiveAvgPool3d,
    AvgPool1d,
    AvgPool2d,
    AvgPool3d,
    MaxPool1d,
    MaxPool2d,
    MaxPool3d,
)
from .recurrent import Recurrent
from .attention_base import SpikingAttention
from .patch_splitting import RelativePositionEmbedding, SpikingPatchSplitting
from .qk_attention import QKChannelAttention, QKTokenAttention
from .spike_driven_attention import SpikeDrivenSelfAttention
from .spiking_mlp import SpikingMLP
from .spiking_self_attention import SpikingSelfAttention
from .transformer_block import TransformerEncoderBlock
from .recurrent_container import ElementWiseRecurrentContainer, LinearRecurrentContainer
from .stepwise import StepwiseLayer
from .synapse_filter import SynapseFilter
from .temporal_effective_norm import TemporalEffectiveBatchNorm2d
from .threshold_norm import ThresholdDependentBatchNorm2d
from .unpool import MaxUnpool1d, MaxUnpool2d, MaxUnpool3d
from .voting import VotingLayer

__all__ = [
    "AdaptiveAvgPool1d", "AdaptiveAvgPool2d", "AdaptiveAvgPool3d", "AvgPool1d", "AvgPool2d", "AvgPool3d",
    "BatchNorm1d", "BatchNorm2d", "BatchNorm3d", "Conv1d", "Conv2d", "Conv3d", "Dropout", "Dropout2d",
    "Flatten", "Linear", "MaxPool1d", "MaxPool2d", "MaxPool3d", "MultiStepContainer", "Recurrent",
    "SeqToANNContainer", "StepModeContainer", "StepwiseLayer", "GroupNorm", "VotingLayer",
    "ElementWiseRecurrentContainer", "LinearRecurrentContainer", "MaxUnpool1d", "MaxUnpool2d", "MaxUnpool3d",
    "SynapseFilter", "PhasedTimeGate", "SpikingGRU", "SpikingGRUCell", "SpikingLSTM", "SpikingLSTMCell",
    "BNTT", "TemporalEffectiveBatchNorm2d", "ThresholdDependentBatchNorm2d",
    "Delay", "DelayedLinear", "LearnableDelay",
    "QKChannelAttention", "QKTokenAttention", "RelativePositionEmbedding", "SpikeDrivenSelfAttention",
    "SpikingAttention", "SpikingMLP", "SpikingPatchSplitting", "SpikingSelfAttention", "TransformerEncoderBlock",
]
