"""Triplet STDP (Pfister & Gerstner 2006), in its all-to-all trace form.

Two pre traces r1 (tau_plus), r2 (tau_x) and two post traces o1 (tau_minus), o2 (tau_y):

    at a post spike:  dW += f+(W) r1[t] (A2+ + A3+ o2[t-])
    at a pre spike:   dW -= f-(W) o1[t] (A2- + A3- r2[t-])

where ``o2[t-]`` and ``r2[t-]`` are the slow traces just before the current spike is added, so
a pair alone gives the pair rule with amplitudes A2+, A2-, and a second post spike shortly after
the first (a triplet post-pre-post) potentiates more by A3+ o2. The sums over time and batch are
matrix products as in :class:`~spikesmith.learning.STDPLearner`; bounds, normalisation,
reduction and sync are shared with it.

>>> learner = TripletSTDPLearner(fc, lif, a2_plus=5e-3, a3_plus=6e-3, a2_minus=7e-3, a3_minus=2e-4,
...                              tau_plus=16.8, tau_minus=33.7, tau_x=101.0, tau_y=125.0)
"""

from __future__ import annotations

from typing import Optional

from torch import Tensor, nn

from .stdp import TraceLearner, check_amplitude, check_state
from .synapses import outer_sum
from .traces import before_spike, check_positive, decay_factor, exp_trace


class TripletSTDPLearner(TraceLearner):
    """Triplet STDP on a Linear or Conv2d synapse (all-to-all traces).

    Args:
        a2_plus, a3_plus, a2_minus, a3_minus: pair and triplet amplitudes (>= 0; depression's sign is the rule's).
        tau_plus, tau_minus: fast pre (r1) and post (o1) trace time constants.
        tau_x, tau_y: slow pre (r2) and post (o2) trace time constants.
        **kwargs: ``dt``, ``weight_dependence``, ``w_min``, ``w_max``, ``norm``, ``reduction``, ``sync``,
            ``freeze`` as for :class:`~spikesmith.learning.STDPLearner`.
    """

    def __init__(self, synapse: nn.Module, neuron: nn.Module, a2_plus: float = 5e-3, a3_plus: float = 6.2e-3,
                 a2_minus: float = 7e-3, a3_minus: float = 2.3e-4, tau_plus: float = 16.8, tau_minus: float = 33.7,
                 tau_x: float = 101.0, tau_y: float = 125.0, **kwargs):
        owner = type(self).__name__
        hint = "pass magnitudes; the rule gives depression its minus sign"
        self.a2_plus = check_amplitude(a2_plus, owner, "a2_plus", hint)
        self.a3_plus = check_amplitude(a3_plus, owner, "a3_plus", hint)
        self.a2_minus = check_amplitude(a2_minus, owner, "a2_minus", hint)
        self.a3_minus = check_amplitude(a3_minus, owner, "a3_minus", hint)
        self.taus = {name: check_positive(v, owner, name) for name, v in
                     (("tau_plus", tau_plus), ("tau_minus", tau_minus), ("tau_x", tau_x), ("tau_y", tau_y))}
        super().__init__(synapse, neuron, **kwargs)
        self.state: dict[str, Optional[Tensor]] = {"r1": None, "r2": None, "o1": None, "o2": None}

    def _changes(self, pre: Tensor, post: Tensor) -> tuple[Tensor, Tensor]:
        check_state(self, self.state["r1"], pre)
        d = {k: decay_factor(v, self.dt) for k, v in self.taus.items()}
        pairs = (("r1", pre, d["tau_plus"]), ("r2", pre, d["tau_x"]), ("o1", post, d["tau_minus"]),
                 ("o2", post, d["tau_y"]))
        tr = {name: exp_trace(s, decay, self.state[name]) for name, s, decay in pairs}
        o2_prev = before_spike(tr["o2"], d["tau_y"], self.state["o2"])
        r2_prev = before_spike(tr["r2"], d["tau_x"], self.state["r2"])
        for name in self.state:
            self.state[name] = tr[name][-1]
        ltp = outer_sum(self.synapse, post * (self.a2_plus + self.a3_plus * o2_prev), tr["r1"])
        ltd = outer_sum(self.synapse, tr["o1"], pre * (self.a2_minus + self.a3_minus * r2_prev))
        return ltp, ltd

    def reset(self) -> None:
        super().reset()
        self.state = dict.fromkeys(self.state)
