"""SpikingJelly 2.0's trace STDP learners with its exact semantics: ``STDPLearner``, ``MSTDPLearner``,
``MSTDPETLearner``.

These are for code written against ``spikingjelly.activation_based.learning``; spikesmith's own
``spikesmith.learning`` STDP keeps its own design. A learner watches two modules through forward hooks:
the input of ``synapse`` (the presynaptic spikes) and the output of ``sn`` (the postsynaptic spikes).
``step()`` consumes what was recorded since the last call, advances the traces and gives the weight
change ``delta_w`` (summed over batch, space and time, never averaged); the weights are never changed
directly: ``step(on_grad=True)`` adds ``-delta_w`` to ``synapse.weight.grad`` (so an optimizer step with
lr = 1 moves the weights by ``+delta_w``), ``step(on_grad=False)`` returns ``delta_w``.

STDP (``STDPLearner``, Linear / Conv1d / Conv2d, ``'s'`` or ``'m'``), per time step, with linear decay:

    tr_pre  <- tr_pre  - tr_pre / tau_pre   + s_pre
    tr_post <- tr_post - tr_post / tau_post + s_post
    delta_w = f_post(W) * sum_n(s_post x tr_pre) - f_pre(W) * sum_n(tr_post x s_pre)

(for a convolution, ``x`` pairs every output position with the input position each kernel tap reads, on
the padded input; ``f_pre``/``f_post`` get the tap's ``W[:, :, k]`` slice). A multi-step record adds the
steps' changes at fixed weights.

Reward-modulated STDP (``MSTDPLearner``: Linear, batch ``[N, I]``; ``MSTDPETLearner``: Linear, one sample
``[I]``), single-step, with exponential decay ``tr <- tr * exp(-1/tau) + s``. The eligibility
``e = f_post(W) * (s_post x tr_pre) - f_pre(W) * (tr_post x s_pre)`` of step t is used by the reward of
step t + 1, so the first change is zero:

    MSTDP:    delta_w = sum_n reward_n * e_n[t-1]
    MSTDPET:  trace_e <- trace_e * exp(-1/tau_trace) + e[t-1] / tau_trace;   delta_w = reward * trace_e

The functional forms ``stdp_linear_single_step`` / ``stdp_conv2d_single_step`` / ``stdp_conv1d_single_step`` /
``stdp_multi_step`` / ``mstdp_linear_single_step`` / ``mstdpet_linear_single_step`` take the synapse, the
spikes and the traces (None to start) and return ``(trace_pre, trace_post, delta_w or eligibility)``.

>>> learner = STDPLearner("s", fc, sn, tau_pre=2.0, tau_post=2.0)
>>> out = sn(fc(x)); learner.step(on_grad=True); optimizer.step()
"""

from __future__ import annotations

import contextlib
import itertools
import math
from typing import Callable, Optional, Union

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ...module import MemoryModule

Synapse = Union[nn.Linear, nn.Conv1d, nn.Conv2d]


def _identity(x: Tensor) -> Tensor:
    return x


# ---------------------------------------------------------------- functional core (pure, explicit state)

def _check_taus(owner: str, exponential: bool, **taus: float) -> None:
    for name, tau in taus.items():
        number = isinstance(tau, (int, float)) and not isinstance(tau, bool) and math.isfinite(tau)
        ok = number and (tau > 0 if exponential else tau >= 1)
        if not ok:
            bound = "> 0" if exponential else ">= 1 (the decay is 1 - 1/tau)"
            raise ValueError(f"{owner}: {name} must be a finite number {bound} time steps, got {tau!r}")


def linear_decay_trace(trace: Tensor, spike: Tensor, tau: float) -> Tensor:
    """SpikingJelly's STDP trace step: ``trace - trace / tau + spike``."""
    return trace - trace / tau + spike


def exponential_decay_trace(trace: Tensor, spike: Tensor, tau: float) -> Tensor:
    """SpikingJelly's reward-STDP trace step: ``trace * exp(-1/tau) + spike``."""
    return trace * math.exp(-1 / tau) + spike


def stdp_linear_delta(pre: Tensor, post: Tensor, trace_pre: Tensor, trace_post: Tensor, weight: Tensor,
                      f_pre: Callable, f_post: Callable) -> Tensor:
    """``f_post(W) * sum_n post x trace_pre - f_pre(W) * sum_n trace_post x pre`` (traces already advanced)."""
    depress = f_pre(weight) * torch.einsum("no,ni->oi", trace_post, pre)
    potentiate = f_post(weight) * torch.einsum("no,ni->oi", post, trace_pre)
    return potentiate - depress


def stdp_conv_delta(pre: Tensor, post: Tensor, trace_pre: Tensor, trace_post: Tensor, weight: Tensor,
                    stride: tuple, f_pre: Callable, f_post: Callable) -> Tensor:
    """The convolution STDP change on an already padded input ``pre`` ``[N, I, *space]`` (1-D or 2-D)."""
    delta = torch.zeros_like(weight)
    kernel = weight.shape[2:]
    for tap in itertools.product(*(range(k) for k in kernel)):
        window = tuple(slice(t, pre.shape[2 + d] - kernel[d] + 1 + t, stride[d]) for d, t in enumerate(tap))
        pre_tap = pre[(slice(None), slice(None)) + window].flatten(2)
        trace_pre_tap = trace_pre[(slice(None), slice(None)) + window].flatten(2)
        w_tap = weight[(slice(None), slice(None)) + tap]
        depress = f_pre(w_tap) * torch.einsum("nop,nip->oi", trace_post.flatten(2), pre_tap)
        potentiate = f_post(w_tap) * torch.einsum("nop,nip->oi", post.flatten(2), trace_pre_tap)
        delta[(slice(None), slice(None)) + tap] += potentiate - depress
    return delta


def reward_eligibility(pre: Tensor, post: Tensor, trace_pre: Tensor, trace_post: Tensor, weight: Tensor,
                       f_pre: Callable, f_post: Callable) -> Tensor:
    """Per-sample eligibility ``f_post(W) * post x trace_pre - f_pre(W) * trace_post x pre``: ``[..., O, I]``."""
    return (f_post(weight) * (post.unsqueeze(-1) * trace_pre.unsqueeze(-2))
            - f_pre(weight) * (trace_post.unsqueeze(-1) * pre.unsqueeze(-2)))


@contextlib.contextmanager
def _modulation_errors(owner: str, weight: Tensor):
    """Turn a shape/dtype clash inside f_pre/f_post (or between spikes and weight) into one clear error."""
    try:
        yield
    except RuntimeError as err:
        raise ValueError(f"{owner}: computing the weight change failed ({err}); f_pre and f_post must return a "
                         f"number or a tensor broadcastable to the weight {list(weight.shape)}, and the spikes "
                         f"must have the weight's dtype {weight.dtype}") from None


# ---------------------------------------------------------------- SpikingJelly's functional forms

def _zeros_if_none(trace, like: Tensor) -> Tensor:
    return torch.zeros_like(like) if trace is None else trace


def _padded_input(conv: nn.Module, x: Tensor) -> Tensor:
    padding = getattr(conv, "_reversed_padding_repeated_twice", None)
    if not padding or not any(padding):
        return x
    return F.pad(x, padding, mode="constant" if conv.padding_mode == "zeros" else conv.padding_mode)


@torch.no_grad()
def stdp_linear_single_step(fc: nn.Linear, in_spike: Tensor, out_spike: Tensor, trace_pre, trace_post,
                            tau_pre: float, tau_post: float, f_pre: Callable = _identity,
                            f_post: Callable = _identity) -> tuple[Tensor, Tensor, Tensor]:
    """One STDP step of a Linear synapse: ``(trace_pre, trace_post, delta_w)`` (traces may start as None)."""
    _check_taus("stdp_linear_single_step", False, tau_pre=tau_pre, tau_post=tau_post)
    weight = fc.weight.detach()
    trace_pre = linear_decay_trace(_zeros_if_none(trace_pre, in_spike), in_spike, tau_pre)
    trace_post = linear_decay_trace(_zeros_if_none(trace_post, out_spike), out_spike, tau_post)
    with _modulation_errors("stdp_linear_single_step", weight):
        delta = stdp_linear_delta(in_spike, out_spike, trace_pre, trace_post, weight, f_pre, f_post)
    return trace_pre, trace_post, delta


def _stdp_conv_single_step(owner: str, conv: nn.Module, in_spike: Tensor, out_spike: Tensor, trace_pre,
                           trace_post, tau_pre: float, tau_post: float, f_pre: Callable, f_post: Callable):
    _check_taus(owner, False, tau_pre=tau_pre, tau_post=tau_post)
    if conv.groups != 1 or any(d != 1 for d in conv.dilation):
        raise ValueError(f"{owner}: convolution STDP needs groups=1 and dilation=1")
    weight = conv.weight.detach()
    in_spike = _padded_input(conv, in_spike)
    trace_pre = linear_decay_trace(_zeros_if_none(trace_pre, in_spike), in_spike, tau_pre)
    trace_post = linear_decay_trace(_zeros_if_none(trace_post, out_spike), out_spike, tau_post)
    with _modulation_errors(owner, weight):
        delta = stdp_conv_delta(in_spike, out_spike, trace_pre, trace_post, weight, conv.stride, f_pre, f_post)
    return trace_pre, trace_post, delta


@torch.no_grad()
def stdp_conv2d_single_step(conv: nn.Conv2d, in_spike: Tensor, out_spike: Tensor, trace_pre, trace_post,
                            tau_pre: float, tau_post: float, f_pre: Callable = _identity,
                            f_post: Callable = _identity) -> tuple[Tensor, Tensor, Tensor]:
    """One STDP step of a Conv2d synapse (``trace_pre`` is on the padded input)."""
    return _stdp_conv_single_step("stdp_conv2d_single_step", conv, in_spike, out_spike, trace_pre, trace_post,
                                  tau_pre, tau_post, f_pre, f_post)


@torch.no_grad()
def stdp_conv1d_single_step(conv: nn.Conv1d, in_spike: Tensor, out_spike: Tensor, trace_pre, trace_post,
                            tau_pre: float, tau_post: float, f_pre: Callable = _identity,
                            f_post: Callable = _identity) -> tuple[Tensor, Tensor, Tensor]:
    """One STDP step of a Conv1d synapse (``trace_pre`` is on the padded input)."""
    return _stdp_conv_single_step("stdp_conv1d_single_step", conv, in_spike, out_spike, trace_pre, trace_post,
                                  tau_pre, tau_post, f_pre, f_post)


@torch.no_grad()
def stdp_multi_step(layer: Synapse, in_spike: Tensor, out_spike: Tensor, trace_pre, trace_post, tau_pre: float,
                    tau_post: float, f_pre: Callable = _identity,
                    f_post: Callable = _identity) -> tuple[Tensor, Tensor, Tensor]:
    """STDP over a sequence ``[T, N, ...]``: the single steps in order, their changes summed at fixed weights."""
    steps = {nn.Linear: stdp_linear_single_step, nn.Conv2d: stdp_conv2d_single_step,
             nn.Conv1d: stdp_conv1d_single_step}
    single = next((f for t, f in steps.items() if isinstance(layer, t)), None)
    if single is None:
        raise TypeError(f"stdp_multi_step: layer must be an nn.Linear, nn.Conv1d or nn.Conv2d, got "
                        f"{type(layer).__name__}")
    delta = torch.zeros_like(layer.weight)
    for x_t, y_t in zip(in_spike, out_spike):
        trace_pre, trace_post, dw = single(layer, x_t, y_t, trace_pre, trace_post, tau_pre, tau_post, f_pre, f_post)
        delta += dw
    return trace_pre, trace_post, delta


@torch.no_grad()
def mstdp_linear_single_step(fc: nn.Linear, in_spike: Tensor, out_spike: Tensor, trace_pre, trace_post,
                             tau_pre: float, tau_post: float, f_pre: Callable = _identity,
                             f_post: Callable = _identity) -> tuple[Tensor, Tensor, Tensor]:
    """One reward-STDP step (batched ``[N, I]``): ``(trace_pre, trace_post, eligibility [N, O, I])``."""
    _check_taus("mstdp_linear_single_step", True, tau_pre=tau_pre, tau_post=tau_post)
    weight = fc.weight.detach()
    trace_pre = exponential_decay_trace(_zeros_if_none(trace_pre, in_spike), in_spike, tau_pre)
    trace_post = exponential_decay_trace(_zeros_if_none(trace_post, out_spike), out_spike, tau_post)
    with _modulation_errors("mstdp_linear_single_step", weight):
        eligibility = reward_eligibility(in_spike, out_spike, trace_pre, trace_post, weight, f_pre, f_post)
    return trace_pre, trace_post, eligibility


@torch.no_grad()
def mstdpet_linear_single_step(fc: nn.Linear, in_spike: Tensor, out_spike: Tensor, trace_pre, trace_post,
                               tau_pre: float, tau_post: float, f_pre: Callable = _identity,
                               f_post: Callable = _identity) -> tuple[Tensor, Tensor, Tensor]:
    """One reward-STDP step of one sample (``[I]`` / ``[O]``): ``(trace_pre, trace_post, eligibility [O, I])``."""
    return mstdp_linear_single_step(fc, in_spike, out_spike, trace_pre, trace_post, tau_pre, tau_post, f_pre, f_post)


# ---------------------------------------------------------------- recording (SpikingJelly monitor-like)

def _first(value):
    return value[0] if isinstance(value, tuple) and len(value) == 1 else value


class _SpikeRecorder:
    """Records a module's input (``pre=True``) or output, detached; ``records``, ``enable``/``disable``."""

    def __init__(self, module: nn.Module, pre: bool):
        self.records: list = []
        self._enabled = True
        if pre:
            self.hooks = [module.register_forward_pre_hook(lambda m, args: self._record(_first(args)))]
        else:
            self.hooks = [module.register_forward_hook(lambda m, args, out: self._record(_first(out)))]

    def _record(self, value) -> None:
        if self._enabled:
            self.records.append(value.detach() if isinstance(value, Tensor) else value)

    def __len__(self) -> int:
        return len(self.records)

    def __getitem__(self, i: int):
        return self.records[i]

    def clear_recorded_data(self) -> None:
        self.records.clear()

    def enable(self) -> None:
        self._enabled = True

    def disable(self) -> None:
        self._enabled = False

    def is_enable(self) -> bool:
        return self._enabled

    def close(self) -> None:
        self._enabled = False
        for hook in self.hooks:
            hook.remove()
        self.hooks.clear()


# ---------------------------------------------------------------- the learners

class _Learner(MemoryModule):
    """What the three learners share: the hooks, reset / enable / disable / close, and applying delta_w."""

    def __init__(self, step_mode: str, synapse: nn.Module, sn: nn.Module, f_pre: Callable, f_post: Callable,
                 synapse_types: tuple):
        owner = type(self).__name__
        if not isinstance(synapse, synapse_types):
            names = "/".join(f"nn.{t.__name__}" for t in synapse_types)
            raise TypeError(f"{owner}: synapse must be an {names} (or a layer derived from one), got "
                            f"{type(synapse).__name__}; put the learner on the weight layer itself")
        if not isinstance(sn, nn.Module):
            raise TypeError(f"{owner}: sn must be the nn.Module that emits the postsynaptic spikes, "
                            f"got {type(sn).__name__}")
        for name, f in (("f_pre", f_pre), ("f_post", f_post)):
            if not callable(f):
                raise TypeError(f"{owner}: {name} must be a callable weight -> factor, got {type(f).__name__}")
        super().__init__(step_mode)
        self.synapse = synapse
        self.f_pre = f_pre
        self.f_post = f_post
        self.in_spike_monitor = _SpikeRecorder(synapse, pre=True)
        self.out_spike_monitor = _SpikeRecorder(sn, pre=False)

    def reset(self) -> None:
        """Clear traces and records; weights, gradients and enable/disable stay as they are."""
        super().reset()
        self.in_spike_monitor.clear_recorded_data()
        self.out_spike_monitor.clear_recorded_data()

    def disable(self) -> None:
        """Stop recording (states and records are kept)."""
        self.in_spike_monitor.disable()
        self.out_spike_monitor.disable()

    def enable(self) -> None:
        """Record again (states and records are kept)."""
        self._check_open()
        self.in_spike_monitor.enable()
        self.out_spike_monitor.enable()

    def close(self) -> None:
        """Remove the hooks for good and clear the states; create a new learner to learn again."""
        self.in_spike_monitor.close()
        self.out_spike_monitor.close()
        self.reset()

    def _check_open(self) -> None:
        if not self.in_spike_monitor.hooks or not self.out_spike_monitor.hooks:
            raise RuntimeError(f"{type(self).__name__} is closed; create a new learner to learn again")

    def _take_records(self) -> list:
        self._check_open()
        pre, post = self.in_spike_monitor.records, self.out_spike_monitor.records
        if len(pre) != len(post):
            raise RuntimeError(f"{type(self).__name__}: {len(pre)} synapse inputs but {len(post)} neuron outputs "
                               f"were recorded; run synapse and sn the same number of times before step()")
        return list(zip(pre, post))

    def _check_pair(self, pre, post, dims: int, layout: str) -> None:
        owner = type(self).__name__
        for what, x in (("synapse input", pre), ("sn output", post)):
            if not isinstance(x, Tensor):
                raise TypeError(f"{owner}: the recorded {what} is a {type(x).__name__}, not a tensor")
            if x.dim() != dims:
                raise ValueError(f"{owner} in step_mode={self.step_mode!r} expects spikes of shape {layout}, got "
                                 f"the {what} with shape {list(x.shape)}; check step_mode and the synapse type")
            if x.device != self.synapse.weight.device:
                raise ValueError(f"{owner}: the {what} is on {x.device} but the weight on "
                                 f"{self.synapse.weight.device}; move them to one device")
        weight = self.synapse.weight
        channel = 0 if dims == 1 else (2 if self.step_mode == "m" else 1)
        if pre.shape[channel] != weight.shape[1] or post.shape[channel] != weight.shape[0]:
            raise ValueError(f"{owner}: spikes of shapes {list(pre.shape)} (pre) and {list(post.shape)} (post) do "
                             f"not fit the weight {list(weight.shape)}; sn must be the neuron fed by synapse")
        if dims > 1 and pre.shape[: channel] != post.shape[: channel]:
            raise ValueError(f"{owner}: pre spikes {list(pre.shape)} and post spikes {list(post.shape)} differ in "
                             f"their time/batch dims")

    def _check_state(self, name: str, state, shape) -> None:
        if state is not None and tuple(state.shape) != tuple(shape):
            raise ValueError(f"{type(self).__name__}: {name} has shape {list(state.shape)} but the new spikes need "
                             f"{list(shape)}; call reset() before changing the batch size")

    def _finish(self, delta_w: Tensor, on_grad: bool) -> Optional[Tensor]:
        self.in_spike_monitor.clear_recorded_data()
        self.out_spike_monitor.clear_recorded_data()
        if not on_grad:
            return delta_w
        weight = self.synapse.weight
        weight.grad = -delta_w if weight.grad is None else weight.grad - delta_w
        return None


class STDPLearner(_Learner):
    """SpikingJelly's ``STDPLearner(step_mode, synapse, sn, tau_pre, tau_post, f_pre, f_post)``.

    Traces decay by ``1 - 1/tau`` (``tau >= 1``); ``synapse`` is a Linear, Conv1d or Conv2d (groups = 1,
    dilation = 1); spikes are ``[N, ...]`` in ``'s'`` mode and ``[T, N, ...]`` in ``'m'`` mode.
    ``step(on_grad=True, scale=1.0)``: see the module docstring.
    """

    def __init__(self, step_mode: str, synapse: Synapse, sn: nn.Module, tau_pre: float, tau_post: float,
                 f_pre: Callable = _identity, f_post: Callable = _identity):
        _check_taus("STDPLearner", False, tau_pre=tau_pre, tau_post=tau_post)
        if isinstance(synapse, (nn.Conv1d, nn.Conv2d)):
            if synapse.groups != 1 or any(d != 1 for d in synapse.dilation):
                raise ValueError(f"STDPLearner: convolution STDP needs groups=1 and dilation=1, got "
                                 f"groups={synapse.groups}, dilation={synapse.dilation}; use a plain convolution")
            if isinstance(synapse.padding, str):
                raise ValueError(f"STDPLearner: padding={synapse.padding!r} is not supported; give the padding "
                                 f"as numbers")
        super().__init__(step_mode, synapse, sn, f_pre, f_post, (nn.Linear, nn.Conv1d, nn.Conv2d))
        self.tau_pre = tau_pre
        self.tau_post = tau_post
        self.register_memory("trace_pre", None)
        self.register_memory("trace_post", None)

    def _layout(self) -> tuple[int, str]:
        base = {nn.Conv1d: (3, "[N, C, L]"), nn.Conv2d: (4, "[N, C, H, W]")}
        dims, layout = next((v for t, v in base.items() if isinstance(self.synapse, t)), (2, "[N, features]"))
        if self.step_mode == "m":
            return dims + 1, "[T, " + layout[1:]
        return dims, layout

    def _padded(self, pre: Tensor) -> Tensor:
        padding = getattr(self.synapse, "_reversed_padding_repeated_twice", None)
        if not padding or not any(padding):
            return pre
        mode = "constant" if self.synapse.padding_mode == "zeros" else self.synapse.padding_mode
        return F.pad(pre, padding, mode=mode)

    def _one_step(self, pre: Tensor, post: Tensor, traces: list) -> Tensor:
        """One step's change; advances ``traces = [trace_pre, trace_post]`` (the learner's are set by step)."""
        weight = self.synapse.weight.detach()
        conv = not isinstance(self.synapse, nn.Linear)
        if conv:
            pre = self._padded(pre)
            expected = tuple((size - k) // s + 1 for size, k, s in
                             zip(pre.shape[2:], weight.shape[2:], self.synapse.stride))
            if tuple(post.shape[2:]) != expected:
                raise ValueError(f"STDPLearner: the sn output's spatial shape {list(post.shape[2:])} is not the "
                                 f"synapse's output shape {list(expected)}; sn must be fed by synapse directly")
        self._check_state("trace_pre", traces[0], pre.shape)
        self._check_state("trace_post", traces[1], post.shape)
        trace_pre = linear_decay_trace(_zeros_if_none(traces[0], pre), pre, self.tau_pre)
        trace_post = linear_decay_trace(_zeros_if_none(traces[1], post), post, self.tau_post)
        with _modulation_errors(type(self).__name__, weight):
            if conv:
                delta = stdp_conv_delta(pre, post, trace_pre, trace_post, weight, self.synapse.stride,
                                        self.f_pre, self.f_post)
            else:
                delta = stdp_linear_delta(pre, post, trace_pre, trace_post, weight, self.f_pre, self.f_post)
        traces[:] = [trace_pre, trace_post]
        return delta

    @torch.no_grad()
    def step(self, on_grad: bool = True, scale: float = 1.0) -> Optional[Tensor]:
        """Consume the records: add ``-scale * delta_w`` to ``weight.grad`` (on_grad) or return it.

        Returns None (and advances nothing) when nothing was recorded. An error in any record leaves the
        traces, the records and ``.grad`` as they were.
        """
        pairs = self._take_records()
        if not pairs:
            return None
        dims, layout = self._layout()
        for pre, post in pairs:
            self._check_pair(pre, post, dims, layout)
        traces = [self.trace_pre, self.trace_post]
        delta_w = None
        for pre, post in pairs:
            steps = zip(pre, post) if self.step_mode == "m" else [(pre, post)]
            dw = torch.zeros_like(self.synapse.weight)
            for pre_t, post_t in steps:
                dw += self._one_step(pre_t, post_t, traces)
            if scale != 1.0:
                dw *= scale
            delta_w = dw if delta_w is None else delta_w + dw
        self.trace_pre, self.trace_post = traces
        return self._finish(delta_w, on_grad)


class _RewardLearner(_Learner):
    """MSTDP / MSTDPET: single-step Linear, exponential traces, one activity pair per ``step(reward)``."""

    batched: bool = True

    def __init__(self, step_mode: str, synapse: nn.Linear, sn: nn.Module, tau_pre: float, tau_post: float,
                 f_pre: Callable, f_post: Callable, **extra_taus: float):
        owner = type(self).__name__
        _check_taus(owner, True, tau_pre=tau_pre, tau_post=tau_post, **extra_taus)
        if step_mode != "s":
            raise ValueError(f"{owner}: only step_mode='s' is supported, got {step_mode!r}; call step(reward) "
                             f"after every time step")
        super().__init__(step_mode, synapse, sn, f_pre, f_post, (nn.Linear,))
        self.tau_pre = tau_pre
        self.tau_post = tau_post
        self.register_memory("trace_pre", None)
        self.register_memory("trace_post", None)
        self.register_memory("eligibility", None)

    def _eligibility(self) -> tuple[Tensor, Tensor, Tensor]:
        owner = type(self).__name__
        pairs = self._take_records()
        if len(pairs) != 1:
            raise RuntimeError(f"{owner}: {len(pairs)} activity pairs were recorded; call step(reward) after "
                               f"every single forward step")
        pre, post = pairs[0]
        dims, layout = (2, "[N, features]") if self.batched else (1, "[features] (one sample, no batch dim)")
        self._check_pair(pre, post, dims, layout)
        self._check_state("trace_pre", self.trace_pre, pre.shape)
        self._check_state("trace_post", self.trace_post, post.shape)
        trace_pre = exponential_decay_trace(torch.zeros_like(pre) if self.trace_pre is None else self.trace_pre,
                                            pre, self.tau_pre)
        trace_post = exponential_decay_trace(torch.zeros_like(post) if self.trace_post is None else
                                             self.trace_post, post, self.tau_post)
        with _modulation_errors(owner, self.synapse.weight):
            eligibility = reward_eligibility(pre, post, trace_pre, trace_post, self.synapse.weight.detach(),
                                             self.f_pre, self.f_post)
        self._check_state("eligibility", self.eligibility, eligibility.shape)
        return eligibility, trace_pre, trace_post

    def _reward(self, reward) -> Tensor:
        weight = self.synapse.weight
        try:
            return torch.as_tensor(reward, device=weight.device, dtype=weight.dtype).detach()
        except (TypeError, ValueError, RuntimeError) as err:
            raise TypeError(f"{type(self).__name__}: reward must be a number or a tensor, got "
                            f"{type(reward).__name__} ({err})") from None


class MSTDPLearner(_RewardLearner):
    """SpikingJelly's ``MSTDPLearner(step_mode='s', synapse: Linear, sn, tau_pre, tau_post, f_pre, f_post)``.

    Spikes ``[N, I]`` / ``[N, O]``; ``step(reward, on_grad=True, scale=1.0)`` with ``reward`` a scalar or
    ``[N]``: ``delta_w = scale * sum_n reward_n * eligibility_n`` of the previous step.
    """

    def __init__(self, step_mode: str, synapse: nn.Linear, sn: nn.Module, tau_pre: float, tau_post: float,
                 f_pre: Callable = _identity, f_post: Callable = _identity):
        super().__init__(step_mode, synapse, sn, tau_pre, tau_post, f_pre, f_post)

    @torch.no_grad()
    def step(self, reward: Union[float, Tensor], on_grad: bool = True, scale: float = 1.0) -> Optional[Tensor]:
        if not self._take_records():
            return None
        eligibility, trace_pre, trace_post = self._eligibility()
        reward = self._reward(reward)
        batch = eligibility.shape[0]
        if reward.dim() != 0 and tuple(reward.shape) != (batch,):
            raise ValueError(f"MSTDPLearner: reward must be a scalar or of shape [{batch}] (one per sample), "
                             f"got shape {list(reward.shape)}")
        previous = torch.zeros_like(eligibility) if self.eligibility is None else self.eligibility
        delta_w = (reward.reshape(-1, 1, 1) * previous).sum(0)
        self.trace_pre, self.trace_post, self.eligibility = trace_pre, trace_post, eligibility
        if scale != 1.0:
            delta_w *= scale
        return self._finish(delta_w, on_grad)


class MSTDPETLearner(_RewardLearner):
    """SpikingJelly's ``MSTDPETLearner(step_mode='s', synapse: Linear, sn, tau_pre, tau_post, tau_trace, ...)``.

    One sample: spikes ``[I]`` / ``[O]``; ``step(reward, on_grad=True, scale=1.0)`` with a scalar
    ``reward``: ``trace_e <- trace_e * exp(-1/tau_trace) + eligibility[t-1] / tau_trace``,
    ``delta_w = scale * reward * trace_e``.
    """

    batched = False

    def __init__(self, step_mode: str, synapse: nn.Linear, sn: nn.Module, tau_pre: float, tau_post: float,
                 tau_trace: float, f_pre: Callable = _identity, f_post: Callable = _identity):
        super().__init__(step_mode, synapse, sn, tau_pre, tau_post, f_pre, f_post, tau_trace=tau_trace)
        self.tau_trace = tau_trace
        self.register_memory("trace_e", None)

    @torch.no_grad()
    def step(self, reward: Union[float, Tensor], on_grad: bool = True, scale: float = 1.0) -> Optional[Tensor]:
        if not self._take_records():
            return None
        eligibility, trace_pre, trace_post = self._eligibility()
        reward = self._reward(reward)
        if reward.dim() != 0:
            raise ValueError(f"MSTDPETLearner: reward must be a scalar, got shape {list(reward.shape)}")
        self._check_state("trace_e", self.trace_e, eligibility.shape)
        previous = torch.zeros_like(eligibility) if self.eligibility is None else self.eligibility
        trace_e = torch.zeros_like(eligibility) if self.trace_e is None else self.trace_e
        trace_e = trace_e * math.exp(-1 / self.tau_trace) + previous / self.tau_trace
        delta_w = reward * trace_e
        self.trace_e, self.trace_pre, self.trace_post, self.eligibility = trace_e, trace_pre, trace_post, eligibility
        if scale != 1.0:
            delta_w *= scale
        return self._finish(delta_w, on_grad)
