"""Export targets: what each one runs, the options it takes, the object it builds and the file it writes.

A target is an object with a name, registered in ``TARGETS`` (``spikesmith.registry.Registry``):

- ``check(ops) -> list[Issue]``: every reason the layer list cannot run exactly on the target;
- ``params(**options) -> dict``: the target's own options, validated (NIR: ``dt``);
- ``build(ops, **params)``: the target's object for a checked (and approximated) layer list;
- ``write(built, f)``: the object as the bytes of its file, into the binary file ``f``.

``export.pipeline`` runs them in that order for every target (shape -> layer list -> check ->
approximate -> build -> atomic write). A new target subclasses ``Target`` in a module of its own and
registers an instance: ``TARGETS.register("name", MyTarget())``.
"""

from __future__ import annotations

from typing import Any, BinaryIO

from ..registry import Registry


class Target:
    """The interface every export target implements (see the module docstring).

    Attributes:
        name: the registry name (``'nir'``, ``'loihi2'``).
        suffix: the file extension of its files.
        supported: what it runs, in words, for the issues that name an unsupported layer.
        neuron_hint: the neurons to use instead of one it cannot run.
        leaks_to_reset: its neurons leak towards their reset potential (``approximate=True`` moves v_leak there).
    """

    name: str = ""
    suffix: str = ""
    supported: str = ""
    neuron_hint: str = ""
    leaks_to_reset: bool = False

    def check(self, ops: list) -> list:
        raise NotImplementedError

    def runs(self, entry, last: bool = False) -> bool:
        """Whether the target runs a neuron with this ``export.neurons.NeuronExport`` entry (``last``: as the
        network's last layer)."""
        raise NotImplementedError

    def params(self, **options: Any) -> dict:
        if options:
            raise TypeError(f"{self.name} export takes no option {', '.join(map(repr, options))}")
        return {}

    def build(self, ops: list, **params: Any) -> Any:
        raise NotImplementedError

    def write(self, built: Any, f: BinaryIO) -> None:
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"{type(self).__qualname__}({self.name!r})"


TARGETS: Registry[Target] = Registry("export target")


def target_of(target) -> Target:
    """The ``Target`` for a name (any accepted spelling) or a ``Target`` itself."""
    if isinstance(target, Target):
        return target
    return TARGETS.get(target)
