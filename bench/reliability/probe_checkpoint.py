"""Checkpoints under damage: bit flips, truncations, missing entries, wrong types, NaN weights, and
``--resume`` options that conflict with the checkpoint (issue 14, point 5 and the last bullet of 4).

    PYTHONPATH=src python bench/reliability/probe_checkpoint.py --memory-gb 4

Fixtures are written once, before the workers fork: a finished one-epoch tiny run on digits (FCSNN,
LIF, with its optimiser state), a converted network of its ANN twin, and their raw bytes. A case
that loads without an error must give exactly the original network (else ``wrong``); a NaN weight
that loads without ``allow_nonfinite`` is ``wrong``; a resume with a conflicting option that runs is
``wrong``. Everything else must be a clean error from spikesmith.
"""

from __future__ import annotations

import argparse
import atexit
import io
import shutil
import sys
import tempfile
import warnings
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import harness
import torch


FLIPS_TRAINED = 200
FLIPS_CONVERTED = 60
FLIPS_RESUME = 20
TRUNCATIONS_TRAINED = 25
TRUNCATIONS_CONVERTED = 15

_fixture: dict = {}


def _make_fixtures() -> dict:
    if _fixture:
        return _fixture
    from spikesmith import conversion
    from spikesmith.checksum import UnverifiedCheckpointWarning

    # the notice of a checksum-less file (a flip in the word "checksum") is not a result
    warnings.simplefilter("ignore", UnverifiedCheckpointWarning)
    # the fixtures train here, in the parent, before the workers fork: with one thread no OpenMP
    # pool exists to deadlock a forked child's first parallel op (resumes that evaluate hung without it)
    torch.set_num_threads(1)
    from spikesmith.run import train
    from spikesmith.training import make_config

    root = Path(tempfile.mkdtemp(prefix="probe_checkpoint_"))
    atexit.register(shutil.rmtree, root, True)         # the parent's exit only: workers leave by os._exit
    tiny = {"dataset": "digits", "train_subset": 128, "test_subset": 60, "hidden": 16, "T": 2, "epochs": 1,
            "lr": 0.05, "report": False, "device": "cpu"}
    with redirect_stderr(io.StringIO()), redirect_stdout(io.StringIO()):
        train(make_config(overrides={**tiny, "out": str(root / "snn")}))
        train(make_config(overrides={**tiny, "ann": True, "out": str(root / "ann")}))
        ann = _load(root / "ann" / "checkpoint.pt")
        from spikesmith.training.setup import load_split

        x, _, _ = load_split(make_config(overrides={**tiny}), "train")
        source = {"model_name": "fcsnn", "model_args": dict(torch.load(root / "ann" / "checkpoint.pt",
                                                                       weights_only=True)["model_args"])}
        snn = conversion.convert(ann, x[:64], T=4, method="light", source=source)
        conversion.save_converted(snn, root / "converted.pt", config={"dataset": "digits", "T": 4})
    trained, converted = root / "snn" / "checkpoint.pt", root / "converted.pt"
    _fixture.update(root=root, trained=trained, converted=converted, trained_bytes=trained.read_bytes(),
                    converted_bytes=converted.read_bytes(), trained_raw=torch.load(trained, weights_only=True),
                    converted_raw=torch.load(converted, weights_only=True))
    return _fixture


def _load(path, **kwargs):
    import spikesmith

    return spikesmith.load(path, **kwargs)


def _same_network(net, raw: dict) -> str | None:
    own = net.state_dict()
    for key, value in raw["state_dict"].items():
        if key not in own or own[key].shape != value.shape or not torch.equal(own[key], value):
            return f"wrong: loaded with another {key}"
    return None


def _write(name: str, data: bytes) -> Path:
    path = Path(tempfile.mkdtemp(dir=_fixture["root"])) / name
    path.write_bytes(data)
    return path


def _flipped(data: bytes, offset: int, bit: int) -> bytes:
    raw = bytearray(data)
    raw[offset] ^= 1 << bit
    return bytes(raw)


def _cli(argv: list[str]) -> int:
    """``spikesmith ARGV`` without main's catch-all, so that an error reaches the harness as it is."""
    from spikesmith.cli.main import COMMANDS

    parser = argparse.ArgumentParser(prog="spikesmith")
    sub = parser.add_subparsers(dest="command")
    for module in COMMANDS.values():
        module.add_parser(sub)
    args = parser.parse_args(argv)
    with redirect_stderr(io.StringIO()), redirect_stdout(io.StringIO()):
        return COMMANDS[args.command].run(args) or 0


def _resume(path: Path, *extra: str) -> int:
    out = Path(tempfile.mkdtemp(dir=_fixture["root"]))
    return _cli(["train", "--resume", str(path), "--out", str(out), "--report", "false", *extra])


# ----------------------------------------------------------------------------- cases
def _load_damaged(kind: str, data: bytes):
    def run():
        net = _load(_write(f"{kind}.pt", data))
        return _same_network(net, _fixture[f"{kind}_raw"])
    return run


def _resume_damaged(data: bytes):
    def run():
        path = _write("checkpoint.pt", data)
        _resume(path)
        # it resumed (a finished run: evaluated only); what it loaded must be the original
        return _same_network(_load(path), _fixture["trained_raw"])
    return run


def _edited(kind: str, change, seal: bool = True) -> Path:
    from spikesmith import checksum

    raw = dict(_fixture[f"{kind}_raw"])
    raw["state_dict"] = {k: v.clone() for k, v in raw["state_dict"].items()}
    change(raw)
    if seal:
        raw = checksum.seal(raw)
    else:
        raw.pop("checksum", None)
    path = Path(tempfile.mkdtemp(dir=_fixture["root"])) / f"{kind}.pt"
    torch.save(raw, path)
    return path


def _load_edited(kind: str, change, seal: bool = True, expect_refusal: bool = True, **kwargs):
    def run():
        net = _load(_edited(kind, change, seal), **kwargs)
        if expect_refusal:
            return "wrong: an edited checkpoint loaded without an error"
        return None if net is not None else "wrong: nothing loaded"
    return run


def _resume_edited(change, *extra: str, seal: bool = True):
    def run():
        rc = _resume(_edited("trained", change, seal), *extra)
        return f"wrong: resumed (exit {rc}) from an edited checkpoint"
    return run


def _set(key, value):
    def change(raw):
        raw[key] = value
    return change


def _drop(key):
    def change(raw):
        raw.pop(key, None)
    return change


def _poison(key, value):
    def change(raw):
        flat = raw["state_dict"][key].view(-1)
        flat[len(flat) // 2] = value
    return change


def cases() -> list[harness.Case]:
    fx = _make_fixtures()
    out: list[harness.Case] = []
    for kind, count in (("trained", FLIPS_TRAINED), ("converted", FLIPS_CONVERTED)):
        data = fx[f"{kind}_bytes"]
        for i in range(count):
            offset = (i * len(data)) // count + (i * 7) % max(1, len(data) // count)
            out.append(harness.Case(f"checkpoint bit flip ({kind})", f"byte {offset} bit {i % 8}",
                                    _load_damaged(kind, _flipped(data, min(offset, len(data) - 1), i % 8))))
    data = fx["trained_bytes"]
    for i in range(FLIPS_RESUME):
        offset = (i * len(data)) // FLIPS_RESUME + 3
        out.append(harness.Case("checkpoint bit flip (resume)", f"byte {offset} bit {i % 8}",
                                _resume_damaged(_flipped(data, offset, i % 8)), timeout_s=60))
    for kind, count in (("trained", TRUNCATIONS_TRAINED), ("converted", TRUNCATIONS_CONVERTED)):
        data = fx[f"{kind}_bytes"]
        for i in range(count):
            size = (i * len(data)) // count
            out.append(harness.Case("checkpoint truncation", f"{kind} to {size} of {len(data)} bytes",
                                    _load_damaged(kind, data[:size])))

    trained_keys = ("format", "model_name", "model_args", "config", "state_dict")
    converted_keys = ("format", "source", "method", "T", "input_shape", "state_dict")
    for seal in (True, False):
        tag = "sealed" if seal else "no checksum"
        for key in trained_keys:
            out.append(harness.Case("checkpoint missing entry", f"trained {key} ({tag})",
                                    _load_edited("trained", _drop(key), seal)))
        for key in converted_keys:
            out.append(harness.Case("checkpoint missing entry", f"converted {key} ({tag})",
                                    _load_edited("converted", _drop(key), seal)))
        for key in ("epoch", "optimizer", "config", "state_dict", "model_args", "model_name"):
            out.append(harness.Case("checkpoint missing entry", f"resume {key} ({tag})",
                                    _resume_edited(_drop(key), seal=seal), timeout_s=60))

    wrong_values = [3, "x", [1, 2], None, torch.zeros(2), 1.5, True]
    for key in ("model_name", "model_args", "config", "state_dict"):
        for value in wrong_values:
            if key == "model_name" and isinstance(value, str):
                continue
            out.append(harness.Case("checkpoint wrong type", f"trained {key}={value!r:.20}",
                                    _load_edited("trained", _set(key, value))))
    for key in ("method", "T", "input_shape", "state_dict", "source"):
        for value in wrong_values:
            if (key == "method" and isinstance(value, str)) or (key == "source" and value is None) \
                    or (key == "T" and type(value) is int):
                continue
            out.append(harness.Case("checkpoint wrong type", f"converted {key}={value!r:.20}",
                                    _load_edited("converted", _set(key, value))))
    for value in (-5, -1, "3", 1.5, True, None, [0]):
        out.append(harness.Case("checkpoint wrong type", f"resume epoch={value!r}",
                                _resume_edited(_set("epoch", value)), timeout_s=60))
    for value in ("adam", [1], 3, None):
        out.append(harness.Case("checkpoint wrong type", f"resume optimizer={value!r}",
                                _resume_edited(_set("optimizer", value)), timeout_s=60))
    for key, value in (("config", {"dataset": "digits", "T": "many"}), ("config", {"model_options": 3}),
                       ("model_args", {"hidden": "big"}), ("model_args", {"no_such_argument": 1}),
                       ("model_name", "no_such_model"), ("state_dict", {"1.weight": torch.zeros(3)})):
        out.append(harness.Case("checkpoint wrong type", f"trained {key} inconsistent: {value!r:.30}",
                                _load_edited("trained", _set(key, value))))

    for kind in ("trained", "converted"):
        names = [k for k, v in fx[f"{kind}_raw"]["state_dict"].items() if v.is_floating_point() and v.numel()]
        for key in names[:4]:
            for value in (float("nan"), float("inf"), float("-inf")):
                out.append(harness.Case("checkpoint NaN weights", f"{kind} {key}={value}",
                                        _load_edited(kind, _poison(key, value))))
            out.append(harness.Case("checkpoint NaN weights", f"{kind} {key}=nan, allow_nonfinite",
                                    _load_edited(kind, _poison(key, float("nan")), expect_refusal=False,
                                                 allow_nonfinite=True)))
    first = next(iter(fx["trained_raw"]["state_dict"]))
    for value in (float("nan"), float("inf")):
        out.append(harness.Case("checkpoint NaN weights", f"resume {first}={value}",
                                _resume_edited(_poison(first, value)), timeout_s=60))

    for flags in (["--neuron", "if"], ["--hidden", "8"], ["--lr", "0.1"], ["--T", "3"], ["--model", "csnn"],
                  ["--seed", "1"], ["--dataset", "mnist"], ["--encoder", "poisson"], ["--ann", "true"],
                  ["--optimizer", "sgd"]):
        def conflict(flags=flags):
            path = Path(tempfile.mkdtemp(dir=_fixture["root"])) / "checkpoint.pt"
            shutil.copy(_fixture["trained"], path)
            rc = _resume(path, *flags)
            return f"wrong: resumed with {' '.join(flags)} (exit {rc})"
        out.append(harness.Case("checkpoint resume conflict", " ".join(flags), conflict, timeout_s=60))
    return out


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    harness.main(cases)
