"""event_driven against the dense model it came from: every layer type (step-mode and plain torch layers),
padding and stride, bias and none, empty inputs, one sample; the path choice and its overrides; the
refusal of training; the one warning for layers that stay dense; the calibrated crossover's cache."""

import warnings

import pytest
import torch
from torch import nn

from spikesmith import functional, layer, neuron
from spikesmith.inference import (SparseConv2d, SparseLinear, calibrate, crossover, event_driven, path_report,
                                  sparse_layers)
from spikesmith.kernels import sparse

pytestmark = pytest.mark.skipif(not sparse.available(), reason=f"sparse kernels: {sparse.unavailable_reason()}")


def spikes(shape, density=0.2, seed=0):
    g = torch.Generator().manual_seed(seed)
    return (torch.rand(shape, generator=g) < density).float()


def lif():
    return neuron.LIFNode(tau=2.0, v_threshold=0.5, step_mode="m")


def conv_net(stride=1, padding=1, bias=True):
    """A small spiking CNN whose every spiking layer fires (synapses 4x PyTorch's default init: 7-13% at
    input density 0.3), so that comparing its layers' outputs tests something."""
    torch.manual_seed(3)
    net = nn.Sequential(
        layer.Conv2d(2, 8, 3, padding=1, bias=bias, step_mode="m"), lif(),
        layer.Conv2d(8, 12, 3, stride=stride, padding=padding, bias=bias, step_mode="m"), lif(),
        layer.MaxPool2d(2, 2, step_mode="m"), layer.Flatten(step_mode="m"),
        layer.Dropout(0.3, step_mode="m"),
        layer.Linear(12 * (((9 + 2 * padding - 3) // stride + 1) // 2) ** 2, 20, bias=bias, step_mode="m"), lif(),
        layer.Linear(20, 5, bias=bias, step_mode="m"))
    with torch.no_grad():
        for index in (0, 2, 7):
            net[index].weight.mul_(4.0)
    return net


def run(net, x):
    functional.reset_net(net)
    with torch.no_grad():
        out = net(x)
    functional.reset_net(net)
    return out


@pytest.mark.parametrize("stride,padding", [(1, 1), (2, 0), (1, 0), (2, 2)])
@pytest.mark.parametrize("bias", [True, False])
def test_event_driven_equals_the_dense_network(stride, padding, bias):
    net = conv_net(stride, padding, bias).eval()
    x = spikes((3, 4, 2, 9, 9), 0.3)
    fast = event_driven(net, mode="sparse")
    # the first conv reads the input, not a neuron: it stays a plain conv; the others are sparse
    assert [n for n in sparse_layers(fast)] == ["2", "7", "9"]
    assert type(fast[0]) is layer.Conv2d
    ref, out = run(net, x), run(fast, x)
    assert torch.allclose(out, ref, atol=1e-5, rtol=1e-5)
    assert all(r["path"] == "sparse" for r in path_report(fast))
    # the original is untouched
    assert type(net[2]) is layer.Conv2d and net[2].weight.requires_grad


def test_spikes_inside_the_network_are_identical():
    net = conv_net().eval()
    fast = event_driven(net, mode="sparse")
    x = spikes((4, 6, 2, 9, 9), 0.3, seed=1)
    seen = {}

    def keep(name):
        return lambda m, a, o: seen.setdefault(name, []).append(o.clone())
    for name in ("3", "8"):
        net.get_submodule(name).register_forward_hook(keep(("dense", name)))
        fast.get_submodule(name).register_forward_hook(keep(("sparse", name)))
    run(net, x), run(fast, x)
    for name in ("3", "8"):
        dense, sparse = seen[("dense", name)][0], seen[("sparse", name)][0]
        # the sums run in another order, so a potential within an ulp of the threshold may flip on some CPU
        # (another SIMD width or BLAS kernel); here none does, elsewhere at most 1 in 1,000 may
        flips = int((dense != sparse).sum())
        assert flips <= dense.numel() // 1000, f"layer {name}: {flips} of {dense.numel()} spikes differ"
        assert dense.sum() > 0                                        # the layer fires: the check means something


def test_an_example_input_finds_a_first_layer_fed_by_input_spikes():
    net = conv_net().eval()
    x = spikes((2, 3, 2, 9, 9), 0.3)
    fast = event_driven(net, mode="sparse", example=x)
    assert "0" in sparse_layers(fast)
    assert torch.allclose(run(fast, x), run(net, x), atol=1e-5, rtol=1e-5)
    analog = torch.rand(2, 3, 2, 9, 9)
    assert "0" not in sparse_layers(event_driven(net, example=analog))


@pytest.mark.parametrize("bias", [True, False])
def test_empty_inputs_give_the_bias(bias):
    torch.manual_seed(0)
    conv = nn.Conv2d(3, 5, 3, padding=1, bias=bias)
    lin = nn.Linear(7, 4, bias=bias)
    sc, sl = SparseConv2d.from_dense(conv, "sparse"), SparseLinear.from_dense(lin, "sparse")
    with torch.no_grad():
        yc, yl = sc(torch.zeros(2, 3, 6, 6)), sl(torch.zeros(2, 7))
    expect_c = conv.bias.detach().view(1, 5, 1, 1).expand(2, 5, 6, 6) if bias else torch.zeros(2, 5, 6, 6)
    expect_l = lin.bias.detach().expand(2, 4) if bias else torch.zeros(2, 4)
    assert torch.equal(yc, expect_c) and torch.equal(yl, expect_l)
    assert sc.stats.density == 0.0 and sc.execution_path() == "sparse"


@pytest.mark.parametrize("shape", [(1, 3, 5, 5), (3, 5, 5), (2, 1, 3, 5, 5)])
def test_sparse_conv_takes_any_leading_dims_and_one_sample(shape):
    torch.manual_seed(1)
    conv = nn.Conv2d(3, 4, 3, stride=2, padding=1)
    sc = SparseConv2d.from_dense(conv, "sparse")
    x = spikes(shape, 0.4)
    with torch.no_grad():
        ref = conv(x.reshape(-1, 3, 5, 5)).reshape(*shape[:-3], 4, 3, 3)
        assert torch.allclose(sc(x), ref, atol=1e-5)


def test_single_step_plain_torch_layers():
    torch.manual_seed(2)
    net = nn.Sequential(nn.Linear(6, 10), neuron.IFNode(v_threshold=0.3), nn.Linear(10, 3)).eval()
    fast = event_driven(net, mode="sparse")
    assert list(sparse_layers(fast)) == ["2"]
    x = torch.rand(1, 6)                                       # a batch of one
    assert torch.allclose(run(fast, x), run(net, x), atol=1e-6)


def test_auto_follows_the_threshold_and_mode_overrides():
    net = conv_net().eval()
    x = spikes((2, 3, 2, 9, 9), 0.3)
    always = event_driven(net, threshold=1.0)
    never = event_driven(net, threshold=0.0)
    mixed = event_driven(net, mode={"2": "dense"}, threshold={"7": 1.0, "9": 1.0})
    for fast in (always, never, mixed):
        assert torch.allclose(run(fast, x), run(net, x), atol=1e-5, rtol=1e-5)
    assert {r["name"]: r["path"] for r in path_report(always)} == {"2": "sparse", "7": "sparse", "9": "sparse"}
    # at or below the threshold runs sparse: with 0, only a layer that got no spike at all
    assert all(r["path"] == ("sparse" if r["density"] == 0 else "dense") for r in path_report(never))
    assert path_report(never)[0]["path"] == "dense"
    assert {r["name"]: r["path"] for r in path_report(mixed)} == {"2": "dense", "7": "sparse", "9": "sparse"}
    assert path_report(always)[0]["density"] == pytest.approx(
        float((run(net[:2], x) != 0).float().mean()), rel=1e-6)


def test_bad_overrides_are_clear_errors():
    net = conv_net().eval()
    with pytest.raises(ValueError, match=r"not layers fed by spikes.*\['2', '7', '9'\]"):
        event_driven(net, mode={"0": "sparse"})
    with pytest.raises(ValueError, match="mode must be one of auto, sparse, dense"):
        event_driven(net, mode="fast")
    with pytest.raises(ValueError, match=r"threshold must be a density in \[0, 1\]"):
        event_driven(net, threshold=2.0)
    with pytest.raises(TypeError, match="must be an nn.Module"):
        event_driven("net")


def test_training_is_refused():
    net = conv_net().eval()
    fast = event_driven(net, mode="sparse")
    x = spikes((2, 3, 2, 9, 9), 0.3)
    with pytest.raises(RuntimeError, match="inference-only.*requires grad"):
        fast(x.requires_grad_(True))
    fast.train()
    with pytest.raises(RuntimeError, match=r"inference-only.*train\(\) mode"):
        run(fast, x.detach())
    with pytest.raises(RuntimeError, match="example input requires grad"):
        event_driven(net, example=x.detach().requires_grad_(True))
    assert not any(p.requires_grad for p in event_driven(net).parameters())


def test_layers_that_cannot_be_sparse_stay_dense_with_one_warning():
    torch.manual_seed(4)
    def if_node():
        return neuron.IFNode(v_threshold=0.5)
    net = nn.Sequential(nn.Conv2d(2, 4, 3, padding=1), if_node(), nn.Conv2d(4, 4, 3, padding=2, dilation=2),
                        if_node(), nn.Conv2d(4, 4, 3, groups=2, padding=1), if_node(), nn.Flatten(2),
                        nn.Conv1d(4, 3, 3), if_node(), nn.Flatten(1), nn.Linear(3 * 34, 5)).eval()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fast = event_driven(net)
    messages = [str(w.message) for w in caught if "stay dense" in str(w.message)]
    assert len(messages) == 1
    assert "3 layer(s)" in messages[0] and "dilation" in messages[0] and "groups" in messages[0] and \
        "Conv1d" in messages[0]
    assert set(fast.event_driven_dense) == {"2", "4", "7"}
    assert list(sparse_layers(fast)) == ["10"]
    x = torch.rand(3, 2, 6, 6)
    assert torch.allclose(run(fast, x), run(net, x), atol=1e-5)


def test_a_non_binary_input_runs_dense_and_warns_once():
    torch.manual_seed(5)
    lin = nn.Linear(8, 3)
    sl = SparseLinear.from_dense(lin, "sparse", name="fc")
    x = torch.rand(4, 8)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with torch.no_grad():
            y1, y2 = sl(x), sl(x)
    assert len([w for w in caught if "values other than 0" in str(w.message)]) == 1
    assert torch.allclose(y1, lin(x).detach()) and torch.equal(y1, y2)
    assert sl.stats.nonbinary_calls == 2 and sl.execution_path() == "dense"


def test_the_kernels_missing_keeps_every_layer_dense(monkeypatch):
    monkeypatch.setattr(sparse, "available", lambda: False)
    with pytest.warns(RuntimeWarning, match="every layer stays dense"):
        fast = event_driven(conv_net().eval())
    assert {m.mode for m in sparse_layers(fast).values()} == {"dense"}


def test_the_crossover_is_measured_once_and_cached_on_disk(tmp_path, monkeypatch):
    monkeypatch.setenv("SPIKESMITH_CACHE", str(tmp_path))
    monkeypatch.setattr(crossover, "_CACHE", {})
    calls = []
    real = crossover.measure

    def counted(layer, sample):
        calls.append(1)
        return real(layer, sample)
    monkeypatch.setattr(crossover, "measure", counted)
    sl = SparseLinear.from_dense(nn.Linear(300, 200, bias=False), name="fc")
    sample = spikes((128, 300), 0.1)
    first = calibrate(sl, sample)
    assert 0.0 <= first <= 1.0 and calls == [1]
    assert calibrate(sl, sample) == first and calls == [1]
    assert crossover.cache_file().exists()
    monkeypatch.setattr(crossover, "_CACHE", {})                # a new process: read back from disk
    assert calibrate(sl, sample) == first and calls == [1]


@pytest.fixture
def one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)        # timings of two threads on a loaded machine are noise
    yield
    torch.set_num_threads(before)


def test_the_calibrated_crossover_separates_sparse_from_dense_times(one_thread):
    # at 2% the kernels beat the dense product of a wide layer, so the crossover lies above
    sl = SparseLinear.from_dense(nn.Linear(512, 256, bias=False), name="fc")
    value = crossover.measure(sl, spikes((256, 512), 0.1))
    assert 0.02 < value <= 1.0
    assert sl.stats.sparse_calls == 0 and sl.mode == "auto"     # the measurement leaves no trace
