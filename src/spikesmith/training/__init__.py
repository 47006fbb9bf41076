"""Training by gradient descent: configuration, losses, the epoch loop and test pass, checkpoints.

The run around the loop (data, model, resume, checkpoints, metrics, report) is ``spikesmith.run.train``.
"""

from .checkpoint import atomic_save, load_checkpoint, load_weights, make_checkpoint
from .config import TrainConfig, load_config_file, make_config, parse_overrides
from .losses import LOSSES, ce_mean_loss, firing_rate_regularizer, get_loss, mse_rate_loss, tet_loss
from .online import ONLINE_METHODS, online_step
from .trainer import evaluate

__all__ = [
    "LOSSES", "ONLINE_METHODS", "TrainConfig", "atomic_save", "ce_mean_loss", "evaluate", "firing_rate_regularizer", "get_loss",
    "load_checkpoint", "load_config_file", "load_weights", "make_checkpoint", "make_config", "mse_rate_loss",
    "online_step", "parse_overrides", "tet_loss",
]

_MOVED = {"run": "spikesmith.run.train"}


def __getattr__(name: str):
    # the run layer sits above training (docs/design.md): point old imports at the new place
    if name in _MOVED:
        raise AttributeError(f"spikesmith.training.{name} moved to {_MOVED[name]} (from spikesmith.run import "
                             f"{_MOVED[name].rsplit('.', 1)[1]})")
    raise AttributeError(f"module 'spikesmith.training' has no attribute {name!r}")
