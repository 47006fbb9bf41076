"""The liquid state machine's report section (``--model lsm``), written into the run's ``report/``:

    liquid_raster.png       the liquid's spikes for one test sample, excitatory red, inhibitory blue
    separation_curve.png    liquid state distance against input distance, for pairs of test inputs
    memory_curve.png        the fading-memory curve MC_k and its sum, the memory capacity
    readout_accuracy.png    the readout's train and test accuracy

Separation: ``SEPARATION_PAIRS`` test inputs ``a``, each paired with ``b``, a copy of ``a`` whose
entries are taken from another test input with probability p (p from 0 to 1 over the pairs), so
the input distances cover near-identical to unrelated pairs; the state is the final one.

Memory capacity (as ``bench/lsm_memory.py``): one input stream u(bin) i.i.d. uniform in [0, 1],
held ``MEMORY_BIN_STEPS`` steps and injected as a current ``MEMORY_GAIN`` u on the first input
channel; the state is read at the end of every bin; ``analysis.memory_curve`` over delays 0 ...
``MEMORY_MAX_DELAY`` bins. The ANN twin has no liquid: its section is the readout's accuracy only.

It lives in the run layer, which may use ``analysis`` (the measures); the run finds it as the
report of the model's ``run.phases.PHASES`` entry, keyed by the model's type.
"""

from __future__ import annotations

import torch

from ..analysis.liquid import memory_curve, separation, separation_curve
from ..models.lsm_family import LSMClassifier
from ..training.report import ReportSection
from .phases import PHASES, RunPhases
from ..training.setup import make_encoder
from ..training.trainer import model_input

SEPARATION_PAIRS = 96
MEMORY_BINS, MEMORY_BIN_STEPS, MEMORY_GAIN, MEMORY_MAX_DELAY = 1000, 10, 0.15, 20


@torch.no_grad()
def liquid_section(model: LSMClassifier, cfg, info, x_test, y_test, metrics, device) -> ReportSection:
    from ..viz.liquid import plot_liquid_raster, plot_memory_curve, plot_readout_accuracy, plot_separation_curve

    accuracy = {"train": metrics["train_accuracy"], "test": metrics["test_accuracy"]}
    figures = [("Readout accuracy", "readout_accuracy.png",
                lambda p: plot_readout_accuracy(accuracy, p, title=f"{model.readout_kind} readout"))]
    lines = ["## Readout", "", "| | |", "|---|---|",
             f"| Readout | {model.readout_kind}{' on the raw input (ANN twin)' if model.is_ann else ''} |",
             f"| Train accuracy | {100 * accuracy['train']:.2f} % |",
             f"| Test accuracy | {100 * accuracy['test']:.2f} % |"]
    if model.is_ann:
        return ReportSection(figures, lines)
    liquid = model.liquid
    encoder = make_encoder(cfg, seed=cfg.seed)
    x = model_input(x_test[:SEPARATION_PAIRS].to(device), cfg, encoder, info.temporal).flatten(2)
    out = liquid(model.liquid_input(x[:, :1]))
    spikes, excitatory = out.spikes[:, 0].cpu(), liquid.is_excitatory.cpu()
    rate_hz = float(spikes.mean()) * 1000.0 / liquid.dt

    g = torch.Generator().manual_seed(cfg.seed)
    other = x.roll(1, dims=1)
    p = torch.linspace(0, 1, x.shape[1])[None, :, None].to(x)
    b = torch.where(torch.rand(x.shape, generator=g).to(x) < p, other, x)
    final = lambda inputs: liquid(model.liquid_input(inputs), record_spikes=False).states[-1]  # noqa: E731
    input_distance, state_distance = separation(final, x, b)
    centres, means = separation_curve(input_distance, state_distance, bins=8)

    u = torch.rand(MEMORY_BINS, generator=g)
    drive = torch.zeros(MEMORY_BINS * MEMORY_BIN_STEPS, 1, liquid.n_inputs, device=device)
    drive[:, 0, 0] = (MEMORY_GAIN * u).repeat_interleave(MEMORY_BIN_STEPS).to(device)
    ends = tuple(range(MEMORY_BIN_STEPS - 1, MEMORY_BINS * MEMORY_BIN_STEPS, MEMORY_BIN_STEPS))
    states = liquid(drive, read_times=ends, record_spikes=False).states[:, 0].cpu()
    curve = memory_curve(states, u, max_delay=MEMORY_MAX_DELAY, washout=20, alpha=1e-2)

    figures = [("Liquid raster (one test sample)", "liquid_raster.png",
                lambda path: plot_liquid_raster(spikes, excitatory, path, step_ms=liquid.dt,
                                                title=f"Liquid {tuple(liquid.grid)}: one test sample, label "
                                                      f"{int(y_test[0])}")),
               ("Separation curve", "separation_curve.png",
                lambda path: plot_separation_curve(input_distance, state_distance, centres, means, path)),
               ("Memory capacity", "memory_curve.png",
                lambda path: plot_memory_curve(curve.delays, curve.r2, path,
                                               unit=f"{MEMORY_BIN_STEPS}-step bin"))] + figures
    lines[0:0] = ["## Liquid", "", "| | |", "|---|---|",
                  f"| Grid | {' x '.join(map(str, liquid.grid))} ({liquid.n_neurons} neurons, "
                  f"{int(excitatory.sum())} excitatory) |",
                  f"| Connections | {liquid.n_connections} |",
                  f"| Mean rate (one test sample) | {rate_hz:.3g} Hz |",
                  f"| Memory capacity | {curve.capacity:.3f} (delays 0..{MEMORY_MAX_DELAY} bins of "
                  f"{MEMORY_BIN_STEPS} steps) |",
                  f"| Separation | state distance {float(means[0]):.3g} to {float(means[-1]):.3g} over input "
                  f"distance {float(centres[0]):.3g} to {float(centres[-1]):.3g} |", ""]
    return ReportSection(figures, lines)


class LiquidPhases(RunPhases):
    """The liquid state machine's run: its readout is fitted by ``run.readout_fit``; this adds the report."""

    def report(self, model, cfg, info, x_test, y_test, metrics, device) -> ReportSection:
        return liquid_section(model, cfg, info, x_test, y_test, metrics, device)


PHASES.register(LSMClassifier, LiquidPhases())
