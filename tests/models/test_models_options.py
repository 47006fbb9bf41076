"""Model configs and NeuronSpec: one default per option, checked once, a clear error for an option
that doesn't apply."""

from __future__ import annotations

import dataclasses
import inspect

import pytest
import torch

from spikesmith.models import (CSNN, FCSNN, MODELS, CSNNConfig, FCSNNConfig, ModelInput, NeuronSpec, RSNNConfig,
                               SpikingResNet, SpikingVGG, config_class, model_options, saved_arguments)
from spikesmith.neuron import BaseNode, IFNode, ParametricLIFNode


# ------------------------------------------------------------------------------------- NeuronSpec
def test_neuron_spec_maps_tau_to_the_time_constant_argument():
    assert NeuronSpec.of("lif", tau=3.0).arguments == {"tau": 3.0}
    assert NeuronSpec.of("PLIF", tau=4.0).arguments == {"init_tau": 4.0}
    spec = NeuronSpec.of("plif", tau=4.0, surrogate="atan", detach_reset=True)
    assert spec.name == "plif"
    a, b = spec.build(), spec.build()
    assert a is not b and isinstance(a, ParametricLIFNode) and a.step_mode == "m" and a.detach_reset
    assert float(a.tau) == pytest.approx(4.0)
    assert spec.build(step_mode="s").step_mode == "s"


def test_neuron_spec_refuses_tau_for_a_neuron_without_one():
    with pytest.raises(ValueError, match=r"option 'tau' does not apply to neuron 'if'.*accept it: alif, lif, plif"):
        NeuronSpec.of("if", tau=2.0)
    assert isinstance(NeuronSpec.of("if").build(), IFNode)


def test_neuron_spec_checks_names_and_arguments_once():
    with pytest.raises(ValueError, match="unknown neuron 'lfi'; known neurons: adlif, alif, if, izhikevich, lif, masked_psn, plif, psn, sliding_psn"):
        NeuronSpec("lfi")
    with pytest.raises(ValueError, match=r"neuron 'if' takes no argument 'tau_adapt'; neurons that take it: alif"):
        NeuronSpec("if", {"tau_adapt": 3.0})
    with pytest.raises(ValueError, match="unknown surrogate 'nope'"):
        NeuronSpec.of("lif", surrogate="nope")


# ------------------------------------------------------------------------------- family configs
def test_every_family_registers_a_config_with_arguments():
    assert set(MODELS) == {"audio_fcsnn", "audio_rsnn", "csnn", "dbn", "fcsnn", "lsm", "qkformer", "resnet", "rsnn",
                           "sgru", "slstm", "spike_driven_transformer", "spikformer", "ttfs", "vgg"}
    image = ModelInput((1, 12, 12), 3)
    for name in MODELS:
        cfg = config_class(name)()
        data = ModelInput((5, 7), 3, temporal=True) if name in ("rsnn", "sgru", "slstm") else image
        if name.startswith("audio_"):
            data = ModelInput((30, 7), 3, temporal=True)           # learnable delays of up to 25 steps
        model = MODELS.get(name)(**cfg.arguments(data), ann=False)
        assert sum(p.numel() for p in model.parameters()) > 0, name


def test_defaults_are_the_ones_spikesmith_train_has_always_used():
    """Where the constructors and the CLI disagreed before, the CLI's won: LIF, membrane readout,
    32 channels, tau 2 (the neuron's own)."""
    csnn = CSNN()
    assert [type(m).__name__ for m in csnn.modules() if isinstance(m, BaseNode)] == ["LIFNode"] * 3
    assert not isinstance(csnn[-1], BaseNode) and csnn[0].out_channels == 32
    assert not isinstance(FCSNN()[-1], BaseNode)
    assert (CSNNConfig().neuron, CSNNConfig().readout, CSNNConfig().tau) == ("lif", "membrane", 2.0)
    assert all(float(m.tau) == 2.0 for m in FCSNN().modules() if isinstance(m, BaseNode))
    # one value per default: the constructors read theirs from the family's config
    for cls, config in ((FCSNN, FCSNNConfig), (CSNN, CSNNConfig)):
        params = inspect.signature(cls).parameters
        for key in config.option_names():
            assert params[key].default == getattr(config, key), (cls.__name__, key)


def test_option_that_does_not_apply_names_the_model_and_who_takes_it():
    with pytest.raises(ValueError, match=r"option 'channels' does not apply to model 'fcsnn' "
                                         r"\(models that accept it: csnn\); fcsnn's options: hidden, depth, readout"):
        model_options("fcsnn", {"channels": 4})
    with pytest.raises(ValueError, match=r"option 'neuron' does not apply to model 'rsnn' "
                                         r"\(models that accept it: audio_fcsnn, audio_rsnn, csnn, dbn, fcsnn, qkformer, resnet, "
                                         r"spike_driven_transformer, spikformer, vgg\)"):
        model_options("rsnn", {"neuron": "plif"})
    with pytest.raises(ValueError, match="no model accepts it"):
        model_options("csnn", {"widht": 2})
    with pytest.raises(ValueError, match=r"FCSNN: option 'tau' does not apply to neuron 'izhikevich'"):
        model_options("fcsnn", {"neuron": "izhikevich", "tau": 3.0})
    with pytest.raises(ValueError, match=r"option 'tau' does not apply to neuron 'if'"):
        FCSNN(neuron="if", tau=3.0)


def test_config_validation_messages_name_the_family():
    with pytest.raises(ValueError, match="SpikingVGG: arch must be 'vgg5', 'vgg11', 'vgg13' or 'vgg16', got 'vgg9'"):
        config_class("vgg")(arch="vgg9")
    with pytest.raises(ValueError, match="SpikingResNet: width must be > 0"):
        config_class("resnet")(width=0)
    with pytest.raises(ValueError, match="RSNN: hidden must be >= 1"):
        RSNNConfig(hidden=0)


def test_arguments_turn_options_into_what_the_constructor_takes():
    args = config_class("resnet")(arch="resnet10", width=0.25).arguments(ModelInput((3, 32, 32), 10))
    assert args["layers"] == (1, 1, 1, 1) and args["width"] == 16 and args["small_input"] is True
    assert isinstance(SpikingResNet(**args), SpikingResNet)
    args = config_class("vgg")(arch="vgg5", width=0.125).arguments(ModelInput((2, 16, 16), 4))
    assert args["config"] == "vgg5" and args["in_channels"] == 2 and isinstance(SpikingVGG(**args), SpikingVGG)
    rsnn = RSNNConfig(hidden=5).arguments(ModelInput((7, 3), 2, temporal=True))
    assert (rsnn["n_lif"], rsnn["n_alif"], rsnn["in_features"]) == (2, 3, 3)
    with pytest.raises(ValueError, match=r"rsnn needs a temporal dataset"):
        RSNNConfig().arguments(ModelInput((1, 8, 8), 10))


def test_saved_arguments_drop_the_tau_old_checkpoints_gave_if():
    old = {"in_shape": (1, 8, 8), "hidden": 4, "neuron": "if", "tau": 2.0, "readout": "spike"}
    assert "tau" not in saved_arguments("fcsnn", old)
    assert saved_arguments("fcsnn", {**old, "neuron": "lif"}) == {**old, "neuron": "lif"}
    model = FCSNN(**saved_arguments("fcsnn", old))
    assert model(torch.rand(2, 3, 1, 8, 8)).shape == (2, 3, 10)


def test_configs_are_plain_dataclasses_of_json_values():
    for name in MODELS:
        values = dataclasses.asdict(config_class(name)())
        assert all(v is None or isinstance(v, (bool, int, float, str)) for v in values.values()), name
