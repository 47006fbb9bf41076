"""``spikesmith stdp``: the STDP runs, by model (``STDPConfig.model``, one of ``stdp_config.MODELS``):
Diehl & Cook (unsupervised, labels assigned afterwards), the hybrid (an STDP convolution under a
readout trained by gradient descent), or Nessler's stochastic WTA (probabilistic STDP, labels
assigned afterwards)."""

from __future__ import annotations

from typing import Optional

from ..training.distributed import DistContext
from .resume import resume_rules_for
from .skeleton import Run
from .stdp_config import STDPConfig


def run_stdp(cfg: STDPConfig, resume: Optional[str] = None, allow_nonfinite: bool = False) -> dict:
    """Train as configured; return the metrics written to ``metrics.json``.

    ``resume`` continues from a checkpoint of an earlier run (see ``run.resume``); weights holding
    NaN or Inf are refused unless ``allow_nonfinite``.
    """
    ctx = DistContext.from_env(cfg.dist_timeout)
    with ctx.unresponsive_ranks_named():   # a rank that stops answering ends the job, named
        run = Run(cfg, resume, ctx, rules=resume_rules_for(cfg.model), allow_nonfinite=allow_nonfinite)
        if cfg.model == "hybrid":
            from .hybrid import run_hybrid

            return run_hybrid(run)
        if cfg.model == "nessler":
            from .nessler import run_nessler

            return run_nessler(run)
        from .diehl_cook import run_diehl_cook

        return run_diehl_cook(run)
