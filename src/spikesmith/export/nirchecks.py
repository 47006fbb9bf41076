"""What ``from_nir`` checks before it trusts a NIR graph (a file from anywhere, or a graph in memory).

- :func:`check_declared_sizes`: the HDF5 datasets of a file, by their declared sizes, before any is
  read: a small file cannot make the reader allocate more than ``max_bytes``, and a stored dataset
  shorter than its declared size (a cut file) is named.
- :class:`NodeFields`: each parameter of a node as it is read: present, numeric, finite, of the rank
  the layer needs, whole numbers where counts are meant. Errors name the node and the field.
- :func:`dry_run`: one step of the built network on a zero input of the graph's input shape, layer
  by layer, so that layers whose shapes do not fit each other are named at load time, not at the
  first forward.

NIR files carry no checksum: a flipped bit inside a parameter's data reads as another valid value.
"""

from __future__ import annotations

import math
import pathlib
from typing import Any, Iterable, Optional

import numpy as np
import torch
from torch import nn

MAX_BYTES = 1 << 30         # 1 GiB of declared parameters: far past any network a NIR target runs
MAX_DRY_RUN_ELEMENTS = 1 << 24


def check_declared_sizes(path: pathlib.Path, max_bytes: int = MAX_BYTES) -> None:
    """Refuse a NIR (HDF5) file whose datasets declare more than ``max_bytes`` in all, or whose
    uncompressed datasets hold fewer bytes than they declare."""
    import h5py

    total = 0
    problems: list[str] = []

    def visit(name: str, obj: Any) -> None:
        nonlocal total
        if not isinstance(obj, h5py.Dataset) or obj.dtype.kind in "OSUV":
            return
        declared = int(np.prod(obj.shape, dtype=np.float64)) * obj.dtype.itemsize if obj.shape else obj.dtype.itemsize
        total += declared
        if obj.chunks is None and obj.compression is None and obj.shape:
            stored = obj.id.get_storage_size()
            if obj.id.get_offset() is not None and stored < declared:
                problems.append(f"{name} declares {declared} bytes and stores {stored}")

    try:
        with h5py.File(path, "r") as f:
            f.visititems(visit)
    except (RuntimeError, KeyError, ValueError, UnicodeError) as err:  # h5py's errors on a damaged object tree
        raise ValueError(f"{path} is damaged: its HDF5 objects cannot be listed ({type(err).__name__}: "
                         f"{(str(err).strip().splitlines() or [''])[0]})") from None
    if total > max_bytes:
        raise ValueError(f"{path}: its datasets declare {total / 2**20:.0f} MiB, over max_bytes="
                         f"{max_bytes / 2**20:.0f} MiB; pass a larger max_bytes if the graph is really that big")
    if problems:
        raise ValueError(f"{path} is damaged (cut short?): {problems[0]}")


def missing_field(path: pathlib.Path, field: Any, nir: Any) -> Optional[tuple[str, str]]:
    """The node (its path in the file, its type) that lacks ``field`` although its NIR type has it,
    to name it after ``nir.read`` failed with ``KeyError(field)``; None when none is found."""
    import dataclasses

    import h5py

    found: list[tuple[str, str]] = []

    def visit(name: str, obj: Any) -> None:
        if found or not isinstance(obj, h5py.Group) or "type" not in obj or field in obj:
            return
        kind = obj["type"][()]
        kind = kind.decode(errors="replace") if isinstance(kind, bytes) else str(kind)
        cls = getattr(nir, kind, None)
        if dataclasses.is_dataclass(cls) and field in {f.name for f in dataclasses.fields(cls)}:
            found.append((name.rsplit("/", 1)[-1], kind))

    try:
        with h5py.File(path, "r") as f:
            f.visititems(visit)
    except (OSError, RuntimeError, KeyError, ValueError, UnicodeError):
        return None
    return found[0] if found else None


class NodeFields:
    """The parameters of one NIR node, checked as they are read (see the module docstring)."""

    def __init__(self, name: str, node: Any):
        self.name, self.node = name, node
        self.kind = type(node).__name__

    def fail(self, field: str, problem: str) -> ValueError:
        return ValueError(f"NIR node {self.name!r} ({self.kind}): {field} {problem}")

    def array(self, field: str, ndim: Optional[Iterable[int]] = None) -> np.ndarray:
        """``field`` as a non-empty float64 array of finite numbers (of a rank in ``ndim``)."""
        value = getattr(self.node, field, None)
        if value is None:
            raise self.fail(field, "is missing; every parameter of the node needs a value")
        try:
            a = np.asarray(value)
            if a.dtype.kind not in "biuf":
                raise TypeError
            a = a.astype(np.float64)
        except (TypeError, ValueError):
            raise self.fail(field, f"must be numbers, got {type(value).__name__}"
                                   f"{' of ' + str(np.asarray(value).dtype) if isinstance(value, np.ndarray) else ''}"
                            ) from None
        if a.size == 0:
            raise self.fail(field, "is empty; give one value or one per neuron")
        if not np.isfinite(a).all():
            bad = a[~np.isfinite(a)].reshape(-1)[0]
            raise self.fail(field, f"holds {bad} (NaN or infinite values); NIR parameters must be finite numbers")
        dims = tuple(ndim) if ndim is not None else None
        if dims is not None and a.ndim not in dims:
            raise self.fail(field, f"has shape {list(a.shape)}; expected {' or '.join(f'{d}-d' for d in dims)}")
        return a

    def ints(self, field: str, n: int, minimum: int) -> tuple:
        """``field`` as ``n`` whole numbers >= ``minimum`` (one value stands for all ``n``)."""
        a = self.array(field).reshape(-1)
        if a.size == 1:
            a = np.repeat(a, n)
        if a.size != n:
            raise self.fail(field, f"has {a.size} values; expected 1 or {n}")
        if not np.all(a == np.round(a)) or (a < minimum).any() or (np.abs(a) > 2**31).any():
            raise self.fail(field, f"must be whole numbers >= {minimum}, got {a.tolist()}")
        return tuple(int(x) for x in a)

    def int(self, field: str, minimum: int = -2**31) -> int:
        return self.ints(field, 1, minimum)[0]

    def vector(self, field: str, size: int) -> np.ndarray:
        """``field`` as 1 or ``size`` values (a bias)."""
        a = self.array(field).reshape(-1)
        if a.size not in (1, size):
            raise self.fail(field, f"has {a.size} values; expected {size} (one per output) or 1")
        return np.broadcast_to(a, (size,)).copy()


def input_shape(graph: Any, input_class: type) -> Optional[tuple]:
    """The sample shape the graph's Input node declares (None: no usable declaration)."""
    for name, node in graph.nodes.items():
        if isinstance(node, input_class):
            declared = getattr(node, "input_type", None)
            shape = declared.get("input") if isinstance(declared, dict) else None
            try:
                dims = tuple(int(d) for d in np.asarray(shape).reshape(-1)) if shape is not None else None
            except (TypeError, ValueError):
                dims = None
            if not dims or any(d < 1 for d in dims):
                raise ValueError(f"NIR node {name!r} (Input): its shape {shape!r} is not a list of positive sizes")
            return dims
    return None


def dry_run(net: nn.Sequential, shape: tuple, node_of: dict[str, str]) -> None:
    """One step of ``net`` on zeros of ``[1, 1, *shape]`` (as many steps as its longest delay needs, plus one);
    a layer that cannot take what the one before it gives is named (``node_of``: the NIR node of each module)."""
    from .. import functional
    from ..layer import Delay, DelayedLinear

    if math.prod(shape) > MAX_DRY_RUN_ELEMENTS:
        return
    steps = 1 + max((int(m.delays.max()) for m in net.modules() if isinstance(m, (Delay, DelayedLinear))), default=0)
    h = torch.zeros(steps, 1, *shape)
    where = "the input"
    try:
        with torch.no_grad():
            for key, module in net.named_children():
                try:
                    h = module(h)
                except (RuntimeError, ValueError, TypeError, IndexError) as err:
                    first = (str(err).strip().splitlines() or [type(err).__name__])[0]
                    raise ValueError(f"NIR node {node_of.get(key, key)!r}: does not fit what {where} gives it "
                                     f"(shape {list(h.shape[2:])}): {first}") from None
                where = f"node {node_of.get(key, key)!r}"
    finally:
        functional.reset_net(net)
