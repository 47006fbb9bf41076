"""The report written after training: curves, firing rates, a raster and membrane traces of one
test sample, the confusion matrix and the output layer's class patterns (``out/report/``)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

import torch
from torch import nn

from .. import functional
from ..neuron import BaseNode
from .config import TrainConfig
from .stats import SPIKING_NEURONS, SPIKING_STACKS
from .setup import describe_model, log, make_encoder


@dataclass
class ReportSection:
    """What a model family adds to its run's report (``run.phases.RunPhases.report``):

    figures: ``(heading, file name in report/, draw(path))``;
    lines: markdown lines for the report, before the standard sections;
    summary: more rows of the summary table (``{key: value}``, over the plain ones).
    """

    figures: list = field(default_factory=list)
    lines: list = field(default_factory=list)
    summary: dict = field(default_factory=dict)


def _spiking_layers(model: nn.Module) -> list[tuple[str, nn.Module]]:
    """Spiking neuron layers, and the gated spiking stacks (``layer.SpikingLSTM``), whose cells
    hold no neuron module: their raster is the last layer's output."""
    return [(n, m) for n, m in model.named_modules()
            if (isinstance(m, SPIKING_NEURONS) and m.emits_spikes) or isinstance(m, SPIKING_STACKS)]


def _time_first(outputs: list[torch.Tensor], step_mode: str) -> torch.Tensor:
    """The calls of one layer as ``T x N x ...``: the single multi-step call, or the steps stacked."""
    return outputs[0] if step_mode == "m" and len(outputs) == 1 else torch.stack(outputs)


@torch.no_grad()
def one_sample_activity(model: nn.Module, x: torch.Tensor, cfg: TrainConfig, temporal: bool):
    """Spikes of every spiking layer (``T x neurons``) and membrane traces of the first neuron layer."""
    from .trainer import forward

    layers = _spiking_layers(model)
    # a neuron in multi-step mode is called once with T x N x ...; one stepped by a wrapper (the cell of
    # layer.Recurrent) once per step with N x ...: both end as T x N x ... lists of calls
    calls: dict[str, list[torch.Tensor]] = {n: [] for n, _ in layers}
    volts: list[torch.Tensor] = []
    first_name, first = next(((n, m) for n, m in layers if isinstance(m, BaseNode)), (None, None))

    def record(mod, i, o, name):
        calls[name].append(o.detach())
        if name == first_name and mod.step_mode == "s" and isinstance(mod.v, torch.Tensor):
            volts.append(mod.v.detach().clone())

    handles = [m.register_forward_hook(lambda mod, i, o, name=n: record(mod, i, o, name)) for n, m in layers]
    saved = first.store_v_seq if first is not None else False
    if first is not None:
        first.store_v_seq = True
    model.eval()
    try:
        forward(model, x[:1], cfg, make_encoder(cfg, seed=cfg.seed), temporal)
        spikes = {n: _time_first(c, m.step_mode).flatten(2)[:, 0] for (n, m) in layers if (c := calls[n])}
        traces = None
        v_seq = None
        if first is not None:
            v_seq = first.v_seq if first.step_mode == "m" else (torch.stack(volts) if volts else None)
        if first is not None and v_seq is not None and first_name in spikes:
            v = v_seq.flatten(2)[:, 0]
            s = spikes[first_name]
            # neurons that fire about half the time show charge, fire and reset best
            active = (s.sum(0) - s.shape[0] / 2).abs().argsort()[:6]
            threshold = first.v_threshold if isinstance(first.v_threshold, float) else None
            traces = {"v": v.cpu().numpy(), "spikes": s.cpu().numpy(), "threshold": threshold,
                      "neurons": active.cpu().tolist()}
    finally:
        for h in handles:
            h.remove()
        if first is not None:
            first.store_v_seq = saved
        functional.reset_net(model)
        model.train()
    raster = {f"{name} ({type(m).__name__})": spikes[name].cpu().numpy() for name, m in layers if name in spikes}
    return raster, traces


def class_patterns(model: nn.Module, x: torch.Tensor, cfg: TrainConfig, temporal: bool, num_classes: int):
    """``classes x pixels``: the output layer's input weights composed down to the image for a
    fully connected net, else the input gradient of each class score averaged over samples."""
    from ..viz import class_patterns_from_model
    from .trainer import forward

    shape = tuple(x.shape[1:])
    try:
        return class_patterns_from_model(model, shape)
    except ValueError:
        pass
    model.eval()
    xs = x[:32].clone().requires_grad_(True)
    rows = []
    encoder = make_encoder(cfg, seed=cfg.seed)
    for c in range(num_classes):
        out = forward(model, xs, cfg, encoder, temporal).mean(0)
        (grad,) = torch.autograd.grad(out[:, c].sum(), xs)
        rows.append(grad.mean(0).flatten())
        functional.reset_net(model)
    model.train()
    return torch.stack(rows).cpu().numpy()


def make_report(model, out_dir, cfg: TrainConfig, info, x_test, y_test, final: dict, metrics: dict, device,
                section: Optional[Callable[[], ReportSection]] = None) -> Any:
    """``out_dir/report/``; ``section()`` gives what the model family's run phases add (``run.phases``).
    A section that fails is logged and left out: a report must never lose a finished run."""
    from ..viz import write_report

    extra = ReportSection()
    if section is not None:
        try:
            extra = section()
        except Exception as err:  # a report must never lose a finished run
            log(f"report: skipped the {type(model).__name__} section ({type(err).__name__}: {err})")
    extra_summary = dict(extra.summary)

    x = x_test[:64].to(device)
    raster = traces = patterns = None
    image_shape = None
    try:
        raster, traces = one_sample_activity(model, x, cfg, info.temporal) if not cfg.ann else (None, None)
        if not info.temporal:
            patterns = class_patterns(model, x, cfg, info.temporal, info.num_classes)
            image_shape = tuple(info.input_shape[-2:]) if math.prod(info.input_shape) == math.prod(
                info.input_shape[-2:]) else None
    except Exception as err:  # a report must never lose a finished run
        log(f"report: skipped the activity plots ({type(err).__name__}: {err})")
    summary = {"dataset": cfg.dataset, "model": f"{cfg.model} ({'ANN' if cfg.ann else describe_model(cfg)})",
               "test_accuracy": metrics["test_accuracy"], "epochs": metrics["epochs_run"],
               "wall_time_s": metrics["train_time_s"], "T": None if cfg.ann else cfg.T,
               "encoder": None if cfg.ann else cfg.encoder, **extra_summary}
    path = write_report(out_dir, extra_figures=list(extra.figures), extra_lines=list(extra.lines), history=metrics["history"],
                        firing_rates=final["firing_rates"] or None,
                        confusion=final["confusion"].numpy(), class_names=list(info.class_names),
                        raster=raster or None, traces=traces, patterns=patterns, image_shape=image_shape,
                        summary={k: v for k, v in summary.items() if v is not None})
    return path
