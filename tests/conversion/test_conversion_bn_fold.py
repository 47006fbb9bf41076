"""BatchNorm folding is exact; tracing normalises functional ReLUs and removes dropout."""

import torch
import torch.nn.functional as F
from torch import nn

from spikesmith.conversion import fold_bn_into, normalize, trace


def _random_bn(bn: nn.modules.batchnorm._BatchNorm) -> None:
    with torch.no_grad():
        bn.running_mean.uniform_(-1, 1)
        bn.running_var.uniform_(0.2, 3)
        bn.weight.uniform_(-2, 2)
        bn.bias.uniform_(-1, 1)


def test_fold_conv_bn_exact_float64():
    conv = nn.Conv2d(3, 5, 3, padding=1, bias=False).double()
    bn = nn.BatchNorm2d(5).double().eval()
    _random_bn(bn)
    x = torch.randn(4, 3, 8, 8, dtype=torch.float64)
    ref = bn(conv(x))
    fold_bn_into(conv, bn)
    assert conv.bias is not None
    torch.testing.assert_close(conv(x), ref, rtol=1e-12, atol=1e-12)


def test_fold_linear_bn_with_bias_float32():
    fc = nn.Linear(7, 6)
    bn = nn.BatchNorm1d(6).eval()
    _random_bn(bn)
    x = torch.randn(16, 7)
    ref = bn(fc(x))
    fold_bn_into(fc, bn)
    torch.testing.assert_close(fc(x), ref, rtol=1e-5, atol=1e-5)


class _Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.c1, self.b1 = nn.Conv2d(2, 4, 3, padding=1), nn.BatchNorm2d(4)
        self.c2, self.b2 = nn.Conv2d(4, 4, 3, padding=1, bias=False), nn.BatchNorm2d(4)
        self.b3 = nn.BatchNorm2d(4)          # after an addition: not foldable, kept
        self.drop = nn.Dropout(0.5)
        self.fc = nn.Linear(4 * 4 * 4, 3)

    def forward(self, x):
        h = F.relu(self.b1(self.c1(x)))
        h = torch.relu(self.b3(self.b2(self.c2(h)) + h))
        h = F.avg_pool2d(self.drop(h), 2)
        return self.fc(torch.flatten(h, 1))


def test_normalize_folds_and_keeps_outputs():
    net = _Net().eval()
    for bn in (net.b1, net.b2, net.b3):
        _random_bn(bn)
    x = torch.randn(5, 2, 8, 8)
    gm = normalize(trace(net))
    torch.testing.assert_close(gm(x), net(x), rtol=1e-5, atol=1e-5)
    kinds = [type(m).__name__ for m in gm.modules()]
    assert kinds.count("BatchNorm2d") == 1        # b3 follows an addition
    assert kinds.count("ReLU") == 2                # F.relu and torch.relu became modules
    assert "Dropout" not in kinds
    assert net.b1.running_mean.abs().sum() > 0     # the ANN itself is untouched
    assert isinstance(net.b1, nn.BatchNorm2d) and net.c2.bias is None
