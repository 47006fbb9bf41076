"""``spikesmith <command>``: train, eval, convert, stdp, profile."""

from __future__ import annotations

import argparse
import sys
from typing import Optional

from . import convert as convert_cmd
from . import eval as eval_cmd
from . import profile as profile_cmd
from . import stdp as stdp_cmd
from . import train as train_cmd

COMMANDS = {"train": train_cmd, "eval": eval_cmd, "convert": convert_cmd, "stdp": stdp_cmd, "profile": profile_cmd}


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="spikesmith", description="Spiking neural networks on PyTorch")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, module in COMMANDS.items():
        module.add_parser(sub)
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    try:
        return COMMANDS[args.command].run(args) or 0
    except (ValueError, TypeError, OSError, ImportError) as err:
        print(f"spikesmith {args.command}: error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
