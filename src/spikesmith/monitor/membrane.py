"""Membrane potential traces of spiking neurons, in both step modes.

The trace is V(t) after charge, fire and reset, the state the neuron carries to step t + 1
(IFNode, V_th = 1, hard reset to 0, constant X = 0.4: V = 0.4, 0.8, 0.0, 0.4, ...).

- ``step_mode='s'``: each call records ``neuron.v`` (``N x ...``).
- ``step_mode='m'``: each call records ``neuron.v_seq`` (``T x N x ...``). By default the monitor
  switches ``store_v_seq`` on for the neurons it watches while it is enabled and puts the old
  values back on ``disable()`` / ``remove_hooks()``.

``mon.traces()`` gives ``{name: T x N x ...}`` either way.
"""

from __future__ import annotations

from typing import Any, Optional

from torch import Tensor, nn
from torch.utils.hooks import RemovableHandle

from ..neuron import BaseNode
from .base import BaseMonitor, InstanceSpec, _Hook, detached_copy


class MembraneMonitor(BaseMonitor):
    """Record the membrane potential of every chosen neuron after every step.

    Args:
        net: the network.
        instance: ``BaseNode`` subclasses to watch (default: every neuron).
        to_cpu: store the traces on the CPU.
        store_v_seq: switch ``store_v_seq`` on while enabled (needed for ``step_mode='m'``).
            With False, neurons run in ``'m'`` mode must have been built with ``store_v_seq=True``.

    Two membrane monitors on one network should be disabled in the reverse order of enabling,
    so that the ``store_v_seq`` each one puts back is the original.

    >>> with MembraneMonitor(net) as mon:
    ...     net(x_seq)
    >>> mon.traces()["sn1"].shape          # T x N x ...
    """

    _default_instance = (BaseNode,)

    def __init__(self, net: nn.Module, instance: Optional[InstanceSpec] = None, to_cpu: bool = False,
                 store_v_seq: bool = True):
        super().__init__(net, instance, to_cpu)
        bad = [n for n, m in self._modules.items() if not isinstance(m, BaseNode)]
        if bad:
            raise TypeError(
                f"{type(self).__name__}: the modules {bad} are not spiking neurons (BaseNode); "
                f"pass instance=<BaseNode subclasses>, or use AttributeMonitor for other modules"
            )
        self.store_v_seq = bool(store_v_seq)
        self._saved_store_v_seq: dict[str, bool] = {}
        self.enable()

    def _attach(self, name: str, module: nn.Module) -> list[RemovableHandle]:
        if self.store_v_seq:
            self._saved_store_v_seq.setdefault(name, module.store_v_seq)
            module.store_v_seq = True
        return [module.register_forward_hook(_Hook(self, "_on_forward", name))]

    def _on_detach(self) -> None:
        for name, value in self._saved_store_v_seq.items():
            self._modules[name].store_v_seq = value
        self._saved_store_v_seq.clear()

    def _on_forward(self, name: str, module: BaseNode, args: tuple, output: Any) -> None:
        if module.step_mode == "s":
            self._record(name, detached_copy(module.v, self.to_cpu), "s")
            return
        if not module.store_v_seq or module.v_seq is None:
            raise ValueError(
                f"{type(self).__name__}: {name!r} ran in step_mode='m' without store_v_seq, so its trace "
                f"was not kept; build the monitor with store_v_seq=True (the default)"
            )
        self._record(name, detached_copy(module.v_seq, self.to_cpu), "m")

    def trace(self, name: str) -> Tensor:
        """The membrane trace of layer ``name``, ``T x N x ...`` (same as ``sequence(name)``)."""
        return self.sequence(name)

    def traces(self) -> dict[str, Tensor]:
        """``{name: T x N x ...}`` for every layer with records."""
        return self.sequences()


__all__ = ["MembraneMonitor"]
