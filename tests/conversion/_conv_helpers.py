"""A small CNN trained for a few steps on synthetic class prototypes (shared by the conversion tests)."""

import torch
from torch import nn


def synthetic_images(n: int, classes: int = 4, seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    protos = torch.rand(classes, 1, 12, 12, generator=g)
    y = torch.randint(0, classes, (n,), generator=g)
    x = (protos[y] + 0.35 * torch.randn(n, 1, 12, 12, generator=g)).clamp(0, 1)
    return x, y


def small_cnn(classes: int = 4) -> nn.Module:
    return nn.Sequential(
        nn.Conv2d(1, 6, 3, padding=1), nn.BatchNorm2d(6), nn.ReLU(), nn.AvgPool2d(2),
        nn.Conv2d(6, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(), nn.AvgPool2d(2),
        nn.Flatten(), nn.Linear(8 * 3 * 3, 16), nn.ReLU(), nn.Linear(16, classes),
    )


def trained_cnn(steps: int = 60, seed: int = 0):
    torch.manual_seed(seed)
    x, y = synthetic_images(512, seed=seed)
    net = small_cnn()
    opt = torch.optim.Adam(net.parameters(), lr=1e-2)
    for i in range(steps):
        idx = torch.randint(0, x.shape[0], (64,))
        loss = nn.functional.cross_entropy(net(x[idx]), y[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
    return net.eval(), x, y
