"""Tutorial: spiking transformers, Spikformer, the Spike-driven Transformer and QKFormer
(docs/tutorials/spiking_transformer.md).

Checks the four attention layers (single-step against multi-step, spikes only), counts what their
attention costs as the number of tokens grows (SSA's products grow with L^2, SDSA's and the Q-K
attentions' masks and additions with L), shows export's refusal, and trains a small Spikformer, a
Spike-driven Transformer, SDT with SSA, the identity-attention ablation and the ANN twin on
scikit-learn's 8 x 8 digits (4 x 4 tokens). Every figure goes to ``--out`` (default: docs/tutorials/img).

    PYTHONPATH=src python docs/tutorials/spiking_transformer.py            # a few minutes, 1 thread
    PYTHONPATH=src python docs/tutorials/spiking_transformer.py --quick    # seconds (the test's)
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

from spikesmith import functional, layer  # noqa: E402
from spikesmith.analysis import profile  # noqa: E402
from spikesmith.data.digits import load_digits  # noqa: E402
from spikesmith.export import check  # noqa: E402
from spikesmith.models import build_model  # noqa: E402

IMG = Path(__file__).resolve().parent / "img"
ATTENTIONS = {"SSA": layer.SpikingSelfAttention, "SDSA": layer.SpikeDrivenSelfAttention,
              "QK token": layer.QKTokenAttention, "QK channel": layer.QKChannelAttention}


def single_vs_multi(cls, x: torch.Tensor) -> float:
    """Max |difference| between one multi-step call and a loop of single steps (eval mode, same weights)."""
    torch.manual_seed(0)
    m = cls(x.shape[-1], 4).eval()
    with torch.no_grad():
        multi = m(x)
        functional.reset_net(m)
        functional.set_step_mode(m, "s")
        single = torch.stack([m(x[t]) for t in range(x.shape[0])])
    return float((multi - single).abs().max())


def attention_costs(tokens: list[int], dim: int, T: int) -> dict:
    """Per sample: products (MACs), masks and additions inside each attention, for L tokens."""
    out = {name: {"products": [], "masks": [], "additions": []} for name in ATTENTIONS}
    for L in tokens:
        x = (torch.rand(T, 2, L, dim, generator=torch.Generator().manual_seed(L)) < 0.3).float() * 2
        for name, cls in ATTENTIONS.items():
            torch.manual_seed(0)
            m = cls(dim, 4)
            for bn in (mod for mod in m.modules() if isinstance(mod, torch.nn.BatchNorm1d)):
                torch.nn.init.constant_(bn.bias, 1.0)       # neurons that fire, as a trained net's do
            row = next(r for r in profile(m, x).rows if r.kind == "attention")
            out[name]["products"].append(row.products)
            out[name]["masks"].append(row.masks)
            out[name]["additions"].append(row.acs)
    return out


def figure_costs(tokens, costs, path: Path) -> None:
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
    for name, c in costs.items():
        if max(c["products"]) > 0:
            axes[0].loglog(tokens, c["products"], "o-", label=f"{name}: products (MACs)")
        if max(c["masks"]) + max(c["additions"]) > 0:
            axes[1].loglog(tokens, [m + a for m, a in zip(c["masks"], c["additions"])], "o-",
                           label=f"{name}: masks + additions")
    axes[0].set_title("products of two run-time tensors, per sample")
    axes[1].set_title("masks and additions of spikes, per sample (SSA: none)")
    for ax in axes:
        ax.set_xlabel("tokens L")
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def digits_images():
    xs, ys = {}, {}
    for split in ("train", "test"):
        images, labels = load_digits(split)               # [N, 8, 8] in [0, 1]
        xs[split], ys[split] = images.unsqueeze(1), labels
    return xs, ys


def train(model, xs, ys, epochs: int, T: int, ann: bool, lr: float = 3e-3, batch_size: int = 64):
    """Adam on the cross-entropy of the logits (averaged over T); returns (test accuracy, seconds)."""
    generator = torch.Generator().manual_seed(0)
    optimiser = torch.optim.Adam(model.parameters(), lr=lr)
    x, y = xs["train"], ys["train"]

    def run(batch):
        return model(batch) if ann else model(batch.expand(T, *batch.shape)).mean(0)

    start = time.perf_counter()
    model.train()
    for _ in range(epochs):
        order = torch.randperm(x.shape[0], generator=generator)
        for i in range(0, x.shape[0], batch_size):
            idx = order[i:i + batch_size]
            loss = F.cross_entropy(run(x[idx]), y[idx])
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            functional.reset_net(model)
    seconds = time.perf_counter() - start
    model.eval()
    with torch.no_grad():
        predicted = run(xs["test"]).argmax(1)
        functional.reset_net(model)
    return float((predicted == ys["test"]).float().mean()), seconds


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=IMG, help="folder for the figures")
    parser.add_argument("--quick", action="store_true", help="tiny sizes (seconds): what the test runs")
    parser.add_argument("--epochs", type=int, default=None, help="training epochs (default 15, quick 1)")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    args.out.mkdir(parents=True, exist_ok=True)
    quick = args.quick
    epochs = args.epochs or (1 if quick else 15)
    start = time.perf_counter()
    results: dict = {}

    # 1. the layers: tokens in, tokens out; one step function ------------------------------------
    x = (torch.rand(4, 2, 9, 16, generator=torch.Generator().manual_seed(1)) < 0.4).float() * 2
    results["single_vs_multi"] = {name: single_vs_multi(cls, x) for name, cls in ATTENTIONS.items()}
    for name, diff in results["single_vs_multi"].items():
        print(f"{name}: output {list(x.shape)}, max |multi-step - single-step loop| = {diff}")

    # 2. what attention costs as the tokens grow -------------------------------------------------
    tokens = [4, 16, 64] if quick else [4, 16, 64, 256]
    costs = attention_costs(tokens, 32, 2)
    results["costs"] = {"tokens": tokens, **costs}
    figure_costs(tokens, costs, args.out / "spiking_transformer_ops.png")
    for name, c in costs.items():
        print(f"{name}: per sample (T=2, dim 32) at L = {tokens}: products {[int(p) for p in c['products']]}, "
              f"masks {[int(m) for m in c['masks']]}, additions {[round(a) for a in c['additions']]}")

    # 3. export says no, by name -------------------------------------------------------------
    issue = next(i for i in check(torch.nn.Sequential(layer.SpikeDrivenSelfAttention(16, 4)), "nir", (9, 16)))
    results["export"] = str(issue)
    print(f"export check: {issue}")

    # 4. small networks on digits (8 x 8, patch 2: 4 x 4 tokens) -----------------------------------
    xs, ys = digits_images()
    if quick:
        xs = {k: v[:128] for k, v in xs.items()}
        ys = {k: v[:128] for k, v in ys.items()}
    small = {"depth": 1 if quick else 2, "dim": 16 if quick else 32, "heads": 2 if quick else 4, "patch_size": 2}
    T = 2 if quick else 4
    nets = {
        "Spikformer (SSA)": ("spikformer", {}, False),
        "Spikformer, identity attention": ("spikformer", {"attention": "identity"}, False),
        "SDT (SDSA)": ("sdt", {}, False),
        "SDT with SSA": ("sdt", {"attention": "ssa"}, False),
        "QKFormer": ("qkformer", {"qk_depth": 1}, False),
        "Spikformer ANN twin": ("spikformer", {}, True),
    }
    results["training"] = {}
    for name, (model, options, ann) in nets.items():
        torch.manual_seed(0)
        net = build_model(model, in_channels=1, num_classes=10, ann=ann, **small, **options)
        accuracy, seconds = train(net, xs, ys, epochs, T, ann)
        sample = xs["test"][:32]
        prof = profile(net, sample if ann else sample.expand(T, *sample.shape))
        att = [r for r in prof.rows if r.kind == "attention"]
        entry = {"test_accuracy": accuracy, "seconds": seconds, "parameters": sum(p.numel() for p in net.parameters()),
                 "attention_macs": sum(r.macs for r in att), "attention_additions": sum(r.acs for r in att),
                 "attention_masks": sum(r.masks for r in att), "energy_pj": prof.energy_pj}
        results["training"][name] = entry
        print(f"{name:32s} test accuracy {accuracy:.4f} ({epochs} epochs, {seconds:.1f} s, {entry['parameters']} "
              f"parameters); attention per sample: {entry['attention_macs']:.0f} MACs, "
              f"{entry['attention_additions']:.0f} additions, {entry['attention_masks']:.0f} masks; "
              f"energy {entry['energy_pj'] / 1e3:.1f} nJ")
    fig, ax = plt.subplots(figsize=(7, 3.4))
    names = list(results["training"])
    ax.barh(names, [100 * results["training"][n]["test_accuracy"] for n in names])
    ax.invert_yaxis()
    ax.set_xlabel("test accuracy (%)")
    ax.set_title(f"digits, {epochs} epochs, T = {T}, depth {small['depth']}, dim {small['dim']}")
    fig.tight_layout()
    fig.savefig(args.out / "spiking_transformer_digits.png", dpi=110)
    plt.close(fig)

    results["seconds"] = time.perf_counter() - start
    print(f"total {results['seconds']:.1f} s; figures in {args.out}")
    return results


if __name__ == "__main__":
    main()
