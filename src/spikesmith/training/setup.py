"""Turn a ``TrainConfig`` into data, model, encoder, optimiser and schedule."""

from __future__ import annotations

import dataclasses
import os
import sys
from typing import Any, Optional

import torch
from torch import Tensor, nn

from ..data import dataset_info, get_dataset
from ..data.event_frames import event_info, is_event_dataset, load_event_frames
from ..encoding import get_encoder
from ..models import ModelInput, build_model
from .config import TrainConfig, model_config


def log(msg: str) -> None:
    print(f"[spikesmith] {msg}", file=sys.stderr, flush=True)


def resolve_defaults(cfg: TrainConfig) -> TrainConfig:
    """Fill the choices left open: dataset, model (and every option of it) and encoder."""
    from ..models import config_class
    from .config import default_dataset, resolve_model_options

    cfg = dataclasses.replace(cfg)
    if cfg.dataset is None:
        cfg.dataset = default_dataset(cfg.data_dir)
    info = event_info(cfg.dataset, cfg.T, cfg.event_method) if is_event_dataset(cfg.dataset) else dataset_info(cfg.dataset)
    if cfg.model is None:
        if info.temporal:
            cfg.model = "rsnn" if len(info.input_shape) == 2 else "csnn"
        else:
            cfg.model = "fcsnn" if info.input_shape[-1] < 16 else "csnn"
    cfg.model_options = resolve_model_options(cfg.model, cfg.model_options)
    if cfg.encoder is None:
        cfg.encoder = "none" if info.temporal else config_class(cfg.model).default_encoder
    return cfg


def model_arguments(cfg: TrainConfig, input_shape: tuple, num_classes: int, temporal: bool = False) -> dict[str, Any]:
    """The constructor arguments of the configured model (stored in checkpoints): its family's
    options turned into arguments for the data, plus the ANN twin's switch and activation.

    ``input_shape`` is one sample's shape; for a temporal dataset its first entry is T.
    """
    options = model_config(cfg.model, cfg.model_options)
    return {**options.arguments(ModelInput(tuple(input_shape), num_classes, temporal)), "ann": cfg.ann,
            "activation": cfg.activation}


def build(cfg: TrainConfig, input_shape: tuple, num_classes: int, temporal: bool = False) -> tuple[nn.Module, dict]:
    args = model_arguments(cfg, input_shape, num_classes, temporal)
    return build_model(cfg.model, **args), args


def describe_model(cfg: TrainConfig) -> str:
    """``'ANN relu'`` or ``'SNN lif'``: what the run trains, for logs and reports."""
    options = model_config(cfg.model, cfg.model_options)
    if cfg.ann:
        return f"ANN {options.ann_twin or cfg.activation}"
    neuron = options.neuron_name
    return f"SNN {neuron}" if neuron else "SNN"


def load_split(cfg: TrainConfig, split: str) -> tuple[Tensor, Tensor, Any]:
    limit = cfg.train_subset if split == "train" else cfg.test_subset
    if is_event_dataset(cfg.dataset):
        return load_event_frames(cfg.dataset, split, cfg.T, cfg.data_dir, limit, cfg.event_method,
                                 cfg.event_threshold)
    ds = get_dataset(cfg.dataset, split, data_dir=cfg.data_dir)
    if os.environ.get("RANK", "0") == "0":
        print(f"[spikesmith] {cfg.dataset} {split}: {ds.inputs.shape[0]} samples from {ds.origin}",
              file=sys.stderr, flush=True)
    x, y = ds.inputs, ds.targets
    if limit is not None:
        x, y = x[:limit], y[:limit]
    return x, y, ds.info


def make_encoder(cfg: TrainConfig, seed: Optional[int]) -> nn.Module:
    kwargs = {"seed": seed} if cfg.encoder == "poisson" else {}
    return get_encoder(cfg.encoder, cfg.T, **kwargs)


def parameter_groups(model: nn.Module, lr: float) -> list:
    """The trained parameters, as one list, or as optimizer groups when a module asks for its own learning rates:
    a module with ``lr_scales() -> {parameter: factor}`` (``layer.LearnableDelay``'s delay positions) gets a group
    at ``lr * factor`` for each factor, the rest one group at ``lr``."""
    params = [p for p in model.parameters() if p.requires_grad]
    scales: dict[int, float] = {}
    for module in model.modules():
        asked = getattr(module, "lr_scales", None)
        if callable(asked):
            scales.update({id(p): float(f) for p, f in asked().items() if f != 1.0})
    if not scales:
        return params
    factors = sorted({scales.get(id(p), 1.0) for p in params})
    return [{"params": [p for p in params if scales.get(id(p), 1.0) == f], "lr": lr * f} for f in factors]


def make_optimizer(cfg: TrainConfig, model: nn.Module) -> torch.optim.Optimizer:
    params = parameter_groups(model, cfg.lr)
    if cfg.optimizer == "sgd":
        return torch.optim.SGD(params, lr=cfg.lr, momentum=cfg.momentum, weight_decay=cfg.weight_decay)
    cls = torch.optim.AdamW if cfg.optimizer == "adamw" else torch.optim.Adam
    return cls(params, lr=cfg.lr, weight_decay=cfg.weight_decay)


def make_schedule(cfg: TrainConfig, opt: torch.optim.Optimizer, steps_per_epoch: int):
    total = max(cfg.epochs * steps_per_epoch, 1)
    if cfg.schedule == "onecycle":
        # warm up over a quarter of the steps, at least two: with 4 steps in all a warm-up ending on
        # step 0 makes OneCycleLR divide by zero
        pct_start = max(0.25, 2 / total) if total > 2 else 0.25
        max_lr = [group["lr"] for group in opt.param_groups]     # each group's own (learnable delays' positions)
        return torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=max_lr if len(max_lr) > 1 else cfg.lr, total_steps=total,
                                                   pct_start=pct_start)
    if cfg.schedule == "cosine":
        return torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=total)
    return None


def pick_device(name: str) -> torch.device:
    """``auto`` (CUDA where there is one, else the CPU), or a device PyTorch knows that is present here."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(name)
    except (RuntimeError, ValueError):
        raise ValueError(f"device {name!r} is not a device name PyTorch knows; use auto, cpu, cuda or cuda:N") from None
    if device.type == "cuda":
        count = torch.cuda.device_count() if torch.cuda.is_available() else 0
        if count == 0:
            raise ValueError(f"device {name!r}: this PyTorch sees no CUDA device "
                             f"(torch.cuda.is_available() is False); use --device cpu or auto")
        if device.index is not None and device.index >= count:
            raise ValueError(f"device {name!r}: there are {count} CUDA device(s), cuda:0 to cuda:{count - 1}")
    elif device.type == "mps" and not (hasattr(torch.backends, "mps") and torch.backends.mps.is_available()):
        raise ValueError(f"device {name!r}: MPS is not available here; use --device cpu or auto")
    elif device.type not in ("cpu", "cuda", "mps"):
        raise ValueError(f"device {name!r}: spikesmith trains on cpu, cuda or mps")
    return device
