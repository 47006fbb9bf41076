"""A membrane assigned by user code before the first step is the first state; after reset_net, or
when only v_init changed, the initial value (as it is then) is."""

import torch

from spikesmith import functional, neuron


def test_a_hand_set_membrane_starts_the_sequence_and_reset_forgets_it():
    node = neuron.IFNode(step_mode="m")
    node.v = torch.tensor([0.9, 0.0])
    assert node(torch.full((1, 2), 0.2)).flatten().tolist() == [1.0, 0.0]      # 0.9 + 0.2 fires, 0 + 0.2 not
    functional.reset_net(node)
    assert node(torch.full((1, 2), 0.2)).flatten().tolist() == [0.0, 0.0]      # back to v_init = 0


def test_a_v_init_changed_after_the_reset_is_what_the_next_sequence_starts_from():
    node = neuron.IFNode(step_mode="m")
    node(torch.zeros(1, 2))
    functional.reset_net(node)
    node.v_init = torch.tensor(0.9)                   # e.g. conversion's V_th / 2 shift set after a reset
    assert node(torch.full((1, 2), 0.2)).flatten().tolist() == [1.0, 1.0]
