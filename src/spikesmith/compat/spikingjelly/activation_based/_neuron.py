"""SpikingJelly's private ``activation_based._neuron``, which its newer model zoo imports
(``ms_resnet``, ``masnn``, the spiking transformers): the helper that builds each network's neurons.
"""

from __future__ import annotations

import copy
from typing import Any, Callable, Optional

from . import neuron


def _make_multi_step_neuron(spiking_neuron: Optional[Callable[..., neuron.BaseNode]], kwargs: dict[str, Any],
                            defaults: Optional[dict[str, Any]] = None) -> neuron.BaseNode:
    """A multi-step neuron: ``spiking_neuron(**kwargs)``, or ``neuron.LIFNode(**defaults, **kwargs)`` when
    ``spiking_neuron`` is None; ``step_mode`` is always ``'m'`` (asking for another is an error). The
    options are deep-copied, so neurons built from one dict share no surrogate instance."""
    if kwargs.get("step_mode", "m") != "m":
        raise ValueError(f"a zoo network's neurons run multi-step: step_mode must be 'm', got {kwargs['step_mode']!r}")
    options = copy.deepcopy(defaults) if spiking_neuron is None and defaults else {}
    options.update(copy.deepcopy(kwargs))
    options["step_mode"] = "m"
    return (neuron.LIFNode if spiking_neuron is None else spiking_neuron)(**options)
