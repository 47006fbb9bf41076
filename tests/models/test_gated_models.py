"""``--model slstm`` / ``--model sgru``: the gated spiking RNNs as a model family, with their
``nn.LSTM`` / ``nn.GRU`` twins, through the trainer, checkpoints, ``spikesmith eval`` and
``spikesmith.load``."""

from __future__ import annotations

import json

import pytest
import torch
from torch import nn

import spikesmith
from spikesmith import functional, layer
from spikesmith.cli.main import main
from spikesmith.models import SGRU, SLSTM, ModelInput, build_model, config_class, model_names, model_options
from spikesmith.run import train as run
from spikesmith.training import load_checkpoint, make_config
from spikesmith.training.setup import describe_model
from spikesmith.training.stats import FiringRateMeter

SEQ = ModelInput((6, 5), 3, temporal=True)       # T=6 steps of 5 features, 3 classes


def test_both_families_are_registered_with_their_options():
    assert {"slstm", "sgru"} <= set(model_names())
    for name, cls in (("slstm", SLSTM), ("sgru", SGRU)):
        assert isinstance(build_model(name, **config_class(name)().arguments(SEQ)), cls)
        assert config_class(name).option_names()[:4] == ["hidden", "layers", "variant", "threshold"]


def test_train_help_lists_the_options_with_their_defaults(capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "250")          # one line per option
    with pytest.raises(SystemExit) as err:
        main(["train", "--model", "slstm", "--help"])
    assert err.value.code == 0
    section = capsys.readouterr().out.split("options of model slstm")[1]
    for flag in ("--hidden HIDDEN", "--layers LAYERS", "--variant", "--threshold", "--reset", "--signed-output",
                 "--time-gate", "--readout", "--surrogate"):
        assert flag in section, flag
    assert "neurons per layer (default: 128)" in section and "one of spikingjelly | snntorch" in section
    assert "--neuron" not in section and "--detach-reset" not in section
    with pytest.raises(SystemExit):
        main(["train", "--help"])
    assert "sgru: hidden, layers, variant" in capsys.readouterr().out


@pytest.mark.parametrize("options, message", [
    ({"hidden": 0}, "SLSTM: hidden must be >= 1, got 0"),
    ({"layers": 0}, "SLSTM: layers must be >= 1, got 0"),
    ({"variant": "nest"}, "SLSTM: variant must be 'spikingjelly' or 'snntorch', got 'nest'"),
    ({"threshold": 0.3}, "SLSTM: threshold applies to variant 'snntorch' only"),
    ({"variant": "snntorch", "threshold": -1.0}, "SLSTM: threshold must be a positive number, got -1.0"),
    ({"reset": "subtract"}, "SLSTM: variant 'spikingjelly' takes reset in ['none'], got 'subtract'; the reset is "
                            "the snntorch variant's option"),
    ({"variant": "snntorch", "reset": "hard"}, "takes reset in ['none', 'subtract', 'zero'], got 'hard'"),
    ({"signed_output": "both"}, "SLSTM: signed_output must be 'none', 'difference' or 'pair', got 'both'"),
    ({"time_gate": "gated"}, "SLSTM: time_gate must be 'none' or 'phased', got 'gated'"),
    ({"readout": "membrane"}, "SLSTM: readout must be 'mean' or 'last', got 'membrane'"),
    ({"surrogate": "nope"}, "SLSTM: unknown surrogate 'nope'"),
    ({"neuron": "lif"}, "option 'neuron' does not apply to model 'slstm'"),
])
def test_a_bad_option_is_an_error_that_names_it(options, message):
    with pytest.raises(ValueError) as err:
        model_options("slstm", options)
    assert message in str(err.value)


def test_static_data_and_a_twin_activation_are_refused():
    with pytest.raises(ValueError, match=r"SGRU needs a temporal dataset \(samples T x features, such as sfmnist\), "
                                         r"got input shape \(1, 8, 8\)"):
        config_class("sgru")().arguments(ModelInput((1, 8, 8), 10))
    with pytest.raises(ValueError, match="SLSTM: the ANN twin is an nn.LSTM with its own sigmoid/tanh gates, so "
                                         "activation does not apply; leave it at 'relu', got 'clip'"):
        SLSTM(ann=True, activation="clip")
    with pytest.raises(ValueError, match=r"SLSTM expects a sequence \[T, N, features\], got shape \[4, 28\]"):
        SLSTM(ann=True)(torch.rand(4, 28))


@pytest.mark.parametrize("name, twin, spiking", [("slstm", nn.LSTM, layer.SpikingLSTM),
                                                 ("sgru", nn.GRU, layer.SpikingGRU)])
def test_the_ann_twin_is_torchs_rnn_of_the_same_size(name, twin, spiking):
    args = config_class(name)(hidden=7, layers=2).arguments(SEQ)
    snn, ann = build_model(name, **args), build_model(name, **args, ann=True)
    assert type(ann.rnn) is twin and isinstance(snn.rnn, spiking)
    assert (ann.rnn.input_size, ann.rnn.hidden_size, ann.rnn.num_layers) == (5, 7, 2)
    assert (snn.rnn.input_size, snn.rnn.hidden_size, snn.rnn.num_layers) == (5, 7, 2)
    # the same weight layout as torch's cells: one parameter count for both
    assert sum(p.numel() for p in ann.parameters()) == sum(p.numel() for p in snn.parameters())
    x = torch.rand(6, 4, 5)
    assert ann(x).shape == snn(x).shape == (6, 4, 3)
    cfg = make_config(overrides={"dataset": "sfmnist", "model": name, "ann": True}, preset=False)
    assert describe_model(cfg) == f"ANN nn.{twin.__name__}"


def test_readout_last_reads_the_final_step_of_what_mean_reads():
    torch.manual_seed(0)
    mean = SLSTM(in_features=5, num_classes=3, hidden=6, readout="mean")
    last = SLSTM(in_features=5, num_classes=3, hidden=6, readout="last")
    last.load_state_dict(mean.state_dict())
    x = torch.rand(6, 4, 5) * 2
    every = mean(x)
    functional.reset_net(mean)
    assert last(x).shape == (1, 4, 3)
    functional.reset_net(last)
    assert torch.equal(last(x), every[-1:])


def test_the_options_reach_the_layer():
    net = SGRU(**config_class("sgru")(hidden=4, layers=2, variant="snntorch", threshold=0.25, reset="zero",
                                      signed_output="pair", time_gate="phased").arguments(SEQ))
    cells = net.rnn.cells
    assert [c.variant for c in cells] == ["snntorch"] * 2 and cells[0].threshold == 0.25
    assert cells[1].reset_mechanism == "zero" and cells[1].input_size == 8 and net.readout.in_features == 8
    assert cells[0].time_gate is not None and float(cells[0].time_gate.tau.detach().max()) <= 6.0   # periods within T
    assert SLSTM(**config_class("slstm")(variant="snntorch").arguments(SEQ)).rnn.cells[0].threshold == 0.5


def test_firing_rates_count_the_stacks_output_spikes():
    torch.manual_seed(0)
    net = SLSTM(in_features=5, num_classes=3, hidden=6, signed_output="difference")
    meter = FiringRateMeter(net)
    out = net.rnn(torch.rand(6, 4, 5) * 3).detach()
    assert set(meter.rates()) == {"rnn"}
    assert meter.rates()["rnn"] == pytest.approx(float(out.abs().mean()))
    meter.remove()


QUICK = {"dataset": "sfmnist", "train_subset": 48, "test_subset": 24, "batch_size": 16, "epochs": 1,
         "report": False, "device": "cpu", "hidden": 8}


@pytest.mark.parametrize("name, options", [
    ("slstm", {"layers": 2, "variant": "snntorch", "reset": "subtract", "signed_output": "pair",
               "time_gate": "phased", "readout": "last"}),
    ("sgru", {"ann": True}),
])
def test_train_checkpoint_eval_and_load_give_the_trained_networks_outputs(name, options, tmp_path, capsys,
                                                                         fake_fashion_mnist):
    cfg = make_config(overrides={**QUICK, "model": name, **options, "out": str(tmp_path)})
    metrics = run(cfg)
    ckpt = load_checkpoint(tmp_path / "checkpoint.pt")
    assert ckpt["model_name"] == name and ckpt["model_args"]["hidden"] == 8
    assert all(isinstance(v, (type(None), bool, int, float, str)) for v in ckpt["model_args"].values())
    # spikesmith eval scores the stored network as the trainer's last pass scored the one in memory
    assert main(["eval", "--checkpoint", str(tmp_path / "checkpoint.pt")]) == 0
    evaluated = json.loads(capsys.readouterr().out)
    assert evaluated["test_accuracy"] == metrics["test_accuracy"]
    assert evaluated["test_loss"] == pytest.approx(metrics["test_loss"], rel=1e-6)
    loaded = spikesmith.load(tmp_path / "checkpoint.pt")
    rebuilt = build_model(ckpt["model_name"], **ckpt["model_args"])
    rebuilt.load_state_dict(ckpt["state_dict"])
    rebuilt.eval()
    assert not loaded.training and isinstance(loaded.rnn, nn.GRU if options.get("ann") else layer.SpikingLSTM)
    x = torch.rand(28, 5, 28)
    with torch.no_grad():
        a = loaded(x)
        functional.reset_net(loaded)
        b = rebuilt(x)
        functional.reset_net(loaded)
        c = loaded(x)
    assert torch.equal(a, b) and torch.equal(a, c)     # the same weights and a clean reset
    if not options.get("ann"):
        fresh = build_model(ckpt["model_name"], **ckpt["model_args"])
        trained = ckpt["state_dict"]["rnn.cells.0.time_gate.tau"]
        assert torch.equal(loaded.rnn.cells[0].time_gate.tau, trained)
        assert not torch.equal(fresh.rnn.cells[0].time_gate.tau, trained)


def test_the_report_rasters_the_stacks_output_spikes():
    from spikesmith.training.config import TrainConfig
    from spikesmith.training.report import one_sample_activity

    torch.manual_seed(0)
    net = SLSTM(in_features=5, num_classes=3, hidden=6, layers=2)
    x = torch.rand(2, 7, 5) * 3                                # N x T x features (a temporal dataset)
    raster, traces = one_sample_activity(net, x, TrainConfig(dataset="sfmnist", model="slstm", encoder="none"), temporal=True)
    assert list(raster) == ["rnn (SpikingLSTM)"] and traces is None
    assert raster["rnn (SpikingLSTM)"].shape == (7, 6) and set(raster["rnn (SpikingLSTM)"].ravel()) <= {0.0, 1.0}


@pytest.mark.parametrize("flags, fragment", [
    (["--threshold", "0.3"], "SLSTM: threshold applies to variant 'snntorch' only (spikingjelly's gates spike at 0)"),
    (["--variant", "snntorch", "--layers", "two"], "config key 'layers' expects int, got 'two'"),
    (["--neuron", "lif"], "option 'neuron' does not apply to model 'slstm'"),
])
def test_a_bad_flag_exits_2_naming_the_option(tmp_path, capsys, flags, fragment):
    assert main(["train", "--dataset", "sfmnist", "--model", "slstm", *flags, "--out", str(tmp_path / "x")]) == 2
    assert fragment in capsys.readouterr().err


@pytest.mark.parametrize("name, options", [("slstm", {}), ("sgru", {"variant": "snntorch", "threshold": 0.05}),
                                           ("slstm", {"time_gate": "phased", "layers": 2})])
def test_the_loss_reaches_every_weight_through_the_surrogate(name, options):
    torch.manual_seed(0)
    net = build_model(name, **config_class(name)(hidden=6, **options).arguments(SEQ))
    out = net(torch.rand(6, 8, 5) * 2)
    nn.functional.cross_entropy(out.mean(0), torch.randint(3, (8,))).backward()
    silent = [n for n, p in net.named_parameters() if p.grad is None or not bool(p.grad.abs().sum() > 0)]
    assert silent == []
