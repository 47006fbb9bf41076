"""Local learning: STDP (pair, triplet, reward-modulated) on Linear and Conv2d synapses, lateral
inhibition and adaptive thresholds as step hooks, label assignment for unsupervised layers,
and helpers to mix STDP with gradient descent.

>>> fc = layer.Linear(64, 20, bias=False, step_mode="m"); lif = neuron.LIFNode(step_mode="m")
>>> nn.init.uniform_(fc.weight, 0, 0.3)
>>> learner = STDPLearner(fc, lif, a_plus=1e-2, a_minus=1e-4, w_min=0, w_max=1, norm=6.4)
>>> AdaptiveThreshold(20).attach(lif); LateralInhibition(strength=5.0, k=1).attach(lif)
>>> lif(fc(spikes)); learner.step(); functional.reset_net(lif); learner.reset()
"""

from .assign import ResponseAssigner, assign_labels, class_scores, classify
from .hooks import AdaptiveThreshold, LateralInhibition
from .hybrid import gd_parameters, reset_learners, stdp_parameters, step_learners
from .reward import RewardSTDPLearner
from .stdp import STDPLearner, TraceLearner, normalize_weights
from .traces import decay_factor, exp_trace
from .triplet import TripletSTDPLearner

__all__ = [
    "AdaptiveThreshold", "LateralInhibition", "ResponseAssigner", "RewardSTDPLearner", "STDPLearner", "TraceLearner",
    "TripletSTDPLearner", "assign_labels", "class_scores", "classify", "decay_factor", "exp_trace", "gd_parameters",
    "normalize_weights", "reset_learners", "stdp_parameters", "step_learners",
]

from .event_cd import EventCDOptions, EventCDRBM  # noqa: E402
from .rbm import RBM, CDOptions, RBMParams, RBMStats, RBMTrainState  # noqa: E402

__all__ += ["CDOptions", "EventCDOptions", "EventCDRBM", "RBM", "RBMParams", "RBMStats", "RBMTrainState"]

from .chronotron import ChronotronE, ChronotronI, e_learning_update, i_learning_update  # noqa: E402
from .resume import ReSuMe, resume_update  # noqa: E402
from .span import SPAN, alpha_convolve, span_update  # noqa: E402
from .timing_neuron import TimingLIF, membrane_response, simulate, synaptic_current, target_train  # noqa: E402
from .timing_trainer import SpikeTimingNeuron, TimingHistory  # noqa: E402

__all__ += ["ChronotronE", "ChronotronI", "ReSuMe", "SPAN", "SpikeTimingNeuron", "TimingHistory", "TimingLIF",
            "alpha_convolve", "e_learning_update", "i_learning_update", "membrane_response", "resume_update",
            "simulate", "span_update", "synaptic_current", "target_train"]

# issue 16: probabilistic STDP with a stochastic WTA (Nessler 2013), random feedback (FA, DFA)
from .feedback import FEEDBACK_MODES, FEEDBACK_PLANS, FeedbackPlan, attach_feedback  # noqa: E402
from .nessler import homeostatic_bias_update, nessler_bias_update, nessler_weight_update  # noqa: E402
from .stochastic_wta import wta_spikes  # noqa: E402

__all__ += ["FEEDBACK_MODES", "FEEDBACK_PLANS", "FeedbackPlan", "attach_feedback", "homeostatic_bias_update",
            "nessler_bias_update", "nessler_weight_update", "wta_spikes"]
