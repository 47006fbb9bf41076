"""Nessler et al.'s probabilistic STDP with a stochastic WTA circuit: the rule by hand, its fixed
points on a toy mixture, the circuit's sampling, bad input and the ``spikesmith stdp --model nessler`` run."""

import argparse
import json
import math

import pytest
import torch

from spikesmith.cli import stdp as stdp_cmd
from spikesmith.learning.nessler import homeostatic_bias_update, nessler_bias_update, nessler_weight_update
from spikesmith.learning.stochastic_wta import wta_spikes
from spikesmith.models.nessler import NesslerWTA
from spikesmith.run import make_stdp_config
from spikesmith.training import load_checkpoint

pytestmark = pytest.mark.usefixtures("one_thread")


def _main(argv):
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="command")
    stdp_cmd.add_parser(sub)
    return stdp_cmd.run(parser.parse_args(argv))


def test_single_update_by_hand():
    w = torch.tensor([[math.log(0.25), 0.0, math.log(0.5)],        # neuron 0 fires, inputs 0 and 2 were active
                      [0.0, 0.0, 0.0]])                            # neuron 1 is silent: unchanged
    y = torch.tensor([[1.0, 0.0, 1.0]])
    z = torch.tensor([[1.0, 0.0]])
    dw = nessler_weight_update(w, y, z, c=2.0, eta=0.1)
    # active: 0.1 * (2 e^{-w} - 1) = 0.1 * (2 * 4 - 1) = 0.7 and 0.1 * (2 * 2 - 1) = 0.3; inactive: -0.1
    assert torch.allclose(dw, torch.tensor([[0.7, -0.1, 0.3], [0.0, 0.0, 0.0]]))
    db = nessler_bias_update(torch.tensor([0.0, math.log(2.0)]), z, c=4.0, eta=0.5)
    assert torch.allclose(db, torch.tensor([0.5 * (4 - 1), -0.5]))   # the winner: c e^{-b} - 1; the others: -1
    dh = homeostatic_bias_update(torch.tensor([[1.0, 0, 0, 0]]), 0.4)
    assert torch.allclose(dh, torch.tensor([-0.3, 0.1, 0.1, 0.1]))  # 0.4 * (1/K - z)


def test_weights_converge_to_log_c_p_on_a_toy_mixture():
    """Two causes with known p(input active | cause); the cause's neuron fires: w -> log(c p)."""
    g = torch.Generator().manual_seed(0)
    p = torch.tensor([[0.9, 0.6, 0.2, 0.05], [0.1, 0.3, 0.7, 0.95]])
    c = 3.0
    w = torch.zeros(2, 4)
    for step in range(4000):
        k = torch.randint(0, 2, (8,), generator=g)
        y = (torch.rand(8, 4, generator=g) < p[k]).float()
        z = torch.nn.functional.one_hot(k, 2).float()
        w += nessler_weight_update(w, y, z, c=c, eta=0.002 if step > 2000 else 0.01)
    assert torch.allclose(w.exp() / c, p, atol=0.04), (w.exp() / c, p)


def test_prior_converges_to_log_c_p_k():
    g = torch.Generator().manual_seed(1)
    prior = torch.tensor([0.2, 0.5, 0.3])
    b = torch.zeros(3)
    for _ in range(3000):
        z = torch.nn.functional.one_hot(torch.multinomial(prior, 16, replacement=True, generator=g), 3).float()
        b += nessler_bias_update(b, z, c=3.0, eta=0.002)
    assert torch.allclose(b.exp() / 3.0, prior, atol=0.03)


def test_the_circuit_samples_the_softmax_at_its_rate():
    g = torch.Generator().manual_seed(2)
    u = torch.log(torch.tensor([0.1, 0.3, 0.6])).expand(20000, 3)
    z = wta_spikes(u, rate=1000.0, dt=1.0, generator=g)            # spikes every step
    assert torch.equal(z.sum(1), torch.ones(20000))
    assert torch.allclose(z.mean(0), torch.tensor([0.1, 0.3, 0.6]), atol=0.015)
    z = wta_spikes(u, rate=100.0, dt=1.0, generator=g)             # 10% of the steps
    assert abs(float(z.sum()) / 20000 - 0.1) < 0.01 and float(z.sum(1).max()) == 1.0


def test_unsupervised_network_learns_the_two_prototypes():
    """The whole circuit (on/off Poisson afferents, softmax WTA, the rule): each neuron takes one
    prototype, near its p(on afferent active) = 1 - (1 - q)^window (q the per-step spike probability;
    lower in the first steps of an image, before the window has filled), and near p_min elsewhere."""
    torch.manual_seed(0)
    net = NesslerWTA(n_inputs=4, n_neurons=2, num_classes=2, time=20.0, max_rate=200.0, sigma=10.0, eta=0.01,
                     homeostasis=0.5)
    protos = torch.tensor([[1.0, 1.0, 0.0, 0.0], [0.0, 0.0, 1.0, 1.0]])
    g = torch.Generator().manual_seed(3)
    for _ in range(60):
        net.run(protos[torch.randint(0, 2, (32,), generator=g)], learn=True, generator=g)
    expected = 1 - (1 - 0.2) ** 10                                  # q = 200 Hz * 1 ms; sigma = 10 steps
    on = net.on_probabilities()
    order = on[:, 0].argsort(descending=True)                       # which neuron took which prototype
    on = on[order]
    assert torch.all(on[protos > 0] > expected - 0.2) and torch.all(on[protos > 0] <= 1.0), on
    assert torch.all(on[protos == 0] < 0.1), on


def test_bad_input_is_named():
    with pytest.raises(ValueError, match=r"wta_rate \* dt / 1000 .* lower wta_rate or dt"):
        NesslerWTA(wta_rate=2000.0)
    with pytest.raises(ValueError, match="sigma .* must be at least one step"):
        NesslerWTA(sigma=0.5)
    with pytest.raises(ValueError, match="homeostasis must be >= 0"):
        NesslerWTA(homeostasis=-1.0)
    with pytest.raises(ValueError, match="inputs have 4 values per sample .* n_inputs=64"):
        NesslerWTA().run(torch.rand(2, 4))
    with pytest.raises(ValueError, match="Nessler STDP: weights .* must be"):
        nessler_weight_update(torch.zeros(2, 3), torch.zeros(1, 4), torch.zeros(1, 2))
    with pytest.raises(ValueError, match="config: sigma must be at least one step"):
        make_stdp_config(overrides={"dataset": "digits", "model": "nessler", "sigma": "0.1"})
    with pytest.raises(ValueError, match="model must be one of diehl_cook, hybrid, nessler"):
        make_stdp_config(overrides={"dataset": "digits", "model": "nesler"})


def test_stdp_nessler_runs_checkpoints_and_resumes(tmp_path):
    common = ["stdp", "--model", "nessler", "--dataset", "digits", "--train-subset", "96", "--test-subset", "60",
              "--n-neurons", "10", "--time", "20", "--batch-size", "16", "--assign-subset", "64", "--report", "false"]
    full = tmp_path / "full"
    assert _main(common + ["--epochs", "2", "--out", str(full)]) == 0
    metrics = json.loads((full / "metrics.json").read_text())
    assert metrics["model"] == "nessler" and len(metrics["history"]) == 2 and 0.0 <= metrics["test_accuracy"] <= 1.0
    assert sum(metrics["neurons_per_class"]) + metrics["unlabelled_neurons"] == 10
    part = tmp_path / "part"
    assert _main(common + ["--epochs", "1", "--out", str(part)]) == 0
    ckpt = part / "checkpoint.pt"
    assert _main(["stdp", "--resume", str(ckpt), "--epochs", "2", "--out", str(part), "--report", "false"]) == 0
    a, b = load_checkpoint(full / "checkpoint.pt")["state_dict"], load_checkpoint(ckpt)["state_dict"]
    assert torch.equal(a["weight"], b["weight"]) and torch.equal(a["bias"], b["bias"])
    assert json.loads((part / "metrics.json").read_text())["test_accuracy"] == metrics["test_accuracy"]
    import spikesmith

    net, config = spikesmith.load(str(ckpt), config=True)
    assert isinstance(net, NesslerWTA) and torch.equal(net.weight, b["weight"]) and config.model == "nessler"


def test_stdp_nessler_time_limit_stops_mid_epoch_and_says_so(tmp_path):
    out = tmp_path / "stopped"
    assert _main(["stdp", "--model", "nessler", "--dataset", "digits", "--train-subset", "96", "--test-subset", "30",
                  "--n-neurons", "6", "--time", "10", "--batch-size", "16", "--assign-subset", "32", "--report", "false",
                  "--time-limit", "1e-6", "--out", str(out)]) == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["stopped_early"] and metrics["samples_seen"] == 16 and metrics["epochs_run"] == 1
    assert metrics["history"][-1]["epoch"] == pytest.approx(1 / 6)
    assert load_checkpoint(out / "checkpoint.pt")["next_batch"] == 1
