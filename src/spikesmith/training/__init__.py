"""Training: configuration, losses, the loop behind ``spikesmith train``, checkpoints."""

from .checkpoint import atomic_save, load_checkpoint, load_weights, make_checkpoint
from .config import TrainConfig, load_config_file, make_config, parse_overrides
from .losses import LOSSES, ce_mean_loss, firing_rate_regularizer, get_loss, mse_rate_loss, tet_loss
from .trainer import evaluate, run

__all__ = [
    "LOSSES", "TrainConfig", "atomic_save", "ce_mean_loss", "evaluate", "firing_rate_regularizer", "get_loss",
    "load_checkpoint", "load_config_file", "load_weights", "make_checkpoint", "make_config", "mse_rate_loss",
    "parse_overrides", "run", "tet_loss",
]
