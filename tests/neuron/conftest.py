import pytest

from spikesmith import neuron


def all_neuron_factories():
    """Every spiking neuron with both reset modes where it has them."""
    return {
        "if_hard": lambda: neuron.IFNode(),
        "if_soft": lambda: neuron.IFNode(v_reset=None),
        "lif_hard": lambda: neuron.LIFNode(tau=2.0),
        "lif_soft": lambda: neuron.LIFNode(tau=3.0, v_reset=None, decay_input=False),
        "plif_hard": lambda: neuron.ParametricLIFNode(init_tau=2.5),
        "plif_soft": lambda: neuron.ParametricLIFNode(init_tau=2.0, v_reset=None),
        "alif_hard": lambda: neuron.AdaptiveLIFNode(tau=2.0, tau_adapt=5.0, beta=0.3),
        "alif_soft": lambda: neuron.AdaptiveLIFNode(tau=2.0, tau_adapt=5.0, beta=0.3, v_reset=None),
        "adlif_soft": lambda: neuron.AdLIFNode(alpha=0.9, beta=0.98, a=0.5, b=1.0),
        "adlif_hard": lambda: neuron.AdLIFNode(alpha=0.85, beta=0.97, a=-0.3, b=0.5, v_reset=0.0),
        "izhikevich": lambda: neuron.IzhikevichNode(dt=0.5),
        "nonspiking_lif": lambda: neuron.NonSpikingLIFNode(tau=2.0),
        "integrator": lambda: neuron.IntegratorNode(),
    }


FACTORIES = all_neuron_factories()


@pytest.fixture(params=sorted(FACTORIES))
def make_node(request):
    return FACTORIES[request.param]
