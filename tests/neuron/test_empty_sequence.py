"""T=0 in step mode 'm' is a one-line ValueError naming T=0, for every neuron, every backend and
``multi_step`` (it was ``IndexError: index 0 is out of bounds``; issue 14). The convention is
``scan``'s and ``time_checkpoint``'s: a sequence needs at least one step."""

import pytest
import torch

from spikesmith import kernels, neuron, surrogate

NEURON_CLASSES = sorted({*neuron.NEURONS.values(), neuron.CubaLIFNode, neuron.CubaLINode, neuron.IntegratorNode,
                         neuron.NonSpikingLIFNode}, key=lambda c: c.__name__)
MESSAGE = r"x_seq has T=0 time steps; multi-step input needs at least one step"


@pytest.mark.parametrize("backend", ["auto", "torch"])
@pytest.mark.parametrize("cls", NEURON_CLASSES, ids=lambda c: c.__name__)
def test_every_neuron_refuses_an_empty_sequence(cls, backend):
    node = cls(step_mode="m", backend=backend)
    with pytest.raises(ValueError, match=MESSAGE + r", got shape \[0, 2, 3\]"):
        node(torch.rand(0, 2, 3))
    # the state is untouched: the next, valid call runs as on a fresh neuron
    assert node(torch.rand(4, 2, 3)).shape == (4, 2, 3)


@pytest.mark.parametrize("charge, named", [
    ("if", {}), ("lif", {"decay": 0.5}), ("alif", {"decay": 0.5, "rho": 0.9, "beta": 0.1, "a0": 0.0}),
    ("adlif", {"alpha": 0.9, "beta": 0.95, "a": 0.1, "b": 0.2, "w0": 0.0}),
])
def test_multi_step_refuses_an_empty_sequence(charge, named):
    with pytest.raises(ValueError, match=MESSAGE):
        kernels.multi_step(torch.rand(0, 3, 4), 0.0, charge=charge, v_threshold=0.5, v_reset=0.0,
                           surrogate=surrogate.Sigmoid(), **named)


def test_the_kernels_refuse_an_empty_sequence_below_multi_step():
    spec = kernels.KernelSpec("lif", {"decay": 0.5}, surrogate=surrogate.Sigmoid())
    with pytest.raises(ValueError, match=MESSAGE):
        kernels.run("cpu", spec, torch.rand(0, 3), [0.0])
