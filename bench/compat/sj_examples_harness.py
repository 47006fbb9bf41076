"""Run one SpikingJelly example script tiny, on CPU, and record what it computed (used by sj_examples.py).

    python sj_examples_harness.py SCRIPT RECORD.pt JSON_OPTIONS

Run in a fresh process with the script's folder as working directory. Before the script starts it:

* seeds ``random``, NumPy and torch with 0 and uses one thread;
* gives the script a stand-in ``torchvision`` when none is installed: its MNIST/Fashion-MNIST are the
  first images of Fashion-MNIST from ``spikesmith.data`` (MNIST is not on this machine), its CIFAR are
  seeded noise, each split only ``samples`` long; the transforms used by the examples work on tensors,
  and the random ones (crop, flip) are the identity;
* maps CUDA onto the CPU: ``.cuda()`` is the identity, ``torch.cuda.set_device`` does nothing;
* stops a script that never ends (``while 1:``) at its ``stop_at_backward``-th ``backward()`` call;
* answers ``input()`` prompts from ``inputs`` and draws with matplotlib's Agg backend.

While the script runs it records, in order: every loss given to ``backward()``, the output of every
outermost module call (a module called from no other module), and at the end the state of every module
created that is not inside another one. The record is written even when the script fails, with the
error. The recording is the same for both runs, so a difference between the records is a difference of
the library under the script.
"""

from __future__ import annotations

import builtins
import json
import os
import random
import runpy
import sys
import traceback
import types
import warnings


def _images(kind: str, train: bool, samples: int):
    import torch

    if kind in ("MNIST", "FashionMNIST"):
        try:
            from spikesmith.data import get_dataset

            data = get_dataset("fashion_mnist", "train" if train else "test", download=False)
            x, y = data.tensors if hasattr(data, "tensors") else (data.inputs, data.labels)
            return x[:samples].reshape(-1, 1, 28, 28).float(), y[:samples].long()
        except Exception:  # noqa: BLE001 - no Fashion-MNIST here: seeded noise instead
            shape = (1, 28, 28)
    else:
        shape = (3, 32, 32)
    generator = torch.Generator().manual_seed(7 if train else 8)
    classes = 100 if kind == "CIFAR100" else 10
    return (torch.rand(samples, *shape, generator=generator),
            torch.randint(0, classes, (samples,), generator=generator))


def _torchvision_stand_in(samples: int) -> None:
    import torch
    import torch.nn.functional as F

    tv = types.ModuleType("torchvision")
    tv.__version__ = "stand-in"
    datasets = types.ModuleType("torchvision.datasets")
    transforms = types.ModuleType("torchvision.transforms")

    class _Images(torch.utils.data.Dataset):
        def __init__(self, root=None, train=True, transform=None, target_transform=None, download=False, **_):
            self.images, self.targets = _images(type(self).__name__, train, samples)
            self.data = (self.images * 255).round().to(torch.uint8).squeeze(1)
            self.transform, self.target_transform = transform, target_transform

        def __len__(self):
            return len(self.images)

        def __getitem__(self, index):
            x, y = self.images[index], int(self.targets[index])
            if self.transform is not None:
                x = self.transform(x)
            if self.target_transform is not None:
                y = self.target_transform(y)
            return x, y

    for name in ("MNIST", "FashionMNIST", "CIFAR10", "CIFAR100"):
        setattr(datasets, name, type(name, (_Images,), {}))

    class _Same:
        def __init__(self, *args, **kwargs):
            pass

        def __call__(self, x):
            return x if isinstance(x, torch.Tensor) else torch.as_tensor(x)

    class Compose:
        def __init__(self, steps):
            self.steps = steps

        def __call__(self, x):
            for step in self.steps:
                x = step(x)
            return x

    class Normalize:
        def __init__(self, mean, std, inplace=False):
            self.mean, self.std = torch.tensor(mean)[:, None, None], torch.tensor(std)[:, None, None]

        def __call__(self, x):
            return (x - self.mean) / self.std

    class Resize:
        def __init__(self, size, *args, **kwargs):
            self.size = (size, size) if isinstance(size, int) else tuple(size)

        def __call__(self, x):
            return F.interpolate(x[None], size=self.size, mode="bilinear", align_corners=False)[0]

    for name in ("ToTensor", "ToPILImage", "RandomCrop", "RandomHorizontalFlip", "Lambda"):
        setattr(transforms, name, type(name, (_Same,), {}))
    transforms.Lambda = lambda fn: fn
    transforms.Compose, transforms.Normalize, transforms.Resize = Compose, Normalize, Resize
    tv.datasets, tv.transforms = datasets, transforms
    sys.modules.update({"torchvision": tv, "torchvision.datasets": datasets, "torchvision.transforms": transforms})


class _Enough(Exception):
    """Raised at the backward() call given by ``stop_at_backward``: the script has run far enough."""


def _install_recorder(record: dict) -> None:
    import torch
    import torch.nn as nn

    created: list = []
    depth = [0]
    module_init, module_call, tensor_backward = nn.Module.__init__, nn.Module.__call__, torch.Tensor.backward

    def init(self, *args, **kwargs):
        module_init(self, *args, **kwargs)
        created.append(self)

    def call(self, *args, **kwargs):
        depth[0] += 1
        try:
            out = module_call(self, *args, **kwargs)
        finally:
            depth[0] -= 1
        if depth[0] == 0 and isinstance(out, torch.Tensor):
            record["outputs"].append(out.detach().float().clone())
        return out

    def backward(self, *args, **kwargs):
        if len(record["losses"]) == record["stop_at"]:
            raise _Enough
        record["losses"].append(self.detach().float().clone().reshape(-1)[:16])
        return tensor_backward(self, *args, **kwargs)

    nn.Module.__init__, nn.Module.__call__, torch.Tensor.backward = init, call, backward
    record["_created"] = created


def _final_states(created: list) -> list:
    import torch

    inner = {id(child) for module in created for child in module.modules() if child is not module}
    states = []
    for module in created:
        if id(module) in inner:
            continue
        state = {k: v.detach().float().clone() for k, v in module.state_dict().items()
                 if isinstance(v, torch.Tensor) and v.is_floating_point()}
        if state:
            states.append(state)
    return states


def main() -> None:
    script, out_path, options = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
    warnings.simplefilter("ignore")
    import numpy as np
    import torch

    torch.set_num_threads(1)
    random.seed(0)
    np.random.seed(0)
    torch.manual_seed(0)
    os.environ["MPLBACKEND"] = "Agg"
    import importlib.util

    if importlib.util.find_spec("torchvision") is None:
        _torchvision_stand_in(options.get("samples", 8))
    torch.Tensor.cuda = lambda self, *a, **k: self
    torch.nn.Module.cuda = lambda self, *a, **k: self
    torch.cuda.set_device = lambda *a, **k: None
    answers = list(options.get("inputs", []))
    builtins.input = lambda prompt="": answers.pop(0)
    record: dict = {"losses": [], "outputs": [], "error": None, "stop_at": options.get("stop_at_backward", -1)}
    _install_recorder(record)
    sys.argv = [script] + options.get("argv", [])
    sys.path.insert(0, os.path.dirname(os.path.abspath(script)))
    try:
        runpy.run_path(script, run_name="__main__")
    except _Enough:
        pass
    except SystemExit as done:
        if done.code not in (None, 0):
            record["error"] = f"SystemExit: {done.code}"
    except BaseException as error:  # noqa: BLE001 - any failure of the script is the finding
        last = traceback.extract_tb(error.__traceback__)[-1]
        record["error"] = (f"{type(error).__name__}: {str(error).strip().splitlines()[0][:200] if str(error).strip() else ''}"
                           f" ({os.path.basename(last.filename)}:{last.lineno})")
    record["states"] = _final_states(record.pop("_created"))
    torch.save(record, out_path)


if __name__ == "__main__":
    main()
