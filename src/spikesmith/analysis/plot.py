"""The energy profile as a figure: energy per layer (SNN: ACs + MACs, against the dense ANN) and firing rates."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Optional

import numpy as np

from ..viz._common import check_png_path, new_figure, save_png
from .energy import Profile


def plot_profile(prof: Profile, path: str | os.PathLike, ann: Optional[Profile] = None,
                 title: str = "Energy per layer") -> Path:
    """Write a PNG (atomically): left, energy per synaptic layer in pJ per sample (log scale), the SNN's
    accumulates and multiply-accumulates stacked next to the dense ANN layer; right, each neuron layer's
    firing rate. With ``ann`` (the ANN twin's profile) its total is drawn as a line. Returns ``path``.
    """
    if not isinstance(prof, Profile):
        raise TypeError(f"plot_profile: prof must be a Profile (from spikesmith.analysis.profile), "
                        f"got {type(prof).__name__}")
    check_png_path(path)
    syn, neu = prof.synaptic(), prof.neurons()
    c = prof.costs
    fig = new_figure((11, 1.6 + 0.45 * max(len(syn), len(neu), 2)))
    ax, ax2 = fig.subplots(1, 2, gridspec_kw={"width_ratios": [3, 2]})
    y = np.arange(len(syn))
    ac = np.array([r.acs * c.ac_pj for r in syn])
    mac = np.array([r.macs * c.mac_pj for r in syn])
    dense = np.array([r.ann_energy_pj for r in syn])
    h = 0.38
    ax.barh(y - h / 2, ac, h, color="tab:blue", label=f"SNN ACs ({c.ac_pj:g} pJ)")
    ax.barh(y - h / 2, mac, h, left=ac, color="tab:purple", label=f"SNN MACs ({c.mac_pj:g} pJ)")
    ax.barh(y + h / 2, dense, h, color="tab:orange", alpha=0.8, label="dense ANN MACs")
    ax.set_yticks(y, [f"{r.name} ({r.module})" for r in syn])
    ax.invert_yaxis()
    if (np.concatenate([ac + mac, dense]) > 0).any():
        ax.set_xscale("log")
    ax.set_xlabel("energy per sample (pJ)")
    sub = f"SNN {prof.energy_pj / 1e3:.3g} nJ vs dense {prof.ann_energy_pj / 1e3:.3g} nJ"
    if ann is not None:
        sub += f"; ANN twin {ann.energy_pj / 1e3:.3g} nJ"
    ax.set_title(f"{title}\n{sub}", fontsize=10)
    ax.legend(fontsize=8, loc="lower right")
    if neu:
        yn = np.arange(len(neu))
        rates = [r.rate or 0.0 for r in neu]
        ax2.barh(yn, rates, color="tab:green")
        ax2.set_xlim(0, max(0.05, 1.15 * max(rates)))
        ax2.set_yticks(yn, [r.name for r in neu])
        ax2.invert_yaxis()
        ax2.set_xlabel("firing rate (spikes / neuron / step)")
        ax2.set_title(f"T = {prof.steps}, {prof.samples} samples", fontsize=10)
    else:
        ax2.axis("off")
        ax2.text(0.5, 0.5, "no spiking neurons", ha="center", va="center")
    return save_png(fig, path)
