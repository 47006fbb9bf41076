"""The model zoo shipped inside the installed SpikingJelly, run on SpikingJelly and on
spikesmith.compat.spikingjelly through the alias, with the same weights, inputs and random numbers.

    PYTHONPATH=src python bench/compat/sj_model_zoo.py [--threads 1]

Each zoo file is copied to a temporary folder with its imports switched at measurement time (``from ..
import layer`` -> ``from spikingjelly.activation_based import layer``, ``from .ms_resnet import`` ->
``from zoo_ms_resnet import``; torchvision's weight download, absent here, set to None), then imported
by a fresh process on SpikingJelly and by another with ``install_spikingjelly_alias()``. Every network
runs one training-mode forward (T=2, a tiny batch, seeded; multi-step for a 5-D input, while a network
given a 4-D input repeats it over its own T) and one backward; the script prints, per network, whether
it runs on each, the largest difference of outputs and of the first weight's gradient, how many of its
modules gave a non-zero output (a network silent at this input scale checks little beyond shapes) and
the largest relative difference of every module's output magnitude (forward hooks on the modules both
runs name alike). A network matches when its outputs and its modules' outputs agree to 1e-5. Installs
nothing.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import re
import subprocess
import sys
import tempfile
from pathlib import Path

#: zoo file -> [(network, builder expression, input shape [T, N, C, H, W])]; ``IF``/``PLIF`` are neurons.
NETWORKS = {
    "parametric_lif_net": [
        ("MNISTNet", "MNISTNet(channels=8, spiking_neuron=PLIF)", (2, 2, 1, 28, 28)),
        ("FashionMNISTNet", "FashionMNISTNet(channels=8, spiking_neuron=IF)", (2, 2, 1, 28, 28)),
        ("NMNISTNet", "NMNISTNet(channels=8, spiking_neuron=PLIF)", (2, 2, 2, 34, 34)),
        ("CIFAR10Net", "CIFAR10Net(channels=8, spiking_neuron=PLIF)", (2, 2, 3, 32, 32)),
        ("CIFAR10DVSNet", "CIFAR10DVSNet(channels=4, spiking_neuron=PLIF)", (2, 1, 2, 128, 128)),
        ("DVSGestureNet", "DVSGestureNet(channels=4, spiking_neuron=PLIF)", (2, 1, 2, 128, 128)),
    ],
    "spiking_vgg": [(f"spiking_vgg{d}{bn}", f"spiking_vgg{d}{bn}(spiking_neuron=IF, num_classes=10)", (2, 2, 3, 32, 32))
                    for d in (11, 13) for bn in ("", "_bn")],
    "spiking_resnet": [("spiking_resnet18", "spiking_resnet18(spiking_neuron=IF, num_classes=10)", (2, 2, 3, 32, 32))],
    "sew_resnet": [("sew_resnet18", "sew_resnet18(spiking_neuron=IF, cnf='ADD', num_classes=10)", (2, 2, 3, 32, 32))],
    # the newer zoo: the network takes [N, C, H, W] (4-D) and repeats it over its own T
    "ms_resnet": [("ms_resnet18", "ms_resnet18(T=2, num_classes=10)", (2, 3, 32, 32)),
                  ("max_resnet18", "max_resnet18(T=2, num_classes=10)", (2, 3, 32, 32))],
    "masnn": [("att_ms_resnet18", "att_ms_resnet18(T=2, num_classes=10)", (2, 3, 32, 32))],
    "maxformer": [("maxformer_cifar", "maxformer_cifar(T=2, num_classes=10)", (2, 3, 32, 32))],
    "qkformer": [("qkformer_10_384", "qkformer_10_384(T=2, num_classes=10)", (1, 3, 64, 64))],
    "spike_driven_transformer": [("sdt_8_384", "sdt_8_384(T=2, num_classes=10)", (1, 3, 64, 64))],
    "spikformer": [("spikformer_cifar10", "spikformer_cifar10(T=2)", (1, 3, 32, 32))],
    "spiking_vggws_ottt": [("ottt_spiking_vgg11", "ottt_spiking_vgg11(num_classes=10)", (2, 3, 32, 32)),
                           ("ottt_spiking_vgg11_ws", "ottt_spiking_vgg11_ws(num_classes=10)", (2, 3, 32, 32))],
}

RUNNER = r'''
import json, sys, warnings, torch
warnings.simplefilter("ignore")
sys.path.insert(0, {folder!r})
torch.set_num_threads({threads})
if {ours}:
    import spikesmith.compat
    spikesmith.compat.install_spikingjelly_alias()
from spikingjelly.activation_based import functional, neuron, surrogate
results = {{}}
IF = neuron.IFNode
def PLIF(**kw):
    return neuron.ParametricLIFNode(init_tau=2.0, surrogate_function=surrogate.ATan(), detach_reset=True, **kw)
for file, name, build, shape in {jobs!r}:
    try:
        zoo = __import__("zoo_" + file)
        torch.manual_seed(0)
        net = eval(build, vars(zoo) | {{"IF": IF, "PLIF": PLIF}})
        if len(shape) == 5:
            functional.set_step_mode(net, "m")
        activity = {{}}
        def record(module, inputs, out, key=None):
            first = out[0] if isinstance(out, (list, tuple)) and out else out
            if isinstance(first, torch.Tensor):
                activity.setdefault(key, []).append(float(first.detach().float().abs().sum()))
        for key, module in net.named_modules():
            if key:
                module.register_forward_hook(lambda m, i, o, key=key: record(m, i, o, key))
        torch.manual_seed(1)
        x = torch.rand(*shape) * 3
        y = net(x)
        y.float().pow(2).sum().backward()
        grad = next(p.grad for p in net.parameters() if p.grad is not None)
        torch.save((y.detach(), grad, activity), {folder!r} + f"/{{name}}_{ours}.pt")
        results[name] = "ok"
    except Exception as error:
        results[name] = f"{{type(error).__name__}}: {{str(error).splitlines()[0][:160]}}"
print(json.dumps(results))
'''


def _switch_imports(text: str) -> str:
    text = re.sub(r"^(\s*)from \.\.(\w[\w.]*)? import ", lambda m: f"{m.group(1)}from spikingjelly.activation_based"
                  f"{'.' + m.group(2) if m.group(2) else ''} import ", text, flags=re.M)
    text = re.sub(r"^(\s*)from \.(\w+) import ", r"\1from zoo_\2 import ", text, flags=re.M)
    return re.sub(r"try:\n    from torchvision\.models\.utils import load_state_dict_from_url\nexcept ImportError:\n"
                  r"    from torchvision\._internally_replaced_utils import load_state_dict_from_url\n",
                  "load_state_dict_from_url = None\n", text)


def _module_difference(a: dict, b: dict) -> float:
    """Largest relative difference of the per-call output magnitudes of the modules both runs named
    alike (inf where one side called a module more or fewer times)."""
    worst = 0.0
    for key in a.keys() & b.keys():
        if len(a[key]) != len(b[key]):
            return float("inf")
        worst = max([worst] + [abs(x - y) / max(1.0, abs(x)) for x, y in zip(a[key], b[key])])
    return worst


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args(argv)
    spec = importlib.util.find_spec("spikingjelly")
    if spec is None:
        print("SpikingJelly is not installed: nothing to measure")
        return 0
    zoo = Path(spec.submodule_search_locations[0]) / "activation_based" / "model"
    import torch

    with tempfile.TemporaryDirectory() as folder:
        for file in NETWORKS:
            (Path(folder) / f"zoo_{file}.py").write_text(_switch_imports((zoo / f"{file}.py").read_text()))
        jobs = [(file, name, build, shape) for file, nets in NETWORKS.items() for name, build, shape in nets]
        runs = {}
        for ours in (False, True):
            code = RUNNER.format(folder=folder, threads=args.threads, ours=ours, jobs=jobs)
            done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=1800)
            if done.returncode:
                print(done.stderr[-2000:])
                return 1
            runs[ours] = json.loads(done.stdout.strip().splitlines()[-1])
        print("| network | SpikingJelly | spikesmith (alias) | sum of outputs | max output diff | max grad diff | "
              "modules with output != 0 | max module diff (rel.) |")
        print("|---|---|---|---|---|---|---|---|")
        ran = matched = 0
        worst = 0.0
        for _, name, _, _ in jobs:
            real, ours = runs[False][name], runs[True][name]
            out = grad = total = active = layer = "-"
            if real == "ok":
                ran += 1
            if real == ours == "ok":
                y0, g0, a0 = torch.load(f"{folder}/{name}_False.pt")
                y1, g1, a1 = torch.load(f"{folder}/{name}_True.pt")
                d_out, d_grad = float((y0 - y1).abs().max()), float((g0 - g1).abs().max())
                d_layer = _module_difference(a0, a1)
                out, grad, total = f"{d_out:.3g}", f"{d_grad:.3g}", f"{float(y0.abs().sum()):.4g}"
                active = f"{sum(any(v) for v in a0.values())} of {len(a0)}"
                layer = f"{d_layer:.3g}"
                worst = max(worst, d_out)
                matched += d_out <= 1e-5 * max(1.0, float(y0.abs().max())) and d_layer <= 1e-5
            print(f"| {name} | {real} | {ours} | {total} | {out} | {grad} | {active} | {layer} |")
        print(f"\n{matched} of {ran} networks that run on SpikingJelly run and match on spikesmith "
              f"(max output difference {worst:.3g})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
