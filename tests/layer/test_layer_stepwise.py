"""Stateless layers with a step mode: 'm' == the torch layer on each step == a 's' loop."""

from __future__ import annotations

import io
import pickle

import pytest
import torch
from torch import nn

from spikesmith import functional, layer
from spikesmith.module import StepModule

T, N = 3, 2

# name -> (our class, torch class, constructor args, multi-step input shape, layout in errors)
CASES = {
    "Linear": (layer.Linear, nn.Linear, (6, 4), (T, N, 6), "[T, N, ..., in_features]"),
    "Linear-extra-dims": (layer.Linear, nn.Linear, (6, 4), (T, N, 5, 6), "[T, N, ..., in_features]"),
    "Conv1d": (layer.Conv1d, nn.Conv1d, (2, 4, 3), (T, N, 2, 9), "[T, N, C, L]"),
    "Conv2d": (layer.Conv2d, nn.Conv2d, (2, 4, 3), (T, N, 2, 7, 6), "[T, N, C, H, W]"),
    "Conv3d": (layer.Conv3d, nn.Conv3d, (2, 3, 2), (T, N, 2, 4, 4, 3), "[T, N, C, D, H, W]"),
    "BatchNorm1d-C": (layer.BatchNorm1d, nn.BatchNorm1d, (4,), (T, N, 4), "[T, N, C] or [T, N, C, L]"),
    "BatchNorm1d-CL": (layer.BatchNorm1d, nn.BatchNorm1d, (4,), (T, N, 4, 5), "[T, N, C] or [T, N, C, L]"),
    "BatchNorm2d": (layer.BatchNorm2d, nn.BatchNorm2d, (3,), (T, N, 3, 4, 5), "[T, N, C, H, W]"),
    "BatchNorm3d": (layer.BatchNorm3d, nn.BatchNorm3d, (3,), (T, N, 3, 2, 4, 3), "[T, N, C, D, H, W]"),
    "MaxPool1d": (layer.MaxPool1d, nn.MaxPool1d, (2,), (T, N, 3, 8), "[T, N, C, L]"),
    "MaxPool2d": (layer.MaxPool2d, nn.MaxPool2d, (2,), (T, N, 3, 6, 8), "[T, N, C, H, W]"),
    "MaxPool3d": (layer.MaxPool3d, nn.MaxPool3d, (2,), (T, N, 2, 4, 4, 6), "[T, N, C, D, H, W]"),
    "AvgPool1d": (layer.AvgPool1d, nn.AvgPool1d, (3,), (T, N, 3, 9), "[T, N, C, L]"),
    "AvgPool2d": (layer.AvgPool2d, nn.AvgPool2d, (2,), (T, N, 3, 6, 8), "[T, N, C, H, W]"),
    "AvgPool3d": (layer.AvgPool3d, nn.AvgPool3d, (2,), (T, N, 2, 4, 4, 6), "[T, N, C, D, H, W]"),
    "AdaptiveAvgPool1d": (layer.AdaptiveAvgPool1d, nn.AdaptiveAvgPool1d, (3,), (T, N, 3, 7), "[T, N, C, L]"),
    "AdaptiveAvgPool2d": (layer.AdaptiveAvgPool2d, nn.AdaptiveAvgPool2d, ((2, 3),), (T, N, 3, 5, 7),
                          "[T, N, C, H, W]"),
    "AdaptiveAvgPool3d": (layer.AdaptiveAvgPool3d, nn.AdaptiveAvgPool3d, (2,), (T, N, 2, 5, 4, 3),
                          "[T, N, C, D, H, W]"),
    "Flatten": (layer.Flatten, nn.Flatten, (), (T, N, 3, 4, 5), "[T, N, ...]"),
}
FEATURE_CASES = [k for k in CASES if k.startswith(("Linear", "Conv", "BatchNorm"))]


def make_pair(name: str, step_mode: str = "m"):
    """Our layer and a torch layer with the same (randomised) weights and statistics, in eval()."""
    ours_cls, torch_cls, args, _, _ = CASES[name]
    torch.manual_seed(0)
    reference = torch_cls(*args).double()
    with torch.no_grad():
        for p in reference.parameters():
            p.normal_()
        if isinstance(reference, nn.modules.batchnorm._BatchNorm):
            reference.running_mean.normal_()
            reference.running_var.uniform_(0.5, 2.0)
    ours = ours_cls(*args, step_mode=step_mode).double()
    ours.load_state_dict(reference.state_dict())  # strict: the keys must be the torch layer's
    return ours.eval(), reference.eval()


def seq_input(name: str) -> torch.Tensor:
    torch.manual_seed(1)
    return torch.randn(CASES[name][3], dtype=torch.float64)


@pytest.mark.parametrize("name", CASES)
def test_multi_step_equals_torch_layer_on_each_step(name):
    ours, reference = make_pair(name)
    x_seq = seq_input(name)
    expected = torch.stack([reference(x) for x in x_seq.unbind(0)])
    y_seq = ours(x_seq)
    assert y_seq.shape == expected.shape
    torch.testing.assert_close(y_seq, expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name", CASES)
def test_single_step_loop_equals_multi_step(name):
    ours, _ = make_pair(name)
    x_seq = seq_input(name)
    y_multi = ours(x_seq)
    ours.step_mode = "s"
    y_loop = torch.stack([ours(x) for x in x_seq.unbind(0)])
    torch.testing.assert_close(y_loop, y_multi, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name", CASES)
def test_single_step_is_exactly_the_torch_layer(name):
    ours, reference = make_pair(name, step_mode="s")
    x = seq_input(name)[0]
    assert torch.equal(ours(x), reference(x))
    assert isinstance(ours, CASES[name][1]) and isinstance(ours, StepModule)


@pytest.mark.parametrize("name", CASES)
def test_state_dict_keys_are_the_torch_layers(name):
    ours, reference = make_pair(name)
    assert list(ours.state_dict()) == list(reference.state_dict())
    fresh = CASES[name][1](*CASES[name][2]).double()
    fresh.load_state_dict(ours.state_dict())  # and back into a plain torch layer
    x = seq_input(name)[0]
    torch.testing.assert_close(fresh.eval()(x), reference(x))


@pytest.mark.parametrize("name", ["Linear", "Conv2d", "BatchNorm2d", "MaxPool2d", "Flatten"])
def test_pickle_and_torch_save_round_trip(name):
    ours, _ = make_pair(name)
    x_seq = seq_input(name)
    expected = ours(x_seq)
    buffer = io.BytesIO()
    torch.save(ours, buffer)
    buffer.seek(0)
    for copy in (pickle.loads(pickle.dumps(ours)), torch.load(buffer, weights_only=False)):
        assert type(copy) is type(ours) and copy.step_mode == "m"
        torch.testing.assert_close(copy(x_seq), expected)


# [N, 5, 6] is a valid [T, N, ...] for these two, so a missing time dim cannot be detected
@pytest.mark.parametrize("name", [k for k in CASES if k not in ("Linear-extra-dims", "Flatten")])
def test_single_step_input_in_multi_step_mode_names_layer_layout_and_shape(name):
    ours, _ = make_pair(name)
    x = seq_input(name)[0]  # the time dim is missing
    with pytest.raises(ValueError) as info:
        ours(x)
    message = str(info.value)
    assert type(ours).__name__ in message
    assert "step_mode='m'" in message
    assert CASES[name][4] in message
    assert str(list(x.shape)) in message


@pytest.mark.parametrize("name", FEATURE_CASES)
def test_wrong_feature_size_in_multi_step_mode(name):
    ours, _ = make_pair(name)
    x_seq = seq_input(name)
    dim = -1 if name.startswith("Linear") else 2
    bad = torch.cat([x_seq, x_seq.narrow(dim, 0, 1)], dim=dim)
    with pytest.raises(ValueError, match=r"step_mode='m'.*at dim"):
        ours(bad)


def test_error_uses_the_name_given_by_set_step_mode():
    net = nn.Sequential(nn.Identity(), layer.Linear(12, 2))
    functional.set_step_mode(net, "m")
    with pytest.raises(ValueError, match=r"Linear '1' in step_mode='m'"):
        net(torch.rand(2, 12))


def test_non_tensor_input_is_a_type_error():
    with pytest.raises(TypeError, match="Conv2d expects a torch.Tensor"):
        layer.Conv2d(1, 1, 1, step_mode="m")([[1.0]])


def test_bad_step_mode_is_rejected():
    with pytest.raises(ValueError, match="step_mode must be 's'"):
        layer.Linear(2, 2, step_mode="x")
    conv = layer.Conv2d(1, 1, 1)
    with pytest.raises(ValueError, match="step_mode must be 's'"):
        conv.step_mode = "multi"


def test_batchnorm_training_multi_step_pools_statistics_over_time_and_batch():
    ours, reference = make_pair("BatchNorm2d")
    ours.train(), reference.train()
    x_seq = seq_input("BatchNorm2d")
    y_seq = ours(x_seq)
    expected = reference(x_seq.flatten(0, 1)).unflatten(0, (T, N))
    torch.testing.assert_close(y_seq, expected)
    torch.testing.assert_close(ours.running_mean, reference.running_mean)
    torch.testing.assert_close(ours.running_var, reference.running_var)
    assert int(ours.num_batches_tracked) == 1  # one update per multi-step call


@pytest.mark.parametrize("name", ["Linear", "Conv2d"])
def test_gradients_in_multi_step_mode_equal_the_sum_over_steps(name):
    ours, reference = make_pair(name)
    x_seq = seq_input(name)
    ours(x_seq).square().sum().backward()
    sum(reference(x).square().sum() for x in x_seq.unbind(0)).backward()
    torch.testing.assert_close(ours.weight.grad, reference.weight.grad)
    torch.testing.assert_close(ours.bias.grad, reference.bias.grad)


def test_max_pool_returns_indices_per_step():
    ours = layer.MaxPool2d(2, return_indices=True, step_mode="m")
    x_seq = torch.randn(T, N, 2, 4, 4)
    values, indices = ours(x_seq)
    for t, x in enumerate(x_seq.unbind(0)):
        v, i = nn.MaxPool2d(2, return_indices=True)(x)
        assert torch.equal(values[t], v) and torch.equal(indices[t], i)


@pytest.mark.parametrize(
    "start_dim, end_dim, expected",
    [(1, -1, (T, N, 60)), (0, -1, (T, N * 60)), (1, 2, (T, N, 12, 5)), (-2, -1, (T, N, 3, 20)),
     (0, 1, (T, N * 3, 4, 5))],
)
def test_flatten_keeps_single_step_dim_semantics(start_dim, end_dim, expected):
    x_seq = torch.randn(T, N, 3, 4, 5)
    y_seq = layer.Flatten(start_dim, end_dim, step_mode="m")(x_seq)
    assert tuple(y_seq.shape) == expected
    per_step = torch.stack([nn.Flatten(start_dim, end_dim)(x) for x in x_seq.unbind(0)])
    assert torch.equal(y_seq, per_step)


def test_flatten_dim_out_of_range_in_multi_step_mode():
    expected = r"Flatten in step_mode='m' with start_dim=3 .*at least 5 dims.*\[2, 3, 4, 5\]"
    with pytest.raises(ValueError, match=expected):
        layer.Flatten(start_dim=3, step_mode="m")(torch.randn(2, 3, 4, 5))


def test_stepwise_layer_without_step_module_base_is_refused():
    with pytest.raises(TypeError, match="StepModule"):

        class Bad(layer.StepwiseLayer, nn.LayerNorm):
            pass


def test_stepwise_layer_wraps_another_torch_layer():
    class LayerNorm(layer.StepwiseLayer, nn.LayerNorm, StepModule):
        seq_layout = "[T, N, ..., C]"

    norm = LayerNorm(5, step_mode="m")
    x_seq = torch.randn(T, N, 5)
    torch.testing.assert_close(norm(x_seq), torch.stack([nn.LayerNorm(5)(x) for x in x_seq.unbind(0)]))
    assert list(norm.state_dict()) == ["weight", "bias"]


def test_matches_spikingjelly_layers_with_the_same_weights():
    sj_layer = pytest.importorskip("spikingjelly.activation_based.layer")
    torch.manual_seed(0)
    ours = nn.Sequential(layer.Conv2d(2, 4, 3, padding=1), layer.BatchNorm2d(4), layer.MaxPool2d(2),
                         layer.Flatten(), layer.Linear(4 * 3 * 3, 5))
    peer = nn.Sequential(sj_layer.Conv2d(2, 4, 3, padding=1), sj_layer.BatchNorm2d(4), sj_layer.MaxPool2d(2),
                         sj_layer.Flatten(), sj_layer.Linear(4 * 3 * 3, 5))
    peer.load_state_dict(ours.state_dict())
    functional.set_step_mode(ours, "m")
    for module in peer.modules():
        if hasattr(module, "step_mode"):
            module.step_mode = "m"
    x_seq = torch.randn(T, N, 2, 6, 6)
    torch.testing.assert_close(ours(x_seq), peer(x_seq))
