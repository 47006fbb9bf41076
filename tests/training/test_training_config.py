"""TrainConfig: defaults < dataset preset < config file (YAML, TOML, JSON) < overrides, every key checked."""

from __future__ import annotations

import dataclasses
import json
import sys

import pytest

from spikesmith.training.config import PRESETS, TrainConfig, load_config_file, make_config, parse_overrides


def _write(tmp_path, name: str, text: str):
    path = tmp_path / name
    path.write_text(text)
    return path


# ------------------------------------------------------------------------------------------ defaults
def test_defaults_without_preset_are_the_dataclass_defaults():
    cfg = make_config(preset=False)
    assert cfg == TrainConfig()
    assert (cfg.T, cfg.epochs, cfg.lr, cfg.loss, cfg.schedule, cfg.report) == (4, 8, 2e-3, "ce", "onecycle", True)
    assert cfg.dataset is None and cfg.model is None and cfg.encoder is None


def test_digits_preset_is_applied_under_the_defaults():
    cfg = make_config(overrides={"dataset": "digits"})
    for key, value in PRESETS["digits"].items():
        if key == "model_options":
            assert value.items() <= cfg.model_options.items()
        else:
            assert getattr(cfg, key) == value, key
    assert (cfg.model, cfg.encoder, cfg.model_options["hidden"], cfg.lr, cfg.batch_size, cfg.epochs) == \
        ("fcsnn", "direct", 256, 5e-3, 64, 20)
    assert cfg.T == TrainConfig.T  # keys the preset leaves alone keep their defaults


def test_dataset_alias_and_case_are_canonicalised_and_still_get_the_preset():
    cfg = make_config(overrides={"dataset": "FMNIST"})
    assert cfg.dataset == "fashion_mnist"
    assert cfg.model == "csnn" and cfg.lr == PRESETS["fashion_mnist"]["lr"]


def test_overrides_beat_the_preset():
    cfg = make_config(overrides={"dataset": "digits", "hidden": "12", "epochs": 3})
    assert cfg.model_options["hidden"] == 12 and cfg.epochs == 3
    assert cfg.lr == PRESETS["digits"]["lr"]


def test_preset_false_skips_it():
    cfg = make_config(overrides={"dataset": "digits"}, preset=False)
    assert cfg.model_options == {} and cfg.model is None


def test_to_dict_round_trips_through_make_config():
    cfg = make_config(overrides={"dataset": "digits", "train_subset": 5, "ann": True, "time_limit": 1.5})
    again = make_config(overrides=cfg.to_dict())
    assert again == cfg
    assert json.loads(json.dumps(cfg.to_dict())) == dataclasses.asdict(cfg)


# -------------------------------------------------------------------------------------- config files
FILES = {
    "cfg.yaml": "dataset: digits\nhidden: 32\nlr: 1e-2\nepochs: 3\nann: yes\ntrain_subset: 50\n",
    "cfg.toml": 'dataset = "digits"\nhidden = 32\nlr = 1e-2\nepochs = 3\nann = true\ntrain_subset = 50\n',
    "cfg.json": '{"dataset": "digits", "hidden": 32, "lr": 0.01, "epochs": 3, "ann": true, "train_subset": 50}',
}


@pytest.mark.parametrize("name", sorted(FILES))
def test_config_file_beats_preset_and_defaults(tmp_path, name):
    path = _write(tmp_path, name, FILES[name])
    cfg = make_config(str(path))
    assert cfg.dataset == "digits"
    hidden = cfg.model_options["hidden"]
    assert hidden == 32 and isinstance(hidden, int)                  # file beats the preset's 256
    assert cfg.lr == 0.01 and isinstance(cfg.lr, float)              # YAML reads 1e-2 as a string
    assert cfg.epochs == 3 and cfg.ann is True and cfg.train_subset == 50
    assert cfg.batch_size == PRESETS["digits"]["batch_size"]        # the preset still fills the rest
    assert cfg.T == TrainConfig.T                                    # and the defaults the remainder


@pytest.mark.parametrize("name", sorted(FILES))
def test_overrides_beat_the_config_file(tmp_path, name):
    path = _write(tmp_path, name, FILES[name])
    cfg = make_config(str(path), {"hidden": "7", "epochs": "5", "ann": "false", "train_subset": "none"})
    assert (cfg.model_options["hidden"], cfg.epochs, cfg.ann, cfg.train_subset) == (7, 5, False, None)
    assert cfg.lr == 0.01


def test_unknown_key_in_file_lists_the_valid_keys(tmp_path):
    path = _write(tmp_path, "bad.yaml", "dataset: digits\nhiden: 32\n")
    with pytest.raises(ValueError, match="hiden") as err:
        make_config(str(path))
    message = str(err.value)
    assert "valid keys" in message
    for key in ("hidden", "epochs", "lr", "dataset", "T"):
        assert key in message


def test_unknown_override_key_is_an_error():
    with pytest.raises(ValueError, match=r"unknown config key.*'learning_rate'.*valid keys:.*\blr\b"):
        make_config(overrides={"dataset": "digits", "learning_rate": 0.1})


@pytest.mark.parametrize("key, value, expects", [
    ("epochs", "abc", "int"), ("epochs", 2.5, "int"), ("epochs", True, "int"), ("epochs", "3.0", "int"),
    ("lr", "x", "float"), ("lr", False, "float"),
    ("ann", "maybe", "bool"), ("ann", 1, "bool"),
    ("neuron", ["lif"], "str"), ("T", "none", "int"), ("hidden", None, "int"),
])
def test_wrong_type_names_the_key(key, value, expects):
    with pytest.raises(ValueError, match=rf"config key '{key}'.*{expects}"):
        make_config(overrides={"dataset": "digits", key: value})


def test_wrong_type_in_a_file_names_the_key(tmp_path):
    path = _write(tmp_path, "bad.toml", 'dataset = "digits"\nepochs = "many"\n')
    with pytest.raises(ValueError, match=r"'epochs'.*int.*'many'"):
        make_config(str(path))


@pytest.mark.parametrize("text, value", [("yes", True), ("off", False), ("1", True), ("FALSE", False)])
def test_bool_strings(text, value):
    assert make_config(overrides={"dataset": "digits", "amp": text}).amp is value


def test_optional_keys_accept_none_strings():
    cfg = make_config(overrides={"dataset": "digits", "threads": "null", "time_limit": "None", "encoder": None})
    assert cfg.threads is None and cfg.time_limit is None and cfg.encoder is None


def test_an_optional_string_keeps_the_word_none():
    # `--encoder none` is the identity encoder; it used to become None (the model's default: poisson
    # for digits), and a stored "none" (every temporal dataset's encoder) loaded as None, so
    # `spikesmith eval` of an sfmnist checkpoint failed
    assert make_config(overrides={"dataset": "digits", "encoder": "none"}).encoder == "none"


def test_non_optional_string_keeps_the_word_none():
    assert make_config(overrides={"dataset": "digits", "schedule": "none"}).schedule == "none"


def test_config_file_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        make_config(str(tmp_path / "missing.yaml"))
    with pytest.raises(ValueError, match=r"\.yaml, \.yml, \.toml or \.json"):
        load_config_file(_write(tmp_path, "cfg.ini", "[a]\n"))
    with pytest.raises(ValueError, match="mapping"):
        load_config_file(_write(tmp_path, "list.yaml", "- 1\n- 2\n"))
    assert load_config_file(_write(tmp_path, "empty.yml", "")) == {}


# ---------------------------------------------------------------------------------- parse_overrides
def test_parse_overrides():
    got = parse_overrides(["lr=0.01", "train-subset=5", "surrogate=sigmoid:alpha=4", "out="])
    assert got == {"lr": "0.01", "train_subset": "5", "surrogate": "sigmoid:alpha=4", "out": ""}
    assert parse_overrides([]) == {}


@pytest.mark.parametrize("item", ["lr", "=3", ""])
def test_parse_overrides_errors(item):
    with pytest.raises(ValueError, match="key=value"):
        parse_overrides([item])


def test_parsed_overrides_feed_make_config():
    cfg = make_config(overrides=parse_overrides(["dataset=digits", "train-subset=5", "epochs=2", "ann=true"]))
    assert (cfg.train_subset, cfg.epochs, cfg.ann) == (5, 2, True)


# --------------------------------------------------------------------------------------- validation
@pytest.mark.parametrize("key, value, fragment", [
    ("T", 0, "T must be >= 1"),
    ("epochs", 0, "epochs must be >= 1"),
    ("batch_size", 0, "batch_size must be >= 1"),
    ("lr", 0.0, "lr must be > 0"),
    ("lr", -1e-3, "lr must be > 0"),
    ("hidden", 0, "hidden must be >= 1"),
    ("optimizer", "rmsprop", "optimizer must be adam, adamw or sgd, got 'rmsprop'"),
    ("schedule", "step", "schedule must be onecycle, cosine or none, got 'step'"),
    ("train_subset", 0, "train_subset must be >= 1"),
    ("test_subset", 0, "test_subset must be >= 1"),
    ("time_limit", 0, "time_limit must be > 0"),
    ("event_threshold", -0.1, "event_threshold must be > 0"),
    ("event_threshold", 0.0, "event_threshold must be > 0"),
    # names a registry holds are checked with the config, before any data loads
    ("loss", "nosuch", "unknown loss 'nosuch'; known losses: ce, mse, tet"),
    ("encoder", "nosuch", "unknown encoder 'nosuch'; known encoders:"),
    ("activation", "nosuch", "unknown activation 'nosuch'; known activations:"),
])
def test_validation_errors(key, value, fragment):
    with pytest.raises(ValueError, match=fragment):
        make_config(overrides={"dataset": "digits", key: value})


@pytest.mark.parametrize("key, value, fragment", [
    ("channels", 0, "CSNN: channels must be >= 1"),
    ("dropout", 1.0, r"dropout must be in \[0, 1\)"),
    ("dropout", -0.1, "dropout"),
])
def test_model_option_validation_errors(key, value, fragment):
    with pytest.raises(ValueError, match=fragment):
        make_config(overrides={"dataset": "digits", "model": "csnn", key: value})


def test_unknown_dataset_lists_valid_names():
    with pytest.raises(ValueError, match=r"unknown dataset 'cifar'.*digits"):
        make_config(overrides={"dataset": "cifar"})


def test_toml_without_tomllib_asks_for_tomli(tmp_path, monkeypatch):
    # Python 3.10 (which pyproject allows) has no tomllib
    monkeypatch.setitem(sys.modules, "tomllib", None)
    monkeypatch.setitem(sys.modules, "tomli", None)
    with pytest.raises(ImportError, match="pip install tomli"):
        load_config_file(_write(tmp_path, "cfg.toml", "hidden = 3\n"))


# ------------------------------------------------------------------------------------ model options
def test_model_options_nested_or_flat_and_filled_with_the_family_defaults():
    nested = make_config(overrides={"dataset": "digits", "model_options": {"hidden": 12, "neuron": "PLIF"}})
    flat = make_config(overrides={"dataset": "digits", "hidden": "12", "neuron": "plif"})
    assert nested == flat
    assert flat.model_options == {"hidden": 12, "depth": 1, "readout": "membrane", "neuron": "plif", "tau": 2.0,
                                  "surrogate": "atan", "detach_reset": True, "delays": "none", "max_delay": 25}
    both = make_config(overrides={"dataset": "digits", "model_options": {"hidden": 3}, "hidden": 5})
    assert both.model_options["hidden"] == 5                          # the flat key wins


def test_preset_model_options_apply_to_the_preset_model_only():
    cfg = make_config(overrides={"dataset": "digits", "model": "csnn"})
    assert cfg.model == "csnn" and "hidden" not in cfg.model_options and cfg.model_options["channels"] == 32


@pytest.mark.parametrize("overrides, fragment", [
    ({"model": "fcsnn", "channels": 4}, r"option 'channels' does not apply to model 'fcsnn' \(models that accept "
                                        r"it: csnn\)"),
    ({"model": "rsnn", "neuron": "plif"}, r"option 'neuron' does not apply to model 'rsnn'.*csnn, dbn, fcsnn, qkformer, resnet, "
                                           r"spike_driven_transformer, spikformer, vgg"),
    ({"model": "fcsnn", "neuron": "if", "tau": 3},
     r"FCSNN: option 'tau' does not apply to neuron 'if'.*alif, lif, plif"),
    ({"model": "csnn", "neuron": "izhikevich", "tau": "2"}, r"does not apply to neuron 'izhikevich'"),
    ({"model": "alexnet"}, r"unknown model 'alexnet'; known models: audio_fcsnn, audio_rsnn, csnn, dbn, fcsnn, lsm, qkformer, "
                        r"resnet, rsnn, sgru, slstm, spike_driven_transformer \(aliases: sdt\), spikformer, ttfs, vgg"),
])
def test_an_option_that_does_not_apply_is_an_error(overrides, fragment):
    with pytest.raises(ValueError, match=fragment):
        make_config(overrides={"dataset": "digits", **overrides})


def test_a_config_file_with_an_option_that_does_not_apply_is_refused(tmp_path):
    path = _write(tmp_path, "cfg.yaml", "dataset: digits\nmodel: fcsnn\npool: avg\n")
    with pytest.raises(ValueError, match=r"option 'pool' does not apply to model 'fcsnn'.*csnn, vgg"):
        make_config(str(path))
    path = _write(tmp_path, "nested.toml", 'dataset = "digits"\n[model_options]\nneuron = "if"\ntau = 2.0\n')
    with pytest.raises(ValueError, match=r"'tau' does not apply to neuron 'if'"):
        make_config(str(path))


def test_model_option_types_are_checked_against_the_family():
    with pytest.raises(ValueError, match=r"config key 'channels' expects int, got 'many'"):
        make_config(overrides={"dataset": "digits", "model": "csnn", "channels": "many"})
    cfg = make_config(overrides={"dataset": "digits", "model": "csnn", "channels": "4", "detach_reset": "no"})
    assert cfg.model_options["channels"] == 4 and cfg.model_options["detach_reset"] is False


def test_a_config_stored_before_0_2_keeps_loading():
    from spikesmith.training.config import saved_config

    old = {**{k: v for k, v in dataclasses.asdict(make_config(overrides={"dataset": "digits"})).items()
              if k != "model_options"},
           "arch": None, "width": 1.0, "channels": 32, "hidden": 256, "neuron": "if", "surrogate": "atan", "tau": 2.0,
           "pool": "max", "readout": "membrane", "detach_reset": True, "dropout": 0.0}
    new = saved_config(old)
    assert new["model_options"] == {"hidden": 256, "neuron": "if", "surrogate": "atan", "readout": "membrane",
                                    "detach_reset": True}
    cfg = make_config(overrides=new)
    assert cfg.model == "fcsnn" and cfg.model_options["hidden"] == 256 and cfg.model_options["tau"] is None
    rsnn = saved_config({**old, "model": "rsnn", "neuron": "lif", "tau": 20.0, "hidden": 128})
    assert rsnn["model_options"] == {"hidden": 128, "surrogate": "atan", "tau": 20.0, "detach_reset": True}
    assert saved_config(new) == new                                   # a current config is left alone
