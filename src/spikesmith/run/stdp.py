"""``spikesmith stdp``: the STDP runs, by model (``STDPConfig.model``, one of ``stdp_config.MODELS``):
Diehl & Cook (unsupervised, labels assigned afterwards), the hybrid (an STDP convolution under a
readout trained by gradient descent), Nessler's stochastic WTA (probabilistic STDP, labels assigned
afterwards) or the SDNN (Kheradpisheh et al. 2018: DoG, rank-order code,
IF convolutions trained layer by layer by simplified STDP, a logistic readout on their features)."""

from __future__ import annotations

from typing import Callable, Optional

from ..registry import Registry
from ..training.distributed import DistContext
from .resume import resume_rules_for
from .skeleton import Run
from .stdp_config import STDPConfig


def _diehl_cook(run: Run) -> dict:
    from .diehl_cook import run_diehl_cook

    return run_diehl_cook(run)


def _hybrid(run: Run) -> dict:
    from .hybrid import run_hybrid

    return run_hybrid(run)


def _nessler(run: Run) -> dict:
    from .nessler import run_nessler

    return run_nessler(run)


def _sdnn(run: Run) -> dict:
    from .sdnn import run_sdnn

    return run_sdnn(run)


#: The loop of each ``STDPConfig.model`` (imported when it runs).
STDP_RUNS: Registry[Callable[[Run], dict]] = Registry("STDP model")
STDP_RUNS.register("diehl_cook", _diehl_cook)
STDP_RUNS.register("hybrid", _hybrid)
STDP_RUNS.register("nessler", _nessler)
STDP_RUNS.register("sdnn", _sdnn, no_resume="spikesmith stdp --model sdnn does not resume: its run is short (STDP "
                   "on a few thousand images, features, a readout); start it again without --resume")


def run_stdp(cfg: STDPConfig, resume: Optional[str] = None, allow_nonfinite: bool = False) -> dict:
    """Train as configured; return the metrics written to ``metrics.json``.

    ``resume`` continues from a checkpoint of an earlier run (see ``run.resume``); weights holding
    NaN or Inf are refused unless ``allow_nonfinite``.
    """
    entry = STDP_RUNS.entry(cfg.model)
    if resume and "no_resume" in entry.info:
        raise ValueError(entry.info["no_resume"])
    ctx = DistContext.from_env(cfg.dist_timeout)
    with ctx.unresponsive_ranks_named():   # a rank that stops answering ends the job, named
        run = Run(cfg, resume, ctx, rules=resume_rules_for(cfg.model), allow_nonfinite=allow_nonfinite)
        return entry.obj(run)
