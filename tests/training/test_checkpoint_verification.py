"""Verified checkpoints: a content checksum on every file, one check of what a reader needs, resume
options that conflict with the checkpoint refused, and non-finite weights refused unless forced.

Before these checks 113 of 392 bit-flipped checkpoints loaded with other weights and no error,
incomplete files gave raw ``KeyError`` tracebacks, ``--resume ... --neuron if`` on a LIF run exited 0
with another model, and ``epoch=-5`` failed inside OneCycleLR.
"""

from __future__ import annotations

import shutil
import warnings

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from training_helpers import resume_run, tiny_run

import spikesmith
from spikesmith import checksum, conversion
from spikesmith.checkpoint_checks import IncompleteCheckpointError, NonFiniteCheckpointError
from spikesmith.checksum import DamagedCheckpointError, UnverifiedCheckpointWarning
from spikesmith.cli.main import main
from spikesmith.models import FCSNN
from spikesmith.training import atomic_save, load_checkpoint, make_checkpoint

ARGS = {"in_shape": (1, 8, 8), "hidden": 4}


def _small(**extra) -> dict:
    torch.manual_seed(0)
    return make_checkpoint(FCSNN(**ARGS), "fcsnn", ARGS, {"dataset": "digits", "T": 2, "model": "fcsnn",
                                                               "encoder": "direct"}, **extra)


def _flip_bit(path, offset: int, bit: int = 0) -> None:
    data = bytearray(path.read_bytes())
    data[offset] ^= 1 << bit
    path.write_bytes(bytes(data))


@pytest.fixture(scope="module")
def one_epoch(tmp_path_factory):
    """A finished one-epoch tiny run (LIF neurons, onecycle schedule): its folder."""
    out = tmp_path_factory.mktemp("one_epoch")
    tiny_run(out, epochs=1)
    return out


@pytest.fixture
def run_copy(one_epoch, tmp_path):
    """A private copy of the one-epoch run's checkpoint (tests may damage or rewrite it)."""
    dest = tmp_path / "checkpoint.pt"
    shutil.copy(one_epoch / "checkpoint.pt", dest)
    return dest


def _rewrite(path, change) -> None:
    """Read the checkpoint as stored, apply ``change`` to its dict, and write it sealed again."""
    raw = torch.load(path, weights_only=True)
    change(raw)
    atomic_save(checksum.seal(raw), path)


# ----------------------------------------------------------------------------------- checksum
def test_every_writer_seals_its_checkpoint(one_epoch, tmp_path):
    trained = torch.load(one_epoch / "checkpoint.pt", weights_only=True)
    ann = FCSNN(**ARGS, ann=True).eval()
    snn = conversion.convert(ann, torch.rand(16, 1, 8, 8), T=4, method="max",
                             source={"model_name": "fcsnn", "model_args": {**ARGS, "ann": True}})
    conversion.save_converted(snn, tmp_path / "s.pt")
    converted = torch.load(tmp_path / "s.pt", weights_only=True)
    for raw in (trained, converted):
        assert raw["checksum"]["algorithm"] == "sha256"
        assert raw["checksum"]["digest"] == checksum.digest(raw)
        assert checksum.verify(raw, "x") is True


def test_a_flipped_weight_bit_is_a_clear_error(tmp_path):
    ckpt = _small()
    path = tmp_path / "c.pt"
    atomic_save(ckpt, path)
    weight = ckpt["state_dict"]["1.weight"]
    offset = path.read_bytes().find(weight.numpy().tobytes())
    assert offset > 0
    _flip_bit(path, offset + 5, bit=3)              # one bit of one weight: a valid file with another value
    for load in (spikesmith.load, load_checkpoint):
        with pytest.raises(DamagedCheckpointError, match=r"c\.pt is damaged: its content does not match the "
                                                         r"sha256 checksum"):
            load(path)


def test_a_flipped_bit_in_a_converted_checkpoint_is_an_error(tmp_path):
    torch.manual_seed(0)
    ann = FCSNN(**ARGS, ann=True).eval()
    snn = conversion.convert(ann, torch.rand(16, 1, 8, 8), T=4, method="max",
                             source={"model_name": "fcsnn", "model_args": {**ARGS, "ann": True}})
    path = tmp_path / "s.pt"
    conversion.save_converted(snn, path)
    weight = snn.state_dict()["net.1.weight"] if "net.1.weight" in snn.state_dict() else \
        next(v for k, v in snn.state_dict().items() if k.endswith("weight"))
    offset = path.read_bytes().find(weight.contiguous().numpy().tobytes())
    assert offset > 0
    _flip_bit(path, offset)
    with pytest.raises(DamagedCheckpointError, match="s.pt is damaged"):
        conversion.load_converted(path)
    with pytest.raises(DamagedCheckpointError, match="s.pt is damaged"):
        spikesmith.load(path)


def test_the_digest_covers_values_keys_and_types():
    base = checksum.digest({"a": torch.zeros(3), "b": [1, 2.0, "x"], "c": None})
    for other in ({"a": torch.zeros(3, dtype=torch.float64), "b": [1, 2.0, "x"], "c": None},   # dtype
                  {"a": torch.zeros(1, 3), "b": [1, 2.0, "x"], "c": None},                   # shape
                  {"a": torch.zeros(3), "b": [1, 2, "x"], "c": None},                        # float vs int
                  {"a": torch.zeros(3), "b": (1, 2.0, "x"), "c": None},                      # tuple vs list
                  {"a": torch.zeros(3), "b": [1, 2.0, "x"], "d": None}):                     # key
        assert checksum.digest(other) != base
    assert checksum.digest({"c": None, "b": [1, 2.0, "x"], "a": torch.zeros(3)}) == base   # order of keys: same


def test_an_old_checkpoint_without_checksum_loads_with_one_notice(tmp_path):
    ckpt = _small()
    del ckpt["checksum"]                            # as written before checksums existed
    torch.save(ckpt, tmp_path / "old.pt")
    with pytest.warns(UnverifiedCheckpointWarning, match=r"old\.pt has no checksum") as record:
        net = spikesmith.load(tmp_path / "old.pt")
    assert len([w for w in record if issubclass(w.category, UnverifiedCheckpointWarning)]) == 1
    for key, value in ckpt["state_dict"].items():
        assert torch.equal(net.state_dict()[key], value)


def test_a_checksum_whose_own_name_was_damaged_is_not_taken_for_an_old_file(tmp_path):
    ckpt = _small()
    ckpt["checksuo"] = ckpt.pop("checksum")          # one flipped bit in the entry's name ('m' ^ 2 = 'o')
    ckpt["state_dict"] = {k: v + 1 for k, v in ckpt["state_dict"].items()}   # and the weights changed too
    torch.save(ckpt, tmp_path / "n.pt")
    with pytest.raises(DamagedCheckpointError, match=r"n\.pt is damaged: it has no 'checksum' entry but one named "
                                                     r"'checksuo', one character away"):
        spikesmith.load(tmp_path / "n.pt")


def test_a_mangled_checksum_entry_is_damage(tmp_path):
    for entry in ({"algorithm": "sha256"}, "abc", {"algorithm": "md4", "serialisation": "spikesmith-canonical-1",
                                                   "digest": "00"}):
        ckpt = {**_small(), "checksum": entry}
        torch.save(ckpt, tmp_path / "m.pt")
        with pytest.raises(DamagedCheckpointError, match=r"m\.pt is damaged"):
            spikesmith.load(tmp_path / "m.pt")


# ----------------------------------------------------------------------------------- entries
@pytest.mark.parametrize("key", ["model_name", "model_args", "config", "state_dict"])
def test_a_missing_entry_is_named(tmp_path, key):
    ckpt = _small()
    del ckpt[key]
    atomic_save(checksum.seal(ckpt), tmp_path / "c.pt")
    for load in (spikesmith.load, load_checkpoint):
        with pytest.raises(IncompleteCheckpointError, match=rf"c\.pt cannot be used: '{key}' \(.*\) is missing"):
            load(tmp_path / "c.pt")


@pytest.mark.parametrize("key, value, fragment", [
    ("model_args", [1, 2], "'model_args' (the model's constructor arguments) must be dict, got list"),
    ("model_name", 3, "'model_name' (the model's registry name) must be str, got int"),
    ("state_dict", {"1.weight": [0.0]}, "'state_dict' (the weights) must map names to tensors, but '1.weight' is a list"),
    ("config", "digits", "'config' (the config of the run that wrote it) must be dict, got str"),
])
def test_a_wrong_type_is_named(tmp_path, key, value, fragment):
    atomic_save(checksum.seal({**_small(), key: value}), tmp_path / "c.pt")
    with pytest.raises(IncompleteCheckpointError, match=fragment.replace("(", r"\(").replace(")", r"\)")):
        spikesmith.load(tmp_path / "c.pt")


def test_a_wrong_config_value_is_named(tmp_path):
    atomic_save(checksum.seal({**_small(), "config": {"dataset": "digits", "T": "many"}}), tmp_path / "c.pt")
    with pytest.raises(ValueError, match=r"c\.pt: its config is not valid \(config key 'T' expects int"):
        spikesmith.load(tmp_path / "c.pt")


@pytest.mark.parametrize("key", ["epoch", "optimizer"])
def test_resume_names_a_missing_entry(run_copy, key):
    _rewrite(run_copy, lambda raw: raw.pop(key))
    with pytest.raises(IncompleteCheckpointError, match=rf"cannot be used to resume: '{key}' \(.*\) is missing"):
        resume_run(run_copy)


def test_a_negative_epoch_is_refused_before_the_schedule(run_copy):
    _rewrite(run_copy, lambda raw: raw.update(epoch=-5))
    with pytest.raises(IncompleteCheckpointError, match=r"'epoch' \(the epoch it was written after\) must be >= 0, "
                                                        r"got -5"):
        resume_run(run_copy)
    assert main(["train", "--resume", str(run_copy)]) == 2                 # the CLI: one line, exit 2


# ----------------------------------------------------------------------------------- resume options
def test_resume_refuses_another_neuron(run_copy, tmp_path, capsys):
    assert main(["train", "--resume", str(run_copy), "--neuron", "if", "--out", str(tmp_path / "r")]) == 2
    err = capsys.readouterr().err
    assert "options differ from the run it continues (--neuron 'if' here, 'lif' in the checkpoint)" in err
    assert "drop --neuron" in err
    assert not (tmp_path / "r" / "checkpoint.pt").exists()


@pytest.mark.parametrize("key, value, fragment", [
    ("lr", "0.1", "--lr 0.1 here, 0.05 in the checkpoint"),
    ("seed", "3", "--seed 3 here, 0 in the checkpoint"),
    ("T", "4", "--T 4 here, 2 in the checkpoint"),
    ("model", "csnn", "--model 'csnn' here, 'fcsnn' in the checkpoint"),
    ("dataset", "mnist", "--dataset 'mnist' here, 'digits' in the checkpoint"),
])
def test_resume_refuses_options_that_define_the_run(run_copy, capsys, key, value, fragment):
    assert main(["train", "--resume", str(run_copy), f"--{key}", value]) == 2
    assert fragment in capsys.readouterr().err


def test_resume_checks_a_config_file_like_flags(run_copy, tmp_path, capsys):
    # the saved config used to win over --config silently: a file asking for another neuron trained LIF
    conflicting = tmp_path / "other.yaml"
    conflicting.write_text("lr: 0.1\nmodel_options:\n  neuron: if\n")
    assert main(["train", "--resume", str(run_copy), "--config", str(conflicting)]) == 2
    err = capsys.readouterr().err
    assert "--lr 0.1 here, 0.05 in the checkpoint" in err or "--neuron 'if' here, 'lif' in the checkpoint" in err
    harmless = tmp_path / "same.yaml"
    harmless.write_text(f"out: {tmp_path / 'again'}\nreport: false\nhidden: 32\n")
    assert main(["train", "--resume", str(run_copy), "--config", str(harmless)]) == 0   # finished: evaluates only


def test_resume_accepts_the_options_that_may_change(run_copy, tmp_path):
    # out, report and the same value of a fixed option: no conflict (the finished run only evaluates)
    assert main(["train", "--resume", str(run_copy), "--out", str(tmp_path / "again"), "--report", "false",
                 "--hidden", "32", "--device", "cpu", "--model", "FCSNN"]) == 0


@pytest.mark.parametrize("change, fragment", [
    (lambda raw: raw["model_args"].update(hidden=16), "hidden 32 here, 16 in the checkpoint"),
    (lambda raw: raw.update(model_name="csnn"), "model 'fcsnn' here, 'csnn' in the checkpoint"),
])
def test_resume_refuses_model_name_or_args_its_config_does_not_build(run_copy, change, fragment):
    # eval builds from model_name/model_args; resume builds from the config: they must agree
    _rewrite(run_copy, change)
    with pytest.raises(ValueError, match="this run builds another model than the checkpoint's") as err:
        resume_run(run_copy)
    assert fragment in str(err.value)


# ----------------------------------------------------------------------------------- non-finite weights
def _nan_checkpoint(path):
    ckpt = _small()
    ckpt["state_dict"]["3.weight"][0, 1] = float("nan")
    atomic_save(checksum.seal(ckpt), path)


def test_nan_weights_are_refused_unless_forced(tmp_path):
    _nan_checkpoint(tmp_path / "n.pt")
    with pytest.raises(NonFiniteCheckpointError, match=r"n\.pt: state_dict\['3\.weight'\] holds 1 non-finite value"
                                                       r".*--allow-nonfinite"):
        spikesmith.load(tmp_path / "n.pt")
    net = spikesmith.load(tmp_path / "n.pt", allow_nonfinite=True)
    assert torch.isnan(net.state_dict()["3.weight"][0, 1])


@pytest.mark.parametrize("command", ["eval", "profile", "convert"])
def test_the_commands_refuse_nan_weights(tmp_path, capsys, command):
    _nan_checkpoint(tmp_path / "n.pt")
    assert main([command, "--checkpoint", str(tmp_path / "n.pt")]) == 2
    assert "holds 1 non-finite value(s) (NaN or Inf)" in capsys.readouterr().err


def test_eval_with_allow_nonfinite_runs(tmp_path, capsys):
    _nan_checkpoint(tmp_path / "n.pt")
    assert main(["eval", "--checkpoint", str(tmp_path / "n.pt"), "--allow-nonfinite"]) == 0


def test_resume_refuses_nan_weights_unless_forced(run_copy, tmp_path, capsys):
    _rewrite(run_copy, lambda raw: raw["state_dict"]["1.weight"].fill_(float("inf")))
    assert main(["train", "--resume", str(run_copy), "--out", str(tmp_path / "r")]) == 2
    assert "state_dict['1.weight'] holds" in capsys.readouterr().err
    # forced: the finished run only evaluates again (no epoch left)
    assert main(["train", "--resume", str(run_copy), "--out", str(tmp_path / "r"), "--allow-nonfinite"]) == 0


# ----------------------------------------------------------------------------------- fuzz
_FUZZ_CKPT = _small()
_FUZZ_BYTES: bytes = b""


def _fuzz_bytes(tmp_dir) -> bytes:
    global _FUZZ_BYTES
    if not _FUZZ_BYTES:
        atomic_save(_FUZZ_CKPT, tmp_dir / "orig.pt")
        _FUZZ_BYTES = (tmp_dir / "orig.pt").read_bytes()
    return _FUZZ_BYTES


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_fuzz_damaged_checkpoint_is_a_clean_error_or_the_original(tmp_path, data):
    """Flipped bits (anywhere) and truncations end in our ValueError/OSError or load the same network."""
    original = _fuzz_bytes(tmp_path)
    damage = data.draw(st.sampled_from(["flip", "truncate"]))
    raw = bytearray(original)
    if damage == "flip":
        for offset in data.draw(st.lists(st.integers(0, len(raw) - 1), min_size=1, max_size=3)):
            raw[offset] ^= 1 << data.draw(st.integers(0, 7))
    else:
        raw = raw[: data.draw(st.integers(0, len(raw) - 1))]
    path = tmp_path / "fuzz.pt"
    path.write_bytes(bytes(raw))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UnverifiedCheckpointWarning)   # a flip that drops the checksum entry whole
        try:
            net = spikesmith.load(path)
        except (ValueError, OSError):
            return
    own = net.state_dict()
    for key, value in _FUZZ_CKPT["state_dict"].items():
        assert torch.equal(own[key], value), key


# ----------------------------------------------------------------------------------- STDP resume
@pytest.fixture(scope="module")
def stdp_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("stdp") / "run"
    assert main(["stdp", "--dataset", "digits", "--train-subset", "16", "--test-subset", "16", "--n-neurons", "5",
                 "--time", "5", "--batch-size", "8", "--assign-subset", "16", "--curve-points", "1",
                 "--report", "false", "--out", str(out)]) == 0
    return out / "checkpoint.pt"


def test_stdp_resume_refuses_another_network_size(stdp_run, tmp_path, capsys):
    shutil.copy(stdp_run, tmp_path / "c.pt")
    assert main(["stdp", "--resume", str(tmp_path / "c.pt"), "--n-neurons", "7", "--out", str(tmp_path)]) == 2
    assert "--n-neurons 7 here, 5 in the checkpoint" in capsys.readouterr().err


def test_stdp_resume_names_a_missing_entry(stdp_run, tmp_path, capsys):
    shutil.copy(stdp_run, tmp_path / "c.pt")
    _rewrite(tmp_path / "c.pt", lambda raw: raw.pop("next_batch"))
    assert main(["stdp", "--resume", str(tmp_path / "c.pt"), "--out", str(tmp_path)]) == 2
    assert "cannot be used to resume: 'next_batch' (the batch to continue with) is missing" in capsys.readouterr().err
