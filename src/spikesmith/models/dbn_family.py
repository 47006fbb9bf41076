"""``--model dbn``: a deep belief network (``models.DBN``) trained by ``spikesmith train`` and run as
the spiking network of its rate-matched conversion.

One ``spikesmith train --model dbn`` run (the phases are ``run.dbn_phases``):

    pre-training   greedy CD on the RBMs (``pretrain_epochs``, ``cd_k``, ``persistent``, ``sparsity``)
    fine-tuning    the run's supervised epochs, on the rate network (sigmoid stack + softmax top)
    conversion     each hidden layer's threshold balanced on 1,000 training samples for ``T`` steps
    evaluation     the rate DBN (``test_accuracy``) and the spiking one (``snn_test_accuracy``,
                   ``agreement``: how often both predict the same class) in ``metrics.json``

:class:`SpikingDBN` holds the DBN (its RBMs, the feed-forward stack, the top layer) and each layer's
balanced threshold (buffer ``thresholds``, saved in the checkpoint). Its ``forward`` is the spiking
network: ``T x N x features`` (the run's encoder, ``direct`` or ``poisson``) -> ``T x N x classes``,
each hidden unit an IF (or LIF) neuron with the DBN's weights, as ``DBN.to_snn`` builds it. So
``spikesmith.load`` and ``spikesmith eval`` give the *spiking* network of a run; its rate DBN is
``net.dbn``. The ANN twin (``ann=True``) is the rate DBN alone: ``N x features -> N x classes``.

Run options that fit this family better than the run's defaults (``T`` of the spiking network,
``encoder``, the fine-tuning's ``epochs``, ``lr`` and ``batch_size``) are ``DBNConfig.run_defaults``,
applied under a config file and the command line.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, ClassVar, Optional, Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..learning.rbm import CDOptions
from .dbn import DBN, LIF_TAU, PRETRAIN_EPOCHS, SNN_T, SPIKING_NEURONS, THRESHOLDS
from .options import ModelInput, ModelOptions, option
from .registry import MODELS

__all__ = ["DBNConfig", "SpikingDBN", "parse_hidden"]

#: the only activation the rate twin accepts: the one every run passes (TrainConfig's default); its units are sigmoids
_NO_ACTIVATION = "relu"
#: threshold of every layer before ``calibrate``: the sigmoid's tangent at 0 (``THRESHOLDS['tangent']``)
_UNBALANCED = 4.0


def parse_hidden(value: Any, owner: str = "DBN") -> list[int]:
    """``"500,500"`` (or a list of ints, or one int) -> ``[500, 500]``; ValueError naming the option."""
    if isinstance(value, int) and not isinstance(value, bool):
        parts: Sequence[Any] = [value]
    elif isinstance(value, str):
        parts = [p.strip() for p in value.split(",")]
    elif isinstance(value, (list, tuple)):
        parts = list(value)
    else:
        parts = [None]
    widths = []
    for p in parts:
        try:
            width = int(p)
        except (TypeError, ValueError):
            width = 0
        if width < 1 or (isinstance(p, float) and not p.is_integer()) or isinstance(p, bool):
            raise ValueError(f"{owner}: hidden must list positive layer widths separated by commas, got {value!r}; "
                             f"e.g. hidden=500,500")
        widths.append(width)
    return widths


@dataclass
class DBNConfig(ModelOptions):
    default_encoder: ClassVar[str] = "direct"
    ann_twin: ClassVar[Optional[str]] = "rate DBN"
    #: run options this family sets under the config file and the command line (see the module docstring)
    run_defaults: ClassVar[dict] = {"T": SNN_T, "encoder": "direct", "epochs": 10, "lr": 3e-3, "batch_size": 64}

    hidden: str = option("500,500", "hidden layer widths, comma-separated (the visible layer is the input)")
    cd_k: int = option(CDOptions.k, "Gibbs steps per contrastive-divergence update (CD-k)")
    persistent: bool = option(CDOptions.persistent, "persistent CD: keep the negative chains between updates")
    pretrain_epochs: int = option(PRETRAIN_EPOCHS, "epochs of greedy CD pre-training per RBM (0: none, a plain "
                                                   "sigmoid net)")
    pretrain_lr: float = option(CDOptions.lr, "learning rate of CD pre-training")
    sparsity: Optional[float] = option(None, "target mean hidden activity of every RBM, in (0, 1) (default: none, "
                                             "no sparsity penalty)")
    neuron: str = option("if", "the spiking net's neuron: if (matches the rates) or lif", tuple(SPIKING_NEURONS))
    tau: Optional[float] = option(None, f"lif's membrane time constant in steps (default: {LIF_TAU}); if has none")
    balance: str = option("fit", "how each layer's threshold is balanced: fit (least squares against the sigmoid) "
                                 "or tangent (V_th = 4)", tuple(THRESHOLDS))

    def __post_init__(self):
        super().__post_init__()
        self.hidden = ",".join(map(str, parse_hidden(self.hidden)))
        for key in ("cd_k", "pretrain_epochs"):
            value, low = getattr(self, key), 1 if key == "cd_k" else 0
            self.check(isinstance(value, int) and not isinstance(value, bool) and value >= low,
                       f"{key} must be an int >= {low}, got {value!r}")
        self.check(isinstance(self.pretrain_lr, (int, float)) and math.isfinite(self.pretrain_lr)
                   and self.pretrain_lr > 0, f"pretrain_lr must be a number > 0, got {self.pretrain_lr!r}")
        self.check(self.sparsity is None or (isinstance(self.sparsity, (int, float)) and 0 < self.sparsity < 1),
                   f"sparsity must lie in (0, 1), got {self.sparsity!r}; e.g. 0.1, or none for no penalty")
        if self.neuron == "if":
            self.check(self.tau is None, f"tau applies to neuron lif only (if has no leak), got {self.tau!r}; "
                                         f"pass neuron=lif or no tau")
        elif self.tau is not None:
            self.check(math.isfinite(self.tau) and self.tau > 1, f"tau must be a number > 1 (steps), got {self.tau!r}")

    def arguments(self, data: ModelInput) -> dict[str, Any]:
        if data.temporal:
            raise ValueError(f"DBN needs a static dataset (images or feature vectors), got the temporal input "
                             f"{tuple(data.sample_shape)}; use fashion_mnist, mnist or digits")
        return {"sizes": [data.features, *parse_hidden(self.hidden)], "n_classes": data.num_classes,
                "k": self.cd_k, "persistent": self.persistent, "cd_lr": self.pretrain_lr,
                "sparsity_target": self.sparsity, "neuron": self.neuron, "balance": self.balance,
                # no tau for if: checkpoints drop the tau of a neuron without one (models.saved_arguments)
                **({"tau": self.tau} if self.neuron == "lif" else {})}

    @property
    def neuron_name(self) -> Optional[str]:
        return self.neuron


_D = DBNConfig


@MODELS.register("dbn", config=DBNConfig)
class SpikingDBN(nn.Module):
    """A deep belief network run as a spiking net (rate-matched conversion); its ANN twin is the rate DBN."""

    def __init__(self, sizes: Sequence[int] = (784, 500, 500), n_classes: int = 10, k: int = _D.cd_k,
                 persistent: bool = _D.persistent, cd_lr: float = _D.pretrain_lr,
                 sparsity_target: Optional[float] = _D.sparsity, neuron: str = _D.neuron,
                 tau: Optional[float] = _D.tau, balance: str = _D.balance, seed: Optional[int] = None,
                 ann: bool = False, activation: str = _NO_ACTIVATION):
        super().__init__()
        DBNConfig(neuron=neuron, tau=tau, balance=balance, cd_k=k, persistent=persistent, pretrain_lr=cd_lr,
                  sparsity=sparsity_target)                                           # checked once, there
        if activation != _NO_ACTIVATION:
            raise ValueError(f"DBN: the rate twin's units are sigmoids, so activation does not apply; leave it at "
                             f"{_NO_ACTIVATION!r}, got {activation!r}")
        if seed is None:         # from the run's seeded global generator: --seed changes the initial weights
            seed = int(torch.randint(0, 2**31 - 1, ()).item())
        self.dbn = DBN(sizes, n_classes, k=k, persistent=persistent, lr=cd_lr, sparsity_target=sparsity_target,
                       seed=seed)
        self.is_ann = bool(ann)
        self.neuron_kind, self.balance = neuron, balance
        self.tau = LIF_TAU if tau is None else float(tau)
        layers = len(self.dbn.hidden)
        self.register_buffer("thresholds", torch.full((layers,), _UNBALANCED))
        self.neurons = nn.ModuleList(SPIKING_NEURONS[neuron](_UNBALANCED, self.tau) for _ in range(layers))
        # a loaded checkpoint's thresholds reach the neurons (which keep theirs as plain floats)
        self.register_load_state_dict_post_hook(lambda module, incompatible: module._sync_neurons())

    @torch.no_grad()
    def _sync_neurons(self) -> None:
        """Each neuron's V_th from ``thresholds``, starting at V_th / 2 (``DBN.to_snn``'s neuron); resets them."""
        for node, v_th in zip(self.neurons, self.thresholds.tolist()):
            node.v_threshold, node.v_init = v_th, v_th / 2
            node.reset()

    @torch.no_grad()
    def calibrate(self, calibration: Tensor, T: int) -> list[float]:
        """Balance each layer's threshold on ``calibration`` inputs for a net run ``T`` steps; returns them."""
        thresholds = self.dbn.balanced_thresholds(calibration, T, self.balance)
        self.thresholds.copy_(torch.tensor(thresholds, dtype=self.thresholds.dtype))
        self._sync_neurons()
        return thresholds

    def forward(self, x: Tensor) -> Tensor:
        """Spiking: ``T x N x ...`` -> ``T x N x classes``; the rate twin (``ann=True``): ``N x ...`` -> ``N x classes``."""
        if self.is_ann:
            return self.dbn(x)
        if not isinstance(x, Tensor) or x.dim() < 3:
            raise ValueError(f"DBN: the spiking net takes a sequence [T, N, features] (the encoder's output), got "
                             f"shape {list(getattr(x, 'shape', []))}; call net.dbn(x) for the rate network")
        h = x.flatten(2)
        if h.shape[-1] != self.dbn.sizes[0]:
            raise ValueError(f"DBN: mismatched layer sizes: the input {list(x.shape)} has {h.shape[-1]} values per "
                             f"step but the visible layer has {self.dbn.sizes[0]}")
        for fc, node, v_th in zip(self.dbn.hidden, self.neurons, self.thresholds):
            h = node(F.linear(h, fc.weight, fc.bias + v_th / 2))   # DBN.to_snn's current z + V_th / 2
        return self.dbn.classifier(h)

    def extra_repr(self) -> str:
        return (f"sizes={self.dbn.sizes}, neuron={self.neuron_kind}, balance={self.balance}, "
                f"ann={self.is_ann}")
