"""The ``delays`` option of rsnn and fcsnn, the audio presets (audio_fcsnn, audio_rsnn) and the parameter count
that matches variants: shapes, what each option builds, errors, and tiny end-to-end trainings."""

from __future__ import annotations

import pytest
import torch

import spikesmith
from spikesmith import functional, layer
from spikesmith.cli.main import main
from spikesmith.models import ModelInput, build_model, count_parameters, model_options
from spikesmith.models.audio import ChannelBinning, hidden_for_params
from spikesmith.neuron import AdLIFNode, LIFNode, NonSpikingLIFNode
from spikesmith.run import train as run
from spikesmith.training import load_checkpoint, make_config

pytestmark = pytest.mark.usefixtures("one_thread")

SEQ = ModelInput((40, 12), 4, temporal=True)


def build(name: str, data: ModelInput = SEQ, **options):
    return build_model(name, **model_options(name, options).arguments(data))


def kinds(model) -> set:
    return {type(m) for m in model.modules()}


@pytest.mark.parametrize("name", ["rsnn", "fcsnn"])
def test_delays_option_builds_the_delayed_synapses(name):
    assert not kinds(build(name)) & {layer.LearnableDelay, layer.DelayedLinear}
    learnable = build(name, delays="learnable", max_delay=7)
    fixed = build(name, delays="fixed", max_delay=7)
    assert layer.LearnableDelay in kinds(learnable) and layer.DelayedLinear in kinds(fixed)
    syn = next(m for m in fixed.modules() if isinstance(m, layer.DelayedLinear))
    assert int(syn.delays.min()) >= 0 and int(syn.delays.max()) <= 7 and torch.unique(syn.delays).numel() > 1
    x = (torch.rand(40, 3, 12) < 0.2).float()
    for net in (learnable, fixed):
        y = net(x)
        assert y.shape == (40, 3, 4)
        y.sum().backward()
        functional.reset_net(net)
    positions = next(m for m in learnable.modules() if isinstance(m, layer.LearnableDelay)).positions
    assert positions.grad is not None and positions.grad.abs().sum() > 0


def test_without_delays_the_arguments_are_the_old_ones():
    args = model_options("rsnn", {}).arguments(SEQ)
    assert "delays" not in args and "max_delay" not in args
    args = model_options("rsnn", {"delays": "learnable", "max_delay": 9}).arguments(SEQ)
    assert args["delays"] == "learnable" and args["max_delay"] == 9


def test_delay_option_errors():
    with pytest.raises(ValueError, match=r"delays must be 'none', 'fixed' or 'learnable'"):
        model_options("rsnn", {"delays": "sometimes"})
    with pytest.raises(ValueError, match=r"max_delay must be a positive int"):
        model_options("fcsnn", {"delays": "learnable", "max_delay": 0})
    with pytest.raises(ValueError, match=r"max_delay=40 does not fit the dataset's sequences of T=40"):
        model_options("rsnn", {"delays": "learnable", "max_delay": 40}).arguments(SEQ)
    with pytest.raises(ValueError, match=r"no ANN twin"):
        build_model("rsnn", in_features=12, num_classes=4, delays="learnable", ann=True)
    with pytest.raises(ValueError, match=r"no ANN twin"):
        build_model("fcsnn", in_shape=(12,), num_classes=4, delays="fixed", ann=True)


def test_feedback_alignment_refuses_delays():
    from spikesmith.learning.feedback import FEEDBACK_PLANS

    net = build("fcsnn", delays="learnable", max_delay=5)
    with pytest.raises(ValueError, match=r"with delays has no feedback-alignment plan"):
        FEEDBACK_PLANS.get(net)(net)


# ----------------------------------------------------------------------------- parameter count
def test_count_parameters_counts_every_delay():
    plain = build("fcsnn", hidden=10)
    learnable = build("fcsnn", hidden=10, delays="learnable", max_delay=5)
    fixed = build("fcsnn", hidden=10, delays="fixed", max_delay=5)
    weights = 12 * 10 + 10 * 4
    assert count_parameters(plain) == weights
    assert count_parameters(learnable) == weights + 12 * 10          # one position per input synapse
    assert count_parameters(fixed) == weights + 12 * 10              # one fixed delay per input synapse
    with pytest.raises(ValueError, match=r"lazily shaped"):
        count_parameters(AdLIFNode())


def test_params_budget_matches_variants_within_five_percent():
    data = ModelInput((60, 700), 20, temporal=True)
    budget = 60_000
    variants = [("audio_fcsnn", {"neuron": "lif", "delays": "none"}), ("audio_rsnn", {"neuron": "lif", "delays": "none"}),
                ("audio_rsnn", {"delays": "none"}), ("audio_rsnn", {"delays": "learnable", "max_delay": 20}),
                ("audio_fcsnn", {"delays": "fixed", "max_delay": 20})]
    counts = []
    for name, options in variants:
        args = model_options(name, {**options, "params": budget}).arguments(data)
        counts.append(count_parameters(build_model(name, **args)))
    assert all(abs(c - budget) / budget < 0.05 for c in counts), counts


def test_hidden_for_params_leaves_the_random_stream_alone():
    from spikesmith.models.audio import AudioFCSNN

    torch.manual_seed(3)
    expected = torch.rand(3)
    torch.manual_seed(3)
    hidden_for_params(AudioFCSNN, {"in_features": 50, "num_classes": 5, "delays": "fixed", "max_delay": 3}, 5000)
    assert torch.equal(torch.rand(3), expected)


# ----------------------------------------------------------------------------- the audio presets
def test_channel_binning_sums_adjacent_channels():
    x = torch.arange(2 * 1 * 7, dtype=torch.float32).reshape(2, 1, 7)
    y = ChannelBinning(3)(x)
    assert torch.equal(y[0, 0], torch.tensor([0 + 1 + 2, 3 + 4 + 5, 6.0]))
    assert y.sum() == x.sum()
    with pytest.raises(ValueError, match=r"group must be a positive int"):
        ChannelBinning(0)


@pytest.mark.parametrize("name", ["audio_fcsnn", "audio_rsnn"])
@pytest.mark.parametrize("channels", [700, 37])
def test_audio_presets_run_on_any_channel_count(name, channels):
    data = ModelInput((30, channels), 20, temporal=True)
    net = build(name, data, hidden=16, max_delay=10)
    assert isinstance(net.binning, ChannelBinning) == (channels > 140)
    if channels == 700:
        assert net.binning.group == 5
        syn = net.hidden_layers[0][0]
        assert isinstance(syn, layer.LearnableDelay) and syn.in_features == 140
    assert AdLIFNode in kinds(net) and isinstance(net.readout_neuron, NonSpikingLIFNode)
    x = (torch.rand(30, 2, channels) < 0.05).float()
    y = net(x)
    assert y.shape == (30, 2, 20)
    y.mean().backward()
    functional.reset_net(net)


def test_audio_readout_max_over_time():
    net = build("audio_fcsnn", ModelInput((30, 20), 5, temporal=True), hidden=8, max_delay=5, readout_time="max",
                dropout=0.0).eval()
    x = (torch.rand(30, 3, 20) < 0.2).float()
    y = net(x)
    functional.reset_net(net)
    net.readout_time = "mean"
    v = net(x)
    assert y.shape == (1, 3, 5) and torch.equal(y[0], v.max(0).values)


def test_audio_preset_with_plain_lif_and_errors():
    net = build("audio_rsnn", ModelInput((30, 20), 5, temporal=True), neuron="lif", delays="none", hidden=8)
    assert LIFNode in kinds(net) and layer.LearnableDelay not in kinds(net)
    with pytest.raises(ValueError, match=r"needs a temporal dataset"):
        model_options("audio_rsnn", {}).arguments(ModelInput((1, 28, 28), 10))
    with pytest.raises(ValueError, match=r"max_delay=25 does not fit"):
        model_options("audio_fcsnn", {}).arguments(ModelInput((20, 700), 20, temporal=True))
    with pytest.raises(ValueError, match=r"dropout must lie in"):
        model_options("audio_fcsnn", {"dropout": 1.5})
    with pytest.raises(ValueError, match=r"no ANN twin"):
        build_model("audio_fcsnn", ann=True)


# ----------------------------------------------------------------------------- end to end
QUICK = {"dataset": "delayed_recall", "train_subset": 48, "test_subset": 24, "epochs": 2, "batch_size": 24,
         "report": False, "device": "cpu", "threads": 1}


def test_rsnn_with_learnable_delays_trains_end_to_end(tmp_path):
    cfg = make_config(overrides={**QUICK, "model": "rsnn", "hidden": 8, "delays": "learnable", "max_delay": 6,
                                 "out": str(tmp_path)})
    metrics = run(cfg)
    assert metrics["model_args"]["delays"] == "learnable" and 0.0 <= metrics["test_accuracy"] <= 1.0
    ckpt = load_checkpoint(tmp_path / "checkpoint.pt")
    assert float(ckpt["state_dict"]["delayed_input.sigma"]) == pytest.approx(0.5)   # the schedule reached its end
    net = spikesmith.load(tmp_path / "checkpoint.pt")
    syn = net.delayed_input
    assert isinstance(syn, layer.LearnableDelay) and syn.uses_shifts()


def test_cli_trains_the_audio_preset_and_fcsnn_with_fixed_delays(tmp_path):
    flags = [f"--{k.replace('_', '-')}={v}" for k, v in QUICK.items()]
    assert main(["train", *flags, "--epochs", "1", "--model", "audio_rsnn", "--hidden", "8", "--max-delay", "5",
                 "--out", str(tmp_path / "audio")]) == 0
    assert load_checkpoint(tmp_path / "audio" / "checkpoint.pt")["model_args"]["neuron"] == "adlif"
    assert main(["train", *flags, "--epochs", "1", "--model", "fcsnn", "--hidden", "8", "--delays", "fixed",
                 "--max-delay", "5", "--out", str(tmp_path / "fixed")]) == 0
    first = spikesmith.load(tmp_path / "fixed" / "checkpoint.pt")
    again = spikesmith.load(tmp_path / "fixed" / "checkpoint.pt")
    d1 = next(m for m in first.modules() if isinstance(m, layer.DelayedLinear)).delays
    d2 = next(m for m in again.modules() if isinstance(m, layer.DelayedLinear)).delays
    assert torch.equal(d1, d2)                       # the drawn delays are stored with the weights


def test_the_optimizer_gives_delay_positions_their_own_learning_rate():
    from spikesmith.training.config import TrainConfig
    from spikesmith.training.setup import make_optimizer, make_schedule

    net = build("fcsnn", hidden=6, delays="learnable", max_delay=5)
    syn = next(m for m in net.modules() if isinstance(m, layer.LearnableDelay))
    for schedule in ("none", "onecycle", "cosine"):
        cfg = TrainConfig(lr=2e-3, schedule=schedule)
        opt = make_optimizer(cfg, net)
        make_schedule(cfg, opt, 4)                       # the schedule keeps the ratio (onecycle: one max_lr each)
        groups = {id(p): g["lr"] for g in opt.param_groups for p in g["params"]}
        assert len(opt.param_groups) == 2
        ratio = groups[id(syn.positions)] / groups[id(syn.weight)]
        assert ratio == pytest.approx(syn.position_lr) and syn.position_lr == 50.0
    plain = make_optimizer(TrainConfig(lr=2e-3), build("fcsnn", hidden=6))
    assert len(plain.param_groups) == 1                  # networks without delays keep one group


def test_a_delayed_network_in_eval_mode_matches_its_trained_form_once_sigma_is_small():
    """The whole network: the Gaussian taps at a small sigma (training mode) against the rounded delays
    (eval mode, exact shifts), positions kept off the half steps where rounding is ambiguous."""
    torch.manual_seed(11)
    net = build("fcsnn", ModelInput((30, 6), 4, temporal=True), hidden=12, delays="learnable", max_delay=8)
    syn = net[1]
    with torch.no_grad():
        syn.positions.copy_(torch.randint(0, 9, syn.positions.shape).float() + 0.2 * (torch.rand_like(syn.positions) - 0.5))
        syn.weight.mul_(5.0)
    syn.set_sigma(0.1)
    x = (torch.rand(30, 4, 6) < 0.4).float()
    with torch.no_grad():
        trained = net(x)
        functional.reset_net(net)
        rounded = net.eval()(x)
        functional.reset_net(net)
    assert rounded.abs().sum() > 0
    assert torch.allclose(trained, rounded, atol=1e-4)
    net.train()
    syn.set_sigma(3.0)
    with torch.no_grad():
        wide = net(x)
    assert not torch.allclose(wide, rounded, atol=1e-2)


def test_audio_presets_keep_the_reset_in_the_backward_pass_so_adlif_gradients_stay_bounded():
    assert model_options("audio_rsnn", {}).detach_reset is False
    assert model_options("audio_fcsnn", {}).detach_reset is False
    assert model_options("rsnn", {}).detach_reset is True                 # the other families keep their default
    norms = {}
    for detach in (True, False):
        torch.manual_seed(0)
        x = (torch.rand(100, 8, 140) < 0.05).float() * 3
        y = torch.randint(0, 4, (8,))
        model = build("audio_fcsnn", ModelInput((100, 140), 4, temporal=True), hidden=32, delays="none",
                      detach_reset=detach)
        torch.nn.functional.cross_entropy(model(x).mean(0), y).backward()
        norms[detach] = (model.hidden_layers[0][0].weight.grad.norm().item(), model.readout.weight.grad.norm().item())
        functional.reset_net(model)
    # the readout sees the same forward either way; the first layer's gradient explodes only with the reset cut
    assert norms[True][1] == pytest.approx(norms[False][1])
    assert norms[False][0] < 10 * norms[False][1]
    assert norms[True][0] > 1000 * norms[False][0]
