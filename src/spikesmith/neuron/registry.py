"""Neurons by name: the names the CLI, config files and model configs use (``lif``, ``plif``, ...).

Each neuron module registers its class next to its code::

    @NEURONS.register("lif", time_constant="tau")
    class LIFNode(BaseNode): ...

``time_constant`` names the constructor argument that takes the membrane time constant
(``tau`` for LIF, ``init_tau`` for PLIF's learned one), or None where the neuron has none (IF,
Izhikevich): a model's ``tau`` option goes to that argument, and to no neuron that lacks one.
"""

from __future__ import annotations

from ..registry import Registry

NEURONS = Registry("neuron")

__all__ = ["NEURONS", "time_constant_argument"]


def time_constant_argument(name: str) -> str | None:
    """The constructor argument that takes neuron ``name``'s time constant, or None."""
    return NEURONS.entry(name).info.get("time_constant")
