"""Layer-wise calibration on unlabeled samples (Li et al., ICML 2021), from input to output.

For spiking layer l, with every layer before it already calibrated, the error between the ANN's
activation a_l and the SNN's output rate r_l = V_th * (spike count) / T on the same input is

    e_l = a_l - r_l            (shape [N, C, ...]; E_N: the mean over the calibration samples)

- bias correction:       b_l[c] += E_N,spatial[e_l[c]]       (the per-step input offset, per channel);
                         the readout too, from the error of the network's output
- potential correction:  v_init_l += T * (E_N[e_l] - bias part)     (per neuron: V(0) adds V(0)/T to the rate)
- weight calibration:    a few Adam steps on the weights (and biases) feeding layer l so that the
  clip-floor of its input current, fed with the SNN's rates of the layers before, matches a_l:
      min_W  E || V_th/T clamp(floor((v_init + T (W r_{l-1} + b)) / V_th), 0, T) - a_l ||^2
  with a straight-through floor. The "layers before" are found in the graph (residual branches too).

Every step reads the SNN only up to layer l (the forward is stopped there), so calibrating L layers
costs about L/2 full SNN passes over the calibration samples.
"""

from __future__ import annotations

from typing import Callable, Iterator, Optional

import torch
from torch import Tensor, fx, nn

from ..models.activations import floor_ste
from .layers import IFActivation
from .network import ConvertedSNN
from .steps import selectable_steps

#: The names ``calibration=`` accepts (the selectable steps of ``steps.CALIBRATION_STEPS``).
CALIBRATIONS = selectable_steps()


class _Stop(Exception):
    """Raised by a hook to end a forward pass once the layer of interest has run."""


def chunks(x: Tensor, batch_size: int) -> Iterator[Tensor]:
    for i in range(0, x.shape[0], batch_size):
        yield x[i:i + batch_size]


def _run_until(module: nn.Module, run: Callable[[], object], take: Callable[[nn.Module, Tensor, Tensor], object]):
    """Run ``run()`` until ``module`` has produced its output; return ``take(module, input, output)``."""
    box = {}

    def hook(m, args, out):
        box["value"] = take(m, args[0], out)
        raise _Stop

    handle = module.register_forward_hook(hook)
    try:
        run()
    except _Stop:
        pass
    finally:
        handle.remove()
    if "value" not in box:
        raise RuntimeError(f"calibration: layer {type(module).__name__} was not reached by the forward pass")
    return box["value"]


@torch.no_grad()
def ann_activation(snn: ConvertedSNN, name: str, x: Tensor) -> Tensor:
    """The reference ANN's activation at layer ``name`` for the inputs ``x`` (``N x ...``)."""
    module = snn.ann.get_submodule(name)
    return _run_until(module, lambda: snn.ann(x), lambda m, i, o: o.detach())


@torch.no_grad()
def snn_rate(snn: ConvertedSNN, name: str, x: Tensor, T: Optional[int] = None) -> Tensor:
    """The SNN's output rate V_th * count / T at spiking layer ``name`` (``N x ...``)."""
    layer = snn.net.get_submodule(name)
    return _run_until(layer, lambda: snn.membrane(x, T), lambda m, i, o: m.unfold(o).mean(0).detach())


@torch.no_grad()
def layer_error(snn: ConvertedSNN, name: str, x: Tensor, batch_size: int = 256) -> dict:
    """The error a_l - r_l at layer ``name`` over ``x``: its mean per neuron and its mean square."""
    total, sq, n = None, 0.0, 0
    for xb in chunks(x, batch_size):
        e = ann_activation(snn, name, xb) - snn_rate(snn, name, xb)
        total = e.sum(0) if total is None else total + e.sum(0)
        sq += float(e.pow(2).sum())
        n += e.shape[0]
    return {"mean": total / n, "mse": sq / (n * total.numel())}


def layer_errors(snn: ConvertedSNN, x: Tensor, batch_size: int = 256) -> dict[str, float]:
    """The mean squared error between ANN activation and SNN rate at every spiking layer."""
    return {name: layer_error(snn, name, x, batch_size)["mse"] for name in snn.spiking_layers()}


def _channel_mean(err: Tensor, shape: tuple) -> Tensor:
    """Mean of a per-neuron error ``[C, ...]`` over everything but the channel, in ``shape`` ([C, 1, 1])."""
    if err.dim() <= 1:
        return err.reshape(shape)
    return err.reshape(err.shape[0], -1).mean(1).reshape(shape)


@torch.no_grad()
def correct_layer(snn: ConvertedSNN, name: str, x: Tensor, bias: bool, potential: bool, batch_size: int) -> dict:
    """Bias and/or potential correction of one layer from one measurement of its error."""
    layer: IFActivation = snn.net.get_submodule(name)
    err = layer_error(snn, name, x, batch_size)
    mean = err["mean"]
    per_channel = _channel_mean(mean, tuple(layer.bias.shape)) if bias else torch.zeros((), device=mean.device)
    if bias:
        layer.bias.add_(per_channel)
    if potential:
        resid = mean - per_channel
        layer.set_v_init(layer.v_init + snn.T * resid)
    return err


@torch.no_grad()
def correct_readout(snn: ConvertedSNN, x: Tensor, batch_size: int) -> float:
    """Bias correction of the readout: add the mean of ANN output - SNN output per output unit.

    The readout is linear in its input, so this removes the mean output error exactly (on ``x``).
    Returns the mean squared output error before the correction.
    """
    total, sq, n = None, 0.0, 0
    for xb in chunks(x, batch_size):
        e = snn.ann(xb) - snn(xb)
        total = e.sum(0) if total is None else total + e.sum(0)
        sq += float(e.pow(2).sum())
        n += e.shape[0]
    snn.readout.bias.add_(_channel_mean(total / n, tuple(snn.readout.bias.shape)))
    return sq / (n * total.numel())


# ---------------------------------------------------------------------------------------- weights
def _segment(snn: ConvertedSNN, name: str) -> tuple[list[fx.Node], list[nn.Module]]:
    """The inputs of layer ``name``'s affine segment (earlier spiking layers or the network input) and
    the modules with parameters between them and the layer."""
    modules = dict(snn.net.named_modules())
    node = next(n for n in snn.net.graph.nodes if n.op == "call_module" and n.target == name)
    boundary: list[fx.Node] = []
    params: list[nn.Module] = []
    seen: set = set()
    stack = [p for p in node.all_input_nodes]
    while stack:
        p = stack.pop()
        if p in seen:
            continue
        seen.add(p)
        if p.op == "placeholder" or (p.op == "call_module" and isinstance(modules[p.target], IFActivation)):
            boundary.append(p)
            continue
        if p.op == "call_module" and any(True for _ in modules[p.target].parameters(recurse=False)):
            params.append(modules[p.target])
        stack.extend(p.all_input_nodes)
    return boundary, params


def calibrate_weights(snn: ConvertedSNN, name: str, x: Tensor, iters: int = 200, lr: float = 1e-5,
                      batch_size: int = 128) -> Optional[float]:
    """Adjust the weights feeding spiking layer ``name`` (see the module docstring); returns the final loss."""
    boundary, seg_modules = _segment(snn, name)
    params = [p for m in seg_modules for p in m.parameters(recurse=False)]
    if not params or iters <= 0:
        return None
    layer: IFActivation = snn.net.get_submodule(name)
    layers = snn.spiking_layers()
    bound_names = [b.target for b in boundary if b.op == "call_module"]

    # the SNN rates of the boundary layers and the ANN target, per chunk
    records = []
    with torch.no_grad():
        for xb in chunks(x, batch_size):
            rates = {}
            hooks = [layers[b].register_forward_hook(
                lambda m, a, o, b=b: rates.__setitem__(b, m.unfold(o).mean(0).detach())) for b in bound_names]
            try:
                _run_until(layer, lambda: snn.membrane(xb), lambda m, i, o: None)
            finally:
                for h in hooks:
                    h.remove()
            records.append((xb, rates, ann_activation(snn, name, xb)))
    snn.t_dependent = True

    T = snn.T
    th, v0 = layer.threshold, layer.v_init

    def quantized(current: Tensor) -> Tensor:
        offset = layer.bias + (th / (2 * T) if layer.shift_bias else 0.0)
        charge = v0 + T * (current + offset)
        return th / T * torch.clamp(floor_ste(charge / th), 0, T)

    opt = torch.optim.Adam(params, lr=lr)
    loss_value = None
    try:
        for it in range(iters):
            xb, rates, target = records[it % len(records)]
            for n, m in layers.items():
                if n in rates:
                    m.override = (lambda r: (lambda inp: r))(rates[n])
                elif n != name:
                    m.override = lambda inp: inp
            with torch.enable_grad():
                out = _run_until(layer, lambda: snn.membrane(xb, T=1), lambda m, i, o: quantized(i))
                loss = (out - target).pow(2).mean()
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
            loss_value = float(loss.detach())
    finally:
        for m in layers.values():
            m.override = None
    return loss_value
