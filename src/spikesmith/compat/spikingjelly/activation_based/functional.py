"""SpikingJelly's ``activation_based.functional`` with SpikingJelly's semantics.

- ``reset_net(net)``: ``reset()`` on every submodule that has one; ``detach_net(net)``: ``detach()`` likewise;
- ``set_step_mode(net, step_mode)``: sets ``step_mode`` on every submodule that has the attribute,
  not below the containers that drive their children one step at a time;
- ``set_backend(net, backend, instance=BaseNode)``: SpikingJelly's backend names mapped onto ours;
- ``multi_step_forward``, ``seq_to_ann_forward`` (spikesmith's, SpikingJelly's semantics),
  ``chunk_multi_step_forward``, ``first_spike_index``, ``redundant_one_hot``.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .... import layer as _sf_layer
from ....functional import multi_step_forward, seq_to_ann_forward
from .._backend import map_backend
from .._missing import missing_name

_KEEP_CHILDREN_MODE = (_sf_layer.SeqToANNContainer, _sf_layer.MultiStepContainer, _sf_layer.StepModeContainer,
                       _sf_layer.ElementWiseRecurrentContainer, _sf_layer.LinearRecurrentContainer)


def _check_net(net, caller: str) -> None:
    if not isinstance(net, nn.Module):
        raise TypeError(f"{caller} expects the network (a torch.nn.Module), got {type(net).__name__}")


def reset_net(net: nn.Module) -> None:
    """Call ``reset()`` on every submodule of ``net`` that has one (``net`` included)."""
    _check_net(net, "reset_net")
    for module in net.modules():
        reset = getattr(module, "reset", None)
        if callable(reset):
            reset()


def detach_net(net: nn.Module) -> None:
    """Call ``detach()`` on every submodule of ``net`` that has one: the state leaves the graph."""
    _check_net(net, "detach_net")
    for module in net.modules():
        detach = getattr(module, "detach", None)
        if callable(detach) and not isinstance(module, Tensor):
            detach()


def set_step_mode(net: nn.Module, step_mode: str) -> None:
    """Set ``step_mode`` on ``net`` and its submodules that have one, except below step-driving containers."""
    _check_net(net, "set_step_mode")
    pending = [net]
    while pending:
        module = pending.pop()
        if hasattr(module, "step_mode"):
            module.step_mode = step_mode
        if not isinstance(module, _KEEP_CHILDREN_MODE):
            pending.extend(module.children())


def set_backend(net: nn.Module, backend: str, instance=None) -> None:
    """Set ``backend`` (``'torch'``, ``'cupy'``, ``'triton'``, or ours) on every neuron of ``net``."""
    _check_net(net, "set_backend")
    from .neuron import BaseNode
    from ....neuron import BaseNode as _SfBaseNode

    kinds = instance if instance is not None else (BaseNode, _SfBaseNode)
    for module in net.modules():
        if isinstance(module, kinds) and hasattr(module, "backend"):
            module.backend = map_backend(backend, type(module).__name__)


def chunk_multi_step_forward(split_size: int, x_seq: Tensor, multi_step_module: nn.Module) -> Tensor:
    """Run ``multi_step_module`` on chunks of ``split_size`` steps in turn and join the outputs along time."""
    if isinstance(split_size, bool) or not isinstance(split_size, int) or split_size < 1:
        raise ValueError(f"chunk_multi_step_forward: split_size must be a positive int, got {split_size!r}")
    return torch.cat([multi_step_module(x) for x in torch.split(x_seq, split_size)], 0)


def first_spike_index(spikes: Tensor) -> Tensor:
    """A bool tensor true only at each neuron's first spike along the last dim (time last)."""
    return (spikes != 0) & (spikes.cumsum(dim=-1) == 1)


def redundant_one_hot(labels: Tensor, num_classes: int, n: int) -> Tensor:
    """One-hot labels with every class repeated ``n`` times (``[N, num_classes * n]``)."""
    return F.one_hot(labels, num_classes).repeat_interleave(n, dim=-1).to(torch.get_default_dtype())


_NEAREST = {
    "t_last_multi_step_forward": "multi_step_forward with x_seq.movedim(-1, 0)",
    "t_last_seq_to_ann_forward": "seq_to_ann_forward with x_seq.movedim(-1, 0)",
    "fuse_conv_bn_eval_modules": "torch.ao.quantization.fuse_modules",
    "set_threshold_margin": "no counterpart; set the output neurons' v_threshold yourself",
    "kaiming_normal_conv_linear_weight": "torch.nn.init.kaiming_normal_ on each weight",
    "delay": "no counterpart yet; shift the sequence with torch.cat",
}

__all__ = ["chunk_multi_step_forward", "detach_net", "first_spike_index", "multi_step_forward", "redundant_one_hot",
           "reset_net", "seq_to_ann_forward", "set_backend", "set_step_mode"]


def __getattr__(name: str):
    if name.startswith("_"):
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    raise missing_name(__name__, name, _NEAREST, __all__)
