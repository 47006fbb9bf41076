"""``spikesmith stdp --model sdnn`` end to end on a tiny network (digits), the frozen-random baseline,
and the one-line errors of its config."""

import argparse
import json

import pytest
import torch

import spikesmith
from spikesmith.cli import stdp as stdp_cmd
from spikesmith.data import get_dataset

pytestmark = pytest.mark.usefixtures("one_thread")

TINY = ["stdp", "--dataset", "digits", "--model", "sdnn", "--train-subset", "120", "--test-subset", "60",
        "--dog-size", "3", "--time-steps", "5", "--sdnn-maps", "6", "--sdnn-kernels", "3", "--sdnn-thresholds", "1.5",
        "--sdnn-pools", "", "--sdnn-winners", "0", "--sdnn-radii", "1", "--dog-threshold", "0.01",
        "--lr-double-every", "10", "--readout-epochs", "30", "--feature-grid", "3", "--lr", "0.05", "--batch-size", "60", "--report", "false"]


def _main(argv):
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="command")
    stdp_cmd.add_parser(sub)
    return stdp_cmd.run(parser.parse_args(argv))


def test_sdnn_run_learns_saves_and_loads(tmp_path):
    out = tmp_path / "sdnn"
    assert _main(TINY + ["--stdp-images", "40", "--out", str(out)]) == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["model"] == "sdnn" and metrics["features"] == 6 * 9 and not metrics["frozen_random_kernels"]
    assert metrics["test_accuracy"] > 0.3                               # 10 classes: chance is 0.1
    assert metrics["history"][-1]["images"] == 40 and metrics["convergence"][0] < 0.25
    net = spikesmith.load(out / "checkpoint.pt")                       # kernels and readout come back
    test = get_dataset("digits", "test")
    pred = net(test.inputs[:60]).argmax(1)
    assert float((pred == test.targets[:60]).double().mean()) == pytest.approx(metrics["test_accuracy"])
    frozen = tmp_path / "frozen"
    assert _main(TINY + ["--stdp-images", "0", "--out", str(frozen)]) == 0
    base = json.loads((frozen / "metrics.json").read_text())
    assert base["frozen_random_kernels"] and base["history"] == []
    a = torch.load(out / "checkpoint.pt", weights_only=True)["state_dict"]["weights.0"]
    b = torch.load(frozen / "checkpoint.pt", weights_only=True)["state_dict"]["weights.0"]
    assert a.shape == b.shape and not torch.equal(a, b)                 # same start (seed), then STDP moved it


@pytest.mark.parametrize("extra, match", [
    (["--a-plus", "0"], "a_plus must be > 0"),
    (["--a-minus", "-0.1"], "a_minus must be >= 0"),
    (["--sdnn-kernels", "3,3"], "sdnn_kernels has 2"),
    (["--sdnn-maps", "6,x"], "sdnn_maps must be comma-separated ints"),
    (["--stdp-images", "-1"], "stdp_images must be >= 0"),
    (["--sdnn-thresholds", "0"], "sdnn_thresholds must be comma-separated numbers > 0"),
])
def test_sdnn_bad_config_is_named(tmp_path, extra, match):
    with pytest.raises(ValueError, match=match):
        _main(TINY + extra + ["--out", str(tmp_path / "x")])


def test_sdnn_default_layers_do_not_fit_the_8x8_digits(tmp_path):
    with pytest.raises(ValueError, match="too small for these layers"):
        _main(["stdp", "--dataset", "digits", "--model", "sdnn", "--out", str(tmp_path / "d"), "--report", "false"])


def test_sdnn_refuses_resume(tmp_path):
    out = tmp_path / "r"
    assert _main(TINY + ["--stdp-images", "0", "--out", str(out)]) == 0
    with pytest.raises(ValueError, match="does not resume"):
        _main(["stdp", "--resume", str(out / "checkpoint.pt")])


def test_sdnn_presets_layer_under_the_command_line():
    from spikesmith.run import make_stdp_config

    cfg = make_stdp_config(overrides={"model": "sdnn", "dataset": "fashion_mnist"})
    assert (cfg.a_plus, cfg.a_minus, cfg.w_init) == (0.004, 0.003, 0.8)           # the paper's rates and start
    assert (cfg.sdnn_maps, cfg.feature_grid, cfg.stdp_images) == ("30,200", 3, 3000)
    assert make_stdp_config(overrides={"model": "sdnn", "dataset": "fashion_mnist", "feature_grid": 1}).feature_grid == 1
    assert make_stdp_config(overrides={"model": "sdnn", "dataset": "digits"}).feature_grid == 1
    assert make_stdp_config(overrides={"model": "hybrid", "dataset": "fashion_mnist"}).feature_grid == 1
