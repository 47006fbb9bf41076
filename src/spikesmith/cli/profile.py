"""``spikesmith profile --checkpoint ckpt.pt``: synaptic operations, firing rates and energy per layer.

With ``--event-driven`` the network is first made event-driven (``spikesmith.inference``), and each
layer fed by spikes shows the path it took (``sparse`` / ``dense``) next to its input density.

Runs the checkpoint's network on test batches (encoded as in training), prints the table of
``spikesmith.analysis`` next to the ANN twin's energy, and writes the plot next to the checkpoint
(``<name>_profile.png``) or to ``--out``.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
from pathlib import Path


def add_parser(sub) -> None:
    p = sub.add_parser("profile", help="operations, firing rates and energy per layer of a checkpoint",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--allow-nonfinite", action="store_true",
                   help="load the checkpoint even if its weights hold NaN or Inf (refused otherwise)")
    p.add_argument("--checkpoint", required=True)
    p.add_argument("--batches", type=int, default=1, help="test batches to run (default: 1)")
    p.add_argument("--batch-size", type=int, default=None, help="default: the checkpoint's batch size")
    p.add_argument("--out", default=None, help="the plot's .png path (default: next to the checkpoint)")
    p.add_argument("--data-dir", default=None)
    p.add_argument("--ac-pj", type=float, default=0.9, help="energy of one accumulate (pJ; 45 nm: 0.9)")
    p.add_argument("--mac-pj", type=float, default=4.6, help="energy of one multiply-accumulate (pJ; 45 nm: 4.6)")
    p.add_argument("--json", action="store_true", help="print the rows and totals as JSON instead of the table")
    p.add_argument("--no-ann", action="store_true", help="do not profile the ANN twin")
    p.add_argument("--event-driven", action="store_true",
                   help="profile spikesmith.inference.event_driven(network): the path (sparse/dense) each layer "
                        "fed by spikes took, next to its input density")


def run(args: argparse.Namespace) -> int:
    import torch

    from .. import functional
    from ..analysis import EnergyCosts, Profiler, plot_profile
    from ..loading import open_checkpoint
    from ..training.batches import iterate_batches
    from ..training.setup import load_split, make_encoder
    from ..training.trainer import forward
    from ..viz._common import check_png_path

    if args.batches < 1:
        raise ValueError(f"--batches must be >= 1, got {args.batches}")
    if args.batch_size is not None and args.batch_size < 1:
        raise ValueError(f"--batch-size must be >= 1, got {args.batch_size}")
    ckpt_path = Path(args.checkpoint)
    out = Path(args.out) if args.out else ckpt_path.with_name(f"{ckpt_path.stem}_profile.png")
    check_png_path(out)
    costs = EnergyCosts(ac_pj=args.ac_pj, mac_pj=args.mac_pj,
                        source="Horowitz 2014, 45 nm, fp32" if (args.ac_pj, args.mac_pj) == (0.9, 4.6) else "given")
    loaded = open_checkpoint(ckpt_path, allow_nonfinite=args.allow_nonfinite)
    if loaded.kind == "converted" and args.event_driven:
        raise ValueError(f"--event-driven: {ckpt_path} holds a converted network (its spikes carry the threshold, "
                         f"not 1); profile it without --event-driven")
    if loaded.kind == "converted":
        return _profile_converted(loaded, args, ckpt_path, out, costs)
    if loaded.kind == "stdp":
        raise ValueError(f"{ckpt_path} holds an STDP network ({loaded.model_name}); profile reads networks trained "
                         f"by spikesmith train or converted by spikesmith convert")
    cfg, model = loaded.config, loaded.net
    if args.event_driven:
        if cfg.ann:
            raise ValueError(f"--event-driven: {ckpt_path} holds an ANN; event-driven inference needs spikes")
        from ..inference import event_driven
        model = event_driven(model)
    if args.data_dir is not None:
        cfg.data_dir = args.data_dir
    if args.batch_size is not None:
        cfg.batch_size = args.batch_size
    x_all, y_all, info = load_split(cfg, "test")
    temporal = info.temporal
    batches = []
    for i, (x, _) in enumerate(iterate_batches(x_all, y_all, cfg.batch_size, shuffle=False, pad=False)):
        if i == args.batches:
            break
        batches.append(x)

    def measure(net, net_cfg):
        encoder = make_encoder(net_cfg, seed=net_cfg.seed + 12345)
        time_first = not (net_cfg.ann and not temporal)
        with torch.no_grad(), Profiler(net, costs, time_first=time_first) as prof:
            for x in batches:
                functional.reset_net(net)
                forward(net, x, net_cfg, encoder, temporal)
            functional.reset_net(net)
            return prof.result()

    result = measure(model, cfg)
    twin = None
    if not cfg.ann and not args.no_ann:
        twin_cfg = dataclasses.replace(cfg, ann=True)
        twin_model = loaded.ann_twin()       # None: a model without an ANN twin
        if twin_model is not None:
            twin = measure(twin_model, twin_cfg)
    path = plot_profile(result, out, ann=twin, title=f"{loaded.model_name} on {cfg.dataset}")
    kind = "ANN" if cfg.ann else ("SNN, event-driven" if args.event_driven else "SNN")
    return _print(args, result, twin, path, f"{loaded.model_name} on {cfg.dataset} ({kind}), checkpoint {ckpt_path}")


def _print(args: argparse.Namespace, result, twin, path, heading: str) -> int:
    """The table (or JSON with ``--json``) of a profile and of its ANN twin."""
    if args.json:
        doc = {"rows": result.as_dicts(), "total": result.summary(), "plot": str(path)}
        if twin is not None:
            doc["ann_twin"] = {"rows": twin.as_dicts(), "total": twin.summary()}
        print(json.dumps(doc, indent=2))
    else:
        print(heading)
        print(result.table(ann=twin))
        print(f"plot: {path}")
    return 0


def _profile_converted(loaded, args: argparse.Namespace, ckpt_path: Path, out: Path, costs) -> int:
    """A converted (ANN -> SNN) checkpoint: the drop-in SNN over its T steps next to its source ANN."""
    import torch

    from ..analysis import Profiler, plot_profile
    from ..training.batches import iterate_batches
    from ..training.setup import load_split

    snn, cfg = loaded.net, loaded.config
    if args.data_dir is not None:
        cfg.data_dir = args.data_dir
    if cfg.dataset is None:
        raise ValueError(f"{ckpt_path}: the converted checkpoint names no dataset")
    x_all, y_all, _ = load_split(cfg, "test")
    batch = args.batch_size or 128
    batches = [x for i, (x, _) in zip(range(args.batches), iterate_batches(x_all, y_all, batch, shuffle=False,
                                                                          pad=False))]

    def measure(net, time_first):
        with torch.no_grad(), Profiler(net, costs, time_first=time_first) as prof:
            for x in batches:
                net(x.float())
            return prof.result()

    result = measure(snn, False)  # the drop-in SNN takes the ANN's input; its T steps run inside
    twin = None if args.no_ann else measure(loaded.ann_twin(), False)
    title = f"{loaded.checkpoint.get('model_name', 'converted')} ({snn.method}, T={snn.T}) on {cfg.dataset}"
    path = plot_profile(result, out, ann=twin, title=title)
    return _print(args, result, twin, path, f"{title}, converted checkpoint {ckpt_path}")
