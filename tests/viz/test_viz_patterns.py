"""Class patterns: weights folded through Linear layers by hand, image reshaping, bad inputs."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from spikesmith import neuron, viz
from spikesmith.viz.patterns import class_pattern_images

# a 2 x 2 "image" -> 3 hidden -> 2 classes
W1 = torch.tensor([[1.0, 0.0, 2.0, -1.0],
                   [0.0, 1.0, 0.0, 1.0],
                   [1.0, 1.0, 1.0, 1.0]], dtype=torch.float64)
W2 = torch.tensor([[1.0, 2.0, 0.0],
                   [0.0, -1.0, 3.0]], dtype=torch.float64)
# W2 @ W1 by hand:
#   class 0 = 1*row0 + 2*row1            = [1, 2, 2, 1]
#   class 1 = -1*row1 + 3*row2           = [3, 2, 3, 2]
EXPECTED = np.array([[1.0, 2.0, 2.0, 1.0],
                     [3.0, 2.0, 3.0, 2.0]])


def _two_layer(middle: nn.Module) -> nn.Module:
    fc1, fc2 = nn.Linear(4, 3, dtype=torch.float64), nn.Linear(3, 2, dtype=torch.float64)
    with torch.no_grad():
        fc1.weight.copy_(W1)
        fc2.weight.copy_(W2)
        fc1.bias.fill_(5.0)  # biases are ignored
        fc2.bias.fill_(-7.0)
    return nn.Sequential(nn.Flatten(), fc1, middle, nn.Dropout(0.5), fc2)


@pytest.mark.parametrize("middle", [nn.Identity(), neuron.ParametricLIFNode(init_tau=2.0)])
def test_two_linear_layers_compose_to_w2_w1(middle):
    p = viz.class_patterns_from_model(_two_layer(middle), (2, 2))
    assert isinstance(p, np.ndarray) and p.shape == (2, 4)
    np.testing.assert_allclose(p, EXPECTED)


def test_single_linear_is_its_weight():
    fc = nn.Linear(6, 3)
    expected = fc.weight.detach().double().numpy()
    np.testing.assert_allclose(viz.class_patterns_from_model(fc, (1, 2, 3)), expected)


def test_rows_reshape_row_major_to_images():
    imgs = class_pattern_images(torch.tensor(EXPECTED), (2, 2))
    np.testing.assert_allclose(imgs[1], [[3.0, 2.0], [3.0, 2.0]])
    # (C, H, W): channels summed pixel by pixel
    w = np.arange(8.0)[None]  # channel 0 = 0..3, channel 1 = 4..7
    np.testing.assert_allclose(class_pattern_images(w, (2, 2, 2))[0], [[4.0, 6.0], [8.0, 10.0]])


def test_conv_model_points_to_the_gradient_fallback():
    model = nn.Sequential(nn.Conv2d(1, 2, 3), nn.Flatten(), nn.Linear(2 * 26 * 26, 10))
    with pytest.raises(ValueError, match="convolution.*gradient"):
        viz.class_patterns_from_model(model, (28, 28))


@pytest.mark.parametrize(
    "model, shape, match",
    [
        (nn.Linear(10, 2), (3, 3), r"in_features=10.*9 pixels"),
        (nn.Sequential(nn.Linear(4, 3), nn.Linear(5, 2)), (2, 2), "in_features=5"),
        (nn.Sequential(nn.ReLU()), (2, 2), "no nn.Linear"),
        ("model", (2, 2), "model must be a torch.nn.Module"),
        (nn.Linear(4, 2), (4,), "image_shape"),
        (nn.Linear(4, 2), (2, 0), "image_shape"),
    ],
)
def test_model_bad_input(model, shape, match):
    with pytest.raises(ValueError, match=match):
        viz.class_patterns_from_model(model, shape)


@pytest.mark.parametrize(
    "weight, shape, match",
    [
        (np.zeros((10, 780)), (28, 28), r"weight must be num_classes x 784"),
        (np.zeros(784), (28, 28), "weight must be 2-D"),
        (np.zeros((2, 4)), (2, 2, 2), r"weight must be num_classes x 8"),
        (np.zeros((2, 4)), "2x2", "image_shape"),
        (np.full((2, 4), np.inf), (2, 2), "weight contains NaN or infinite"),
    ],
)
def test_plot_bad_input(weight, shape, match, tmp_path):
    with pytest.raises(ValueError, match=match):
        viz.plot_class_patterns(weight, shape, tmp_path / "p.png")
    assert not (tmp_path / "p.png").exists()


def test_plot_class_names_must_match(tmp_path):
    with pytest.raises(ValueError, match="class_names must have 2 entries"):
        viz.plot_class_patterns(EXPECTED, (2, 2), tmp_path / "p.png", class_names=["a", "b", "c"])
