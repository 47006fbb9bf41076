"""Dynamic (Tsodyks-Markram) synapses for the liquid, as a pure step on per-connection state.

For a synapse with use U, depression time constant D and facilitation time constant F, the n-th
presynaptic spike (interval Delta after the previous one) has the efficacy u_n R_n, where

    u_1 = U,  R_1 = 1
    u_{n+1} = U + u_n (1 - U) exp(-Delta / F)
    R_{n+1} = 1 + (R_n - u_n R_n - 1) exp(-Delta / D)

and the postsynaptic current jumps by A u_n R_n (A: the static weight). The step below keeps
``excess`` = u - U after the last spike and R, decays both every step and applies a spike, which
reproduces the recursion exactly at whole steps. Parameters by pair type (presynaptic first) are
those Maass et al. (2002) take from Markram et al. (1998), in ms.
"""

from __future__ import annotations

from torch import Tensor

from .lsm_connectivity import PairValues

__all__ = ["DEPRESSION_MS", "FACILITATION_MS", "USE", "tsodyks_markram_step"]

USE = PairValues(ee=0.5, ei=0.05, ie=0.25, ii=0.32)
DEPRESSION_MS = PairValues(ee=1100.0, ei=125.0, ie=700.0, ii=144.0)
FACILITATION_MS = PairValues(ee=50.0, ei=1200.0, ie=20.0, ii=60.0)


def tsodyks_markram_step(spiked: Tensor, excess: Tensor, recovered: Tensor, use: Tensor, decay_d: Tensor,
                         decay_f: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    """One step of every synapse. ``spiked`` (0/1), ``excess`` (u - U after the last spike) and
    ``recovered`` (R) are [connections, batch]; ``use``, ``decay_d`` = exp(-dt/D) and ``decay_f``
    = exp(-dt/F) broadcast to them. Returns (efficacy u R where spiked else 0, excess, recovered)."""
    excess = excess * decay_f
    recovered = 1.0 - (1.0 - recovered) * decay_d
    u = use + excess
    efficacy = u * recovered * spiked
    fired = spiked > 0
    recovered = recovered - fired * (u * recovered)
    excess = excess + fired * ((1.0 - use) * u - excess)
    return efficacy, excess, recovered
