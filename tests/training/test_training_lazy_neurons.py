"""A neuron whose parameters take their shape from the first input (AdLIFNode without ``shape``)
trains through the run layer: its parameters exist before the optimizer is made, and
the checkpoint loads back into a fresh (still lazy) model."""

from __future__ import annotations

import torch

import spikesmith
from spikesmith import neuron
from spikesmith.training import load_checkpoint

from training_helpers import tiny_run


def test_adlif_parameters_are_shaped_before_the_optimizer_sees_them(tmp_path, monkeypatch):
    from spikesmith.run import gradient

    seen = []
    real = gradient.make_optimizer

    def spy(cfg, model):
        seen.extend(p for p in model.parameters())
        return real(cfg, model)

    monkeypatch.setattr(gradient, "make_optimizer", spy)
    metrics = tiny_run(tmp_path, neuron="adlif", epochs=1)
    assert metrics["epochs_run"] == 1
    assert seen and not any(isinstance(p, torch.nn.parameter.UninitializedParameter) for p in seen)
    state = load_checkpoint(tmp_path / "checkpoint.pt")["state_dict"]
    alphas = [k for k in state if k.endswith("alpha")]
    assert alphas, "no AdLIF parameter was saved"
    assert all(state[k].shape == (32,) for k in alphas)             # one per hidden neuron

    net = spikesmith.load(tmp_path / "checkpoint.pt")               # a fresh, lazy model takes the saved shapes
    assert any(isinstance(m, neuron.AdLIFNode) for m in net.modules())
    loaded = net.state_dict()
    assert all(torch.equal(loaded[k], state[k]) for k in alphas)


def test_a_model_without_lazy_parameters_runs_no_extra_forward(tmp_path, monkeypatch):
    from spikesmith.training import trainer

    calls = []
    real = trainer.forward
    monkeypatch.setattr(trainer, "forward", lambda *a, **k: calls.append(1) or real(*a, **k))
    model = torch.nn.Sequential(torch.nn.Linear(3, 2))
    assert trainer.materialize(model, torch.zeros(1, 3), None, False) is False
    assert calls == []


def test_psn_takes_T_from_the_run_and_loads_back(tmp_path):
    """``--neuron psn``: the T x T weight is made from the run's T before the optimizer, trained, saved and
    loaded into a fresh (lazy) model."""
    metrics = tiny_run(tmp_path, neuron="psn", T=3, epochs=1)
    assert metrics["epochs_run"] == 1
    state = load_checkpoint(tmp_path / "checkpoint.pt")["state_dict"]
    weights = [k for k in state if k.endswith("weight") and state[k].shape == (3, 3)]
    assert weights, "no PSN weight of the run's T was saved"
    net = spikesmith.load(tmp_path / "checkpoint.pt")
    psn = next(m for m in net.modules() if isinstance(m, neuron.PSN))
    assert psn.T == 3 and torch.equal(net.state_dict()[weights[0]], state[weights[0]])
    assert metrics["firing_rates"], "the PSN's spikes are counted"
