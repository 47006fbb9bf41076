"""Training step of a small spiking CNN: spikesmith against SpikingJelly, snnTorch and Norse, and
against the same network with ReLU in place of the neurons, measured in one process.

    python bench/bench_convnet.py                  # 20 timed steps per implementation
    python bench/bench_convnet.py --steps 10       # quicker

The network (issue 4): Conv2d(1,32,3,pad 1,no bias)-BN-LIF-MaxPool2-Conv2d(32,32,3,pad 1)-BN-LIF-MaxPool2
-Flatten-Linear(1568,10)-LIF; 28 x 28 inputs (direct, repeated over T=4), batch 64, MSE between the
output firing rate and the one-hot label, Adam (lr 1e-3). One training step = zero_grad, forward over
T, loss, backward, optimizer step, reset of the neuron state. Median milliseconds per step.

Rows:
    spikesmith            layer.* in multi-step mode (time folded into the batch for conv/BN/pool),
                          LIFNode with backend='auto' (the fused CPU kernel)
    spikesmith cl         the same with the model and input in channels_last memory format
    spikesmith ReLU twin  the same layers with ReLU in place of LIF (what the neurons cost on top)
    spikingjelly 2.0      its layer.* and LIFNode(step_mode='m') (its default backend on the CPU)
    spikingjelly ReLU     SpikingJelly's layout with ReLU: the cap of a faster neuron alone
    snntorch 1.0          nn.Conv2d / BatchNorm2d / Leaky, the tutorial loop over T
    norse 1.1             SequentialState of Lift(conv/BN/pool) and LIF
Peers are skipped where they are not installed.

    python bench/bench_convnet.py --models csnn vgg resnet --steps 5

measures instead the registered conv models as ``spikesmith train`` builds them (each family's
defaults, on Fashion-MNIST's 1 x 28 x 28 with 10 classes, T=4, cross-entropy of the mean
output), each in the default layout and in channels_last (the model moved with
``model.to(memory_format=torch.channels_last)``, as the trainer does), steps interleaved. The
faster layout is each family's ``run_defaults["channels_last"]``, recorded next to it with the run
that chose it.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time
import warnings

import torch
from torch import nn

warnings.filterwarnings("ignore")
T, BATCH, CLASSES = 4, 64, 10


def conv_stack(neuron, conv=nn.Conv2d, bn=nn.BatchNorm2d, pool=nn.MaxPool2d, flatten=nn.Flatten, linear=nn.Linear):
    """The benchmark network; ``neuron()`` makes one neuron (or activation) layer."""
    return nn.Sequential(
        conv(1, 32, 3, padding=1, bias=False), bn(32), neuron(), pool(2),
        conv(32, 32, 3, padding=1, bias=False), bn(32), neuron(), pool(2),
        flatten(), linear(32 * 7 * 7, CLASSES), neuron(),
    )


# ----------------------------------------------------------------------------- implementations
def spikesmith_impl(neuron_kind: str, channels_last: bool = False):
    from spikesmith import functional, layer, neuron

    def make_neuron():
        return neuron.LIFNode(tau=2.0, step_mode="m") if neuron_kind == "lif" else nn.ReLU()

    def build():
        def flatten():
            return layer.Flatten(start_dim=1, step_mode="m")
        net = conv_stack(make_neuron, conv=lambda *a, **k: layer.Conv2d(*a, step_mode="m", **k),
                         bn=lambda c: layer.BatchNorm2d(c, step_mode="m"),
                         pool=lambda k: layer.MaxPool2d(k, step_mode="m"), flatten=flatten,
                         linear=lambda *a: layer.Linear(*a, step_mode="m"))
        if channels_last:
            net = net.to(memory_format=torch.channels_last)

        def forward(x):  # x: [N, 1, 28, 28] -> rates [N, 10]
            x_seq = x.unsqueeze(0).expand(T, *x.shape)
            if channels_last:
                x_seq = x_seq.flatten(0, 1).contiguous(memory_format=torch.channels_last).unflatten(0, (T, x.shape[0]))
            return net(x_seq).mean(0)

        def reset():
            functional.reset_net(net)
        return net, forward, reset
    return build


def spikingjelly_impl(neuron_kind: str):
    from spikingjelly.activation_based import functional, layer, neuron

    def make_neuron():
        if neuron_kind == "lif":
            return neuron.LIFNode(tau=2.0, step_mode="m")
        return layer.SeqToANNContainer(nn.ReLU())

    def build():
        net = conv_stack(make_neuron, conv=lambda *a, **k: layer.Conv2d(*a, step_mode="m", **k),
                         bn=lambda c: layer.BatchNorm2d(c, step_mode="m"),
                         pool=lambda k: layer.MaxPool2d(k, step_mode="m"),
                         flatten=lambda: layer.Flatten(start_dim=1, step_mode="m"),
                         linear=lambda *a: layer.Linear(*a, step_mode="m"))

        def forward(x):
            return net(x.unsqueeze(0).repeat(T, 1, 1, 1, 1)).mean(0)

        def reset():
            functional.reset_net(net)
        return net, forward, reset
    return build


def snntorch_impl():
    import snntorch as snn

    def build():
        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.c1, self.b1 = nn.Conv2d(1, 32, 3, padding=1, bias=False), nn.BatchNorm2d(32)
                self.c2, self.b2 = nn.Conv2d(32, 32, 3, padding=1, bias=False), nn.BatchNorm2d(32)
                self.fc = nn.Linear(32 * 7 * 7, CLASSES)
                self.l1, self.l2, self.l3 = snn.Leaky(beta=0.5), snn.Leaky(beta=0.5), snn.Leaky(beta=0.5)

            def forward(self, x):
                m1, m2, m3 = self.l1.init_leaky(), self.l2.init_leaky(), self.l3.init_leaky()
                out = []
                for _ in range(T):
                    s1, m1 = self.l1(self.b1(self.c1(x)), m1)
                    s2, m2 = self.l2(self.b2(self.c2(nn.functional.max_pool2d(s1, 2))), m2)
                    s3, m3 = self.l3(self.fc(nn.functional.max_pool2d(s2, 2).flatten(1)), m3)
                    out.append(s3)
                return torch.stack(out).mean(0)
        net = Net()
        return net, net, lambda: None
    return build


def norse_impl():
    from norse.torch import LIF, LIFParameters, Lift, SequentialState

    def build():
        def lif():
            return LIF(p=LIFParameters(tau_mem_inv=torch.tensor(500.0)))
        net = SequentialState(
            Lift(nn.Conv2d(1, 32, 3, padding=1, bias=False)), Lift(nn.BatchNorm2d(32)), lif(), Lift(nn.MaxPool2d(2)),
            Lift(nn.Conv2d(32, 32, 3, padding=1, bias=False)), Lift(nn.BatchNorm2d(32)), lif(), Lift(nn.MaxPool2d(2)),
            Lift(nn.Flatten()), Lift(nn.Linear(32 * 7 * 7, CLASSES)), lif(),
        )

        def forward(x):
            out, _ = net(x.unsqueeze(0).repeat(T, 1, 1, 1, 1))
            return out.mean(0)
        return net, forward, lambda: None
    return build


def make_impls() -> dict:
    impls = {
        "spikesmith": spikesmith_impl("lif"),
        "spikesmith cl": spikesmith_impl("lif", channels_last=True),
        "spikesmith ReLU twin": spikesmith_impl("relu"),
        "spikesmith ReLU cl": spikesmith_impl("relu", channels_last=True),
    }
    for name, factory, args in [("spikingjelly 2.0", spikingjelly_impl, ("lif",)),
                                ("spikingjelly ReLU", spikingjelly_impl, ("relu",)),
                                ("snntorch 1.0", snntorch_impl, ()), ("norse 1.1", norse_impl, ())]:
        try:
            factory(*args)()
            impls[name] = factory(*args)
        except Exception:  # noqa: BLE001 - a peer that does not import is skipped
            pass
    return impls


MODEL_INPUTS = {"csnn": (1, 28, 28), "vgg": (1, 28, 28), "resnet": (1, 28, 28)}     # Fashion-MNIST


def model_impl(name: str, channels_last: bool, batch: int):
    """A registered conv model with its family's defaults, as the trainer builds it."""
    from spikesmith import functional
    from spikesmith.models import build_model, config_class
    from spikesmith.models.options import ModelInput

    def build():
        args = config_class(name)().arguments(ModelInput(MODEL_INPUTS[name], CLASSES))
        net = build_model(name, **args)
        if channels_last:
            net = net.to(memory_format=torch.channels_last)

        def forward(x):
            return net(x.unsqueeze(0).expand(T, *x.shape)).mean(0)

        def reset():
            functional.reset_net(net)
        return net, forward, reset
    build.input_shape, build.batch = MODEL_INPUTS[name], batch
    build.loss = "ce"
    return build


def time_interleaved(builds: dict, steps: int, warmup: int = 1) -> dict:
    """Median ms per training step of each build, their steps taken in turn (so that a change in
    the machine's load falls on all of them alike)."""
    steppers = {name: training_step(build) for name, build in builds.items()}
    for _ in range(warmup):
        for step in steppers.values():
            step()
    times = {name: [] for name in builds}
    for _ in range(steps):
        for name, step in steppers.items():
            t0 = time.perf_counter()
            step()
            times[name].append(time.perf_counter() - t0)
    return {name: statistics.median(t) * 1e3 for name, t in times.items()}


def training_step(build):
    torch.manual_seed(0)
    net, forward, reset = build()
    net.train()
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    batch = getattr(build, "batch", BATCH)
    x = torch.rand(batch, *getattr(build, "input_shape", (1, 28, 28)))
    labels = torch.randint(0, CLASSES, (batch,))
    target = nn.functional.one_hot(labels, CLASSES).float()

    def step():
        opt.zero_grad(set_to_none=True)
        out = forward(x)
        loss = nn.functional.cross_entropy(out, labels) if getattr(build, "loss", "mse") == "ce" else \
            nn.functional.mse_loss(out, target)
        loss.backward()
        opt.step()
        reset()
    return step


def main_models(args) -> None:
    print(f"# {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, torch {torch.__version__}, "
          f"{torch.get_num_threads()} threads; T={T}, batch {args.batch}, Adam, cross-entropy; median ms per "
          f"training step over {args.steps} steps, layouts interleaved")
    print(f"{'model':10s}{'default ms':>12s}{'channels_last ms':>18s}{'default / cl':>14s}  faster")
    for name in args.models:
        res = time_interleaved({"default": model_impl(name, False, args.batch),
                                "cl": model_impl(name, True, args.batch)}, args.steps)
        ratio = res["default"] / res["cl"]
        print(f"{name:10s}{res['default']:12.1f}{res['cl']:18.1f}{ratio:14.2f}  "
              f"{'channels_last' if ratio > 1 else 'default'}", flush=True)


# ----------------------------------------------------------------------------- timing
def time_training(build, steps: int, warmup: int = 3) -> float:
    torch.manual_seed(0)
    net, forward, reset = build()
    net.train()
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    x = torch.rand(BATCH, 1, 28, 28)
    target = nn.functional.one_hot(torch.randint(0, CLASSES, (BATCH,)), CLASSES).float()

    def step():
        opt.zero_grad(set_to_none=True)
        loss = nn.functional.mse_loss(forward(x), target)
        loss.backward()
        opt.step()
        reset()

    for _ in range(warmup):
        step()
    times = []
    for _ in range(steps):
        t0 = time.perf_counter()
        step()
        times.append(time.perf_counter() - t0)
    return statistics.median(times) * 1e3


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--only", nargs="*", help="names of the rows to run (default: all)")
    ap.add_argument("--models", nargs="*", choices=sorted(MODEL_INPUTS),
                    help="time these registered conv models in both layouts instead of the peers")
    ap.add_argument("--batch", type=int, default=BATCH, help="batch size of --models")
    ap.add_argument("--threads", type=int, default=None, help="torch.set_num_threads (default: torch's)")
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    from spikesmith import kernels

    kernels.reuse_freed_memory()
    if args.models:
        main_models(args)
        return
    impls = make_impls()
    if args.only:
        impls = {k: v for k, v in impls.items() if k in args.only}
    print(f"# {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, torch {torch.__version__}, "
          f"{torch.get_num_threads()} threads; T={T}, batch {BATCH}, 28x28, Adam; median ms per training step "
          f"over {args.steps} steps; freed memory reused in-process (kernels.reuse_freed_memory)")
    results = {}
    for name, build in impls.items():
        results[name] = time_training(build, args.steps)
    ref = results.get("spikingjelly 2.0")
    print(f"{'':24s}{'ms/step':>10s}{'SJ / this':>12s}")
    for name, ms in results.items():
        ratio = f"{ref / ms:12.2f}" if ref else f"{'-':>12s}"
        print(f"{name:24s}{ms:10.1f}{ratio}")


if __name__ == "__main__":
    main()
