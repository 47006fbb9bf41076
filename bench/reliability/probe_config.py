"""Bad hyper-parameters, config files and command lines (issue 14, points 4, 8 and 9).

Every TrainConfig field gets hostile values (NaN, Inf, negative, zero, huge, wrong type, empty);
config files come malformed, missing or as folders; ``--out``, ``--data-dir`` and ``--device``
point at impossible places. A value the config accepts is checked against what the field means:
accepting ``lr=nan`` or ``epochs=-1`` is a silent wrong result. Command lines that pass the config
check run one tiny epoch, so a problem found only while training shows up too.

    python bench/reliability/probe_config.py --memory-gb 4
"""

from __future__ import annotations

import argparse
import contextlib
import io
import math
import os
import sys
import tempfile
from dataclasses import fields
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import harness  # noqa: E402

HOSTILE = ["nan", "inf", "-inf", "-1", "0", "1e30", "-1e-30", "abc", "1.5", "", "true", "[1, 2]"]
QUICK = ["--dataset", "digits", "--train-subset", "32", "--test-subset", "16", "--epochs", "1",
         "--report", "false", "--batch-size", "16"]


def _sensible(key: str, value) -> bool:
    """What an accepted value of each numeric field may be; anything else accepted is wrong."""
    if value is None:
        return True
    if isinstance(value, float) and not math.isfinite(value):
        return False
    ranges = {
        "T": value >= 1, "epochs": value >= 1, "batch_size": value >= 1, "lr": value > 0,
        "weight_decay": value >= 0, "momentum": 0 <= value < 1, "tet_lambda": value >= 0,
        "rate_reg": value >= 0, "label_smoothing": 0 <= value < 1, "threads": value >= 1,
        "train_subset": value >= 1, "test_subset": value >= 1, "time_limit": value > 0,
        "random_shift": value >= 0, "dist_timeout": value > 0, "event_threshold": value > 0,
        "seed": True,
    }
    return ranges.get(key, True)


def _config_case(key: str, text: str):
    def run():
        from spikesmith.training.config import make_config

        cfg = make_config(overrides={"dataset": "digits", key: text})
        value = getattr(cfg, key)
        if isinstance(value, (int, float)) and not isinstance(value, bool) and not _sensible(key, value):
            return f"wrong: {key}={text!r} accepted as {value!r}"
        return None
    return run


def _cli_case(argv: list[str]):
    """Run ``spikesmith ARGV`` in-process, without the CLI's catch-all, so the harness sees the exception."""
    def run():
        from spikesmith.cli import main as cli_main

        parser = argparse.ArgumentParser(prog="spikesmith")
        sub = parser.add_subparsers(dest="command")
        for module in cli_main.COMMANDS.values():
            module.add_parser(sub)
        with tempfile.TemporaryDirectory() as tmp, contextlib.redirect_stderr(io.StringIO()), \
                contextlib.redirect_stdout(io.StringIO()):
            args_list = [a.replace("{tmp}", tmp) for a in argv]
            args = parser.parse_args(args_list)  # a usage error (exit 2) is a clean error
            cli_main.COMMANDS[args.command].run(args)
        return None
    return run


def _file_case(suffix: str, text: str | None, folder: bool = False):
    def run():
        from spikesmith.training.config import make_config

        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / f"run{suffix}"
            if folder:
                path.mkdir()
            elif text is not None:
                path.write_bytes(text.encode("utf-8", "surrogateescape"))
            make_config(str(path), {"dataset": "digits"})
        return None
    return run


def cases() -> list[harness.Case]:
    from spikesmith.training.config import TrainConfig

    out: list[harness.Case] = []
    numeric = [f.name for f in fields(TrainConfig)
               if f.name not in {"model_options"} and any(t in str(f.type) for t in ("int", "float"))]
    for key in numeric:
        for text in HOSTILE:
            out.append(harness.Case("config values", f"{key}={text!r}", _config_case(key, text)))
    for key in ("optimizer", "schedule", "loss", "encoder", "model", "dataset", "activation", "event_method",
                "nonfinite_loss", "device"):
        for text in ("nosuch", "", "NaN", "../../etc/passwd"):
            out.append(harness.Case("config values", f"{key}={text!r}", _config_case(key, text)))
    bodies = {
        ".yaml": ["lr: [1, 2\n", "- a\n- b\n", "lr: .nan\n", "epochs: -3\n", "\x00\x01\x02", "nosuch_key: 1\n",
                  "lr: {a: 1}\n", "a: &x [*x]\n", "T: 1e400\n", ""],
        ".toml": ["lr = \n", "[[x]]\ny=", "lr = nan\n", "epochs = 1.5\n", "\xff\xfe", "T = 1e400\n"],
        ".json": ['{"lr": }', "[1, 2]", '{"lr": NaN}', '{"epochs": "x"}', "\"str\"", '{"T": 1e400}'],
        ".ini": ["lr=1\n"],
    }
    for suffix, texts in bodies.items():
        for i, text in enumerate(texts):
            out.append(harness.Case("config files", f"{suffix}#{i}", _file_case(suffix, text)))
    out.append(harness.Case("config files", "missing", _file_case(".yaml", None)))
    out.append(harness.Case("config files", "a folder", _file_case(".yaml", None, folder=True)))
    command_lines = [
        ["train", *QUICK, "--out", "/etc/passwd/sub"],
        ["train", *QUICK, "--out", "/dev/null"],
        ["train", *QUICK, "--out", "/proc/nosuch/x"],
        ["train", *QUICK, "--data-dir", "/nonexistent", "--out", "{tmp}/o"],
        ["train", "--dataset", "fashion_mnist", "--data-dir", "{tmp}", "--epochs", "1", "--out", "{tmp}/o"],
        ["train", *QUICK, "--device", "cuda", "--out", "{tmp}/o"],
        ["train", *QUICK, "--device", "nosuch", "--out", "{tmp}/o"],
        ["train", *QUICK, "--device", "cuda:99", "--out", "{tmp}/o"],
        ["train", *QUICK, "--threads", "-1", "--out", "{tmp}/o"],
        ["train", *QUICK, "--label-smoothing", "2", "--out", "{tmp}/o"],
        ["train", *QUICK, "--lr", "inf", "--out", "{tmp}/o"],
        ["train", *QUICK, "--momentum", "nan", "--optimizer", "sgd", "--out", "{tmp}/o"],
        ["train", *QUICK, "--tet-lambda", "nan", "--loss", "tet", "--out", "{tmp}/o"],
        ["train", *QUICK, "--config", "{tmp}/nosuch.yaml", "--out", "{tmp}/o"],
        ["train", *QUICK, "--nosuch-flag", "1"],
        ["train", *QUICK, "--tau", "2", "--neuron", "if", "--out", "{tmp}/o"],
        ["train", *QUICK, "--model", "nosuch", "--out", "{tmp}/o"],
        ["train", *QUICK, "--T", "0", "--out", "{tmp}/o"],
        ["train", *QUICK, "--batch-size", "0", "--out", "{tmp}/o"],
        ["train", *QUICK, "--time-limit", "-1", "--out", "{tmp}/o"],
        ["train", *QUICK, "--resume", "--out", "{tmp}/empty"],
        ["eval", "--checkpoint", "{tmp}/nosuch.pt"],
        ["eval", "--checkpoint", "/dev/null"],
        ["eval", "--checkpoint", "{tmp}"],
        ["convert", "--checkpoint", "{tmp}/nosuch.pt", "--out", "{tmp}/c"],
        ["profile", "--checkpoint", "{tmp}/nosuch.pt"],
        ["stdp", "--epochs", "-1", "--out", "{tmp}/s"],
        ["stdp", "--out", "/etc/passwd/sub"],
    ]
    for argv in command_lines:
        out.append(harness.Case("command lines", " ".join(argv[:1] + argv[-4:]), _cli_case(argv), timeout_s=120))
    return out


if __name__ == "__main__":
    os.environ.setdefault("SPIKESMITH_QUIET", "1")
    harness.main(cases)
