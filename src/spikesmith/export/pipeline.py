"""The one export pipeline every target runs: shape -> layer list -> check -> approximate -> build -> write.

    result = export_model(net, "nir", x_seq, "net.nir", dt=1e-3)      # or "loihi2" -> "net.net"
    result.built                # the target's object (nir.NIRGraph; the list of Lava layers)
    result.changes, result.report   # what approximate=True changed, and what it cost

1. ``sample_shape``: one sample's shape from the example input (``[T, N, ...]``, or ``[N, ...]`` for a
   network that runs a static input for its own T steps, or the shape itself);
2. ``ops.layer_list``: the network as a flat list of layers (BatchNorm folded);
3. ``target.check``: every issue; the blocking ones raise, naming each layer and its fix;
4. with ``approximate=True``, ``approximate.approximate_ops`` changes what the target cannot run and
   ``approximate.report`` says what it cost;
5. ``target.build``: the target's object;
6. ``target.write`` into ``spikesmith.atomic.atomic_write``: the file appears whole or not at all.
"""

from __future__ import annotations

import pathlib
from dataclasses import dataclass, field
from typing import Any, Optional, Union

import torch
from torch import Tensor, nn

from ..atomic import atomic_write
from .approximate import approximate_ops, report
from .issues import raise_for
from .ops import Op, layer_list, takes_static_input
from .targets import Target, target_of

PathLike = Union[str, pathlib.Path]


@dataclass
class Exported:
    """What ``export_model`` built (and wrote, when given a path)."""

    target: Target
    built: Any
    ops: list[Op]
    changes: list = field(default_factory=list)   # what approximate=True changed
    report: str = ""                              # the changes and their accuracy cost ("" when none)
    path: Optional[pathlib.Path] = None


def sample_shape(model: nn.Module, example_input) -> tuple:
    """One sample's shape from an example input (``[T, N, ...]``; ``[N, ...]`` for a ConvertedSNN) or a tuple."""
    if isinstance(example_input, Tensor):
        static = takes_static_input(model)
        need = 2 if static else 3
        if example_input.dim() < need:
            layout = "[N, ...]" if static else "[T, N, ...]"
            raise ValueError(f"example_input must have the layout {layout}, got shape {list(example_input.shape)}")
        return tuple(example_input.shape[1:] if static else example_input.shape[2:])
    if isinstance(example_input, (tuple, list, torch.Size)):
        return tuple(int(s) for s in example_input)
    raise TypeError(f"example_input must be a tensor or the shape of one sample, got {type(example_input).__name__}")


def export_model(model: nn.Module, target, example_input, path: Optional[PathLike] = None,
                 approximate: bool = False, data=None, **options) -> Exported:
    """Run the pipeline (see the module docstring) for ``target``; write ``path`` when given.

    Args:
        model: a sequential SNN or a ``ConvertedSNN`` (see ``spikesmith.export.ops``).
        target: ``'nir'``, ``'loihi2'`` (any name in ``export.targets.TARGETS``) or a ``Target``.
        example_input: ``[T, N, ...]`` (``[N, ...]`` for a ConvertedSNN) or the shape of one sample.
        path: the file to write (atomically); None builds only.
        approximate: switch what the target cannot run to what it can (see ``export.approximate``).
        data: ``(x, y)`` for the accuracy report of ``approximate=True`` (x in the model's input layout).
        options: the target's own (NIR: ``dt``), validated by ``target.params``.

    Raises ValueError listing every blocking issue of ``check(model, target)`` with its fix.
    """
    target = target_of(target)
    params = target.params(**options)
    shape = sample_shape(model, example_input)
    ops = layer_list(model, shape)
    issues = target.check(ops)
    raise_for(issues, target.name, approximate)
    changes: list = []
    text = ""
    if approximate and any(i.severity == "approximate" for i in issues):
        new_ops, changes = approximate_ops(ops, target, issues)
        text = report(model, ops, new_ops, changes, data, shape, target.name)
        ops = new_ops
    if not ops:
        raise ValueError("the model has no layer to export")
    built = target.build(ops, **params)
    result = Exported(target, built, ops, changes, text)
    if path is not None:
        result.path = write(target, built, path)
    return result


def write(target, built: Any, path: PathLike) -> pathlib.Path:
    """Write the target's object ``built`` to ``path`` atomically (a temporary file renamed into place)."""
    target = target_of(target)
    path = pathlib.Path(path)
    with atomic_write(path) as f:
        target.write(built, f)
    return path
