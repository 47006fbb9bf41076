"""Every example script shipped inside the installed SpikingJelly, run on SpikingJelly and on spikesmith
with only its imports switched, tiny and on CPU; the outputs of the two runs compared.

    PYTHONPATH=src python bench/compat/sj_examples.py [--timeout 300] [--only NAME ...]

For each script under ``spikingjelly/activation_based/examples/`` that has an entry point, the whole
examples folder is copied to a temporary folder twice: once as shipped (relative imports made absolute,
``from .. import x`` -> ``from spikingjelly.activation_based import x``, for both copies alike), and once
with the import switch applied by ``sed``: ``spikingjelly.`` -> ``spikesmith.compat.spikingjelly.``.
Each copy runs in a fresh process under ``sj_examples_harness.py`` (seeds 0, one thread, CPU, a stand-in
torchvision with 8 Fashion-MNIST images per split, flags for one epoch / a few steps, see ``RECIPES``),
which records every loss, every outermost module output and the final weights. The SpikingJelly run
decides whether a script "runs on SpikingJelly"; a script it cannot run is excluded with its error
(gym, CUDA, lava, a dataset download, ...). The model zoo (``activation_based/model/``) is measured by
``sj_model_zoo.py``, whose networks are counted here too when ``--zoo`` is given.

A script matches when both runs recorded the same number of losses, outputs and weight tensors, of the
same shapes, and the largest absolute difference is at most ``1e-5`` times the largest magnitude. The
last line is ``runs and matches: K of M that run on SpikingJelly (X%), max output difference D``.
Installs nothing.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from tqdm import tqdm

HERE = Path(__file__).resolve().parent
TOLERANCE = 1e-5
FAST = ["-device", "cpu", "-b", "4", "-epochs", "1", "-j", "0", "-data-dir", "data", "-out-dir", "logs"]

#: script (relative to examples/) -> harness options: argv, input() answers, images per split.
RECIPES: dict[str, dict] = {
    "conv_fashion_mnist.py": {"argv": ["-T", "2", *FAST, "-opt", "sgd", "-lr", "0.1", "-channels", "8"]},
    "lif_fc_mnist.py": {"argv": ["-T", "4", *FAST, "-opt", "adam", "-lr", "1e-3", "-tau", "2.0"]},
    "rsnn_sequential_fmnist.py": {"argv": [*FAST, "-opt", "adam", "-lr", "1e-3", "-model", "plain"]},
    "spiking_lstm_sequential_mnist.py": {"inputs": ["cpu", "data", "4", "1e-3", "1", "logs"]},
    "cifar10_r11_enabling_spikebased_backpropagation.py": {"argv": ["data", "-j", "0", "-b", "2", "--timesteps", "4"],
                                                           "stop_at_backward": 4},
    "plasticity/stdp_trace.py": {"argv": ["--output-dir", "logs"]},
    "plasticity/mstdp.py": {"argv": ["--output-dir", "logs"]},
    "plasticity/mstdpet.py": {"argv": ["--output-dir", "logs"]},
    "plasticity/stdp_mnist.py": {"samples": 60000, "argv": [
        "--output-dir", "logs", "--neurons", "16", "--steps", "8", "--batch-size", "4", "--train-samples", "8",
        "--calibration-samples", "8", "--validation-samples", "8", "--test-samples", "8"]},
    "profiling/nsys_lif.py": {"argv": ["--steps", "2", "--warmup", "1"]},
    "profiling/nsys_multigpu.py": {"argv": ["--parallel", "dp", "--steps", "2", "--warmup", "1",
                                                    "--output", "logs/nsys.json"]},
    "lynxi_fmnist_inference.py": {"argv": ["-T", "2", "-j", "0", "-data-dir", "data", "-channels", "8", "-b", "4"]},
}

#: (pattern in SpikingJelly's error, why the script cannot run here), the first match names the reason
WHY_NOT = [
    (r"No module named 'gym'", "needs gym (not installed)"),
    (r"No module named 'lightning'", "needs PyTorch Lightning (not installed)"),
    (r"torchaudio", "needs torchaudio (not installed) and the Speech Commands download"),
    (r"torchvision", "needs the real torchvision (not installed; the stand-in has MNIST/CIFAR and basic transforms)"),
    (r"lava_exchange|lava", "needs lava-dl (not installed)"),
    (r"lynxi", "needs the Lynxi SDK and chip"),
    (r"CUDA|cuda|GPU", "CUDA-only"),
    (r"No such file|FileNotFoundError", "needs a download or a pretrained file"),
]

RELATIVE = [  # (pattern, replacement) making a shipped example importable outside its package
    (r"^(\s*)from \.\.(\w[\w.]*) import ", r"\1from spikingjelly.activation_based.\2 import "),
    (r"^(\s*)from \.\. import ", r"\1from spikingjelly.activation_based import "),
    (r"^(\s*)from \.(\w[\w.]*) import ", r"\1from spikingjelly.activation_based.examples.\2 import "),
]


def entry_points(examples: Path) -> list[str]:
    """The example scripts: files with a ``__main__`` block, or with calls at top level (spiking_dqn_state)."""
    found = []
    for path in sorted(examples.rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        if "__main__" in text or re.search(r"^\w+\(", text, flags=re.M):
            found.append(path.relative_to(examples).as_posix())
    return found


def copy_examples(examples: Path, target: Path, ours: bool) -> None:
    shutil.copytree(examples, target, ignore=shutil.ignore_patterns("__pycache__"))
    for path in target.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        for pattern, replacement in RELATIVE:
            text = re.sub(pattern, replacement, text, flags=re.M)
        path.write_text(text, encoding="utf-8")
    if ours:  # the import switch, with sed as a migrating user would
        subprocess.run(["find", str(target), "-name", "*.py", "-exec", "sed", "-i",
                        "s/spikingjelly\\./spikesmith.compat.spikingjelly./g", "{}", "+"], check=True)


def run_one(folder: Path, script: str, record: Path, timeout: float) -> str | None:
    """Run ``script`` under the harness; return None when it ran, else why not."""
    path = folder / script
    options = json.dumps(RECIPES.get(script, {}))
    try:
        done = subprocess.run([sys.executable, str(HERE / "sj_examples_harness.py"), str(path), str(record), options],
                              cwd=path.parent, capture_output=True, text=True, timeout=timeout,
                              stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        return f"timeout after {timeout:.0f} s"
    if not record.exists():
        return (done.stderr.strip().splitlines() or ["no record written"])[-1][:200]
    import torch

    error = torch.load(record, weights_only=False)["error"]
    return error


def compare(a: Path, b: Path) -> tuple[bool, float, str]:
    """(match, largest difference, what differs) between two harness records."""
    import torch

    ra, rb = torch.load(a, weights_only=False), torch.load(b, weights_only=False)
    pairs, notes = [], []
    for key in ("losses", "outputs"):
        if len(ra[key]) != len(rb[key]):
            notes.append(f"{len(ra[key])} vs {len(rb[key])} {key}")
        pairs += [(key, x, y) for x, y in zip(ra[key], rb[key])]
    if len(ra["states"]) != len(rb["states"]):
        notes.append(f"{len(ra['states'])} vs {len(rb['states'])} top-level modules")
    for sa, sb in zip(ra["states"], rb["states"]):
        if sa.keys() != sb.keys():
            notes.append(f"state keys differ: {sorted(set(sa) ^ set(sb))[:4]}")
        pairs += [("weights", sa[k], sb[k]) for k in sa.keys() & sb.keys()]
    worst, scale = 0.0, 1.0
    for key, x, y in pairs:
        if x.shape != y.shape:
            notes.append(f"{key} shape {list(x.shape)} vs {list(y.shape)}")
            continue
        if x.numel():
            worst = max(worst, float((x - y).abs().nan_to_num(float("inf")).max()))
            scale = max(scale, float(x.abs().nan_to_num(0).max()))
    if worst > TOLERANCE * scale:
        notes.append(f"values differ (scale {scale:.3g})")
    counts = f"{len(ra['losses'])} losses, {len(ra['outputs'])} outputs, {sum(map(len, ra['states']))} weights"
    return not notes, worst, "; ".join(notes) or counts


def zoo_rows(threads: int) -> list[tuple[str, str, float | None, str]]:
    """The model-zoo networks, measured by sj_model_zoo.py in its own processes."""
    done = subprocess.run([sys.executable, str(HERE / "sj_model_zoo.py"), "--threads", str(threads)],
                          capture_output=True, text=True, timeout=3600)
    rows = []
    for line in done.stdout.splitlines():
        cells = [c.strip() for c in line.strip("|").split("|")]
        if len(cells) == 8 and cells[1] not in ("SpikingJelly", "---"):
            name, real, ours, _, out, _, active, module_diff = cells
            if real != "ok":
                rows.append((f"model/{name}", "not runnable on SpikingJelly", None, real))
            elif ours != "ok":
                rows.append((f"model/{name}", "fails on spikesmith", None, ours))
            else:
                diff = float(out)
                match = diff <= TOLERANCE and float(module_diff) <= TOLERANCE
                rows.append((f"model/{name}", "runs+matches" if match else "runs but differs", diff,
                             f"forward + backward, T=2; {active} modules with output != 0, "
                             f"module outputs differ by {module_diff} (rel.)"))
    return rows


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds per script and run")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--only", nargs="*", help="scripts to measure (default: all)")
    parser.add_argument("--zoo", action="store_true", help="also count the model zoo (sj_model_zoo.py)")
    parser.add_argument("--keep", type=Path, help="keep the copies and the records in this folder")
    args = parser.parse_args(argv)
    spec = importlib.util.find_spec("spikingjelly")
    if spec is None:
        print("SpikingJelly is not installed: nothing to measure")
        return 0
    examples = Path(spec.submodule_search_locations[0]) / "activation_based" / "examples"
    scripts = [s for s in entry_points(examples) if not args.only or s in args.only]
    rows: list[tuple[str, str, float | None, str]] = []
    with tempfile.TemporaryDirectory() as temp:
        temp = Path(temp) if args.keep is None else args.keep
        temp.mkdir(parents=True, exist_ok=True)
        for copy in ("sj", "ours"):
            shutil.rmtree(temp / copy, ignore_errors=True)
        copy_examples(examples, temp / "sj", ours=False)
        copy_examples(examples, temp / "ours", ours=True)
        for script in tqdm(scripts, desc="examples", unit="script"):
            name = script.replace("/", "_")
            real = run_one(temp / "sj", script, temp / f"{name}.sj.pt", args.timeout)
            if real is not None:
                why = next((why for pattern, why in WHY_NOT if re.search(pattern, real)), "fails on SpikingJelly")
                rows.append((script, "not runnable on SpikingJelly", None, f"{why}: {real}"))
                continue
            ours = run_one(temp / "ours", script, temp / f"{name}.ours.pt", args.timeout)
            if ours is not None:
                rows.append((script, "fails on spikesmith", None, ours))
                continue
            match, diff, what = compare(temp / f"{name}.sj.pt", temp / f"{name}.ours.pt")
            rows.append((script, "runs+matches" if match else "runs but differs", diff, what))
    if args.zoo:
        rows += zoo_rows(args.threads)
    print("| script | outcome | max diff | detail |")
    print("|---|---|---|---|")
    for script, outcome, diff, detail in rows:
        print(f"| {script} | {outcome} | {'-' if diff is None else f'{diff:.3g}'} | {detail.replace('|', '/')} |")
    print()
    if args.zoo:
        print(_summary([r for r in rows if not r[0].startswith("model/")], "example scripts"))
        print(_summary([r for r in rows if r[0].startswith("model/")], "model-zoo networks"))
    print(_summary(rows))
    return 0


def _summary(rows: list, what: str = "") -> str:
    ran = [r for r in rows if r[1] != "not runnable on SpikingJelly"]
    matched = sum(r[1] == "runs+matches" for r in ran)
    worst = max([r[2] for r in ran if r[2] is not None], default=0.0)
    share = 100.0 * matched / len(ran) if ran else 0.0
    label = f" ({what})" if what else ""
    return (f"runs and matches{label}: {matched} of {len(ran)} that run on SpikingJelly ({share:.0f}%), "
            f"max output difference {worst:.3g}")


if __name__ == "__main__":
    sys.exit(main())
