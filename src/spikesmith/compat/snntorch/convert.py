"""``from_snntorch(net)``: swap the snnTorch neurons inside a built network for spikesmith's.

The network keeps its own class and ``forward``: each snnTorch ``Leaky``, ``Synaptic``, ``Alpha``,
``Lapicque``, ``RLeaky`` or ``RSynaptic`` child is replaced, under the same attribute name, by the
``spikesmith.compat.snntorch`` neuron of the same name with the same options, thresholds, decays,
recurrent weights and learnable flags (copied, not shared: build the optimizer after converting); the
hidden state starts fresh.
snnTorch's spike functions are mapped onto ``compat.snntorch.surrogate`` by factory name and
parameters; any other callable is kept. Any other snnTorch module is refused, before anything
changes, in one ``TypeError`` naming its path and the nearest spikesmith module.

snnTorch is not imported here: its classes are looked up among the imported modules (a network that
holds snnTorch modules has imported it), past ``install_snntorch_alias``.
"""

from __future__ import annotations

from typing import Callable, Optional

import torch
from torch import nn

from .alias import real_snntorch
from .alpha import Alpha
from .lapicque import Lapicque
from .leaky import Leaky
from .rleaky import RLeaky
from .rsynaptic import RSynaptic
from .surrogate import FACTORIES
from .synaptic import Synaptic

#: snnTorch modules with no counterpart here -> the nearest spikesmith module
_NEAREST = {
    "SLSTM": "spikesmith.layer.SpikingLSTMCell (a spiking LSTM cell; its gates differ: retrain)",
    "SConv2dLSTM": "spikesmith.layer.SpikingLSTMCell on flattened features (no convolutional spiking LSTM yet)",
    "LeakyParallel": "spikesmith.neuron.LIFNode(step_mode='m') (a whole sequence per call)",
    "StateLeaky": "spikesmith.neuron.NonSpikingLIFNode (a leaky integrator without spikes)",
    "LinearLeaky": "spikesmith.compat.snntorch.Leaky (rebuild it by hand: its leak is linear)",
    "DeltaLeaky": "spikesmith.compat.snntorch.Leaky (rebuild it by hand)",
    "AssociativeLeaky": "spikesmith.compat.snntorch.Leaky (rebuild it by hand)",
    "BatchNormTT1d": "spikesmith.layer.BatchNorm1d (one statistic for all steps, not one per step)",
    "BatchNormTT2d": "spikesmith.layer.BatchNorm2d (one statistic for all steps, not one per step)",
}
_DEFAULT_NEAREST = "spikesmith.compat.snntorch.Leaky or spikesmith.neuron.LIFNode"


def _is_snntorch(module: nn.Module) -> bool:
    """A snnTorch module, or a user's subclass of one."""
    return any(cls.__module__.split(".")[0] == "snntorch" for cls in type(module).__mro__)


def _spike_fn(fn: Callable) -> Callable:
    """snnTorch's ``surrogate.<factory>(...)`` closure -> ours with the same parameters; else ``fn``."""
    if getattr(fn, "__module__", None) != "snntorch.surrogate" or not getattr(fn, "__closure__", None):
        return fn
    factory = FACTORIES.get(fn.__qualname__.split(".<locals>")[0])
    if factory is None:
        return fn
    values = {name: cell.cell_contents for name, cell in zip(fn.__code__.co_freevars, fn.__closure__)}
    if "func" in values:
        values = {"custom_surrogate_function": values.pop("func")}
    return factory(**values)


def _clone(value: torch.Tensor) -> torch.Tensor:
    return value.detach().clone()


def _learn(module: nn.Module, name: str) -> bool:
    return isinstance(getattr(module, name, None), nn.Parameter)


def _common(m: nn.Module) -> dict:
    return dict(threshold=_clone(m.threshold), spike_grad=None if m.surrogate_disable else _spike_fn(m.spike_grad),
                surrogate_disable=bool(m.surrogate_disable), init_hidden=bool(m.init_hidden),
                inhibition=bool(m.inhibition), learn_threshold=_learn(m, "threshold"),
                reset_mechanism=m.reset_mechanism, state_quant=m.state_quant, output=bool(m.output))


def _recurrent(m: nn.Module) -> dict:
    return dict(all_to_all=m.all_to_all, linear_features=m.linear_features, conv2d_channels=m.conv2d_channels,
                kernel_size=m.kernel_size, learn_recurrent=m.learn_recurrent,
                V=_clone(m.V) if not m.all_to_all else 1.0)


def _decays(m: nn.Module, *names: str) -> dict:
    """The decays (beta, alpha) as given to the constructor, with their learn_* flags."""
    out = {name: _clone(getattr(m, name)) for name in names}
    out.update({f"learn_{name}": _learn(m, name) for name in names})
    return out


#: our neuron class -> its constructor arguments read off the snnTorch neuron (besides ``_common``)
_ARGUMENTS: dict[type, Callable[[nn.Module], dict]] = {
    Leaky: lambda m: dict(_decays(m, "beta"), reset_delay=m.reset_delay,
                          graded_spikes_factor=_clone(m.graded_spikes_factor),
                          learn_graded_spikes_factor=_learn(m, "graded_spikes_factor")),
    Synaptic: lambda m: dict(_decays(m, "alpha", "beta"), reset_delay=m.reset_delay),
    Alpha: lambda m: _decays(m, "alpha", "beta"),
    Lapicque: lambda m: dict(beta=0.5, learn_beta=_learn(m, "beta")),    # R, C, dt and beta are copied after
    RLeaky: lambda m: dict(_decays(m, "beta"), reset_delay=m.reset_delay, **_recurrent(m)),
    RSynaptic: lambda m: dict(_decays(m, "alpha", "beta"), **_recurrent(m)),   # snnTorch ignores its reset_delay
}


def _build(m: nn.Module, cls: type) -> nn.Module:
    return cls(**_ARGUMENTS[cls](m), **_common(m))


def _copy_tensors(src: nn.Module, dst: nn.Module) -> None:
    """Every parameter and buffer of ``src`` (its own and its recurrent layer's) onto ``dst``."""
    for name, value in src.state_dict(keep_vars=True).items():
        if "." in name:
            continue
        if isinstance(value, nn.Parameter):
            setattr(dst, name, nn.Parameter(_clone(value), requires_grad=value.requires_grad))
        else:
            dst.register_buffer(name, _clone(value))
    if not isinstance(getattr(dst, "recurrent", None), nn.Module):
        return
    if not src.all_to_all:
        dst.recurrent.V = dst.V
        return
    weight = src.recurrent.weight
    dst.recurrent.to(device=weight.device, dtype=weight.dtype)
    dst.recurrent.load_state_dict(src.recurrent.state_dict())
    for mine, theirs in zip(dst.recurrent.parameters(), src.recurrent.parameters()):
        mine.requires_grad_(theirs.requires_grad)


def _classes() -> dict[type, type]:
    """snnTorch's neuron classes -> ours (empty when snnTorch was never imported)."""
    snn = real_snntorch()
    if snn is None:
        return {}
    return {getattr(snn, cls.__name__): cls for cls in _ARGUMENTS if hasattr(snn, cls.__name__)}


def _convert_one(m: nn.Module, cls: type) -> nn.Module:
    with torch.random.fork_rng(devices=[]):        # building a recurrent layer must not move the user's RNG
        out = _build(m, cls)
    _copy_tensors(m, out)
    out.train(m.training)
    return out


def _problem(m: nn.Module, where: str, table: dict[type, type]) -> Optional[str]:
    name = type(m).__name__
    base = next((cls for cls in type(m).__mro__[1:] if cls in table), None)
    if base is not None:
        return (f"{where}: {name} subclasses snntorch.{base.__name__} with its own class, which is not converted "
                f"automatically; build spikesmith.compat.snntorch.{base.__name__} and port your changes to it")
    nearest = next((_NEAREST[cls.__name__] for cls in type(m).__mro__ if cls.__name__ in _NEAREST), _DEFAULT_NEAREST)
    return f"{where}: snntorch {name} has no spikesmith counterpart; nearest: {nearest}"


def _find(module: nn.Module, where: str, table: dict, plan: list, problems: list) -> None:
    """The snnTorch modules under ``module`` (not looking inside them): to convert, or refused."""
    for name, child in module.named_children():
        path = f"{where}.{name}" if where else name
        if not _is_snntorch(child):
            _find(child, path, table, plan, problems)
        elif type(child) in table:
            plan.append((module, name, child, table[type(child)]))
        else:
            problems.append(_problem(child, f"module '{path}'", table))


def from_snntorch(net: nn.Module) -> nn.Module:
    """Replace the snnTorch neurons in ``net`` (in place) by spikesmith's snnTorch-compatible ones.

    >>> net = MyNet()                    # fc1, snn.Leaky(beta=0.95), fc2, snn.Leaky(beta=0.95)
    >>> net = from_snntorch(net)         # the same object, class and forward; spikes equal snnTorch's

    Returns ``net`` (or the converted neuron when ``net`` is itself a snnTorch neuron). Raises
    ``TypeError`` naming every snnTorch module that cannot be converted, before changing anything.
    """
    if not isinstance(net, nn.Module):
        raise TypeError(f"from_snntorch: net must be an nn.Module, got {type(net).__name__}")
    table = _classes()
    if _is_snntorch(net):
        if type(net) not in table:
            raise TypeError(f"from_snntorch: 1 snnTorch module cannot be converted:\n  "
                            f"{_problem(net, 'the root module', table)}")
        return _convert_one(net, table[type(net)])
    plan: list = []
    problems: list[str] = []
    _find(net, "", table, plan, problems)
    if problems:
        lines = "\n  ".join(problems)
        raise TypeError(f"from_snntorch: {len(problems)} snnTorch module(s) cannot be converted:\n  {lines}")
    converted: dict[int, nn.Module] = {}          # a neuron used in two places stays one neuron
    for parent, name, child, cls in plan:
        if id(child) not in converted:
            converted[id(child)] = _convert_one(child, cls)
        setattr(parent, name, converted[id(child)])
    return net
