"""Liquid state machine (Maass, Natschläger & Markram 2002): a fixed, sparse, seeded reservoir of
LIF neurons on a 3-D grid whose low-pass filtered spikes (the liquid state) feed a trained readout.

Per step of ``dt`` ms (units: the threshold is 1, the paper's 15 mV; currents are in the same
units, so 1 nA maps to 1/15 at the paper's 1 MOhm):

    I_exc(t) = I_exc(t-1) exp(-dt/tau_syn_exc) + W_in x(t) + sum_d W_exc,d S(t-d)
    I_inh(t) = I_inh(t-1) exp(-dt/tau_syn_inh) +             sum_d W_inh,d S(t-d)
    H(t) = V + (background + I_exc + I_inh - (V - V_rest)) dt / tau_m        (dynamics.leaky_charge)
    S(t) = H >= V_th, except during the refractory period; V(t) = V_reset where S (hard reset)
    r(t) = r(t-1) exp(-dt/tau_trace) + S(t)                                  (the liquid state)

W_exc,d / W_inh,d are the recurrent connections from excitatory / inhibitory neurons with delay
d steps. Synapses are STATIC by default (fixed weights, stepped as sparse CSR products). With
``synapses="dynamic"`` each connection is a Tsodyks-Markram synapse (:mod:`.lsm_synapses`, the
paper's U, D, F per pair type): its current jumps by A u R, with per-connection state, stepped as
a gather and ``index_add`` over the connections (slower than the static CSR step). Wiring, weight
proportions and delays: see :mod:`.lsm_connectivity`.

Weight scale: the paper's means (E->E 30, E->I 60, I->E -19, I->I -19 nA) are multiplied by
``weight_scale`` (threshold units per nA). 1/15 would be the paper's own units (15 mV threshold,
1 MOhm); with static synapses that liquid runs near saturation, so the default
``DEFAULT_WEIGHT_SCALE`` is a quarter of it, 0.25/15. Measured on the default 15 x 3 x 3 grid
(seed 0; one input stream u ~ U(0, 1) held 10 ms, current 0.15 u; memory capacity over delays
0..20 bins, ``analysis.memory_curve``):

    weight_scale x 15    0 (no recurrence)   0.1    0.25    0.5    1 (paper units)
    mean rate (Hz)       17                  31     50      92     129
    memory capacity      0.89                1.47   1.69    1.34   1.22

so 0.25/15 is active but not saturated, and where this liquid remembers most. Dynamic synapses
(efficacy u R < 1) default to the paper's 1/15: about 22 Hz under four 20 Hz Poisson inputs,
where static synapses at 1/15 fire at about 118 Hz. Dynamic synapses are EXPERIMENTAL and not
tuned: in the memory bench (one weak analog input) some liquids (405 and 1215 neurons at 1/15;
135 and 1215 at 0.5/15) fall into self-sustained activity that ignores the input (memory capacity
near 0), while others reach 1.5-1.6; the static liquid is the default and the one measured. The liquid is
silent without input (V rests at ``v_reset`` = 0.9 with ``background`` 0.9, the paper's 13.5 mV).
Bulkier grids (more neighbours than a 3 x 3 cross-section) drive each neuron harder: lower
``weight_scale`` there.

Initial state: V = v_reset, no synaptic current, no refractory neuron, zero traces.

>>> lsm = LiquidStateMachine(n_inputs=28)                 # 15 x 3 x 3 = 135 neurons, seed 0
>>> out = lsm(x_seq)                                      # x_seq [T, N, 28]
>>> out.spikes.shape, out.states.shape                    # [T, N, 135], [1, N, 135] (final state)
"""

from __future__ import annotations

import math
import os
from typing import NamedTuple, Optional, Sequence

import torch
from torch import Tensor, nn

from ..dynamics import leaky_charge
from ..dynamics.sparse_step import sparse_spike_matmul, to_sparse_weight
from .lsm_synapses import tsodyks_markram_step
from . import lsm_connectivity as wiring
from . import lsm_synapses as synapse_tables
from .lsm_connectivity import CONNECTION_PROBABILITY, DELAY_MS, MEAN_WEIGHT_NA, PairValues

__all__ = ["DEFAULT_WEIGHT_SCALE", "LiquidOutput", "LiquidStateMachine", "SYNAPSES"]

SYNAPSES = ("static", "dynamic")

# threshold units per nA, by synapse kind: a quarter of the paper's units for static synapses, the
# paper's own for dynamic ones (their efficacy u R is below 1): see the module note
DEFAULT_WEIGHT_SCALE = {"static": 0.25 / 15.0, "dynamic": 1.0 / 15.0}
_BYTES_PER_CONNECTION = 64        # COO build (2 int64 + value), coalesce copy, CSR buffer, delay groups


class LiquidOutput(NamedTuple):
    spikes: Optional[Tensor]      # [T, N, n_neurons], or None with record_spikes=False
    states: Tensor                # [len(read_times), N, n_neurons]: the filtered traces at read_times
    read_times: tuple             # the step indices read, non-negative


def _physical_memory_gb() -> float:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    except (ValueError, OSError, AttributeError):
        return 8.0


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _check_finite(owner: str, **values) -> None:
    for name, value in values.items():
        if not (_is_number(value) and math.isfinite(value)):
            raise ValueError(f"{owner}: {name} must be a finite number, got {value!r}")


def _check_pairs(values, name: str, low: float = 0.0, high: float = math.inf) -> PairValues:
    if not isinstance(values, PairValues):
        raise TypeError(f"LiquidStateMachine: {name} must be a PairValues(ee, ei, ie, ii), got {values!r}")
    for field in ("ee", "ei", "ie", "ii"):
        v = getattr(values, field)
        if not (_is_number(v) and math.isfinite(v) and low <= v <= high):
            raise ValueError(f"LiquidStateMachine: {name}.{field} must be a finite number in [{low}, {high}], "
                             f"got {v!r}")
    return values


class LiquidStateMachine(nn.Module):
    """A fixed spiking reservoir; ``forward`` maps inputs [T, N, n_inputs] to liquid spikes
    [T, N, n_neurons] and liquid states read at ``read_times`` (default: the final step only).

    Args:
        n_inputs: input streams; each connects to a random ``input_fraction`` of the neurons with
            positive weights of mean ``input_weight`` onto excitatory and half that onto
            inhibitory neurons (gamma distributed, coefficient of variation ``weight_cv``).
        grid: (x, y, z) neurons; lam: the connection length lambda, in grid units (>= 0).
        connection_probability: C per pair type, presynaptic first.
        excitatory_fraction: share of excitatory neurons (randomly placed).
        weight_scale: threshold units per nA of the paper's mean weights; None: the default of the
            synapse kind, ``DEFAULT_WEIGHT_SCALE`` (see the module note).
        synapses: ``"static"`` (default) or ``"dynamic"`` (Tsodyks-Markram, :mod:`.lsm_synapses`).
        delays_ms: per pair type, rounded to steps of ``dt``; None: off (one step each).
        refractory_ms: (excitatory, inhibitory) refractory periods.
        seed: the reservoir's seed (a private ``torch.Generator``: the global RNG is untouched).
        max_memory_gb: refuse a reservoir whose estimated size is larger (default: half the RAM).
    """

    def __init__(self, n_inputs: int, grid: Sequence[int] = (15, 3, 3), lam: float = 2.0,
                 connection_probability: PairValues = CONNECTION_PROBABILITY, excitatory_fraction: float = 0.8,
                 weight_scale: Optional[float] = None, mean_weight_na: PairValues = MEAN_WEIGHT_NA,
                 weight_cv: float = 1.0, delays_ms: Optional[PairValues] = DELAY_MS, dt: float = 1.0,
                 tau_m: float = 30.0, v_threshold: float = 1.0, v_reset: float = 0.9, v_rest: float = 0.0,
                 background: float = 0.9, tau_syn_exc: float = 3.0, tau_syn_inh: float = 6.0,
                 refractory_ms: tuple = (3.0, 2.0), input_fraction: float = 0.3, input_weight: float = 1.2,
                 tau_trace: float = 30.0, synapses: str = "static", seed: int = 0,
                 max_memory_gb: Optional[float] = None):
        super().__init__()
        if synapses not in SYNAPSES:
            raise ValueError(f"LiquidStateMachine: synapses must be one of {SYNAPSES}, got {synapses!r}")
        weight_scale = DEFAULT_WEIGHT_SCALE[synapses] if weight_scale is None else weight_scale
        _check_finite("LiquidStateMachine", lam=lam, excitatory_fraction=excitatory_fraction,
                      weight_scale=weight_scale, weight_cv=weight_cv, dt=dt, tau_m=tau_m, v_threshold=v_threshold,
                      v_reset=v_reset, v_rest=v_rest, background=background, tau_syn_exc=tau_syn_exc,
                      tau_syn_inh=tau_syn_inh, input_fraction=input_fraction, input_weight=input_weight,
                      tau_trace=tau_trace)
        if v_reset >= v_threshold:
            raise ValueError(f"LiquidStateMachine: v_reset ({v_reset}) must be below v_threshold ({v_threshold})")
        if (not isinstance(refractory_ms, (tuple, list)) or len(refractory_ms) != 2
                or not all(_is_number(r) and math.isfinite(r) and r >= 0 for r in refractory_ms)):
            raise ValueError(f"LiquidStateMachine: refractory_ms must be (excitatory, inhibitory) ms >= 0, got "
                             f"{refractory_ms!r}; e.g. (3.0, 2.0), or (0, 0) for none")
        if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
            raise ValueError(f"LiquidStateMachine: seed must be an int >= 0, got {seed!r}")
        if max_memory_gb is not None and not (_is_number(max_memory_gb) and max_memory_gb > 0):
            raise ValueError(f"LiquidStateMachine: max_memory_gb must be > 0 (GiB) or None, got {max_memory_gb!r}")
        if not isinstance(n_inputs, int) or isinstance(n_inputs, bool) or n_inputs < 1:
            raise ValueError(f"LiquidStateMachine: n_inputs must be a positive int, got {n_inputs!r}")
        self.grid = wiring.check_grid(grid)
        if not isinstance(lam, (int, float)) or not math.isfinite(lam) or lam < 0:
            raise ValueError(f"LiquidStateMachine: lam (the connection length lambda) must be a finite number "
                             f">= 0, got {lam!r}; the paper uses lam=2")
        for name, value in (("dt", dt), ("tau_m", tau_m), ("tau_syn_exc", tau_syn_exc),
                            ("tau_syn_inh", tau_syn_inh), ("tau_trace", tau_trace)):
            if not isinstance(value, (int, float)) or not value > 0:
                raise ValueError(f"LiquidStateMachine: {name} must be > 0 (milliseconds), got {value!r}")
        if dt >= tau_m:
            raise ValueError(f"LiquidStateMachine: dt ({dt} ms) must be smaller than tau_m ({tau_m} ms)")
        if not 0 <= excitatory_fraction <= 1 or not 0 < input_fraction <= 1:
            raise ValueError(f"LiquidStateMachine: excitatory_fraction must be in [0, 1] and input_fraction in "
                             f"(0, 1], got {excitatory_fraction} and {input_fraction}")
        if weight_cv < 0 or weight_scale < 0:
            raise ValueError(f"LiquidStateMachine: weight_cv and weight_scale must be >= 0, got {weight_cv}, "
                             f"{weight_scale}")
        probability = _check_pairs(connection_probability, "connection_probability", 0.0, 1.0)
        mean_weight_na = _check_pairs(mean_weight_na, "mean_weight_na", -math.inf)
        if delays_ms is not None:
            delays_ms = _check_pairs(delays_ms, "delays_ms")
        self.n_inputs, self.lam, self.dt = n_inputs, float(lam), float(dt)
        self.n_neurons = n = self.grid[0] * self.grid[1] * self.grid[2]
        n_exc = wiring.excitatory_count(n, excitatory_fraction)
        expected = wiring.expected_connections(self.grid, lam, probability, n_exc)
        limit = _physical_memory_gb() / 2 if max_memory_gb is None else float(max_memory_gb)
        need = (expected * _BYTES_PER_CONNECTION + n * (n_inputs + 64) * 4) / 2**30
        if need > limit:
            raise MemoryError(f"LiquidStateMachine: a {self.grid} reservoir with lam={lam} needs about {need:.3g} "
                              f"GiB ({expected:.3g} expected connections, {n} neurons x {n_inputs} input weights), "
                              f"more than the limit {limit:.3g} GiB; use a smaller grid, lam or n_inputs, or raise "
                              f"max_memory_gb")
        no_connection = (f"LiquidStateMachine: grid {self.grid} with lam={lam} and connection_probability "
                         f"{probability} makes no recurrent connection; use a grid of >= 2 neurons, lam > 0 "
                         f"(e.g. 2) and some probability > 0")
        if expected == 0:
            raise ValueError(no_connection)
        self.generator = torch.Generator().manual_seed(int(seed))
        self.register_buffer("neuron_type", wiring.assign_types(n, excitatory_fraction, self.generator))
        pre, post = wiring.sample_connections(self.grid, self.neuron_type, lam, probability, self.generator)
        if pre.numel() == 0:
            raise ValueError(no_connection + f" (expected {expected:.2g} connections, drew none)")
        pre_type, post_type = self.neuron_type[pre], self.neuron_type[post]
        values = wiring.sample_weights(pre_type, post_type, mean_weight_na, weight_cv, self.generator)
        values = values * float(weight_scale)
        self.register_buffer("recurrent_weight", to_sparse_weight(post, pre, values, (n, n)))

        self.delay_steps = wiring.delay_steps(delays_ms, dt)
        self.synapses = synapses
        self._build_delay_groups()

        # input: a dense [n, n_inputs] matrix, each column non-zero on a random input_fraction of rows
        picked = torch.rand(n, n_inputs, generator=self.generator) < input_fraction
        target_mean = torch.where(self.neuron_type == wiring.EXCITATORY, 1.0, 0.5)[:, None] * float(input_weight)
        if weight_cv > 0:
            shape = 1.0 / (weight_cv * weight_cv)
            gamma = torch._standard_gamma(torch.full((n, n_inputs), shape, dtype=torch.float64),
                                          generator=self.generator).float() / shape
        else:
            gamma = torch.ones(n, n_inputs)
        self.register_buffer("input_weight", (picked * target_mean * gamma).float())

        refractory = torch.tensor([max(0, int(math.floor(r / dt + 0.5))) for r in refractory_ms])
        self.register_buffer("refractory_steps", refractory[self.neuron_type])
        self.decay = dt / tau_m
        self.syn_decay_exc, self.syn_decay_inh = math.exp(-dt / tau_syn_exc), math.exp(-dt / tau_syn_inh)
        self.trace_decay = math.exp(-dt / tau_trace)
        self.v_threshold, self.v_reset, self.v_rest = float(v_threshold), float(v_reset), float(v_rest)
        self.background = float(background)
        self.expected_connections = expected
        for p in self.parameters():
            p.requires_grad_(False)

    def _build_delay_groups(self) -> None:
        """Split ``recurrent_weight`` by (delay in steps, presynaptic type): one CSR matrix each,
        non-persistent buffers (they follow .to()), rebuilt when a state dict is loaded."""
        for name, _, _ in getattr(self, "_groups", []):
            delattr(self, name)
        n = self.n_neurons
        coo = self.recurrent_weight.to_sparse_coo().coalesce()
        post, pre = coo.indices()
        values = coo.values()
        pre_type, post_type = self.neuron_type[pre], self.neuron_type[post]
        delay = self.delay_steps.matrix().long().to(pre.device)[pre_type, post_type]
        self._groups = []
        for d in sorted(set(delay.tolist())):
            for excitatory in (True, False):
                keep = (delay == d) & ((pre_type == wiring.EXCITATORY) == excitatory)
                if bool(keep.any()):
                    name = f"_w_delay{d}_{'exc' if excitatory else 'inh'}"
                    self.register_buffer(name, to_sparse_weight(post[keep], pre[keep], values[keep], (n, n)),
                                         persistent=False)
                    self._groups.append((name, d, excitatory))
        self.max_delay = max((d for _, d, _ in self._groups), default=1)
        if self.synapses == "dynamic":
            # per connection: presynaptic index, target row (post for E, n + post for I), A, U, decays
            pair = (pre_type, post_type)
            self.register_buffer("_dyn_pre", pre, persistent=False)
            self.register_buffer("_dyn_delay", delay, persistent=False)
            self.register_buffer("_dyn_row", post + n * (pre_type != wiring.EXCITATORY).long(), persistent=False)
            self.register_buffer("_dyn_weight", values[:, None], persistent=False)
            self.register_buffer("_dyn_use", synapse_tables.USE.matrix().float()[pair][:, None], persistent=False)
            for name, table in (("_dyn_decay_d", synapse_tables.DEPRESSION_MS),
                                ("_dyn_decay_f", synapse_tables.FACILITATION_MS)):
                self.register_buffer(name, torch.exp(-self.dt / table.matrix().float()[pair])[:, None],
                                     persistent=False)

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys,
                              error_msgs):
        # a sparse buffer of another reservoir has another number of connections: take it as it is
        for name in ("recurrent_weight", "neuron_type"):
            key = prefix + name
            if key in state_dict:
                given = state_dict[key]
                mine = getattr(self, name)
                if given.shape != mine.shape or given.layout != mine.layout:
                    error_msgs.append(f"{key}: a reservoir of shape {tuple(mine.shape)} ({mine.layout}) cannot "
                                      f"load {tuple(given.shape)} ({given.layout}); build it with the same grid")
                    continue
                setattr(self, name, given.to(mine.device))
        rest = {k: v for k, v in state_dict.items()
                if k not in (prefix + "recurrent_weight", prefix + "neuron_type")}
        missing = []
        super()._load_from_state_dict(rest, prefix, local_metadata, strict, missing, unexpected_keys, error_msgs)
        missing_keys.extend(k for k in missing if k not in state_dict)
        self._build_delay_groups()

    @property
    def n_connections(self) -> int:
        return int(self.recurrent_weight._nnz())

    @property
    def is_excitatory(self) -> Tensor:
        return self.neuron_type == wiring.EXCITATORY

    def _read_times(self, read_times, steps: int) -> tuple:
        if read_times is None:
            read_times = (-1,)
        if isinstance(read_times, bool) or not isinstance(read_times, (int, tuple, list, range)):
            raise ValueError(f"LiquidStateMachine: read_times must be a step index or a sequence of them, got "
                             f"{read_times!r}")
        if isinstance(read_times, int):
            read_times = (read_times,)
        if len(read_times) == 0:
            raise ValueError("LiquidStateMachine: read_times is empty; name at least one step (default: (-1,))")
        out = []
        for t in read_times:
            if not isinstance(t, int) or isinstance(t, bool) or not -steps <= t < steps:
                raise ValueError(f"LiquidStateMachine: read_times must be step indices in [-{steps}, {steps - 1}] "
                                 f"for a {steps}-step input, got {t!r}")
            out.append(t % steps)
        return tuple(out)

    @torch.no_grad()
    def forward(self, x_seq: Tensor, read_times=None, record_spikes: bool = True) -> LiquidOutput:
        """x_seq [T, N, n_inputs] (spikes or currents) -> LiquidOutput(spikes [T, N, n_neurons],
        states [len(read_times), N, n_neurons], read_times); read_times: ints, default (-1,)."""
        if not isinstance(x_seq, Tensor) or x_seq.dim() != 3 or x_seq.shape[-1] != self.n_inputs:
            shape = tuple(x_seq.shape) if isinstance(x_seq, Tensor) else type(x_seq).__name__
            raise ValueError(f"LiquidStateMachine expects input of shape [T, N, n_inputs={self.n_inputs}], got "
                             f"{shape}; add a time dimension (x.unsqueeze(0)) or a batch one as needed")
        if x_seq.is_complex():
            raise TypeError(f"LiquidStateMachine expects real inputs (spikes or currents), got {x_seq.dtype}")
        if not x_seq.is_floating_point():
            x_seq = x_seq.float()
        steps, batch, n = x_seq.shape[0], x_seq.shape[1], self.n_neurons
        if steps < 1:
            raise ValueError("LiquidStateMachine: the input has no time step (T = 0); give at least one step")
        if not bool(torch.isfinite(x_seq).all()):
            raise ValueError("LiquidStateMachine: the input holds NaN or infinite values; clean or clamp it first")
        times = self._read_times(read_times, steps)
        wanted = {t: i for i, t in enumerate(times)}
        dtype = self.input_weight.dtype
        drive = torch.matmul(x_seq.to(self.input_weight), self.input_weight.T)
        drive = drive.permute(0, 2, 1).contiguous()                          # [T, n, N]: neurons first
        v = torch.full((n, batch), self.v_reset, dtype=dtype, device=drive.device)
        i_exc, i_inh, trace = torch.zeros_like(v), torch.zeros_like(v), torch.zeros_like(v)
        refractory_left = torch.zeros((n, batch), dtype=torch.int64, device=drive.device)
        refractory = self.refractory_steps[:, None].expand(n, batch)
        history = [torch.zeros_like(v) for _ in range(self.max_delay)]      # history[-d] = S(t - d)
        groups = [(getattr(self, name), d, excitatory) for name, d, excitatory in self._groups]
        if self.synapses == "dynamic":
            groups = []                    # the dynamic step below carries every connection
            excess = torch.zeros((self._dyn_pre.numel(), batch), dtype=dtype, device=v.device)
            recovered = torch.ones_like(excess)
        spikes = torch.zeros((steps, batch, n), dtype=x_seq.dtype, device=drive.device) if record_spikes else None
        states = torch.zeros((len(times), batch, n), dtype=x_seq.dtype, device=drive.device)
        for t in range(steps):
            i_exc.mul_(self.syn_decay_exc).add_(drive[t])
            i_inh.mul_(self.syn_decay_inh)
            if self.synapses == "dynamic":
                past = torch.stack(history)                                     # [max_delay, n, N]
                spiked = past[self.max_delay - self._dyn_delay, self._dyn_pre]   # [connections, N]
                efficacy, excess, recovered = tsodyks_markram_step(
                    spiked, excess, recovered, self._dyn_use, self._dyn_decay_d, self._dyn_decay_f)
                arriving = torch.zeros((2 * n, batch), dtype=dtype, device=v.device)
                arriving.index_add_(0, self._dyn_row, self._dyn_weight * efficacy)
                i_exc.add_(arriving[:n])
                i_inh.add_(arriving[n:])
            for weight, d, excitatory in groups:
                (i_exc if excitatory else i_inh).add_(sparse_spike_matmul(weight, history[-d]))
            h = leaky_charge(self.background + i_exc + i_inh, v, self.decay, self.v_rest)
            resting = refractory_left > 0
            s = ((h >= self.v_threshold) & ~resting).to(dtype)
            v = torch.where(resting | (s > 0), self.v_reset, h)
            refractory_left = torch.where(s > 0, refractory, (refractory_left - 1).clamp_(min=0))
            trace.mul_(self.trace_decay).add_(s)
            history.append(s)
            history.pop(0)
            if spikes is not None:
                spikes[t] = s.T
            if t in wanted:
                states[wanted[t]] = trace.T
        return LiquidOutput(spikes, states, times)

    def extra_repr(self) -> str:
        return (f"n_inputs={self.n_inputs}, grid={self.grid}, n_neurons={self.n_neurons}, lam={self.lam}, "
                f"connections={self.n_connections}, dt={self.dt}")
