"""Deep belief network: greedy layer-wise RBM pre-training, a softmax top layer, fine-tuning by
backprop through the sigmoid stack, and conversion to a spiking network.

Rate network (``forward``): h_0 = x, h_l = sigmoid(W_l h_{l-1} + c_l) for each RBM l, logits =
W_out h_L + b_out (softmax in the loss). ``pretrain`` trains RBM l on the hidden probabilities of
RBMs 1..l-1 (Hinton, Osindero & Teh 2006); the stack's Linear layers start from the RBMs' weights
and hidden biases; ``fine_tune`` trains the whole stack on labels with cross-entropy.

Conversion (``to_snn``), chosen here: **rate-matched conversion with threshold balancing**, in the
spirit of O'Connor et al. (2013) but without their Siegert-rate training. Each sigmoid unit becomes
an IF neuron (no leak, soft reset: V -= V_th at a spike, spikes of amplitude 1) driven by the same
weights. With input rates r and z = W r + c, the neuron gets the current z + V_th / 2 and starts
at V(0) = V_th / 2, so over T steps its rate is

    rate(z) = clamp(round(T (z / V_th + 1/2)) / T, 0, 1)      ~  sigmoid(z)

a clipped line through (0, 1/2). The slope 1 / V_th is the layer's balanced threshold, picked from
data: V_th_l minimises E[(rate(z) - sigmoid(z))^2] over the rate network's pre-activations z of
layer l on calibration inputs (``threshold='fit'``, default; T enters through the rounding), or
V_th = 4, the sigmoid's tangent at 0 (``threshold='tangent'``). The top layer is a plain Linear
read out per step; its mean over T is W_out r_L + b_out, the rate network's logits.
``neuron='lif'`` uses LIF neurons (``decay_input=False``, soft reset) with time constant ``tau``;
the leak lowers their rates, so a large ``tau`` is needed to stay close to the IF match.

Input of the spiking net: ``T x N x sizes[0]``, per step either the values themselves (direct
encoding) or Bernoulli spikes with those probabilities (``encode(x, T, 'poisson')``).

>>> dbn = DBN([784, 500, 500], n_classes=10)
>>> dbn.pretrain(x_train, epochs=5); dbn.fine_tune(x_train, y_train, epochs=10)
>>> snn = dbn.to_snn(x_train[:1000], T=200)          # nn.Sequential, step mode 'm'
>>> logits = spiking_logits(snn, encode(x_test, 200))  # [N, 10]
"""

from __future__ import annotations

from typing import Callable, Iterable, Optional, Sequence, Union

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .. import layer, neuron
from ..functional import reset_net
from ..learning.rbm import RBM, CDOptions

__all__ = ["DBN", "encode", "spiking_logits", "THRESHOLDS", "SPIKING_NEURONS", "PRETRAIN_EPOCHS", "SNN_T", "LIF_TAU"]

#: the defaults of pre-training, of the spiking net's time steps and of its LIF time constant
PRETRAIN_EPOCHS = 5
SNN_T = 200
LIF_TAU = 100.0


def _positive_int(value, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ValueError(f"DBN: {what} must be a positive int, got {value!r}")
    return value


def _check_sizes(sizes) -> list[int]:
    if isinstance(sizes, (str, bytes)) or not isinstance(sizes, Sequence) or len(sizes) < 2:
        raise ValueError(f"DBN: sizes must list at least two layer widths (visible first), got {sizes!r}; "
                         f"e.g. sizes=[784, 500, 500]")
    return [_positive_int(s, f"every entry of sizes (got sizes={list(sizes)!r})") for s in sizes]


# ------------------------------------------------------------------ thresholds: how V_th is balanced
def _rate(z: Tensor, threshold: Tensor, T: int) -> Tensor:
    """The IF neuron's rate for pre-activation z: clamp(round(T (z / V_th + 1/2)) / T, 0, 1)."""
    return torch.clamp(torch.floor(T * (z / threshold + 0.5) + 0.5) / T, 0, 1)


def fit_threshold(z: Tensor, T: int, grid: int = 64, low: float = 1.0, high: float = 12.0) -> float:
    """The V_th in [low, high] minimising the mean of (rate(z) - sigmoid(z))^2 over the values z."""
    z = z.detach().reshape(-1).to(torch.float64)
    target = torch.sigmoid(z)
    candidates = torch.linspace(low, high, grid, dtype=torch.float64)
    errors = torch.stack([(_rate(z, th, T) - target).pow(2).mean() for th in candidates])
    return float(candidates[errors.argmin()])


def tangent_threshold(z: Tensor, T: int) -> float:
    """V_th = 4: the line z / 4 + 1/2 is the sigmoid's tangent at 0."""
    return 4.0


#: how ``to_snn`` picks each layer's threshold from its pre-activations on calibration data
THRESHOLDS: dict[str, Callable[[Tensor, int], float]] = {"fit": fit_threshold, "tangent": tangent_threshold}

#: the spiking neuron that replaces a sigmoid unit: (V_th, tau) -> a multi-step neuron, soft reset
SPIKING_NEURONS: dict[str, Callable[[float, float], nn.Module]] = {
    "if": lambda th, tau: neuron.IFNode(v_threshold=th, v_reset=None, v_init=th / 2, step_mode="m"),
    "lif": lambda th, tau: neuron.LIFNode(tau=tau, decay_input=False, v_threshold=th, v_reset=None, v_init=th / 2,
                                          step_mode="m"),
}


def _choose(table: dict, name: str, what: str):
    if name not in table:
        raise ValueError(f"DBN.to_snn: unknown {what} {name!r}; choose one of {sorted(table)}")
    return table[name]


# ------------------------------------------------------------------ spiking input and readout
def encode(x: Tensor, T: int, encoding: str = "direct", generator: Optional[torch.Generator] = None) -> Tensor:
    """``[N, F]`` values in [0, 1] -> ``[T, N, F]``: the values at every step (``'direct'``) or
    Bernoulli spikes with those probabilities (``'poisson'``)."""
    T = _positive_int(T, "T (time steps)")
    if encoding == "direct":
        return x.unsqueeze(0).expand(T, *x.shape)
    if encoding == "poisson":
        u = torch.rand((T, *x.shape), generator=generator, dtype=x.dtype, device=x.device)
        return (u < x).to(x.dtype)
    raise ValueError(f"DBN encode: unknown encoding {encoding!r}; choose 'direct' or 'poisson'")


@torch.no_grad()
def spiking_logits(snn: nn.Module, x_seq: Tensor) -> Tensor:
    """Reset the network, run the ``T x N x F`` input through it and average its outputs over time."""
    reset_net(snn)
    out = snn(x_seq).mean(0)
    reset_net(snn)
    return out


# ------------------------------------------------------------------ the network
def _batches(x: Tensor, y: Optional[Tensor], batch_size: int, generator: torch.Generator):
    order = torch.randperm(x.shape[0], generator=generator)
    for start in range(0, x.shape[0], batch_size):
        idx = order[start:start + batch_size]
        yield x[idx], (None if y is None else y[idx])


def _split(item):
    if isinstance(item, (tuple, list)):
        return item[0], (item[1] if len(item) > 1 else None)
    return item, None


class DBN(nn.Module):
    """A stack of RBMs (``sizes`` = visible width, then each hidden width) with a softmax top layer.

    Args:
        sizes: layer widths, visible first (at least two positive ints).
        n_classes: classes of the top layer.
        k, persistent, lr, momentum, weight_decay, sparsity_target, sparsity_cost: each RBM's CD options.
        seed: seeds the RBMs (layer l gets seed + l), the top layer and the batch order.

    ``forward(x)``: ``[N, sizes[0]]`` (or ``[N, ...]`` flattened) -> logits ``[N, n_classes]``.
    """

    def __init__(self, sizes: Sequence[int] = (784, 500, 500), n_classes: int = 10, *, k: int = CDOptions.k,
                 persistent: bool = CDOptions.persistent, lr: float = CDOptions.lr,
                 momentum: float = CDOptions.momentum, weight_decay: float = CDOptions.weight_decay,
                 sparsity_target: Optional[float] = None, sparsity_cost: float = CDOptions.sparsity_cost,
                 seed: int = 0):
        sizes = _check_sizes(sizes)
        rbms = [RBM(a, b, k=k, persistent=persistent, lr=lr, momentum=momentum, weight_decay=weight_decay,
                    sparsity_target=sparsity_target, sparsity_cost=sparsity_cost, seed=seed + i)
                for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:]))]
        self._build(rbms, n_classes, seed)

    @classmethod
    def from_rbms(cls, rbms: Sequence[RBM], n_classes: int = 10, seed: int = 0) -> "DBN":
        """A DBN over already trained RBMs; each RBM's n_visible must equal the previous one's n_hidden."""
        if not rbms or not all(isinstance(r, RBM) for r in rbms):
            raise ValueError(f"DBN.from_rbms: pass a non-empty list of learning.RBM, got {rbms!r}")
        for i, (below, above) in enumerate(zip(rbms[:-1], rbms[1:])):
            if below.n_hidden != above.n_visible:
                raise ValueError(f"DBN: mismatched layer sizes: RBM {i} has {below.n_hidden} hidden units but RBM "
                                 f"{i + 1} has {above.n_visible} visible units; they must be equal")
        dbn = cls.__new__(cls)
        dbn._build(list(rbms), n_classes, seed)
        dbn.load_rbm_weights()
        return dbn

    def _build(self, rbms: list[RBM], n_classes: int, seed: int) -> None:
        nn.Module.__init__(self)
        self.n_classes = _positive_int(n_classes, "n_classes")
        self.sizes = [rbms[0].n_visible] + [r.n_hidden for r in rbms]
        self.rbms = nn.ModuleList(rbms)
        generator = torch.Generator().manual_seed(int(seed))
        self.generator = generator
        self.hidden = nn.ModuleList(nn.Linear(a, b) for a, b in zip(self.sizes[:-1], self.sizes[1:]))
        self.classifier = nn.Linear(self.sizes[-1], self.n_classes)
        with torch.no_grad():
            self.classifier.weight.copy_(0.01 * torch.randn(self.classifier.weight.shape, generator=generator))
            self.classifier.bias.zero_()
        self.load_rbm_weights()

    # ------------------------------------------------------------------ shapes
    def _flat(self, x: Tensor, where: str) -> Tensor:
        if not isinstance(x, Tensor) or not x.is_floating_point():
            raise TypeError(f"DBN.{where}: input must be a floating-point tensor, got "
                            f"{getattr(x, 'dtype', type(x).__name__)}; convert it with .float()")
        width = x[0].numel() if x.dim() >= 2 else None
        if width != self.sizes[0]:
            raise ValueError(f"DBN.{where}: mismatched layer sizes: the input {list(x.shape)} has {width} values per "
                             f"sample but the visible layer has sizes[0] = {self.sizes[0]}; pass [N, {self.sizes[0]}]")
        return x.reshape(x.shape[0], -1)

    def load_rbm_weights(self) -> None:
        """Copy each RBM's weight and hidden bias into the feed-forward stack."""
        with torch.no_grad():
            for rbm, fc in zip(self.rbms, self.hidden):
                fc.weight.copy_(rbm.weight)
                fc.bias.copy_(rbm.hidden_bias)

    # ------------------------------------------------------------------ the rate network
    def features(self, x: Tensor) -> list[Tensor]:
        """The pre-activations z_l of every hidden layer (the sigmoid's inputs), in order."""
        h, out = self._flat(x, "forward"), []
        for fc in self.hidden:
            z = fc(h)
            out.append(z)
            h = torch.sigmoid(z)
        return out

    def forward(self, x: Tensor) -> Tensor:
        h = self._flat(x, "forward")
        for fc in self.hidden:
            h = torch.sigmoid(fc(h))
        return self.classifier(h)

    @torch.no_grad()
    def predict(self, x: Tensor) -> Tensor:
        return self(x).argmax(-1)

    @torch.no_grad()
    def accuracy(self, x: Tensor, y: Tensor) -> float:
        return float((self.predict(x) == y).float().mean())

    # ------------------------------------------------------------------ training
    @torch.no_grad()
    def _up(self, h: Tensor, depth: int) -> Tensor:
        for rbm in self.rbms[:depth]:
            h = rbm.hidden_probs(h)
        return h

    def pretrain(self, data: Union[Tensor, Iterable], epochs: int = PRETRAIN_EPOCHS, batch_size: int = 64,
                 progress: bool = True) -> list[list]:
        """Greedy layer-wise CD training: RBM l on the hidden probabilities of the RBMs below it.

        ``data``: a tensor ``[N, sizes[0]]`` (or ``[N, ...]``), or an iterable of batches / (x, y) pairs
        (a DataLoader, iterated once per epoch per layer). Returns each RBM's stats; the stack's Linear
        layers are then set from the RBMs."""
        history = []
        for depth, rbm in enumerate(self.rbms):
            if isinstance(data, Tensor):
                layer_data: Union[Tensor, list] = self._up(self._flat(data, "pretrain"), depth)
            else:
                layer_data = _MappedBatches(data, lambda x, d=depth: self._up(self._flat(x, "pretrain"), d))
            desc = f"DBN pretrain layer {depth + 1}/{len(self.rbms)} ({rbm.n_visible}->{rbm.n_hidden})"
            history.append(rbm.fit(layer_data, epochs=epochs, batch_size=batch_size, progress=progress, desc=desc))
        self.load_rbm_weights()
        return history

    def fine_tune(self, data: Union[Tensor, Iterable], labels: Optional[Tensor] = None, epochs: int = 10,
                  batch_size: int = 64, lr: float = 1e-3, progress: bool = True) -> list[float]:
        """Backprop through the sigmoid stack and the softmax top layer (cross-entropy, Adam).

        ``data`` with ``labels`` (tensors), or an iterable of (x, y) batches. Returns the mean loss per epoch."""
        from tqdm.auto import tqdm

        _positive_int(epochs, "epochs")
        _positive_int(batch_size, "batch_size")
        if isinstance(data, Tensor):
            if not isinstance(labels, Tensor) or labels.shape[:1] != data.shape[:1]:
                raise ValueError(f"DBN.fine_tune: labels must be a tensor [N] matching data's {data.shape[0]} rows, "
                                 f"got {getattr(labels, 'shape', labels)!r}")
            if labels.numel() and (int(labels.min()) < 0 or int(labels.max()) >= self.n_classes):
                raise ValueError(f"DBN.fine_tune: labels must lie in [0, {self.n_classes}), got "
                                 f"[{int(labels.min())}, {int(labels.max())}]; set n_classes to match")
        params = list(self.hidden.parameters()) + list(self.classifier.parameters())
        optimiser = torch.optim.Adam(params, lr=lr)
        losses = []
        bar = tqdm(range(epochs), desc="DBN fine-tune", disable=not progress, unit="epoch")
        for _ in bar:
            batches = _batches(data, labels.long(), batch_size, self.generator) if isinstance(data, Tensor) else (
                _split(item) for item in data)
            total, count = 0.0, 0
            for x, y in batches:
                if y is None:
                    raise ValueError("DBN.fine_tune: the loader yields no labels; it must yield (x, y) pairs")
                loss = F.cross_entropy(self(x), y.long())
                optimiser.zero_grad()
                loss.backward()
                optimiser.step()
                total, count = total + float(loss.detach()) * x.shape[0], count + x.shape[0]
            losses.append(total / max(count, 1))
            bar.set_postfix(loss=f"{losses[-1]:.4f}")
        return losses

    # ------------------------------------------------------------------ conversion
    @torch.no_grad()
    def balanced_thresholds(self, calibration: Tensor, T: int = SNN_T, threshold: str = "fit") -> list[float]:
        """Each hidden layer's V_th, picked by ``threshold`` (one of ``THRESHOLDS``) from the rate
        network's pre-activations on ``calibration`` inputs ``[M, sizes[0]]`` for a net run ``T`` steps."""
        pick = _choose(THRESHOLDS, threshold, "threshold")
        T = _positive_int(T, "T (time steps)")
        return [float(pick(z, T)) for z in self.features(calibration)]

    @torch.no_grad()
    def to_snn(self, calibration: Tensor, T: int = SNN_T, threshold: str = "fit", neuron: str = "if",
               tau: float = LIF_TAU) -> nn.Sequential:
        """The spiking network (module docstring): Linear -> IF (or LIF) per hidden layer, then the top
        Linear; ``nn.Sequential`` in step mode ``'m'``, input ``[T, N, sizes[0]]``, output
        ``[T, N, n_classes]`` (average over T for the logits). ``calibration``: inputs ``[M, sizes[0]]``
        whose pre-activations choose each layer's V_th (``threshold``: one of ``THRESHOLDS``); ``T``:
        the steps the network will run, used by the fit's rounding."""
        _choose(THRESHOLDS, threshold, "threshold")
        build = _choose(SPIKING_NEURONS, neuron, "neuron")
        modules: list[nn.Module] = []
        for fc, v_th in zip(self.hidden, self.balanced_thresholds(calibration, T, threshold)):
            lin = layer.Linear(fc.in_features, fc.out_features, step_mode="m")
            lin.weight.copy_(fc.weight)
            lin.bias.copy_(fc.bias + v_th / 2)
            modules += [lin, build(v_th, tau)]
        top = layer.Linear(self.classifier.in_features, self.n_classes, step_mode="m")
        top.weight.copy_(self.classifier.weight)
        top.bias.copy_(self.classifier.bias)
        modules.append(top)
        return nn.Sequential(*modules)

    @torch.no_grad()
    def reconstruct(self, x: Tensor, depth: Optional[int] = None) -> Tensor:
        """Mean-field reconstruction through the first ``depth`` RBMs (default: all): up by p(h|v),
        then down by p(v|h); ``[N, sizes[0]] -> [N, sizes[0]]``."""
        depth = len(self.rbms) if depth is None else depth
        if isinstance(depth, bool) or not isinstance(depth, int) or not 1 <= depth <= len(self.rbms):
            raise ValueError(f"DBN.reconstruct: depth must be an int in [1, {len(self.rbms)}], got {depth!r}")
        h = self._up(self._flat(x, "reconstruct"), depth)
        for rbm in reversed(self.rbms[:depth]):
            h = rbm.visible_probs(h)
        return h


class _MappedBatches:
    """Re-iterable view of a loader whose batches pass through ``fn`` (the RBMs below a layer)."""

    def __init__(self, loader: Iterable, fn: Callable[[Tensor], Tensor]):
        self.loader, self.fn = loader, fn

    def __iter__(self):
        for item in self.loader:
            x, _ = _split(item)
            yield self.fn(x)
