"""Spike-timing rules under bad input (issue 16): SpikeProp, the tempotron and the TTFS network fed
empty, unsorted, NaN, negative or out-of-window spike times, bad time constants and bad options.
Each must end in a clean one-line error or a checked, correct result.

    PYTHONPATH=src python bench/reliability/probe_spikeprop_ttfs.py --memory-gb 4
"""

from __future__ import annotations

import math

import harness
import torch

from spikesmith.learning.spikeprop import SpikeProp, SpikePropParams
from spikesmith.learning.tempotron import Tempotron, TempotronParams, tempotron_update
from spikesmith.learning.ttfs import first_spike_times, latency_levels
from spikesmith.models.ttfs import TTFSConfig, TTFSNet

NAN, INF = math.nan, math.inf


def _spikeprop(times) -> None:
    SpikeProp([2, 2, 1], generator=torch.Generator().manual_seed(0))(times)


def _silent_spikeprop() -> str | None:
    out = SpikeProp([2, 1])(torch.full((3, 2), INF))
    return None if torch.isinf(out[-1]).all() else "wrong: silent inputs made the output fire"


def _tempotron(times, labels=None) -> None:
    neuron = Tempotron(2)
    if labels is None:
        neuron(times)
    else:
        neuron.learn(times, labels)


def _labels_list() -> str | None:
    start = torch.full((2,), 0.1, dtype=torch.float64)
    weights, _, fired = tempotron_update(torch.rand(2, 2) * 100, start, [True, False], TempotronParams())
    # silent at weight 0.1: the target pattern (True) is a miss and moves the weights up, the other does nothing
    return None if not fired.any() and (weights >= start).all() and (weights > start).any() else \
        "wrong: labels from a list"


def _silent_tempotron() -> str | None:
    fires = Tempotron(2)(torch.full((2, 2), INF))
    return None if not fires.any() else "wrong: a pattern without spikes made the tempotron fire"


def _ttfs(x) -> None:
    TTFSNet(in_features=4, num_classes=2, hidden=(3,))(x)


def _black_image() -> str | None:
    scores = TTFSNet(in_features=4, num_classes=2, hidden=(3,))(torch.zeros(1, 2, 4))
    return None if torch.isfinite(scores).all() else "wrong: a black image gave non-finite class scores"


def cases():
    c = harness.Case
    spike = [
        c("spikeprop", "empty", lambda: _spikeprop(torch.zeros(0, 2))),
        c("spikeprop", "unsorted", lambda: _spikeprop(torch.tensor([[[5.0, 1.0], [0.0, INF]]]))),
        c("spikeprop", "nan-time", lambda: _spikeprop(torch.tensor([[NAN, 1.0]]))),
        c("spikeprop", "negative-time", lambda: _spikeprop(torch.tensor([[-1.0, 1.0]]))),
        c("spikeprop", "beyond-window", lambda: _spikeprop(torch.tensor([[100.0, 1.0]]))),
        c("spikeprop", "wrong-width", lambda: _spikeprop(torch.zeros(1, 3))),
        c("spikeprop", "one-dim", lambda: _spikeprop(torch.zeros(3))),
        c("spikeprop", "list-input", lambda: _spikeprop([[0.0, 6.0]])),
        c("spikeprop", "negative-tau", lambda: SpikePropParams(tau=-7.0)),
        c("spikeprop", "nan-tau", lambda: SpikePropParams(tau=NAN)),
        c("spikeprop", "no-delays", lambda: SpikePropParams(delays=())),
        c("spikeprop", "negative-delay", lambda: SpikePropParams(delays=(-1.0,))),
        c("spikeprop", "zero-dt", lambda: SpikePropParams(dt=0.0)),
        c("spikeprop", "bad-sizes", lambda: SpikeProp([3, 0, 1])),
        c("spikeprop", "silent-inputs", _silent_spikeprop),
    ]
    tempo = [
        c("tempotron", "empty", lambda: _tempotron(torch.zeros(0, 2))),
        c("tempotron", "unsorted", lambda: _tempotron(torch.tensor([[[5.0, 1.0], [0.0, INF]]]))),
        c("tempotron", "nan-time", lambda: _tempotron(torch.tensor([[NAN, 1.0]]))),
        c("tempotron", "beyond-duration", lambda: _tempotron(torch.tensor([[600.0, 1.0]]))),
        c("tempotron", "wrong-width", lambda: _tempotron(torch.zeros(1, 3))),
        c("tempotron", "labels-short", lambda: _tempotron(torch.rand(2, 2), torch.tensor([True]))),
        c("tempotron", "labels-list", _labels_list),
        c("tempotron", "negative-tau", lambda: TempotronParams(tau=-15.0)),
        c("tempotron", "tau-s-above-tau", lambda: TempotronParams(tau_s=30.0)),
        c("tempotron", "huge-dt", lambda: TempotronParams(dt=1000.0)),
        c("tempotron", "zero-afferents", lambda: Tempotron(0)),
        c("tempotron", "silent-pattern", _silent_tempotron),
    ]
    ttfs = [
        c("ttfs", "nan-pixel", lambda: _ttfs(torch.tensor([[[NAN, 0.5, 0.5, 0.5]]]))),
        c("ttfs", "wrong-width", lambda: _ttfs(torch.rand(1, 2, 5))),
        c("ttfs", "several-steps", lambda: _ttfs(torch.rand(3, 2, 4))),
        c("ttfs", "flat-input", lambda: _ttfs(torch.rand(4))),
        c("ttfs", "black-image", _black_image),
        c("ttfs", "bad-levels", lambda: TTFSConfig(levels=1)),
        c("ttfs", "negative-window", lambda: TTFSConfig(window=-1.0)),
        c("ttfs", "inf-sharpness", lambda: TTFSConfig(sharpness=INF)),
        c("ttfs", "bad-hidden", lambda: TTFSConfig(hidden="10,x")),
        c("ttfs", "nan-times", lambda: first_spike_times(torch.tensor([[NAN]]), torch.ones(1, 1))),
        c("ttfs", "mismatched-weights", lambda: first_spike_times(torch.zeros(2, 3), torch.ones(4, 1))),
        c("ttfs", "levels-one", lambda: latency_levels(torch.rand(1, 3), 1, 1.0)),
    ]
    return spike + tempo + ttfs


if __name__ == "__main__":
    harness.main(cases)
