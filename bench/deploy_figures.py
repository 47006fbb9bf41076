"""Deployment figures of issue 8: trained networks exported to NIR and Lava-dl (Loihi 2), their hardware
checks, the accuracy of Lava's fixed-point reference (and of the approximated converted network) against
the float model, and their energy next to their ANN twins.

    python bench/deploy_figures.py \\
        --checkpoint-direct runs/csnn_avg/checkpoint.pt \\
        --checkpoint-converted runs/conversion/relu_vgg11/converted_robust.pt \\
        --out runs/deploy                                        # the whole Fashion-MNIST test set
    python bench/deploy_figures.py --checkpoint-direct runs/csnn_avg/checkpoint.pt \\
        --checkpoint-converted runs/conversion/relu_vgg11/converted_robust.pt \\
        --test-samples 1000 --T 32 --out runs/deploy_1k          # quicker: first 1000 test samples, converted at T=32
    python bench/deploy_figures.py --checkpoint-direct /tmp/deploy_test/fcsnn/checkpoint.pt \\
        --checkpoint-converted /tmp/deploy_test/conv/converted_robust.pt --dataset digits --out /tmp/deploy_test/out

``--checkpoint-direct`` takes an SNN checkpoint of ``spikesmith train`` (one hardware can run: the
average-pooling CSNN, ``--pool avg``, or the FCSNN); ``--checkpoint-converted`` a ``converted_<method>.pt``
of ``spikesmith convert``. Both can be repeated. For each network:

1. ``export.check(model, 'nir' | 'loihi2')``: every finding, with its fix;
2. the NIR graph (``to_nir`` + ``write_nir``, read back with type checking) and the Lava-dl netx HDF5 file
   (``to_lava``) in ``--out/<name>/``, with their sizes. What the exporter accepts only with
   ``approximate=True`` (a converted network's soft reset and initial potentials) is exported so and the
   changes are listed. A membrane-readout network (it ends with a Linear: netx blocks are synapse +
   neuron) gets a readout ``IntegratorNode`` appended; the argmax of its last potential is the argmax of
   the mean output, so the predictions do not change (the "exported float" column shows it);
3. test accuracy (first ``--test-samples`` of the test set, the same encoded inputs for every column) of
   the float model; the exported float network (BatchNorm folded; "approximated" for ``approximate=True``:
   against the float model, the cost of the approximation); the fixed-point reference simulation of the
   written Lava file (``simulate_lava``; against the exported float network, the cost of 8-bit weights and
   12-bit decays); the NIR file read back (``from_nir``; NIR fires on a strict ``>``);
4. the operations and energy table of ``spikesmith.analysis`` of the float model on the same inputs
   (synaptic operations, MACs, energy at 0.9 pJ per accumulate and 4.6 pJ per MAC, Horowitz 2014), next
   to the ANN twin's (the direct network's ``ann=True`` twin; the converted network's source ANN).

The VGG models pool with ``ceil_mode=True``; on 28 x 28 inputs their 7 -> 4 pool has partial windows that
neither target expresses, so a converted VGG11 is refused (the outputs say why; its float accuracy and
energy are still measured). A converted network both targets run is the average-pooling CSNN's ANN twin
(28 -> 14 -> 7, no partial window):

    spikesmith train --dataset fashion_mnist --model csnn --pool avg --ann --out runs/conversion/ann_csnn_avg
    spikesmith convert --checkpoint runs/conversion/ann_csnn_avg/checkpoint.pt --method robust --T 8,16,32,64 \\
        --out runs/conversion/csnn_avg
    python bench/deploy_figures.py --checkpoint-direct runs/csnn_avg/checkpoint.pt \\
        --checkpoint-converted runs/conversion/csnn_avg/converted_robust.pt --out runs/deploy

Writes ``deploy_figures.json``, ``deploy_figures.md``, ``deploy_figures.png`` and, per network,
``<name>/<name>.nir``, ``<name>/<name>.net`` and ``<name>/energy.png`` into ``--out`` (all atomically).
Exit status: 0, 1 when some export failed (the reason is in the outputs), 2 for bad arguments or checkpoints.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import json
import os
import platform
import shlex
import sys
import time
import warnings
from collections import OrderedDict
from pathlib import Path
from typing import Callable, Optional

import torch
from torch import Tensor, nn
from tqdm import tqdm

from spikesmith.analysis import EnergyCosts, Profiler, plot_profile, profile
from spikesmith.atomic import atomic_write
from spikesmith.export import check, from_nir, layer_list, read_lava, read_nir, simulate_lava, to_lava, to_nir
from spikesmith.export import write_nir
from spikesmith.export.approximate import approximate_ops, predictions
from spikesmith.export.check import blocking
from spikesmith.export.ops import ops_network
from spikesmith.functional import reset_net
from spikesmith.neuron import IntegratorNode

TARGETS = ("nir", "loihi2")
COLUMNS = (("float", "float"), ("exported", "exported float"), ("lava", "Lava fixed point"),
           ("nir", "NIR read back"))


def log(msg: str) -> None:
    print(f"[deploy] {msg}", file=sys.stderr, flush=True)


@dataclasses.dataclass
class Net:
    """A loaded network and its test data."""

    name: str
    kind: str                              # 'direct' | 'converted'
    checkpoint: Path
    model: nn.Module                       # as trained / converted (the float model)
    deployed: nn.Module                    # what is exported (the model, or it + a readout neuron)
    shape: tuple                           # one sample, without time
    T: int
    x: Tensor
    y: Tensor
    encode: Callable[[Tensor], Tensor]     # batch [N, ...] -> [T, N, ...]
    twin: Optional[nn.Module]              # the ANN twin (input [N, ...])
    dataset: str
    describe: dict
    notes: list


# ----------------------------------------------------------------------------- loading
def _config(cfg, args):
    """The run config of a loaded checkpoint, with the command line's dataset and test-set overrides."""
    for key, value in (("dataset", args.dataset), ("data_dir", args.data_dir)):
        if value is not None:
            setattr(cfg, key, value)
    cfg.train_subset, cfg.test_subset = None, args.test_samples
    return cfg


def _test_set(cfg, cache: dict):
    from spikesmith.training.setup import load_split

    key = (cfg.dataset, cfg.data_dir, cfg.test_subset, cfg.T)
    if key not in cache:
        cache[key] = load_split(cfg, "test")
    return cache[key]


def _name(path: Path, kind: str, used: set) -> str:
    base = path.parent.name if path.stem in ("checkpoint", "best") else path.stem
    if kind == "converted":
        base = f"{path.parent.name}_{path.stem.removeprefix('converted_')}"
    name, i = base or kind, 2
    while name in used:
        name, i = f"{base}_{i}", i + 1
    used.add(name)
    return name


def _with_readout(model: nn.Module, shape: tuple, notes: list) -> nn.Module:
    """``model`` with a readout IntegratorNode appended when it ends with a synapse (membrane readout)."""
    ops = layer_list(model, shape)
    if not ops or ops[-1].kind not in ("linear", "conv"):
        return model
    notes.append(f"{ops[-1].label} ends the network (membrane readout): exported with a readout "
                 f"IntegratorNode appended (argmax of its last potential = argmax of the mean output)")
    layers = list(model.named_children()) + [("readout", IntegratorNode(step_mode="m"))]
    return nn.Sequential(OrderedDict(layers)).eval()


def load_direct(path: Path, args, cache: dict, used: set) -> Net:
    from spikesmith.loading import open_checkpoint
    from spikesmith.training.setup import make_encoder

    loaded = open_checkpoint(path)
    if loaded.kind == "converted":
        raise ValueError(f"{path} is a converted checkpoint; pass it with --checkpoint-converted")
    if loaded.kind != "trained":
        raise ValueError(f"{path} holds an STDP network ({loaded.model_name}); pass a network trained by "
                         f"spikesmith train")
    ckpt = loaded.checkpoint
    if ckpt["model_args"].get("ann", False):
        raise ValueError(f"{path} holds an ANN twin ({ckpt['model_name']}); convert it (spikesmith convert) and pass "
                         f"its converted_<method>.pt with --checkpoint-converted")
    cfg = _config(loaded.config, args)
    if args.T is not None:
        cfg.T = args.T
    model = loaded.net
    x, y, info = _test_set(cfg, cache)
    trained = ckpt["model_args"].get("num_classes")
    if trained is not None and info.num_classes != trained:
        raise ValueError(f"dataset {cfg.dataset!r} has {info.num_classes} classes but {path} was trained with "
                         f"{trained}")
    encoder = make_encoder(cfg, seed=cfg.seed + 12345)
    temporal = info.temporal

    def encode(xb: Tensor) -> Tensor:
        xb = xb if xb.is_floating_point() else xb.float()
        return xb.transpose(0, 1).contiguous() if temporal else encoder(xb)

    shape = tuple(x.shape[2:]) if temporal else tuple(x.shape[1:])
    notes: list = []
    deployed = _with_readout(model, shape, notes)
    twin = loaded.ann_twin()
    if twin is None:
        notes.append(f"{ckpt['model_name']} has no ANN twin")
    describe = {"model_name": ckpt["model_name"], "model_args": ckpt["model_args"], "encoder": cfg.encoder,
                "trained_test_accuracy": ckpt.get("test_accuracy")}
    return Net(_name(path, "direct", used), "direct", path, model, deployed, shape, int(cfg.T), x, y, encode, twin,
               cfg.dataset, describe, notes)


def load_converted(path: Path, args, cache: dict, used: set) -> Net:
    from spikesmith.loading import open_checkpoint

    loaded = open_checkpoint(path)
    if loaded.kind != "converted":
        raise ValueError(f"{path} is not a converted checkpoint (spikesmith convert writes converted_<method>.pt); "
                         f"pass a trained SNN with --checkpoint-direct")
    snn, raw = loaded.net, loaded.checkpoint
    if args.T is not None and args.T != snn.T:
        snn.set_T(args.T)
    cfg = _config(loaded.config, args)
    if cfg.dataset is None:
        raise ValueError(f"{path} names no dataset; pass --dataset")
    cfg.T = snn.T
    x, y, info = _test_set(cfg, cache)
    if info.temporal or tuple(x.shape[1:]) != snn.input_shape:
        raise ValueError(f"{path} takes samples of shape {list(snn.input_shape)}; dataset {cfg.dataset!r} has "
                         f"{list(x.shape[1:])}{' (temporal)' if info.temporal else ''}")
    T = snn.T

    def encode(xb: Tensor) -> Tensor:
        return xb.unsqueeze(0).expand(T, *xb.shape)

    describe = {"model_name": (raw.get("source") or {}).get("model_name"),
                "model_args": (raw.get("source") or {}).get("model_args"), "method": raw.get("method"),
                "encoder": "direct (the image at every step)", "ann_test_accuracy": raw.get("ann_test_accuracy"),
                "converted_test_accuracy": (raw.get("test_accuracy") or {}).get(str(T))}
    return Net(_name(path, "converted", used), "converted", path, snn, snn, tuple(snn.input_shape), T, x, y, encode,
               snn.ann, cfg.dataset, describe, [])


# ----------------------------------------------------------------------------- export
def _change_lines(lines) -> list:
    """The changes and accuracy lines of an approximate=True report, without its heading and hints."""
    return [l.strip() for l in lines if l.startswith("  ") and not l.strip().startswith("(")]


def export(net: Net, target: str, folder: Path, dt: float) -> dict:
    """Write ``net.deployed`` for ``target``; approximate=True only where the exporter requires it."""
    path = folder / f"{net.name}.{'nir' if target == 'nir' else 'net'}"
    issues = check(net.deployed, target, net.shape)
    rec = {"file": str(path), "size_bytes": None, "approximate": False, "changes": [], "error": None, "seconds": None}
    if blocking(issues, approximate=True):
        rec["error"] = "; ".join(str(i) for i in blocking(issues, approximate=True))
        return rec
    approximate = bool(blocking(issues, approximate=False))
    t0 = time.perf_counter()
    try:
        if target == "nir":
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                graph = to_nir(net.deployed, net.shape, dt=dt, approximate=approximate)
            write_nir(graph, path)
            read_nir(path)                                   # nir.read with type checking
            report = [str(w.message) for w in caught if "approximate=True" in str(w.message)]
            changes = report[0].splitlines() if report else []
        else:
            info = to_lava(net.deployed, path, net.shape, approximate=approximate)
            changes = info.changes
            rec["layers"] = info.summary().splitlines()[1:]
    except (ValueError, TypeError, RuntimeError, ImportError) as err:
        rec["error"] = f"{type(err).__name__}: {err}"
        return rec
    rec.update(size_bytes=path.stat().st_size, approximate=approximate, changes=_change_lines(changes),
               seconds=time.perf_counter() - t0)
    return rec


# ----------------------------------------------------------------------------- evaluation
def _integrates(module: nn.Module) -> bool:
    return type(module).__name__ == "IntegratorNode"


def _run(net: nn.Module, x_seq: Tensor) -> Tensor:
    reset_net(net)
    out = net(x_seq)
    reset_net(net)
    return out


def _pred(out: Tensor, integrator: bool) -> Tensor:
    """Class predictions of ``[T, N, classes]``: an integrator's last potential, else the mean over time."""
    return (out[-1] if integrator else out.mean(0)).argmax(-1)


def evaluate(net: Net, exports: dict, batch_size: int, costs: EnergyCosts, show: bool) -> dict:
    """Accuracies, agreements, the fixed point's error and the energy profiles, over the test samples."""
    ops = layer_list(net.deployed, net.shape)
    lava_ok, nir_ok = exports["loihi2"]["error"] is None, exports["nir"]["error"] is None
    primary = "loihi2" if lava_ok else ("nir" if nir_ok else None)
    exported, changes = {}, {}
    for target in TARGETS:          # the float network each file was built from (one per distinct change set)
        if exports[target]["error"] is None:
            new_ops, changed = approximate_ops(ops, target) if exports[target]["approximate"] else (ops, [])
            same = next((t for t in exported if changes[t] == changed), None)
            exported[target], changes[target] = (exported[same] if same else ops_network(new_ops).eval()), changed
    integrator = _integrates(ops[-1].module)
    layers = read_lava(exports["loihi2"]["file"]) if lava_ok else None
    nir_net = from_nir(exports["nir"]["file"]).eval() if nir_ok else None
    nir_integrator = nir_ok and _integrates(list(nir_net.children())[-1])
    converted = net.kind == "converted"
    correct = {k: 0 for k, _ in COLUMNS}
    agree = {"exported_vs_float": 0, "lava_vs_exported": 0, "lava_vs_float": 0, "nir_vs_exported": 0}
    mismatch, err_max, ref_max, total = 0.0, 0.0, 0.0, 0
    n = net.x.shape[0]
    t0 = time.perf_counter()
    with torch.no_grad(), Profiler(net.model, costs, time_first=not converted) as prof:
        for i in tqdm(range(0, n, batch_size), desc=net.name, unit="batch", disable=not show, dynamic_ncols=True):
            xb, yb = net.x[i:i + batch_size], net.y[i:i + batch_size]
            x_seq = net.encode(xb)
            p = {"float": predictions(net.model, None, xb if converted else x_seq)}
            outs = {t: _run(m, x_seq) for t, m in exported.items()}
            if primary:
                p["exported"] = _pred(outs[primary], integrator)
                agree["exported_vs_float"] += int((p["exported"] == p["float"]).sum())
            if lava_ok:
                fixed = simulate_lava(layers, x_seq)
                p["lava"] = _pred(fixed, integrator) if layers[-1].readout else fixed.mean(0).argmax(-1)
                ref = outs["loihi2"]
                if layers[-1].readout:
                    err_max = max(err_max, float((fixed - ref).abs().max()))
                    ref_max = max(ref_max, float(ref.abs().max()))
                else:
                    mismatch += float((fixed != ref).float().sum()) / ref[0, 0].numel() / ref.shape[0]
            if nir_ok:
                p["nir"] = _pred(_run(nir_net, x_seq), nir_integrator)
            for k, v in p.items():
                correct[k] += int((v == yb).sum())
            if lava_ok:
                agree["lava_vs_exported"] += int((p["lava"] == p["exported"]).sum())
                agree["lava_vs_float"] += int((p["lava"] == p["float"]).sum())
            if nir_ok:
                agree["nir_vs_exported"] += int((p["nir"] == _pred(outs["nir"], integrator)).sum())
            total += yb.numel()
        snn_prof = prof.result()
    seconds = time.perf_counter() - t0
    done = {"float": True, "exported": lava_ok or nir_ok, "lava": lava_ok, "nir": nir_ok}
    acc = {k: correct[k] / total if done[k] else None for k, _ in COLUMNS}
    agreement = {k: v / total for k, v in agree.items() if done[k.split("_")[0]]}
    fixed_point = {}
    if lava_ok and layers[-1].readout:
        fixed_point = {"readout_max_error": err_max, "readout_max_abs": ref_max,
                       "readout_relative_error": err_max / ref_max if ref_max else None}
    elif lava_ok:
        fixed_point = {"spike_mismatch": mismatch / total}
    twin_prof = None
    if net.twin is not None:
        xb = net.x[:batch_size]
        temporal_twin = net.kind == "direct" and net.x.dim() == len(net.shape) + 2
        twin_in = net.encode(xb) if temporal_twin else xb
        twin_prof = profile(net.twin, twin_in, costs, spiking=False, time_first=temporal_twin)
    return {"samples": total, "accuracy": acc, "agreement": agreement, "fixed_point_vs_exported_float": fixed_point,
            "approximate_changes": changes, "eval_seconds": seconds, "profile": snn_prof, "twin_profile": twin_prof}


# ----------------------------------------------------------------------------- reports
def _size(b: Optional[int]) -> str:
    if b is None:
        return "-"
    return f"{b / 1024:.1f} KiB" if b < 1024 ** 2 else f"{b / 1024 ** 2:.2f} MiB"


def _pct(v: Optional[float]) -> str:
    return "-" if v is None else f"{100 * v:.2f}%"


def _nj(pj: Optional[float]) -> str:
    return "-" if pj is None else f"{pj / 1e3:.4g} nJ"


def _ops(x: Optional[float]) -> str:
    if x is None:
        return "-"
    for unit, scale in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if abs(x) >= scale:
            return f"{x / scale:.3g}{unit}"
    return f"{x:.3g}"


def _issue_lines(issues: list) -> list:
    return [f"[{i['severity']}] {i['layer']}: {i['problem']}. Fix: {i['fix']}" for i in issues] or ["none"]


def network_text(r: dict) -> str:
    lines = [f"== {r['name']} ({r['kind']}, {r['model']['model_name']}, T={r['T']}) on {r['dataset']}, "
             f"{r['samples']} test samples; {r['checkpoint']}"]
    lines += [f"note: {n}" for n in r["notes"]]
    for target in TARGETS:
        lines.append(f"check(model, {target!r}):")
        lines += [f"  {l}" for l in _issue_lines(r["check"][target])]
    for target, label in (("nir", "NIR "), ("loihi2", "Lava")):
        e = r["export"][target]
        if e["error"]:
            lines.append(f"{label} export FAILED: {e['error']}")
            continue
        lines.append(f"{label} {e['file']}: {_size(e['size_bytes'])} ({e['size_bytes']} bytes)"
                     + (", approximate=True:" if e["approximate"] else ""))
        lines += [f"       {c}" for c in e["changes"]]
        lines += [f"     {l.strip()}" for l in e.get("layers", [])]
    a, g = r["accuracy"], r["agreement"]
    exported_label = "approximated" if any(r["export"][t]["approximate"] for t in TARGETS) else "exported float"
    lines.append(f"accuracy: float {_pct(a['float'])} | {exported_label} {_pct(a['exported'])} "
                 f"(same prediction as the float model on {_pct(g.get('exported_vs_float'))}) | Lava fixed point "
                 f"{_pct(a['lava'])} | NIR read back {_pct(a['nir'])}")
    if "lava_vs_exported" in g:
        fp = r["fixed_point_vs_exported_float"]
        detail = (f"readout potential error up to {fp['readout_max_error']:.4g} (largest |V| "
                  f"{fp['readout_max_abs']:.4g})" if "readout_max_error" in fp
                  else f"{100 * fp['spike_mismatch']:.3f}% of output spikes differ")
        lines.append(f"Lava fixed point vs the {exported_label} network: same prediction on "
                     f"{_pct(g['lava_vs_exported'])}, {detail}")
    lines.append(f"energy ({r['energy']['snn']['samples']} samples):")
    lines += [f"  {l}" for l in r["energy"]["table"].splitlines()]
    return "\n".join(lines)


def summary_markdown(doc: dict) -> str:
    nets = doc["networks"]
    out = ["# Deployment figures (issue 8)", "",
           f"`{doc['command']}`", "",
           f"{doc['date']}, {doc['machine']}, torch {doc['torch']} ({doc['threads']} threads). Accuracy on the "
           f"first {nets[0]['samples'] if nets else 0} test samples, the same encoded inputs in every column. "
           f"\"Exported float\" is the network written to the files (BatchNorm folded; after `approximate=True` "
           f"where needed); the Lava fixed point is spikesmith's NumPy reference simulation of the written netx file.",
           "", "## Export and accuracy", "",
           "| network | kind | T | checks nir / loihi2 (error, approximate, precision) | NIR file | Lava file | "
           "approximate=True | float | exported float | Lava fixed point | NIR read back | Lava = exported float |",
           "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    def counts(checks):
        return " / ".join(",".join(str(sum(i["severity"] == s for i in checks[t]))
                                   for s in ("error", "approximate", "precision")) for t in TARGETS)

    for r in nets:
        found = counts(r["check"]) + (f" (with the readout: {counts(r['check_exported'])})" if "check_exported" in r
                                      else "")
        e = r["export"]
        approx = ", ".join(t for t in TARGETS if e[t]["approximate"]) or "no"
        files = [("FAILED" if e[t]["error"] else _size(e[t]["size_bytes"])) for t in TARGETS]
        a, g = r["accuracy"], r["agreement"]
        out.append(f"| {r['name']} | {r['kind']} | {r['T']} | {found} | {files[0]} | {files[1]} | {approx} | "
                   f"{_pct(a['float'])} | {_pct(a['exported'])} | {_pct(a['lava'])} | {_pct(a['nir'])} | "
                   f"{_pct(g.get('lava_vs_exported'))} |")
    out += ["", "## Operations and energy per inference", "",
            f"Default costs: {doc['costs']['ac_pj']:g} pJ per accumulate, {doc['costs']['mac_pj']:g} pJ per "
            f"multiply-accumulate ({doc['costs']['source']}); arithmetic only (no memory traffic, no neuron updates).",
            "", "| network | SNN ACs | SNN MACs | E_SNN | mean rate | ANN twin MACs | E_ANN twin | "
                "E_ANN twin / E_SNN |",
            "|---|---|---|---|---|---|---|---|"]
    for r in nets:
        s, t = r["energy"]["snn"], r["energy"]["ann_twin"]
        ratio = f"{t['energy_pj'] / s['energy_pj']:.3g}" if t and s["energy_pj"] else "-"
        rate = "-" if s["mean_rate"] is None else f"{s['mean_rate']:.4f}"
        out.append(f"| {r['name']} | {_ops(s['acs'])} | {_ops(s['macs'])} | {_nj(s['energy_pj'])} | {rate} | "
                   f"{_ops(t['macs']) if t else '-'} | {_nj(t['energy_pj']) if t else '-'} | {ratio} |")
    out += ["", "![deployment figures](deploy_figures.png)", ""]
    for r in nets:
        out += [f"## {r['name']}", "", "```", network_text(r), "```", "", f"![energy]({r['name']}/energy.png)", ""]
    return "\n".join(out)


def plot_summary(nets: list, path: Path, costs: EnergyCosts) -> None:
    """Left: accuracy of the float model and of the exported files; right: energy per inference vs the ANN twin."""
    import numpy as np

    from spikesmith.viz._common import new_figure, save_png

    fig = new_figure((12, 2.4 + 1.0 * max(len(nets), 1)))
    ax, ax2 = fig.subplots(1, 2)
    y = np.arange(len(nets))
    h = 0.8 / len(COLUMNS)
    for j, (key, label) in enumerate(COLUMNS):
        vals = [r["accuracy"][key] for r in nets]
        bars = ax.barh(y + (j - 1.5) * h, [100 * (v or 0.0) for v in vals], h, label=label)
        ax.bar_label(bars, ["-" if v is None else f"{100 * v:.2f}" for v in vals], fontsize=7, padding=2)
    ax.set_yticks(y, [r["name"] for r in nets])
    ax.invert_yaxis()
    lo = min([100 * v for r in nets for v in r["accuracy"].values() if v is not None] + [100.0])
    ax.set_xlim(max(0.0, lo - 10), 101)
    ax.set_xlabel(f"test accuracy (%), {nets[0]['samples'] if nets else 0} samples")
    ax.set_title("float model vs the exported files", fontsize=10)
    ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=4)
    h = 0.8 / 3
    series = (("SNN (ACs + MACs)", lambda r: r["energy"]["snn"]["energy_pj"]),
              ("dense MACs of the same layers", lambda r: r["energy"]["snn"]["ann_energy_pj"]),
              ("ANN twin", lambda r: (r["energy"]["ann_twin"] or {}).get("energy_pj", 0.0)))
    values = []
    for j, (label, get) in enumerate(series):
        vals = [get(r) / 1e3 for r in nets]
        values += vals
        bars = ax2.barh(y + (j - 1) * h, vals, h, label=label)
        ax2.bar_label(bars, [f"{v:.3g}" for v in vals], fontsize=7, padding=2)
    positive = [v for v in values if v > 0]
    if positive and max(positive) / min(positive) > 30:
        ax2.set_xscale("log")
    ax2.set_xlim(right=max(positive or [1.0]) * (3 if ax2.get_xscale() == "log" else 1.15))
    ax2.set_yticks(y, [r["name"] for r in nets])
    ax2.invert_yaxis()
    ax2.set_xlabel("energy per inference (nJ)")
    ax2.set_title(f"energy ({costs.ac_pj:g} pJ / AC, {costs.mac_pj:g} pJ / MAC)", fontsize=10)
    ax2.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=3)
    save_png(fig, path)


def _write_text(path: Path, text: str) -> None:
    with atomic_write(path) as f:
        f.write(text.encode("utf-8"))
    os.chmod(path, 0o644)       # the temporary file was private; a report is meant to be read


# ----------------------------------------------------------------------------- main
def deploy(net: Net, args, out: Path, costs: EnergyCosts) -> dict:
    folder = out / net.name
    folder.mkdir(parents=True, exist_ok=True)
    log(f"{net.name}: checks and export to {folder}")
    checks = {t: [dataclasses.asdict(i) for i in check(net.model, t, net.shape)] for t in TARGETS}
    exports = {t: export(net, t, folder, args.dt) for t in TARGETS}
    batch = args.batch_size or (256 if net.kind == "direct" else max(16, 2048 // net.T))
    log(f"{net.name}: evaluating {net.x.shape[0]} samples (batch {batch}, T={net.T})")
    ev = evaluate(net, exports, batch, costs, show=not args.no_progress)
    snn, twin = ev.pop("profile"), ev.pop("twin_profile")
    plot = plot_profile(snn, folder / "energy.png", ann=twin, title=f"{net.name} on {net.dataset}")
    record = {"name": net.name, "kind": net.kind, "checkpoint": str(net.checkpoint),
              "checkpoint_bytes": net.checkpoint.stat().st_size, "dataset": net.dataset, "T": net.T,
              "model": net.describe, "notes": net.notes, "check": checks, "export": exports, **ev,
              "energy": {"snn": snn.summary(), "snn_rows": snn.as_dicts(),
                         "ann_twin": twin.summary() if twin else None,
                         "ann_twin_rows": twin.as_dicts() if twin else None,
                         "table": snn.table(ann=twin), "plot": str(plot)}}
    if net.deployed is not net.model:
        record["check_exported"] = {t: [dataclasses.asdict(i) for i in check(net.deployed, t, net.shape)]
                                    for t in TARGETS}
    return record


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--checkpoint-direct", action="append", default=[], type=Path, metavar="CKPT",
                   help="checkpoint.pt of a directly trained SNN (spikesmith train); repeatable")
    p.add_argument("--checkpoint-converted", action="append", default=[], type=Path, metavar="CKPT",
                   help="converted_<method>.pt of spikesmith convert; repeatable")
    p.add_argument("--dataset", default=None, help="override the checkpoints' dataset (e.g. digits)")
    p.add_argument("--data-dir", default=None)
    p.add_argument("--test-samples", type=int, default=None, help="use the first K test samples (default: all)")
    p.add_argument("--T", type=int, default=None,
                   help="override the time steps (direct: the encoder's T; converted: set_T, exact for the methods "
                        "whose conversion does not depend on T: max, robust, fraction, qcfs)")
    p.add_argument("--batch-size", type=int, default=None, help="default: 256 (direct), 2048 / T (converted)")
    p.add_argument("--dt", type=float, default=1e-3, help="seconds per step in the NIR graph (default 1e-3)")
    p.add_argument("--ac-pj", type=float, default=0.9, help="energy of one accumulate (pJ; default 0.9)")
    p.add_argument("--mac-pj", type=float, default=4.6, help="energy of one multiply-accumulate (pJ; default 4.6)")
    p.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    p.add_argument("--out", type=Path, default=Path("runs/deploy"), help="output folder (default runs/deploy)")
    p.add_argument("--no-progress", action="store_true", help="no tqdm bars")
    args = p.parse_args(argv)
    if not args.checkpoint_direct and not args.checkpoint_converted:
        p.error("give at least one --checkpoint-direct or --checkpoint-converted")
    for name in ("test_samples", "T", "batch_size", "threads"):
        v = getattr(args, name)
        if v is not None and v < 1:
            p.error(f"--{name.replace('_', '-')} must be >= 1, got {v}")
    if not args.dt > 0:
        p.error(f"--dt must be > 0 seconds, got {args.dt}")
    return args


def main(argv: Optional[list] = None) -> int:
    args = parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    costs = EnergyCosts(ac_pj=args.ac_pj, mac_pj=args.mac_pj,
                        source="Horowitz 2014, 45 nm, fp32" if (args.ac_pj, args.mac_pj) == (0.9, 4.6) else "given")
    cache: dict = {}
    used: set = set()
    nets = []
    try:   # load everything first: a bad path fails before the long runs
        for path in args.checkpoint_direct:
            nets.append(load_direct(path, args, cache, used))
        for path in args.checkpoint_converted:
            nets.append(load_converted(path, args, cache, used))
    except (ValueError, TypeError, FileNotFoundError, ImportError) as err:
        print(f"deploy_figures: error: {err}", file=sys.stderr)
        return 2
    args.out.mkdir(parents=True, exist_ok=True)
    records = []
    for net in nets:
        records.append(deploy(net, args, args.out, costs))
        print(network_text(records[-1]), flush=True)
        print(flush=True)
    command = ["python", sys.argv[0], *sys.argv[1:]] if argv is None else ["python", "bench/deploy_figures.py", *argv]
    doc = {"command": " ".join(map(shlex.quote, map(str, command))),
           "date": datetime.datetime.now().isoformat(timespec="seconds"),
           "machine": f"{platform.machine()} {platform.processor() or platform.system()}",
           "torch": torch.__version__, "threads": torch.get_num_threads(), "costs": dataclasses.asdict(costs),
           "networks": records}
    _write_text(args.out / "deploy_figures.json", json.dumps(doc, indent=2, default=str))
    md = summary_markdown(doc)
    _write_text(args.out / "deploy_figures.md", md)
    plot_summary(records, args.out / "deploy_figures.png", costs)
    print(_tables(md))
    log(f"wrote {args.out / 'deploy_figures.json'}, deploy_figures.md, deploy_figures.png and per-network files")
    failed = [f"{r['name']} ({t})" for r in records for t in TARGETS if r["export"][t]["error"]]
    if failed:
        log(f"export failed for {', '.join(failed)}: see the reasons above")
    return 1 if failed else 0


def _tables(md: str) -> str:
    """The two summary tables of the markdown report (up to the figure)."""
    start = md.index("## Export and accuracy")
    return md[start:md.index("![deployment figures]")].rstrip()


if __name__ == "__main__":
    sys.exit(main())
