"""Gated spiking RNNs: ``SpikingLSTM`` / ``SpikingGRU`` (stacked, multi-step) and their cells.

A cell is a ``MemoryModule`` holding its state between steps (``functional.reset_net`` clears it):
input ``[N, input_size]`` in ``step_mode='s'``, ``[T, N, input_size]`` in ``'m'``. The multi-layer
``SpikingLSTM`` / ``SpikingGRU`` run their cells one layer after the other over the whole sequence
(``step_mode='m'``, the default) or one step at a time through every layer (``'s'``); both paths run
the same step function, so looping the cells step by step equals the multi-step forward exactly.

The maths of each formulation is in ``gated_variants`` (``variant='spikingjelly'``, the default,
or ``'snntorch'``), the optional time gate in ``phased_gate`` (``time_gate='phased'``).

>>> lstm = layer.SpikingLSTM(40, 128, num_layers=2)            # step_mode 'm'
>>> lstm(torch.rand(25, 16, 40)).shape                          # T=25, N=16: output spikes
torch.Size([25, 16, 128])
>>> functional.reset_net(lstm)                                  # before the next batch
"""

from __future__ import annotations

import inspect
import math
import os
from typing import Any, Callable, Mapping, Optional, Union

import torch
from torch import Tensor, nn

from .. import _config, reset_check
from ..dynamics import scan
from ..module import MemoryModule, StepModule, check_dims
from ..neuron.base import SurrogateFunction, get_surrogate
from ..registry import Registry
from .gated_variants import GRU_VARIANTS, LSTM_VARIANTS, SIGNED_OUTPUTS, GateParams, GatedVariant, State
from .phased_gate import TIME_GATES

Surrogate = Union[SurrogateFunction, str, None]


def _check_size(value, name: str, owner: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{owner}: {name} must be a positive int, got {value!r}")
    return value


def _check_input(x, owner: StepModule, input_size: int, step_mode: str, weight: Tensor) -> None:
    """A ``[N, input_size]`` (``'s'``) or ``[T, N, input_size]`` (``'m'``) tensor, else a ValueError."""
    layout = f"[N, input_size={input_size}]" if step_mode == "s" else f"[T, N, input_size={input_size}]"
    check_dims(x, owner, layout, dims=(2,) if step_mode == "s" else (3,), step_mode=step_mode)
    if x.shape[-1] != input_size:
        raise ValueError(f"{owner.layer_name()} in step_mode={step_mode!r} expects input of shape {layout}, "
                         f"got shape {list(x.shape)} ({x.shape[-1]} features); pass input_size={x.shape[-1]} "
                         f"or feed {input_size} features")
    if step_mode == "m" and x.shape[0] == 0:
        raise ValueError(f"{owner.layer_name()} got an empty sequence (T=0, shape {list(x.shape)}); "
                         f"feed at least one time step")
    if not x.is_floating_point():
        raise TypeError(f"{owner.layer_name()} expects a floating-point input (spikes as 0./1.), got {x.dtype}; "
                        f"convert it with x.float()")
    if _config.is_debug() and not torch.isfinite(x).all():
        bad = "NaN" if torch.isnan(x).any() else "Inf"
        raise ValueError(f"{owner.layer_name()} received {bad} in its input (spikesmith debug check)")
    if x.dtype != weight.dtype or x.device != weight.device:
        raise TypeError(f"{owner.layer_name()}: input is {x.dtype} on {x.device} but the weights are {weight.dtype} "
                        f"on {weight.device}; move one to the other (e.g. layer.to(x.dtype) or x.to(layer's dtype))")


def _physical_memory_bytes() -> Optional[int]:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):  # not a POSIX system: no estimate to compare with
        return None


def _gib(n_values: int) -> float:
    return n_values * torch.empty((), dtype=torch.get_default_dtype()).element_size() / 2**30


def _check_fits(n_values: int, owner: str, what: str) -> None:
    """A MemoryError with the estimate when ``n_values`` parameters exceed the machine's memory."""
    need = _gib(n_values) * 2**30
    have = _physical_memory_bytes()
    if have is not None and need > have:
        raise MemoryError(f"{owner}: {what} needs {_gib(n_values):.1f} GiB of weights, more than this machine's "
                          f"{have / 2**30:.1f} GiB of memory; use a smaller hidden_size or fewer layers")


def _cell_values(spec: GatedVariant, input_size: int, hidden_size: int) -> int:
    rows = spec.gates * hidden_size
    return rows * (input_size + hidden_size + 2)


def _time_gate(name: str, hidden_size: int, options, owner: str) -> nn.Module:
    gate_cls = TIME_GATES.get(name)
    if not isinstance(options, Mapping):
        raise TypeError(f"{owner}: time_gate_options must be a dict of {gate_cls.__name__} options, "
                        f"got {type(options).__name__}")
    known = [p for p in inspect.signature(gate_cls).parameters if p != "hidden_size"]
    unknown = sorted(set(options) - set(known))
    if unknown:
        raise ValueError(f"{owner}: unknown time_gate_options {unknown} for time_gate={name!r}; known: {known}")
    return gate_cls(hidden_size, **options)


class _SpikingGatedCell(MemoryModule):
    """Shared body of ``SpikingLSTMCell`` and ``SpikingGRUCell`` (``VARIANTS`` picks the maths)."""

    VARIANTS: Registry[GatedVariant]

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        bias: bool = True,
        variant: str = "spikingjelly",
        surrogate_function: Surrogate = None,
        candidate_surrogate: Surrogate = None,
        threshold: float = 1.0,
        reset_mechanism: Optional[str] = None,
        signed: bool = False,
        signed_output: str = "difference",
        time_gate: Optional[str] = None,
        time_gate_options: Optional[Mapping[str, Any]] = None,
        dt: float = 1.0,
        step_mode: str = "s",
    ):
        super().__init__(step_mode)
        name = type(self).__name__
        self.input_size = _check_size(input_size, "input_size", name)
        self.hidden_size = _check_size(hidden_size, "hidden_size", name)
        self.variant = self.VARIANTS.canonical(variant)
        spec = self.VARIANTS.get(variant)
        if reset_mechanism is None:
            reset_mechanism = spec.default_reset
        if reset_mechanism not in spec.resets:
            raise ValueError(f"{name}: variant {self.variant!r} takes reset_mechanism in {list(spec.resets)}, "
                             f"got {reset_mechanism!r}" + ("; the reset is the snnTorch variant's option"
                                                           if spec.resets == ("none",) else ""))
        if isinstance(threshold, bool) or not isinstance(threshold, (int, float)) or not math.isfinite(threshold):
            raise ValueError(f"{name}: threshold must be a finite number, got {threshold!r}")
        if isinstance(dt, bool) or not isinstance(dt, (int, float)) or not math.isfinite(dt) or dt <= 0:
            raise ValueError(f"{name}: dt (the time of one step, for the time gate) must be positive, got {dt!r}")
        self.threshold = float(threshold)
        self.reset_mechanism = reset_mechanism
        self.signed = bool(signed)
        self.signed_output = SIGNED_OUTPUTS.canonical(signed_output)
        self.dt = float(dt)
        self.surrogate_function = get_surrogate(spec.default_surrogate if surrogate_function is None
                                                else surrogate_function)
        self.candidate_surrogate = (None if candidate_surrogate is None else get_surrogate(candidate_surrogate))

        sizes = f"input_size={self.input_size}, hidden_size={self.hidden_size}"
        n_values = _cell_values(spec, self.input_size, self.hidden_size)
        _check_fits(n_values, name, sizes)
        rows = spec.gates * self.hidden_size
        try:
            self.weight_ih = nn.Parameter(torch.empty(rows, self.input_size))
            self.weight_hh = nn.Parameter(torch.empty(rows, self.hidden_size))
            self.bias_ih = nn.Parameter(torch.empty(rows)) if bias else None
            self.bias_hh = nn.Parameter(torch.empty(rows)) if bias else None
        except RuntimeError as err:  # fits the machine but not what this process may allocate
            if "alloc" not in str(err).lower():
                raise
            raise MemoryError(f"{name}: {sizes} needs {_gib(n_values):.1f} GiB of weights and the allocation "
                              f"failed; use a smaller hidden_size") from None
        self.reset_parameters()

        if time_gate is None:
            if time_gate_options:
                raise ValueError(f"{name}: time_gate_options given without a time_gate; pass time_gate='phased'")
            self.time_gate = None
        else:
            self.time_gate = _time_gate(time_gate, self.hidden_size, time_gate_options or {}, name)
        #: ``observe(x, h)`` called with the inputs of each step's two matrix products, or None (what
        #: ``analysis.Profiler`` sets while it counts; the cells run inside their stack, without hooks)
        self.product_observer: Optional[Callable[[Tensor, Tensor], None]] = None
        for state_name in spec.state_names:
            self.register_memory(state_name, None)
        self.register_memory("step_index", 0)

    def reset_parameters(self) -> None:
        """Uniform in [-1/sqrt(hidden_size), 1/sqrt(hidden_size)], as torch's and both peers' cells."""
        bound = 1.0 / math.sqrt(self.hidden_size)
        for weight in (self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh):
            if weight is not None:
                nn.init.uniform_(weight, -bound, bound)

    # ----------------------------------------------------------------- the step
    @property
    def spec(self) -> GatedVariant:
        return self.VARIANTS.get(self.variant)

    @property
    def output_size(self) -> int:
        """Features of the output: hidden_size, or 2 x hidden_size for ``signed_output='pair'``."""
        width = SIGNED_OUTPUTS.entry(self.signed_output).width if self.signed else 1
        return width * self.hidden_size

    def gate_params(self) -> GateParams:
        candidate = self.candidate_surrogate or self.surrogate_function
        return GateParams(self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh, self.surrogate_function,
                          candidate, self.threshold, self.reset_mechanism, self.signed, self.product_observer)

    def step(self, x: Tensor, state: State, step_index: int) -> tuple[Tensor, State]:
        """One step on explicit state: returns (output before ``signed_output``, new state)."""
        p = self.gate_params()
        spec = self.spec
        new = spec.update(x, state, p)
        if self.time_gate is not None:
            k = self.time_gate.openness(torch.tensor(step_index * self.dt, dtype=x.dtype, device=x.device))
            new = self.time_gate.mix(new, state, k)
        return spec.emit(new, p), new

    def send(self, out: Tensor) -> Tensor:
        """What the layer passes on: the output, as pos - neg or the pair when signed."""
        return SIGNED_OUTPUTS.get(self.signed_output)(out) if self.signed else out

    def state(self, x: Tensor) -> State:
        """The stored state, or zeros ``[N, hidden_size]`` like ``x`` after a reset."""
        names = self.spec.state_names
        values = tuple(getattr(self, n) for n in names)
        if any(v is None for v in values):
            zeros = x.new_zeros(x.shape[-2], self.hidden_size)
            return tuple(zeros for _ in names)
        if values[0].shape[0] != x.shape[-2]:
            raise ValueError(f"{self.layer_name()}: input batch size {x.shape[-2]} differs from the stored state's "
                             f"{values[0].shape[0]}; call spikesmith.functional.reset_net(net) between batches")
        return values

    def _store(self, state: State, step_index: int) -> None:
        for name, value in zip(self.spec.state_names, state):
            setattr(self, name, value)
        self.step_index = step_index

    # ----------------------------------------------------------------- forward
    def single_step_forward(self, x: Tensor) -> Tensor:
        _check_input(x, self, self.input_size, "s", self.weight_ih)
        out, state = self.step(x, self.state(x), self.step_index)
        self._store(state, self.step_index + 1)
        return self.send(out)

    def multi_step_forward(self, x_seq: Tensor) -> Tensor:
        _check_input(x_seq, self, self.input_size, "m", self.weight_ih)

        def body(x: Tensor, carry):
            state, index = carry
            out, state = self.step(x, state, index)
            return out, (state, index + 1)

        out_seq, (state, index) = scan(body, x_seq, (self.state(x_seq[0]), self.step_index))
        self._store(state, index)
        return self.send(out_seq)

    def forward(self, x: Tensor) -> Tensor:
        return self.checked_forward(x, self.step_mode)

    def checked_forward(self, x: Tensor, mode: str) -> Tensor:
        """One call in step mode ``mode``, under the forgotten-reset check neurons run
        (:mod:`spikesmith.reset_check`): a state carried from an earlier batch with its graph warns."""
        run = self.single_step_forward if mode == "s" else self.multi_step_forward
        if not reset_check.active():
            return run(x)
        first = self.spec.state_names[0]
        reset_check.before_call(self, getattr(self, first), mode)
        out = run(x)
        reset_check.after_call(self, getattr(self, first), mode, 1 if mode == "s" else x.shape[0], out)
        return out

    def extra_repr(self) -> str:
        text = f"{self.input_size}, {self.hidden_size}, variant={self.variant!r}"
        if self.variant == "snntorch":
            text += f", threshold={self.threshold}, reset_mechanism={self.reset_mechanism!r}"
        if self.signed:
            text += f", signed=True, signed_output={self.signed_output!r}"
        return text + f", step_mode={self.step_mode!r}"


class SpikingLSTMCell(_SpikingGatedCell):
    """One spiking LSTM layer, step by step (``variant``: ``'spikingjelly'`` or ``'snntorch'``).

    Args:
        input_size, hidden_size: features in and neurons.
        bias: the ``bias_ih`` / ``bias_hh`` vectors.
        variant: the formulation (see ``layer.gated_variants``); unknown names list the known ones.
        surrogate_function: the gates' (and snnTorch variant's output) spike function; a
            ``SurrogateFunction``, a name such as ``'atan'``, or None for the variant's default
            (``'fastsigmoid:slope=10'`` for ``'spikingjelly'``, ``'atan'`` for ``'snntorch'``).
        candidate_surrogate: the candidate's (g / n) spike function in ``'spikingjelly'``
            (SpikingJelly's ``surrogate_function2``); None uses ``surrogate_function``.
        threshold, reset_mechanism: the ``'snntorch'`` variant's threshold (1.0) and reset
            (``'none'``, snnTorch's default; ``'subtract'`` or ``'zero'``).
        signed, signed_output: signed values as two spike channels (see ``gated_variants``).
        time_gate, time_gate_options, dt: ``'phased'`` for a phased-LSTM time gate (options go to
            ``PhasedTimeGate``); a step lasts ``dt``.
        step_mode: ``'s'`` (``[N, input_size]``, the default for a cell) or ``'m'``.

    State: ``h``, ``c`` (``'spikingjelly'``) or ``mem``, ``syn`` (``'snntorch'``), each
    ``[N, hidden_size]``, and ``step_index``; ``reset()`` / ``functional.reset_net`` clear them.
    """

    VARIANTS = LSTM_VARIANTS


class SpikingGRUCell(_SpikingGatedCell):
    """One spiking GRU layer, step by step; arguments as ``SpikingLSTMCell``.

    State: ``h`` (``'spikingjelly'``) or ``mem`` (``'snntorch'``), ``[N, hidden_size]``.
    """

    VARIANTS = GRU_VARIANTS


class _SpikingGatedRNN(StepModule):
    """Stacked cells; layer l > 0 reads layer l-1's output (``output_size`` features)."""

    CELL: type[_SpikingGatedCell]

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 step_mode: str = "m", **cell_options):
        super().__init__(step_mode)
        name = type(self).__name__
        self.input_size = _check_size(input_size, "input_size", name)
        self.hidden_size = _check_size(hidden_size, "hidden_size", name)
        self.num_layers = _check_size(num_layers, "num_layers", name)
        cells = [self.CELL(self.input_size, self.hidden_size, bias, step_mode="s", **cell_options)]
        size = cells[0].output_size
        _check_fits(_cell_values(cells[0].spec, size, self.hidden_size) * (self.num_layers - 1), name,
                    f"num_layers={self.num_layers} of hidden_size={self.hidden_size}")
        for _ in range(self.num_layers - 1):
            cells.append(self.CELL(size, self.hidden_size, bias, step_mode="s", **cell_options))
        self.cells = nn.ModuleList(cells)

    @property
    def output_size(self) -> int:
        return self.cells[-1].output_size

    def single_step_forward(self, x: Tensor) -> Tensor:
        _check_input(x, self, self.input_size, "s", self.cells[0].weight_ih)
        for cell in self.cells:
            x = cell.checked_forward(x, "s")
        return x

    def multi_step_forward(self, x_seq: Tensor) -> Tensor:
        _check_input(x_seq, self, self.input_size, "m", self.cells[0].weight_ih)
        for cell in self.cells:
            x_seq = cell.checked_forward(x_seq, "m")
        return x_seq

    def forward(self, x: Tensor) -> Tensor:
        if self.step_mode == "s":
            return self.single_step_forward(x)
        return self.multi_step_forward(x)

    def extra_repr(self) -> str:
        return f"num_layers={self.num_layers}, step_mode={self.step_mode!r}"


class SpikingLSTM(_SpikingGatedRNN):
    """A stacked spiking LSTM over ``[T, N, input_size]`` (``step_mode='m'``, default) or one step
    ``[N, input_size]`` (``'s'``); returns the last layer's output spikes.

    Args: ``input_size``, ``hidden_size``, ``num_layers=1``, ``bias=True``, ``step_mode='m'``, and
    every ``SpikingLSTMCell`` option (``variant``, ``surrogate_function``, ``signed``,
    ``time_gate``, ...), given to each layer. The layers are ``self.cells``; their state is reset
    by ``functional.reset_net``.
    """

    CELL = SpikingLSTMCell


class SpikingGRU(_SpikingGatedRNN):
    """A stacked spiking GRU; arguments as ``SpikingLSTM`` with ``SpikingGRUCell`` options."""

    CELL = SpikingGRUCell
