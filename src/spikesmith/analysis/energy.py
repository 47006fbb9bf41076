"""Per-operation energy costs and the per-layer table of operations, rates and energy.

Energy per sample (one inference over all T steps)::

    E_SNN = AC x E_AC + MAC x E_MAC          (MACs: layers whose input is not spikes, e.g. the first)
    E_ANN = dense MAC x E_MAC                (the equivalent ANN: every layer dense, once)

The default costs are 32-bit float operations at 45 nm (Horowitz, ISSCC 2014, as used by most SNN
energy estimates): an accumulate (add) 0.9 pJ, a multiply-accumulate 3.7 + 0.9 = 4.6 pJ. They leave out
memory traffic and the neurons' own updates, which dominate on real chips: the ratio of the two
estimates is a statement about arithmetic only.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Optional


@dataclass(frozen=True)
class EnergyCosts:
    """Energy of one operation in picojoules (defaults: 45 nm, Horowitz 2014)."""

    ac_pj: float = 0.9
    mac_pj: float = 4.6
    source: str = "Horowitz 2014, 45 nm, fp32"

    def __post_init__(self):
        for name in ("ac_pj", "mac_pj"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not value >= 0:
                raise ValueError(f"EnergyCosts: {name} must be a number >= 0 (picojoules), got {value!r}")


@dataclass
class LayerStats:
    """One row of the table: a synaptic layer (``linear``/``conv``), an attention (``attention``: what it
    computes between its Q, K, V projections, see ``analysis.attention_counting``) or a neuron layer
    (``neuron``).

    Counts are per sample (one inference of all time steps). For a synaptic layer ``input`` says how its
    input was counted: ``'spikes'`` (events, each costing fan-out ACs), ``'pooled spikes'`` (an average
    pool of spikes: each spike in the pool costs the fan-out), ``'analog'`` (dense MACs as executed);
    ``rate`` and ``sparsity`` describe its input. For a neuron layer they describe its output spikes.
    """

    name: str
    module: str                       # class name
    kind: str                         # 'linear' | 'conv' | 'attention' | 'neuron'
    input: str = "-"
    steps: float = 0.0                # applications per sample (T; 1 for a static prefix or an ANN)
    elements: int = 0                 # neurons (neuron rows) or input elements (synaptic rows) per step
    rate: Optional[float] = None      # spikes per element per step (None: analog input)
    sparsity: Optional[float] = None  # fraction of zeros
    acs: float = 0.0                  # synaptic operations (accumulates) per sample
    macs: float = 0.0                 # multiply-accumulates executed by the SNN per sample
    dense_macs: float = 0.0           # MACs of the equivalent ANN layer (one dense pass)
    energy_pj: float = 0.0
    ann_energy_pj: float = 0.0
    path: Optional[str] = None        # how a synaptic layer ran, where it says (an event-driven layer:
                                      # 'sparse' / 'dense' / 'mixed'); None: the layer's own dense product
    products: float = 0.0             # attention: multiplications of two run-time tensors (in macs)
    nonzero_terms: float = 0.0        # attention: of those, the ones with a non-zero result
    masks: float = 0.0                # attention: element-wise ANDs of two spike tensors


@dataclass
class Profile:
    """The operations and energy of a network on some data (see ``spikesmith.analysis.profile``)."""

    rows: list[LayerStats]
    samples: int
    steps: int
    costs: EnergyCosts = field(default_factory=EnergyCosts)
    spiking: bool = True              # False: an ANN (every layer dense)

    def synaptic(self) -> list[LayerStats]:
        return [r for r in self.rows if r.kind != "neuron"]

    def neurons(self) -> list[LayerStats]:
        return [r for r in self.rows if r.kind == "neuron"]

    @property
    def acs(self) -> float:
        return sum(r.acs for r in self.synaptic())

    @property
    def macs(self) -> float:
        return sum(r.macs for r in self.synaptic())

    @property
    def dense_macs(self) -> float:
        return sum(r.dense_macs for r in self.synaptic())

    @property
    def energy_pj(self) -> float:
        return sum(r.energy_pj for r in self.synaptic())

    @property
    def ann_energy_pj(self) -> float:
        return sum(r.ann_energy_pj for r in self.synaptic())

    def mean_rate(self) -> Optional[float]:
        """Spikes per neuron per step over all neuron layers (weighted by their sizes)."""
        rows = [r for r in self.neurons() if r.rate is not None]
        n = sum(r.elements for r in rows)
        return None if n == 0 else sum(r.rate * r.elements for r in rows) / n

    def as_dicts(self) -> list[dict]:
        """The rows as plain dicts (for JSON or pandas)."""
        return [asdict(r) for r in self.rows]

    def summary(self) -> dict:
        return {"samples": self.samples, "steps": self.steps, "spiking": self.spiking,
                "acs": self.acs, "macs": self.macs, "dense_macs": self.dense_macs,
                "energy_pj": self.energy_pj, "ann_energy_pj": self.ann_energy_pj,
                "ratio_ann_over_snn": (self.ann_energy_pj / self.energy_pj) if self.energy_pj else None,
                "mean_rate": self.mean_rate(), "ac_pj": self.costs.ac_pj, "mac_pj": self.costs.mac_pj,
                "cost_source": self.costs.source}

    def table(self, ann: Optional["Profile"] = None) -> str:
        """A text table; with ``ann`` (the ANN twin's profile) its measured energy in the last line."""
        return format_table(self, ann)

    def __str__(self) -> str:
        return self.table()


def _num(x: Optional[float]) -> str:
    if x is None:
        return "-"
    if x == 0:
        return "0"
    for unit, scale in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if abs(x) >= scale:
            return f"{x / scale:.3g}{unit}"
    return f"{x:.3g}"


def _energy(pj: float) -> str:
    for unit, scale in (("mJ", 1e9), ("uJ", 1e6), ("nJ", 1e3)):
        if pj >= scale:
            return f"{pj / scale:.3g} {unit}"
    return f"{pj:.3g} pJ"


def _frac(x: Optional[float]) -> str:
    return "-" if x is None else f"{x:.4f}"


def format_table(prof: Profile, ann: Optional[Profile] = None) -> str:
    """Render ``prof`` as aligned text: one line per layer, then the totals."""
    head = ["layer", "module", "input", "steps", "elems", "rate", "sparsity", "ACs", "MACs", "ANN MACs",
            "E_SNN", "E_ANN"]
    paths = any(r.path is not None for r in prof.rows)    # an event-driven network: how each layer ran
    lines = []
    for r in prof.rows:
        syn = r.kind != "neuron"
        lines.append([r.name, r.module, r.input if syn else "(output)", f"{r.steps:g}", _num(r.elements),
                      _frac(r.rate), _frac(r.sparsity), _num(r.acs) if syn else "", _num(r.macs) if syn else "",
                      _num(r.dense_macs) if syn else "", _energy(r.energy_pj) if syn else "",
                      _energy(r.ann_energy_pj) if syn else ""] + ([r.path or ""] if paths else []))
    lines.append(["total", "", "", f"{prof.steps}", "", _frac(prof.mean_rate()), "", _num(prof.acs),
                  _num(prof.macs), _num(prof.dense_macs), _energy(prof.energy_pj), _energy(prof.ann_energy_pj)]
                 + ([""] if paths else []))
    if paths:
        head = head + ["path"]
    widths = [max(len(h), *(len(l[i]) for l in lines)) for i, h in enumerate(head)]

    def fmt(row):
        return "  ".join(c.ljust(w) if i < 3 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths)))

    out = [fmt(head), "  ".join("-" * w for w in widths)] + [fmt(l) for l in lines[:-1]]
    out += ["  ".join("-" * w for w in widths), fmt(lines[-1])]
    c = prof.costs
    out.append(f"per sample ({prof.samples} samples, T={prof.steps}); E_AC={c.ac_pj:g} pJ, E_MAC={c.mac_pj:g} pJ "
               f"({c.source})")
    if prof.spiking and prof.energy_pj > 0:
        out.append(f"E_ANN / E_SNN = {prof.ann_energy_pj / prof.energy_pj:.3g} (dense MACs of the same layers)")
    for r in prof.rows:
        if r.kind == "attention":
            out.append(f"attention {r.name} ({r.module}): {_num(r.products)} products of two run-time tensors "
                       f"(the MACs; {_num(r.nonzero_terms)} non-zero), {_num(r.masks)} masks (ANDs of spikes), "
                       f"{_num(r.acs)} additions of spikes")
    if ann is not None:
        ratio = f" = {ann.energy_pj / prof.energy_pj:.3g} x E_SNN" if prof.energy_pj > 0 else ""
        out.append(f"ANN twin: {_num(ann.macs)} MACs, {_energy(ann.energy_pj)}{ratio}")
    return "\n".join(out)
