"""``StepwiseLayer``: a torch layer that also accepts whole sequences (``step_mode='m'``).

A stateless layer f treats every time step alike, so in multi-step mode

    Y[t] = f(X[t])   for t = 0 .. T-1

is computed in one call on the folded batch: ``[T, N, ...] -> [T*N, ...] -> f -> [T, N, ...']``.
In single-step mode the layer is exactly the torch layer. The subclasses add no parameter or
buffer, so their ``state_dict`` keys are the torch layer's and weights load from a plain model.

Wrap another torch layer the same way (the mixin first, ``StepModule`` last)::

    class LayerNorm(StepwiseLayer, nn.LayerNorm, StepModule):
        seq_layout = "[T, N, ..., C]"
"""

from __future__ import annotations

from typing import Optional

from torch import Tensor

from ..module import StepModule
from ._seq import check_seq, fold_time, owner_name


class StepwiseLayer:
    """Mixin that gives a torch layer a ``step_mode`` (``'s'``: the torch layer; ``'m'``: folded).

    Class attributes of a subclass:
        seq_layout: the multi-step layout, for error messages (``"[T, N, C, H, W]"``).
        seq_dims: the numbers of dims accepted in ``'m'`` mode (empty: any ``>= seq_min_dims``).
        seq_feature: ``(attribute, dim)``: the size that dim ``dim`` of a multi-step input must
            have, read from the layer (``("in_channels", 2)``); None for no check.
    """

    seq_layout: str = "[T, N, ...]"
    seq_dims: tuple[int, ...] = ()
    seq_min_dims: int = 2
    seq_feature: Optional[tuple[str, int]] = None

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if not issubclass(cls, StepModule):
            raise TypeError(
                f"{cls.__name__} must also derive from spikesmith.module.StepModule, listed last: "
                f"class {cls.__name__}(StepwiseLayer, nn.SomeLayer, StepModule)"
            )

    def __init__(self, *args, step_mode: str = "s", **kwargs):
        super().__init__(*args, **kwargs)  # the torch layer; its super() chain reaches StepModule
        self.step_mode = step_mode

    def check_seq_input(self, x_seq) -> None:
        """Raise ValueError/TypeError unless ``x_seq`` has the multi-step layout of this layer."""
        check_seq(x_seq, self, self.seq_layout, self.seq_dims, self.seq_min_dims)
        if self.seq_feature is not None:
            attribute, dim = self.seq_feature
            expected = getattr(self, attribute)
            if x_seq.shape[dim] != expected:
                raise ValueError(
                    f"{owner_name(self)} in step_mode='m' expects input of shape {self.seq_layout} with "
                    f"{attribute}={expected} at dim {dim}, got shape {list(x_seq.shape)}"
                )

    def multi_step_forward(self, x_seq: Tensor):
        self.check_seq_input(x_seq)
        return fold_time(super().forward, x_seq)

    def forward(self, x: Tensor):
        if self.step_mode == "s":
            return super().forward(x)
        return self.multi_step_forward(x)

    def extra_repr(self) -> str:
        base = super().extra_repr()
        return f"{base}, step_mode={self.step_mode!r}" if base else f"step_mode={self.step_mode!r}"
