"""Command-line flags generated from a config dataclass: one ``--key`` per field, plus ``--config``,
``--resume`` and ``--set key=value``; only the flags given become overrides."""

from __future__ import annotations

import argparse
import dataclasses
from typing import Any, get_origin, get_type_hints


def add_config_flags(p: argparse.ArgumentParser, config_class: type, help_text: dict[str, str]) -> None:
    p.add_argument("--config", help="YAML, TOML or JSON file of config keys")
    p.add_argument("--resume", metavar="CHECKPOINT", help="continue a run from its checkpoint.pt")
    p.add_argument("--allow-nonfinite", action="store_true",
                   help="with --resume: continue from a checkpoint whose weights hold NaN or Inf (refused otherwise)")
    p.add_argument("--set", nargs="*", default=[], metavar="KEY=VALUE", help="override any config key")
    types = get_type_hints(config_class)
    for f in flag_fields(config_class):
        flag = "--" + f.name.replace("_", "-")
        text = help_text.get(f.name, f"(default: {f.default})")
        if types[f.name] is bool:
            p.add_argument(flag, nargs="?", const="true", default=None, dest=f.name, help=text)
        else:
            p.add_argument(flag, default=None, dest=f.name, help=text)


def flag_fields(config_class: type) -> list[dataclasses.Field]:
    """The fields that get a flag: those of one value (a mapping such as ``model_options`` has none)."""
    types = get_type_hints(config_class)
    return [f for f in dataclasses.fields(config_class)
            if get_origin(types[f.name]) is not dict and types[f.name] is not dict]


def config_overrides(args: argparse.Namespace, config_class: type) -> dict[str, Any]:
    """The fields given on the command line, then ``--set key=value`` pairs."""
    from ..training.config import parse_overrides

    out = {f.name: getattr(args, f.name) for f in flag_fields(config_class)
           if getattr(args, f.name, None) is not None}
    out.update(parse_overrides(args.set))
    return out
