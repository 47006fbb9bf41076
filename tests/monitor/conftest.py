"""Fixtures for the monitor tests: the net of ``monitor_net`` in both step modes and its input.

The helpers live in ``monitor_net.py`` (a unique module name: several test folders have a
``conftest.py``, so ``from conftest import ...`` could pick up the wrong one).
"""

from __future__ import annotations

import pytest
import torch
from torch import nn

from spikesmith import functional

from monitor_net import T, build_net


@pytest.fixture
def x_seq() -> torch.Tensor:
    return torch.tensor([[1.0], [1.5]], dtype=torch.float64).expand(T, 2, 1).clone()


@pytest.fixture(params=["m", "s"])
def step_mode(request) -> str:
    return request.param


@pytest.fixture
def net(step_mode) -> nn.Sequential:
    net = build_net(step_mode)
    yield net
    functional.reset_net(net)
