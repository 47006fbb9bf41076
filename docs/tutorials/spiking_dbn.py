"""Tutorial: spiking deep belief networks (docs/tutorials/spiking_dbn.md).

Trains an RBM by CD-1 on scikit-learn's 8 x 8 digits (reconstruction error, receptive fields,
reconstructions), pre-trains and fine-tunes a DBN, converts it to a spiking network of IF neurons
(``DBN.to_snn``) and compares the spiking net's accuracy with the rate DBN's over T, and trains a
small spiking RBM by event-driven contrastive divergence. Every figure goes to ``--out`` (default:
docs/tutorials/img).

    PYTHONPATH=src python docs/tutorials/spiking_dbn.py            # about a minute, 1 thread
    PYTHONPATH=src python docs/tutorials/spiking_dbn.py --quick    # a few seconds (the test's)
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import torch  # noqa: E402

from spikesmith.data.digits import load_digits  # noqa: E402
from spikesmith.learning import RBM, EventCDRBM  # noqa: E402
from spikesmith.models import DBN, LogisticReadout  # noqa: E402
from spikesmith.models.dbn import encode, spiking_logits  # noqa: E402

IMG = Path(__file__).resolve().parent / "img"


def digits(limit=None):
    out = {}
    for split in ("train", "test"):
        images, labels = load_digits(split)
        x = images.reshape(images.shape[0], -1)
        out[split] = (x[:limit], labels[:limit]) if limit else (x, labels)
    return out


def tiles(ax, images: torch.Tensor, columns: int, title: str, symmetric: bool = False,
          per_tile: bool = False) -> None:
    """Draw 8 x 8 images [K, 64] as one mosaic with a 1-pixel gap (``per_tile``: each scaled to
    its own largest |value|, so weak fields stay visible)."""
    if per_tile:
        images = images / images.abs().amax(1, keepdim=True).clamp_min(1e-12)
    rows = (images.shape[0] + columns - 1) // columns
    canvas = torch.full((rows * 9 + 1, columns * 9 + 1), float("nan"))
    for k, image in enumerate(images):
        r, c = divmod(k, columns)
        canvas[1 + 9 * r: 9 + 9 * r, 1 + 9 * c: 9 + 9 * c] = image.reshape(8, 8)
    if symmetric:
        bound = float(images.abs().max())
        ax.imshow(canvas.numpy(), cmap="RdBu_r", vmin=-bound, vmax=bound)
    else:
        ax.imshow(canvas.numpy(), cmap="gray_r", vmin=0, vmax=1)
    ax.set_title(title, fontsize=9)
    ax.axis("off")


def accuracy(logits: torch.Tensor, labels: torch.Tensor) -> float:
    return float((logits.argmax(1) == labels).float().mean())


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=IMG, help="folder for the figures")
    parser.add_argument("--quick", action="store_true", help="tiny sizes (seconds): what the test runs")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    args.out.mkdir(parents=True, exist_ok=True)
    quick = args.quick
    start = time.perf_counter()
    results: dict = {}
    data = digits(256 if quick else None)
    (x_tr, y_tr), (x_te, y_te) = data["train"], data["test"]
    print(f"digits: {len(x_tr)} train / {len(x_te)} test images of 64 pixels in [0, 1]")

    # 1. one RBM, CD-1 ----------------------------------------------------------------------------
    epochs = 2 if quick else 30
    rbm = RBM(64, 100, k=1, lr=0.05, momentum=0.5, seed=args.seed)
    rbm.init_visible_bias(x_tr)
    errors = [rbm.reconstruction_error(x_te)]
    energies = [float(rbm.free_energy(x_te).mean())]
    for _ in range(epochs):
        rbm.fit(x_tr, epochs=1, batch_size=32)
        errors.append(rbm.reconstruction_error(x_te))
        energies.append(float(rbm.free_energy(x_te).mean()))
    results["rbm"] = {"recon_error_start": errors[0], "recon_error_end": errors[-1], "free_energy_end": energies[-1]}
    print(f"RBM 64-100, CD-1, {epochs} epochs: test reconstruction error {errors[0]:.4f} -> {errors[-1]:.4f}, "
          f"mean free energy of test digits {energies[0]:.2f} -> {energies[-1]:.2f}")
    fig, ax = plt.subplots(figsize=(5, 3.4))
    ax.plot(range(epochs + 1), errors, "o-", ms=3)
    ax.set_xlabel("epoch of CD-1")
    ax.set_ylabel("test reconstruction error")
    ax.set_title("RBM 64-100 on digits: mean (v - p(v|p(h|v)))^2")
    fig.tight_layout()
    fig.savefig(args.out / "dbn_rbm_error.png", dpi=110)
    plt.close(fig)
    fig, (left, middle, right) = plt.subplots(1, 3, figsize=(11, 4), gridspec_kw={"width_ratios": [10, 5, 5]})
    tiles(left, rbm.weight[:60].detach(), 10, "receptive fields: rows of W (60 of 100 hidden units)", symmetric=True)
    sample = x_te[:20]
    tiles(middle, sample, 5, "test digits")
    tiles(right, rbm.reconstruct(sample).detach(), 5, "their reconstructions p(v | p(h|v))")
    fig.tight_layout()
    fig.savefig(args.out / "dbn_receptive_fields.png", dpi=110)
    plt.close(fig)

    # 2. a DBN: pre-train, fine-tune, convert -------------------------------------------------------
    sizes = [64, 128, 64]
    dbn = DBN(sizes, n_classes=10, lr=0.05, seed=args.seed)
    t0 = time.perf_counter()
    dbn.pretrain(x_tr, epochs=2 if quick else 20, batch_size=32, progress=False)
    pretrained = dbn.accuracy(x_te, y_te)            # the top layer is still untrained here
    losses = dbn.fine_tune(x_tr, y_tr, epochs=3 if quick else 60, batch_size=32, lr=3e-3, progress=False)
    train_seconds = time.perf_counter() - t0
    rate_accuracy = dbn.accuracy(x_te, y_te)
    results["dbn"] = {"rate_accuracy": rate_accuracy, "seconds": train_seconds}
    print(f"DBN {sizes}: pre-training then fine-tuning ({len(losses)} epochs, loss {losses[0]:.3f} -> "
          f"{losses[-1]:.3f}) in {train_seconds:.1f} s; rate DBN test accuracy {rate_accuracy:.4f} "
          f"(before fine-tuning {pretrained:.4f})")
    Ts = (4, 16, 64) if quick else (4, 8, 16, 32, 64, 128, 256)
    rate_pred = dbn.predict(x_te)
    sweep = {"direct": [], "poisson": [], "agreement": [], "thresholds": []}
    for T in Ts:
        snn = dbn.to_snn(x_tr, T=T)                 # thresholds fitted for this T on the training images
        thresholds = [float(m.v_threshold) for m in snn if hasattr(m, "v_threshold")]
        direct = spiking_logits(snn, encode(x_te, T))
        noisy = spiking_logits(snn, encode(x_te, T, "poisson", torch.Generator().manual_seed(args.seed)))
        sweep["direct"].append(accuracy(direct, y_te))
        sweep["poisson"].append(accuracy(noisy, y_te))
        sweep["agreement"].append(float((direct.argmax(1) == rate_pred).float().mean()))
        sweep["thresholds"].append(thresholds)
        print(f"  spiking DBN, T = {T:3d}: direct input {sweep['direct'][-1]:.4f}, Poisson input "
              f"{sweep['poisson'][-1]:.4f}; agrees with the rate DBN on {100 * sweep['agreement'][-1]:.1f}% of "
              f"test digits; V_th per layer {', '.join(f'{v:.2f}' for v in thresholds)}")
    results["snn"] = {"T": list(Ts), **sweep}
    fig, ax = plt.subplots(figsize=(5.5, 3.6))
    ax.axhline(rate_accuracy, color="k", ls="--", lw=1, label=f"rate DBN ({100 * rate_accuracy:.1f}%)")
    ax.plot(Ts, sweep["direct"], "o-", label="spiking, direct input")
    ax.plot(Ts, sweep["poisson"], "s-", label="spiking, Poisson input")
    ax.set_xscale("log", base=2)
    ax.set_xticks(list(Ts), [str(T) for T in Ts])
    ax.set_xlabel("time steps T")
    ax.set_ylabel("test accuracy")
    ax.set_title(f"DBN {sizes} converted to IF neurons")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(args.out / "dbn_accuracy_vs_T.png", dpi=110)
    plt.close(fig)

    # 3. event-driven contrastive divergence --------------------------------------------------------
    n_ecd = 128 if quick else len(x_tr)
    ecd = EventCDRBM(64, 100, seed=args.seed)
    readout_epochs = 50 if quick else 300

    def hidden_readout(net) -> float:
        c_tr, c_te = net.hidden_counts(x_tr[:n_ecd]), net.hidden_counts(x_te)
        readout = LogisticReadout(100, 10)
        readout.fit(c_tr, y_tr[:n_ecd], epochs=readout_epochs, lr=0.05)
        return float((readout.predict(c_te) == y_te).float().mean())

    before = hidden_readout(ecd)
    t0 = time.perf_counter()
    history = ecd.fit(x_tr[:n_ecd], epochs=1 if quick else 3, batch_size=32)
    ecd_seconds = time.perf_counter() - t0
    after = hidden_readout(ecd)
    recon = [s.reconstruction_error for s in history]
    results["event_cd"] = {"readout_before": before, "readout_after": after, "recon_first": recon[0],
                           "recon_last": recon[-1], "seconds": ecd_seconds}
    print(f"event-driven CD, 64-100 LIF units, {len(history)} updates in {ecd_seconds:.1f} s: phase-2 reconstruction "
          f"error {recon[0]:.4f} -> {recon[-1]:.4f}; logistic readout on the hidden spike counts "
          f"{after:.4f} (the untrained network: {before:.4f})")
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.8), gridspec_kw={"width_ratios": [4, 5]})
    left.plot(recon, lw=1)
    left.set_xlabel("update (batch of 32)")
    left.set_ylabel("reconstruction error (phase 2)")
    left.set_title("event-driven CD on digits")
    tiles(right, ecd.weight[:40].detach(), 10, "receptive fields after event-driven CD (40 of 100,\neach scaled to its own range)",
          symmetric=True, per_tile=True)
    fig.tight_layout()
    fig.savefig(args.out / "dbn_event_cd.png", dpi=110)
    plt.close(fig)

    results["seconds"] = time.perf_counter() - start
    print(f"total {results['seconds']:.1f} s; figures in {args.out}")
    return results


if __name__ == "__main__":
    main()
