"""The recurrent connection of snnTorch's ``RLeaky`` and ``RSynaptic``: the last spikes, fed back.

``all_to_all=True`` (default): ``nn.Linear(linear_features, linear_features)``, or
``nn.Conv2d(conv2d_channels, conv2d_channels, kernel_size, padding=kernel_size // 2)``;
``all_to_all=False``: one weight ``V`` per neuron (``S * V``), learned with ``learn_recurrent``.
"""

from __future__ import annotations

from torch import Tensor, nn

from .neuron import as_tensor_param


class RecurrentOneToOne(nn.Module):
    """S -> S * V (``V`` a number, a tensor, or the owning neuron's parameter)."""

    def __init__(self, V):
        super().__init__()
        self.V = V

    def forward(self, x: Tensor) -> Tensor:
        return x * self.V


def check_recurrent_args(owner: str, all_to_all, linear_features, conv2d_channels, kernel_size) -> None:
    """snnTorch's rules for which of linear_features / conv2d_channels + kernel_size must be given."""
    has_linear, has_conv, has_kernel = bool(linear_features), bool(conv2d_channels), bool(kernel_size)
    if all_to_all:
        if not has_linear and not (has_conv or has_kernel):
            raise TypeError(f"{owner}: with all_to_all=True give linear_features (a dense layer) or "
                            f"conv2d_channels and kernel_size (a convolution), sized like the layer's spikes")
        if not has_linear and has_conv != has_kernel:
            raise TypeError(f"{owner}: conv2d_channels and kernel_size must be given together")
        if has_linear and (has_conv or has_kernel):
            raise TypeError(f"{owner}: give linear_features or conv2d_channels + kernel_size, not both")
    elif has_linear or has_conv or has_kernel:
        raise TypeError(f"{owner}: with all_to_all=False the per-neuron weight V is used; do not give "
                        f"linear_features, conv2d_channels or kernel_size")


def build_recurrent(neuron: nn.Module, V, all_to_all, linear_features, conv2d_channels, kernel_size,
                    learn_recurrent) -> None:
    """Give ``neuron`` its ``recurrent`` module (and ``V`` for one-to-one) as snnTorch lays them out."""
    check_recurrent_args(type(neuron).__name__, all_to_all, linear_features, conv2d_channels, kernel_size)
    neuron.all_to_all, neuron.learn_recurrent = all_to_all, learn_recurrent
    neuron.linear_features, neuron.conv2d_channels, neuron.kernel_size = linear_features, conv2d_channels, kernel_size
    if all_to_all and linear_features:
        neuron.recurrent = nn.Linear(linear_features, linear_features)
    elif all_to_all:
        k = (kernel_size, kernel_size) if isinstance(kernel_size, int) else tuple(kernel_size)
        neuron.padding = (k[0] // 2, k[1] // 2)
        neuron.recurrent = nn.Conv2d(conv2d_channels, conv2d_channels, kernel_size, padding=neuron.padding)
    else:
        as_tensor_param(neuron, "V", V, learn_recurrent)
        neuron.recurrent = RecurrentOneToOne(neuron.V)
    if not learn_recurrent:
        for param in neuron.recurrent.parameters():
            param.requires_grad = False
