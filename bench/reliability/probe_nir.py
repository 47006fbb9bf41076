"""The NIR reader (``spikesmith.export.from_nir``) on damaged files and malformed graphs.

Two small graphs (a dense chain Affine-LIF-Linear-CubaLIF, a conv chain Conv2d-IF-SumPool-Flatten-
Linear-LI) written with ``nir.write``, then:

- ``nir file bytes``: bits flipped, bytes overwritten, the file cut. A load that gives the same
  outputs as the intact graph is valid; one that gives other outputs is counted ``wrong``: NIR's
  HDF5 files carry no checksum, so a flip inside a parameter's data is another valid value (the
  format cannot tell; documented in ``spikesmith.export.nirchecks``);
- ``nir datasets``: one dataset of the file deleted or replaced (NaN, Inf, empty, wrong shape,
  text, an unknown node type), or declared huge;
- ``nir graph``: the same faults on a graph in memory, plus dangling edges, cycles, junk edges,
  objects that are not NIR nodes and unknown node types.

    PYTHONPATH=src python bench/reliability/probe_nir.py --memory-gb 4
"""

from __future__ import annotations

import copy
import dataclasses
import random
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import harness  # noqa: E402

DT = 1e-3
FAULTS = ("missing", "nan", "inf", "empty", "wrong shape", "scalar", "negative", "text")


def _graphs():
    """The fuzz tests' two graphs (tests/export/test_nir_fuzz.py), built fresh."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tests" / "export"))
    import test_nir_fuzz as fuzz  # the tests' builders, not a copy

    return {name: (make(), shape) for name, (make, shape) in fuzz.GRAPHS.items()}


_CACHE: dict = {}


def _base(name: str):
    """(graph, input shape, file bytes, reference output), made once per worker."""
    if not _CACHE:
        import nir
        import torch

        from spikesmith.export import from_nir

        folder = Path(tempfile.mkdtemp(prefix="probe_nir_"))
        for key, (graph, shape) in _graphs().items():
            path = folder / f"{key}.nir"
            nir.write(str(path), graph)
            x = torch.rand(4, 2, *shape, generator=torch.Generator().manual_seed(0))
            with torch.no_grad():
                _CACHE[key] = (graph, shape, path.read_bytes(), x, from_nir(path)(x))
    return _CACHE[name]


def _load_and_run(load, name: str, compare: bool):
    import torch

    graph, shape, data, x, reference = _base(name)
    net = load()
    with torch.no_grad():
        y = net(x)
    if not torch.isfinite(y).all():
        return "wrong: the network loaded and computes NaN/Inf (a non-finite parameter was accepted)"
    if compare and not torch.equal(y, reference):
        return "wrong: the damaged file loaded with other parameters (HDF5 without checksums cannot tell)"
    return None


def _bytes_case(name: str, seed: int):
    from spikesmith.export import from_nir

    graph, shape, data, x, reference = _base(name)
    rnd = random.Random(seed)
    damaged = bytearray(data)
    kind = ("flip", "overwrite", "cut")[seed % 3]
    if kind == "flip":
        for _ in range(rnd.randint(1, 8)):
            damaged[rnd.randrange(len(damaged))] ^= 1 << rnd.randrange(8)
    elif kind == "overwrite":
        at = rnd.randrange(len(damaged))
        damaged[at:at + 16] = bytes(rnd.randrange(256) for _ in range(16))
    else:
        damaged = damaged[:rnd.randrange(len(damaged))]
    path = Path(tempfile.mkdtemp(prefix="probe_nir_")) / "damaged.nir"
    path.write_bytes(bytes(damaged))
    return _load_and_run(lambda: from_nir(path), name, compare=True)


def _replacement(fault: str, old):
    import numpy as np

    a = np.asarray(old)
    return {"missing": None, "nan": np.full(a.shape, np.nan) if a.dtype.kind == "f" and a.shape else np.nan,
            "inf": np.full(a.shape, np.inf) if a.shape else -np.inf, "empty": np.zeros(0),
            "wrong shape": np.ones((2, 7, 1)), "scalar": np.float64(0.5),
            "negative": (-np.abs(a.astype(np.float64)) - 3) if a.dtype.kind in "biuf" else np.float64(-1),
            "text": "seven"}[fault]


def _dataset_case(name: str, index: int, fault: str):
    import h5py

    from spikesmith.export import from_nir

    graph, shape, data, x, reference = _base(name)
    path = Path(tempfile.mkdtemp(prefix="probe_nir_")) / "edited.nir"
    path.write_bytes(data)
    with h5py.File(path, "r+") as f:
        fields: list[str] = []
        f["node"].visititems(lambda key, obj: fields.append(key) if isinstance(obj, h5py.Dataset) else None)
        key = fields[index % len(fields)]
        old = f["node"][key][()]
        del f["node"][key]
        if fault == "huge":
            f["node"].create_dataset(key, shape=(1 << 15, 1 << 15), dtype="f8", chunks=(512, 512), compression="gzip")
        else:
            new = (b"Mystery" if fault != "missing" else None) if key.endswith("type") else _replacement(fault, old)
            if new is not None:
                f["node"].create_dataset(key, data=new)
    return _load_and_run(lambda: from_nir(path), name, compare=False)


def _graph_case(name: str, index: int, fault: str):
    import nir
    import numpy as np

    from spikesmith.export import from_nir

    graph, shape, data, x, reference = _base(name)
    g = copy.deepcopy(graph)
    names = [k for k in g.nodes if k not in ("in", "out")]
    k = names[index % len(names)]
    node = g.nodes[k]
    fields = [f.name for f in dataclasses.fields(node) if isinstance(getattr(node, f.name), (np.ndarray, int, float))]
    field = fields[index // len(names) % len(fields)] if fields else None
    if fault in FAULTS and field:
        object.__setattr__(node, field, _replacement(fault, getattr(node, field)))
    elif fault == "fraction" and field:
        object.__setattr__(node, field, np.asarray(getattr(node, field), dtype=np.float64) + 0.5)
    elif fault == "unknown node":
        g.nodes[k] = nir.Delay(np.ones(3))
    elif fault == "not a node":
        g.nodes[k] = {"type": "LIF", "tau": 0.01}
    elif fault == "dangling edge":
        g.edges.append((k, "ghost") if index % 2 else ("ghost", k))
    elif fault == "cycle":
        g.edges.append((k, names[index % 3 % len(names)]))
    elif fault == "dropped node":
        del g.nodes[k]
    elif fault == "junk edge":
        g.edges.append([("a",), "ab", None, (1, 2), ("in", "out", "x")][index % 5])
    return _load_and_run(lambda: from_nir(g), name, compare=False)


GRAPH_FAULTS = FAULTS + ("fraction", "unknown node", "not a node", "dangling edge", "cycle", "dropped node",
                         "junk edge")


def cases() -> list[harness.Case]:
    out = []
    for name in ("dense", "conv"):
        out += [harness.Case("nir file bytes", f"{name}-{seed}", lambda n=name, s=seed: _bytes_case(n, s), timeout_s=20)
                for seed in range(60)]
        out += [harness.Case("nir datasets", f"{name}-{i}-{fault}", lambda n=name, i=i, f=fault: _dataset_case(n, i, f),
                             timeout_s=20)
                for fault in FAULTS + ("huge",) for i in (0, 5, 11, 17)]
        out += [harness.Case("nir graph", f"{name}-{i}-{fault}", lambda n=name, i=i, f=fault: _graph_case(n, i, f),
                             timeout_s=20)
                for fault in GRAPH_FAULTS for i in (1, 6)]
    return out


if __name__ == "__main__":
    harness.main(cases)
