"""``--model dbn``: the deep belief network as a ``spikesmith train`` family: registration, options,
the run's phases (pre-training, fine-tuning, conversion, both evaluations), checkpoint, ``spikesmith
eval``, ``spikesmith.load`` and the report's figures."""

from __future__ import annotations

import json

import pytest
import torch

import spikesmith
from spikesmith import functional
from spikesmith.cli.main import main
from spikesmith.data import get_dataset
from spikesmith.learning import RBM
from spikesmith.models import DBNConfig, ModelInput, SpikingDBN, build_model, config_class, model_names
from spikesmith.models.dbn import encode
from spikesmith.run import phases_for, train as run
from spikesmith.run.dbn_phases import DBNPhases
from spikesmith.training import load_checkpoint, make_config

DIGITS = ModelInput((1, 8, 8), 10)
#: a small digits run (under a second): 5 pre-training epochs per RBM, 10 fine-tuning epochs, a spiking test at
#: T=32; measured rate/spiking accuracy 0.86/0.84, agreement 0.98 (a 64-32 stack learns too slowly for a test)
QUICK = {"dataset": "digits", "model": "dbn", "hidden": "100,100", "pretrain_epochs": 5, "epochs": 10, "lr": 1e-2,
         "T": 32, "train_subset": 1000, "test_subset": 120, "device": "cpu", "threads": 1}


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """One tiny run with its report, shared: (out folder, metrics)."""
    out = tmp_path_factory.mktemp("dbn")
    return out, run(make_config(overrides={**QUICK, "out": str(out)}))


def test_dbn_is_registered_with_its_options_and_phases():
    assert "dbn" in model_names() and config_class("dbn") is DBNConfig
    net = build_model("dbn", **DBNConfig().arguments(DIGITS))
    assert isinstance(net, SpikingDBN) and net.dbn.sizes == [64, 500, 500]
    assert DBNConfig.option_names()[:5] == ["hidden", "cd_k", "persistent", "pretrain_epochs", "pretrain_lr"]
    assert isinstance(phases_for(net), DBNPhases)
    assert type(phases_for(build_model("fcsnn", hidden=4))) is not DBNPhases     # others keep the plain phases


def test_the_family_sets_its_run_defaults_under_the_command_line():
    cfg = make_config(overrides={"dataset": "fashion_mnist", "model": "dbn"})
    # DBNConfig.run_defaults win over the dataset's recipe (made for the csnn: lr 3e-3, 5 epochs)
    assert (cfg.T, cfg.encoder, cfg.lr, cfg.epochs, cfg.batch_size) == (200, "direct", 3e-3, 10, 64)
    assert cfg.model_options["hidden"] == "500,500" and cfg.model_options["neuron"] == "if"
    cfg = make_config(overrides={"dataset": "digits", "model": "dbn", "T": "50", "encoder": "poisson",
                                 "hidden": "100"})
    assert (cfg.T, cfg.encoder, cfg.model_options["hidden"]) == (50, "poisson", "100")
    assert make_config(overrides={"dataset": "fashion_mnist"}).T == 4        # another family: untouched


def test_train_help_lists_the_options_and_the_run_defaults(capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "250")
    with pytest.raises(SystemExit):
        main(["train", "--model", "dbn", "--help"])
    section = capsys.readouterr().out.split("options of model dbn")[1]
    for flag in ("--hidden HIDDEN", "--cd-k", "--persistent", "--pretrain-epochs", "--sparsity", "--neuron",
                 "--balance"):
        assert flag in section, flag
    assert "one of if | lif (default: if)" in section
    assert "run options model dbn sets unless given: --T 200, --encoder direct, --epochs 10" in section


@pytest.mark.parametrize("options, message", [
    ({"hidden": "500,x"}, "DBN: hidden must list positive layer widths separated by commas, got '500,x'"),
    ({"hidden": "0"}, "DBN: hidden must list positive layer widths"),
    ({"cd_k": 0}, "DBN: cd_k must be an int >= 1, got 0"),
    ({"pretrain_epochs": -1}, "DBN: pretrain_epochs must be an int >= 0, got -1"),
    ({"pretrain_lr": 0.0}, "DBN: pretrain_lr must be a number > 0, got 0.0"),
    ({"sparsity": 1.5}, r"DBN: sparsity must lie in \(0, 1\), got 1.5"),
    ({"neuron": "izhikevich"}, "DBN: neuron must be 'if' or 'lif', got 'izhikevich'"),
    ({"tau": 20.0}, "DBN: tau applies to neuron lif only"),
    ({"neuron": "lif", "tau": 0.5}, r"DBN: tau must be a number > 1 \(steps\), got 0.5"),
    ({"balance": "median"}, "DBN: balance must be 'fit' or 'tangent', got 'median'"),
    ({"variant": "snntorch"}, "option 'variant' does not apply to model 'dbn'"),
    ({"ann": True, "activation": "clip"}, "DBN: the rate twin's units are sigmoids, so activation does not apply"),
])
def test_bad_options_get_a_one_line_error_naming_the_option(options, message, tmp_path):
    with pytest.raises(ValueError, match=message) as err:
        run(make_config(overrides={**QUICK, **options, "out": str(tmp_path)}))
    assert "\n" not in str(err.value)


def test_a_temporal_dataset_is_refused_naming_the_fix():
    with pytest.raises(ValueError, match="DBN needs a static dataset .* use fashion_mnist, mnist or digits"):
        DBNConfig().arguments(ModelInput((28, 28), 10, temporal=True))


def test_the_run_pretrains_fine_tunes_converts_and_reports_both_accuracies(trained):
    out, metrics = trained
    # both networks are tested; the spiking one is the checkpoint's (thresholds balanced, not the initial 4)
    assert 0.7 < metrics["test_accuracy"] <= 1 and 0.7 < metrics["snn_test_accuracy"] <= 1
    assert 0.85 <= metrics["agreement"] <= 1 and metrics["snn_T"] == 32 and metrics["snn_encoder"] == "direct"
    assert len(metrics["thresholds"]) == 2 and all(t != 4.0 for t in metrics["thresholds"])
    assert set(metrics["firing_rates"]) == {"neurons.0", "neurons.1"}
    assert [row["layer"] for row in metrics["pretrain"]] == [1, 2] and metrics["pretrain_time_s"] > 0
    ckpt = load_checkpoint(out / "checkpoint.pt")
    assert ckpt["state_dict"]["thresholds"].tolist() == pytest.approx(metrics["thresholds"])
    # pre-training ran in the run: the first RBM reconstructs the digits better than an untrained one
    net = spikesmith.load(out / "checkpoint.pt")
    x = get_dataset("digits", "train").inputs[:300].flatten(1)
    assert net.dbn.rbms[0].reconstruction_error(x) < 0.7 * RBM(64, 100, seed=3).reconstruction_error(x)


def test_eval_and_load_give_the_runs_spiking_network(trained, capsys):
    out, metrics = trained
    assert main(["eval", "--checkpoint", str(out / "checkpoint.pt")]) == 0
    evaluated = json.loads(capsys.readouterr().out)
    assert evaluated["test_accuracy"] == metrics["snn_test_accuracy"]       # the same pass, from the file
    assert evaluated["test_loss"] == pytest.approx(metrics["snn_test_loss"], rel=1e-5)
    net = spikesmith.load(out / "checkpoint.pt")
    assert isinstance(net, SpikingDBN) and not net.training and not net.is_ann
    assert [n.v_threshold for n in net.neurons] == pytest.approx(metrics["thresholds"])
    ckpt = load_checkpoint(out / "checkpoint.pt")
    rebuilt = build_model("dbn", **ckpt["model_args"])
    rebuilt.load_state_dict(ckpt["state_dict"])
    x_seq = encode(torch.rand(5, 64), 32)
    with torch.no_grad():
        a = net(x_seq)
        functional.reset_net(net)
        b = rebuilt(x_seq)
        functional.reset_net(net)
        c = net(x_seq)
    assert a.shape == (32, 5, 10) and torch.equal(a, b) and torch.equal(a, c)


def test_the_spiking_forward_is_the_dbns_to_snn_network():
    torch.manual_seed(0)
    net = SpikingDBN([64, 24, 12], n_classes=10, seed=0)
    with torch.no_grad():
        for fc in net.dbn.hidden:
            fc.weight.mul_(100)                     # a spread of pre-activations, so the neurons fire
    x = torch.rand(40, 64)
    thresholds = net.calibrate(x, 50)
    assert thresholds == net.dbn.balanced_thresholds(x, 50)
    reference = net.dbn.to_snn(x, T=50)
    with torch.no_grad():
        ours, theirs = net(encode(x, 50)), reference(encode(x, 50))
    # thresholds stored as float32 here, float64 there: at most a rare spike apart
    assert (ours - theirs).abs().mean() < 1e-3 and (ours.mean(0).argmax(1) == theirs.mean(0).argmax(1)).all()


def test_the_report_has_the_receptive_fields_and_reconstructions(trained):
    out, _ = trained
    report = out / "report"
    for name in ("receptive_fields.png", "reconstructions.png", "spike_raster.png", "training_curves.png"):
        assert (report / name).stat().st_size > 1000, name
    readme = (report / "README.md").read_text()
    assert "![Receptive fields of the first RBM](receptive_fields.png)" in readme
    assert "![Reconstructions](reconstructions.png)" in readme and "| Spiking net test accuracy |" in readme


def test_the_rate_twin_trains_without_conversion(tmp_path):
    metrics = run(make_config(overrides={**QUICK, "ann": True, "epochs": 1, "pretrain_epochs": 0,
                                         "report": False, "out": str(tmp_path)}))
    assert "snn_test_accuracy" not in metrics and "pretrain" not in metrics
    net = spikesmith.load(tmp_path / "checkpoint.pt")
    assert net.is_ann and net(torch.rand(3, 1, 8, 8)).shape == (3, 10)


def test_a_resumed_finished_run_keeps_its_pretraining_metrics(trained, tmp_path):
    out, metrics = trained
    cfg = make_config(overrides={**QUICK, "out": str(tmp_path), "report": False})
    again = run(cfg, resume=str(out / "checkpoint.pt"))
    assert again["pretrain"] == metrics["pretrain"] and again["epochs_run"] == metrics["epochs_run"]
    assert again["snn_test_accuracy"] == metrics["snn_test_accuracy"]
