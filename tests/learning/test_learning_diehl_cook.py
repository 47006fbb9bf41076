"""The Diehl & Cook model and the ``spikesmith stdp`` command (tiny runs)."""

import argparse
import json

import pytest
import torch

from spikesmith.cli import stdp as stdp_cmd
from spikesmith.learning import ResponseAssigner, assign_labels, class_scores, classify
from spikesmith.models.diehl_cook import DiehlCook
from spikesmith.training import load_checkpoint


def _main(argv):
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="command")
    stdp_cmd.add_parser(sub)
    return stdp_cmd.run(parser.parse_args(argv))


def test_label_assignment_and_classification():
    counts = torch.tensor([[5.0, 0, 1, 0], [4, 0, 0, 0], [0, 3, 0, 0], [0, 6, 2, 0]])
    labels = torch.tensor([0, 0, 1, 1])
    acc = ResponseAssigner(4, 3)
    acc.add(counts, labels)
    assigned = acc.assign()
    assert assigned.tolist() == [0, 1, 1, -1]        # neuron 3 never fired; class 2 has no neuron
    assert torch.allclose(acc.rates()[0], torch.tensor([4.5, 0.0, 0.0], dtype=torch.float64))
    test = torch.tensor([[3.0, 0, 0, 9], [0, 2, 4, 0]])
    assert classify(test, assigned, 3).tolist() == [0, 1]
    assert assign_labels(torch.zeros(2, 3)).tolist() == [-1, -1]


def test_proportion_vote_by_hand():
    # neuron 0 answers classes 0 and 1 alike, neuron 1 only class 1, neuron 2 only class 0
    rates = torch.tensor([[2.0, 2.0], [0.0, 1.0], [3.0, 0.0]])
    labels = assign_labels(rates)
    assert labels.tolist() == [0, 1, 0]
    counts = torch.tensor([[4.0, 1.0, 0.0]])
    # mean vote: class 0 = (4 + 0) / 2 = 2, class 1 = 1 / 1 = 1 -> class 0
    assert class_scores(counts, labels, 2).tolist() == [[2.0, 1.0]]
    # proportion vote: class 0 = (4 * 0.5 + 0 * 1) / 2 = 1, class 1 = 1 * 1 / 1 = 1 -> a tie broken by
    # a count of 1.2 on neuron 1
    assert class_scores(counts, labels, 2, vote="proportion", rates=rates).tolist() == [[1.0, 1.0]]
    counts[0, 1] = 1.2
    assert classify(counts, labels, 2, vote="proportion", rates=rates).tolist() == [1]
    assert classify(counts, labels, 2).tolist() == [0]


def test_proportion_vote_needs_the_rates_and_a_known_vote():
    labels, counts = torch.tensor([0, 1]), torch.ones(1, 2)
    with pytest.raises(ValueError, match="needs the responses"):
        classify(counts, labels, 2, vote="proportion")
    with pytest.raises(ValueError, match="vote must be one of mean, proportion"):
        classify(counts, labels, 2, vote="majority")


def test_diehl_cook_run_learns_and_respects_bounds():
    torch.manual_seed(0)
    net = DiehlCook(n_inputs=64, n_neurons=12, time=30.0, dt=1.0, max_rate=500.0, theta_plus=0.2)
    assert torch.allclose(net.fc.weight.sum(1), torch.full((12,), 6.4), atol=1e-4)
    w0 = net.fc.weight.clone()
    x = torch.rand(4, 1, 8, 8)
    counts = net.run(x, learn=True, generator=torch.Generator().manual_seed(1))
    assert counts.shape == (4, 12) and counts.sum() > 0
    assert not torch.equal(net.fc.weight, w0) and net.theta.sum() > 0
    assert float(net.fc.weight.min()) >= 0 and float(net.fc.weight.max()) <= 1
    assert torch.allclose(net.fc.weight.sum(1), torch.full((12,), 6.4), atol=1e-4)
    w1, th1 = net.fc.weight.clone(), net.theta.clone()
    net.run(x, learn=False)
    assert torch.equal(net.fc.weight, w1) and torch.equal(net.theta, th1)     # evaluation changes nothing
    # k=1: at most one spike per step and sample
    spikes = net(net.encode(x))
    assert spikes.sum(-1).max() <= 1
    with pytest.raises(ValueError, match="n_inputs=64"):
        net.run(torch.rand(2, 1, 28, 28))
    with pytest.raises(ValueError, match="probability per step"):
        DiehlCook(n_inputs=64, max_rate=2000.0)


def test_stdp_cli_trains_checkpoints_and_resumes(tmp_path):
    common = ["stdp", "--dataset", "digits", "--train-subset", "96", "--test-subset", "60", "--n-neurons", "10",
              "--time", "20", "--batch-size", "8", "--eval-batch-size", "64", "--curve-points", "3",
              "--assign-subset", "64"]
    full = tmp_path / "full"
    assert _main(common + ["--epochs", "2", "--out", str(full)]) == 0
    metrics = json.loads((full / "metrics.json").read_text())
    assert 0.0 <= metrics["test_accuracy"] <= 1.0
    assert metrics["history"][-1]["test_accuracy"] is not None and len(metrics["history"]) == 6
    assert (full / "report" / "receptive_fields.png").is_file() and (full / "log.csv").is_file()
    assert sum(metrics["neurons_per_class"]) + metrics["unlabelled_neurons"] == 10
    assert metrics["labelled_from"] == "a pass over 64 training images without learning"
    assert metrics["vote"] == "mean" and set(metrics["test_accuracy_by_vote"]) == {"mean", "proportion"}
    assert metrics["test_accuracy_by_vote"]["mean"] == metrics["test_accuracy"]
    # stop after the first epoch, then resume: the same weights as the uninterrupted run
    part = tmp_path / "part"
    assert _main(common + ["--epochs", "1", "--out", str(part), "--report", "false", "--assign-pass", "false"]) == 0
    ckpt = part / "checkpoint.pt"
    assert _main(["stdp", "--resume", str(ckpt), "--epochs", "2", "--out", str(part), "--report", "false",
                  "--assign-pass", "true"]) == 0
    a, b = load_checkpoint(full / "checkpoint.pt")["state_dict"], load_checkpoint(ckpt)["state_dict"]
    assert torch.equal(a["fc.weight"], b["fc.weight"])
    assert torch.equal(a["exc.adaptive_threshold.theta"], b["exc.adaptive_threshold.theta"])
    assert json.loads((part / "metrics.json").read_text())["test_accuracy"] == metrics["test_accuracy"]


def test_stdp_cli_hybrid_and_bad_config(tmp_path, capsys):
    out = tmp_path / "hyb"
    assert _main(["stdp", "--dataset", "digits", "--model", "hybrid", "--train-subset", "64", "--test-subset", "32",
                  "--channels", "4", "--batch-size", "32", "--time", "4", "--out", str(out), "--report", "false"]) == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["model"] == "hybrid" and 0 <= metrics["test_accuracy"] <= 1
    with pytest.raises(ValueError, match="unknown config key"):
        _main(["stdp", "--dataset", "digits", "--set", "nuerons=5"])
    with pytest.raises(ValueError, match="model must be one of"):
        _main(["stdp", "--dataset", "digits", "--model", "lenet"])
    with pytest.raises(ValueError, match="vote must be mean or proportion"):
        _main(["stdp", "--dataset", "digits", "--vote", "majority"])


def test_input_norm_gives_every_image_the_same_input_rate():
    net = DiehlCook(n_inputs=16, n_neurons=2, time=4000.0, max_rate=100.0, input_norm=0.2)
    x = torch.stack([torch.full((16,), 0.1), torch.full((16,), 0.4), torch.cat([torch.ones(4), torch.zeros(12)])])
    rates = net.encode(x, torch.Generator().manual_seed(0)).mean((0, 2))         # spikes per step and input
    assert torch.allclose(rates, torch.full((3,), 0.2 * 0.1), rtol=0.1), rates   # mean intensity 0.2 at 100 Hz
    plain = DiehlCook(n_inputs=16, n_neurons=2, time=4000.0, max_rate=100.0).encode(x).mean((0, 2))
    assert plain[1] > 3 * plain[0]
    for bad in (0.0, 1.5):
        with pytest.raises(ValueError, match="input_norm"):
            DiehlCook(n_inputs=16, input_norm=bad)


def test_batched_diehl_cook_learns_patterns_of_different_brightness():
    """Batches of 8 (summed changes): a faint and two bright patterns each get their own neurons."""
    torch.manual_seed(0)
    patterns = torch.zeros(3, 24)
    patterns[0, :3] = 1.0            # faint: 3 pixels
    patterns[1, 8:16] = 1.0
    patterns[2, 16:24] = 1.0
    net = DiehlCook(n_inputs=24, n_neurons=6, num_classes=3, time=40.0, max_rate=400.0, tau=20.0, v_threshold=2.0,
                    theta_plus=0.05, inhibition=50.0, a_plus=0.02, a_minus=0.002, norm=4.0, w_init=0.3,
                    input_norm=0.2)
    gen = torch.Generator().manual_seed(1)
    for i in range(40):
        y = torch.randint(0, 3, (8,), generator=gen)
        net.run(patterns[y], learn=True, generator=gen)
    y = torch.arange(3).repeat(10)
    assigner = ResponseAssigner(6, 3)
    assigner.add(net.run(patterns[y], generator=gen), y)
    net.assign(assigner)
    assert sorted(set(net.assignments.tolist()) - {-1}) == [0, 1, 2], net.assignments
    assert torch.equal(net.predict(net.run(patterns[y], generator=gen)), y)
