"""The machinery every monitor shares: choosing layers, hooks that can be taken off, records.

A monitor picks the submodules of ``net`` that are instances of ``instance`` (by default every
spiking neuron), keyed by their qualified name from ``net.named_modules()``, and attaches one
PyTorch hook to each. ``disable()`` takes the hooks off the modules (so a disabled monitor costs
nothing: ``module._forward_hooks`` is empty again), ``enable()`` puts them back, and
``remove_hooks()`` takes them off for good. Records stay until ``clear_recorded_data()``.

The hooks hold the monitor through a weak reference: deleting the last reference to a monitor
removes its hooks (``__del__``), and a hook whose monitor is gone does nothing. Copies of a
monitored network (``copy.deepcopy``, ``torch.save``) carry hooks that do nothing.

Shapes: a neuron in ``step_mode='s'`` records ``N x ...`` per call; in ``'m'`` ``T x N x ...``
per call. ``sequence(name)`` joins the records of one layer into one ``T x N x ...`` tensor
whatever the mode, so single-step and multi-step runs can be compared.
"""

from __future__ import annotations

import bisect
import weakref
from typing import Any, Iterator, Optional, Union

import torch
from torch import Tensor, nn
from torch.utils.hooks import RemovableHandle

from ..module import StepModule
from ..registry import UnknownNameError

InstanceSpec = Union[type, tuple]


def check_instance(instance: Any, default: tuple, owner: str) -> tuple:
    """``instance`` as a non-empty tuple of module classes (``None`` gives ``default``)."""
    if instance is None:
        return default
    types = instance if isinstance(instance, tuple) else (instance,)
    bad = [t for t in types if not (isinstance(t, type) and issubclass(t, nn.Module))]
    if not types or bad:
        raise TypeError(
            f"{owner}: instance must be an nn.Module subclass or a tuple of them, e.g. "
            f"instance=spikesmith.neuron.LIFNode or instance=(nn.Linear, BaseNode), got {instance!r}"
        )
    return types


def detached_copy(value: Any, to_cpu: bool) -> Any:
    """A copy of ``value`` cut from the graph: tensors (also inside tuples/lists) are detached
    and copied (to the CPU when ``to_cpu``); anything else is kept as it is."""
    if isinstance(value, Tensor):
        value = value.detach()
        if to_cpu and value.device.type != "cpu":
            return value.to("cpu")  # already a copy
        return value.clone()
    if isinstance(value, (tuple, list)):
        return type(value)(detached_copy(v, to_cpu) for v in value)
    return value


def step_mode_of(module: nn.Module) -> Optional[str]:
    """``'s'`` or ``'m'`` for a step-mode-aware module, None for a plain ``nn.Module``."""
    return module.step_mode if isinstance(module, StepModule) else None


def _no_monitor() -> None:
    return None


class _Hook:
    """A hook that calls ``monitor.<method>(name, *extra, *hook_args)`` while the monitor is alive.

    It holds the monitor weakly so that a module's hook dict never keeps a monitor alive.
    It returns what the method returns: None (keep the module's input, output or gradient)
    except ``GradOutputMonitor``, which swaps the output for an equal copy it can watch.
    """

    __slots__ = ("_monitor", "_method", "_name", "_extra")

    def __init__(self, monitor: Optional["BaseMonitor"], method: str, name: str, *extra: Any):
        self._monitor = _no_monitor if monitor is None else weakref.ref(monitor)
        self._method = method
        self._name = name
        self._extra = extra

    def __reduce__(self) -> tuple:
        # A copied or pickled network (copy.deepcopy, torch.save) gets hooks that do nothing:
        # only the network a monitor was built on reports to it.
        return (_Hook, (None, self._method, self._name))

    def __call__(self, *args: Any) -> Any:
        monitor = self._monitor()
        if monitor is None:
            return None
        return getattr(monitor, self._method)(self._name, *self._extra, *args)


class BaseMonitor:
    """Records something about every chosen submodule of ``net`` through removable hooks.

    Subclasses define ``_attach(name, module) -> list[RemovableHandle]`` (and may override
    ``_on_detach()`` to undo what ``_attach`` changed on the modules).

    Args:
        net: the network to watch.
        instance: a module class or a tuple of them; every submodule (``net`` itself included)
            that is an instance is monitored.
        to_cpu: move the recorded copies to the CPU (saves accelerator memory).

    Attributes:
        monitored_layers: the qualified names of the monitored modules, in ``named_modules`` order
            (``''`` when ``net`` itself is one, e.g. ``MembraneMonitor(IFNode())``).
        records: every recorded value, in the order they were recorded.
    """

    _default_instance: tuple = (nn.Module,)
    _default_exclude: tuple = ()  # left out when ``instance`` is not given

    def __init__(self, net: nn.Module, instance: Optional[InstanceSpec] = None, to_cpu: bool = False):
        owner = type(self).__name__
        self._handles: list[RemovableHandle] = []
        self._enabled = False
        self._closed = False
        if not isinstance(net, nn.Module):
            raise TypeError(f"{owner}: net must be a torch.nn.Module, got {type(net).__name__}")
        self.instance = check_instance(instance, self._default_instance, owner)
        self.net = net
        self.to_cpu = bool(to_cpu)
        exclude = self._default_exclude if instance is None else ()
        self._modules = {
            name: m for name, m in net.named_modules() if isinstance(m, self.instance) and not isinstance(m, exclude)
        }
        if not self._modules:
            kinds = ", ".join(t.__name__ for t in self.instance)
            raise ValueError(
                f"{owner}: net ({type(net).__name__}) has no submodule that is an instance of ({kinds}); "
                f"pass instance=<the module class(es) to watch>"
            )
        self.monitored_layers: list[str] = list(self._modules)
        self.records: list[Any] = []
        self._name_records: dict[str, list] = {n: [] for n in self.monitored_layers}
        self._modes: dict[str, list] = {n: [] for n in self.monitored_layers}
        self._keys: dict[str, list] = {n: [] for n in self.monitored_layers}

    # ----------------------------------------------------------------- switching
    def _attach(self, name: str, module: nn.Module) -> list[RemovableHandle]:  # pragma: no cover
        raise NotImplementedError(f"{type(self).__name__} must define _attach")

    def _on_detach(self) -> None:
        """Undo changes ``_attach`` made to the modules (nothing by default)."""

    @property
    def enabled(self) -> bool:
        """Whether the hooks are on the modules (and the monitor records)."""
        return self._enabled

    def is_enable(self) -> bool:
        """Same as ``enabled`` (the name SpikingJelly users know)."""
        return self._enabled

    def enable(self) -> "BaseMonitor":
        """Put the hooks on the monitored modules (no-op if already on)."""
        if self._closed:
            raise RuntimeError(
                f"{type(self).__name__}: remove_hooks() closed this monitor; create a new monitor, "
                f"or use disable()/enable() to pause and resume one"
            )
        if not self._enabled:
            self._enabled = True  # before attaching, so a failing _attach is undone by _detach
            try:
                for name, module in self._modules.items():
                    self._handles.extend(self._attach(name, module))
            except BaseException:
                self._detach()
                raise
        return self

    def _detach(self) -> None:
        for handle in self._handles:
            handle.remove()
        self._handles.clear()
        if self._enabled:
            self._enabled = False
            self._on_detach()

    def disable(self) -> "BaseMonitor":
        """Take the hooks off the modules: nothing is recorded and nothing runs; records are kept."""
        self._detach()
        return self

    def remove_hooks(self) -> None:
        """Take the hooks off for good (``enable()`` afterwards is an error); records are kept."""
        self._detach()
        self._closed = True

    def __enter__(self) -> "BaseMonitor":
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.remove_hooks()

    def __del__(self) -> None:
        # Safe when __init__ failed half-way and at interpreter shutdown.
        try:
            self.remove_hooks()
        except Exception:
            pass

    # ----------------------------------------------------------------- records
    def _record(self, name: str, value: Any, mode: Optional[str], key: Optional[int] = None) -> None:
        """Store ``value`` for layer ``name``; ``key`` orders a layer's records (default: arrival)."""
        self.records.append(value)
        keys = self._keys[name]
        key = (keys[-1] + 1 if keys else 0) if key is None else key
        at = bisect.bisect_right(keys, key)
        keys.insert(at, key)
        self._name_records[name].insert(at, value)
        self._modes[name].insert(at, mode)

    def clear_recorded_data(self) -> None:
        """Forget every record (the hooks stay as they are)."""
        self.records.clear()
        for name in self.monitored_layers:
            self._name_records[name].clear()
            self._modes[name].clear()
            self._keys[name].clear()

    def _check_name(self, name: str) -> None:
        if name not in self._name_records:
            raise UnknownNameError(f"{name!r} is not a monitored layer; monitored layers: {self.monitored_layers}")

    def __getitem__(self, name: Union[str, int]) -> Any:
        """``mon['sn1']``: the records of layer ``name`` (a list, one entry per call);
        ``mon[i]``: the ``i``-th record of all, in the order they were recorded (as ``records[i]``)."""
        if isinstance(name, int) and not isinstance(name, bool):
            if not -len(self.records) <= name < len(self.records):
                raise ValueError(f"{type(self).__name__}: record index {name} is out of range, {len(self.records)} "
                                 f"records so far; index by layer name for one layer's records")
            return self.records[name]
        self._check_name(name)
        return self._name_records[name]

    def __contains__(self, name: object) -> bool:
        return name in self._name_records

    def __iter__(self) -> Iterator[str]:
        return iter(self.monitored_layers)

    def __len__(self) -> int:
        return len(self.monitored_layers)

    def record_step_modes(self, name: str) -> list:
        """The step mode (``'s'``, ``'m'`` or None for a plain module) of each record of ``name``."""
        self._check_name(name)
        return list(self._modes[name])

    def sequence(self, name: str, step_mode: Optional[str] = None) -> Tensor:
        """The records of ``name`` joined along time into one ``T x N x ...`` tensor.

        Single-step records (``N x ...``) are stacked, multi-step records (``T x N x ...``) are
        concatenated. ``step_mode`` overrides the recorded mode (needed for plain modules such as
        ``nn.Linear``, which have none). Record one batch at a time (``clear_recorded_data()``).

        >>> mon.sequence("sn1").shape     # after 4 single-step calls on a batch of 2 x 3
        torch.Size([4, 2, 3])
        """
        self._check_name(name)
        owner = type(self).__name__
        if step_mode is not None and step_mode not in ("s", "m"):
            raise ValueError(f"{owner}.sequence: step_mode must be 's', 'm' or None, got {step_mode!r}")
        records = self._name_records[name]
        if not records:
            raise ValueError(f"{owner}: layer {name!r} has no records; run the network while the monitor is enabled")
        parts = []
        for value, mode in zip(records, self._modes[name]):
            mode = step_mode or mode
            if mode is None:
                raise ValueError(
                    f"{owner}.sequence: layer {name!r} is a plain module without a step mode; "
                    f"pass step_mode='s' (records are N x ...) or 'm' (records are T x N x ...)"
                )
            if not isinstance(value, Tensor):
                raise TypeError(f"{owner}.sequence: layer {name!r} recorded a {type(value).__name__}, not a tensor")
            parts.append(value.unsqueeze(0) if mode == "s" else value)
        try:
            return torch.cat(parts)
        except RuntimeError:
            shapes = [list(p.shape) for p in parts]
            raise ValueError(
                f"{owner}.sequence: the records of {name!r} do not join along time (shapes {shapes}); "
                f"record one batch at a time and call clear_recorded_data() between batches"
            ) from None

    def sequences(self, step_mode: Optional[str] = None) -> dict[str, Tensor]:
        """``{name: sequence(name)}`` for every layer that has records."""
        return {n: self.sequence(n, step_mode) for n in self.monitored_layers if self._name_records[n]}

    def __repr__(self) -> str:
        state = "closed" if self._closed else ("enabled" if self._enabled else "disabled")
        return (
            f"{type(self).__name__}({state}, layers={self.monitored_layers}, "
            f"records={len(self.records)}, to_cpu={self.to_cpu})"
        )
