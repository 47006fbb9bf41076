"""tdBN, TEBN and BNTT against statistics computed plainly (means and variances written out), their
running statistics in eval, single-step against multi-step, SpikingJelly where installed, and errors."""

import pytest
import torch

from spikesmith import functional, layer

EPS = 1e-5


def _x(shape, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(shape, generator=g, dtype=torch.float64) * 1.7 + 0.4


def _stats(x, dims):
    """Mean, biased and unbiased variance over ``dims``, written out (no torch.var)."""
    n = 1
    for d in dims:
        n *= x.shape[d]
    mean = x.sum(dim=dims, keepdim=True) / n
    sq = ((x - mean) ** 2).sum(dim=dims, keepdim=True)
    return mean, sq / n, sq / (n - 1)


def _affine(bn, gamma, beta):
    with torch.no_grad():
        bn.weight.copy_(gamma)
        if beta is not None:
            bn.bias.copy_(beta)
    return bn


# ----------------------------------------------------------------------------- tdBN
def test_tdbn_hand_computed():
    bn = layer.ThresholdDependentBatchNorm2d(1, alpha=1.0, v_threshold=0.5).double()
    x = torch.tensor([1.0, 3.0], dtype=torch.float64).view(2, 1, 1, 1, 1)     # T=2, N=1, C=1, 1x1
    # mu = 2, var = 1 over (t, n, h, w) jointly; x_hat = -+1 / sqrt(1 + eps); alpha V_th = 0.5
    y = bn(x).flatten()
    assert torch.allclose(y, torch.tensor([-0.5, 0.5], dtype=torch.float64) / (1 + EPS) ** 0.5, atol=1e-15)
    assert float(bn.running_mean) == pytest.approx(0.2) and float(bn.running_var) == pytest.approx(0.9 + 0.1 * 2.0)


def test_tdbn_statistics_over_time_batch_and_space():
    T, N, C = 4, 3, 2
    bn = _affine(layer.ThresholdDependentBatchNorm2d(C, alpha=2 ** -0.5, v_threshold=1.5).double(),
                 torch.tensor([0.7, 1.3]), torch.tensor([0.1, -0.2]))
    x = _x((T, N, C, 5, 6), seed=1)
    mean, var, unbiased = _stats(x, (0, 1, 3, 4))
    factor = 2 ** -0.5 * 1.5
    expected = bn.weight.detach().view(C, 1, 1) * factor * (x - mean) / torch.sqrt(var + EPS) \
        + bn.bias.detach().view(C, 1, 1)
    assert torch.allclose(bn(x), expected, atol=1e-12)
    assert torch.allclose(bn.running_mean, 0.1 * mean.flatten(), atol=1e-12)
    assert torch.allclose(bn.running_var, 0.9 + 0.1 * unbiased.flatten(), atol=1e-12)
    assert int(bn.num_batches_tracked) == 1                         # one update per multi-step call
    bn.eval()
    x2 = _x((T, N, C, 5, 6), seed=2)
    rm, rv = bn.running_mean.view(C, 1, 1), bn.running_var.view(C, 1, 1)
    expected = bn.weight.detach().view(C, 1, 1) * factor * (x2 - rm) / torch.sqrt(rv + EPS) \
        + bn.bias.detach().view(C, 1, 1)
    assert torch.allclose(bn(x2), expected, atol=1e-12)


def test_tdbn_single_step_uses_one_step_and_gradients_flow():
    bn = layer.ThresholdDependentBatchNorm2d(2, v_threshold=2.0, step_mode="s").double()
    x = _x((5, 2, 3, 3), seed=3).requires_grad_(True)
    mean, var, _ = _stats(x.detach(), (0, 2, 3))
    y = bn(x)
    assert torch.allclose(y, 2.0 * (x.detach() - mean) / torch.sqrt(var + EPS), atol=1e-12)
    (y * torch.arange(y.numel(), dtype=torch.float64).view_as(y)).sum().backward()
    assert x.grad.abs().sum() > 0 and bn.weight.grad.abs().sum() > 0 and bn.bias.grad.abs().sum() > 0


def test_tdbn_without_affine():
    bn = layer.ThresholdDependentBatchNorm2d(2, v_threshold=0.5, affine=False).double()
    x = _x((2, 3, 2, 2, 2), seed=4)
    mean, var, _ = _stats(x, (0, 1, 3, 4))
    assert torch.allclose(bn(x), 0.5 * (x - mean) / torch.sqrt(var + EPS), atol=1e-12)


def test_tdbn_same_as_spikingjelly():
    sj_layer = pytest.importorskip("spikingjelly.activation_based.layer", reason="SpikingJelly not installed")
    theirs = sj_layer.ThresholdDependentBatchNorm2d(alpha=1.0, v_th=0.5, num_features=3).double()
    ours = layer.ThresholdDependentBatchNorm2d(3, alpha=1.0, v_threshold=0.5).double()
    with torch.no_grad():
        theirs.weight.copy_(torch.tensor([0.5, 0.75, 0.25]))       # theirs: gamma carries alpha V_th
        ours.weight.copy_(theirs.weight / 0.5)
        theirs.bias.copy_(torch.tensor([0.1, 0.0, -0.3]))
        ours.bias.copy_(theirs.bias)
    x = _x((4, 2, 3, 4, 4), seed=5)
    assert torch.allclose(theirs(x), ours(x), atol=1e-12)
    assert torch.allclose(theirs.running_var, ours.running_var, atol=1e-12)
    theirs.eval(), ours.eval()
    assert torch.allclose(theirs(x), ours(x), atol=1e-12)


# ----------------------------------------------------------------------------- TEBN
def test_tebn_shared_statistics_and_per_step_scale():
    T, C = 3, 2
    bn = _affine(layer.TemporalEffectiveBatchNorm2d(C, T=T).double(), torch.tensor([1.2, 0.8]),
                 torch.tensor([0.0, 0.5]))
    with torch.no_grad():
        bn.scale.copy_(torch.tensor([0.5, 1.0, 2.0]))
    x = _x((T, 4, C, 3, 3), seed=6).requires_grad_(True)
    mean, var, unbiased = _stats(x.detach(), (0, 1, 3, 4))
    normed = bn.weight.detach().view(C, 1, 1) * (x.detach() - mean) / torch.sqrt(var + EPS) \
        + bn.bias.detach().view(C, 1, 1)
    y = bn(x)
    assert torch.allclose(y, torch.tensor([0.5, 1.0, 2.0], dtype=torch.float64).view(T, 1, 1, 1, 1) * normed,
                          atol=1e-12)
    assert torch.allclose(bn.running_var, 0.9 + 0.1 * unbiased.flatten(), atol=1e-12)
    g = torch.linspace(-1, 1, y.numel(), dtype=torch.float64).view_as(y)
    (y * g).sum().backward()
    assert torch.allclose(bn.scale.grad, (normed * g).sum(dim=(1, 2, 3, 4)), atol=1e-10)   # dL/dp[t]
    assert x.grad.abs().sum() > 0


def test_tebn_eval_single_step_equals_multi_step():
    T = 4
    bn = layer.TemporalEffectiveBatchNorm2d(2, T=T).double()
    bn(_x((T, 5, 2, 3, 3), seed=7))                                   # running statistics
    with torch.no_grad():
        bn.scale.copy_(torch.tensor([0.25, 0.5, 1.5, 3.0]))
    bn.eval()
    x = _x((T, 2, 2, 3, 3), seed=8)
    multi = bn(x)
    bn.step_mode = "s"
    assert torch.allclose(torch.stack([bn(x[t]) for t in range(T)]), multi, atol=1e-12)
    with pytest.raises(ValueError, match=r"built for T=4 steps and has run them; call .*reset_net"):
        bn(x[0])
    functional.reset_net(bn)
    assert torch.allclose(bn(x[0]), multi[0], atol=1e-12)


def test_tebn_same_as_spikingjelly():
    sj_layer = pytest.importorskip("spikingjelly.activation_based.layer", reason="SpikingJelly not installed")
    theirs = sj_layer.TemporalEffectiveBatchNorm2d(T=3, num_features=2).double()
    ours = layer.TemporalEffectiveBatchNorm2d(2, T=3).double()
    with torch.no_grad():
        for p in (theirs.scale, ours.scale):
            p.copy_(torch.tensor([0.3, 1.0, 1.7]))
    x = _x((3, 4, 2, 3, 3), seed=9)
    assert torch.allclose(theirs(x), ours(x), atol=1e-12)
    theirs.eval(), ours.eval()
    assert torch.allclose(theirs(x), ours(x), atol=1e-12)


def test_tebn_refuses_another_T():
    bn = layer.TemporalEffectiveBatchNorm2d(2, T=4)
    with pytest.raises(ValueError, match=r"TemporalEffectiveBatchNorm2d was built for T=4 .* got an input with T=6"):
        bn(torch.rand(6, 2, 2, 3, 3))


# ----------------------------------------------------------------------------- BNTT
def test_bntt_statistics_and_gamma_per_step_no_beta():
    T, C = 3, 2
    bn = layer.BNTT(C, T=T).double()
    gamma = torch.tensor([[1.0, 2.0], [0.5, 1.5], [3.0, 0.25]], dtype=torch.float64)
    with torch.no_grad():
        bn.weight.copy_(gamma)
    assert set(bn.state_dict()) == {"weight", "running_mean", "running_var", "num_batches_tracked"}   # no beta
    x = _x((T, 4, C, 3, 2), seed=10)
    y = bn(x)
    for t in range(T):
        mean, var, unbiased = _stats(x[t], (0, 2, 3))                  # step t alone: over n, h, w
        assert torch.allclose(y[t], gamma[t].view(C, 1, 1) * (x[t] - mean) / torch.sqrt(var + EPS), atol=1e-12)
        assert torch.allclose(bn.running_mean[t], 0.1 * mean.flatten(), atol=1e-12)
        assert torch.allclose(bn.running_var[t], 0.9 + 0.1 * unbiased.flatten(), atol=1e-12)
    bn.eval()
    x2 = _x((T, 2, C, 3, 2), seed=11)
    y2 = bn(x2)
    for t in range(T):
        rm, rv = bn.running_mean[t].view(C, 1, 1), bn.running_var[t].view(C, 1, 1)
        assert torch.allclose(y2[t], gamma[t].view(C, 1, 1) * (x2[t] - rm) / torch.sqrt(rv + EPS), atol=1e-12)


def test_bntt_on_linear_features_and_gradients():
    bn = layer.BNTT(5, T=2).double()
    x = _x((2, 8, 5), seed=12).requires_grad_(True)
    y = bn(x)
    mean, var, _ = _stats(x.detach()[1], (0,))
    assert torch.allclose(y[1], (x.detach()[1] - mean) / torch.sqrt(var + EPS), atol=1e-12)
    (y * torch.arange(y.numel(), dtype=torch.float64).view_as(y)).sum().backward()
    assert bn.weight.grad.shape == (2, 5) and bn.weight.grad.abs().sum() > 0 and x.grad.abs().sum() > 0


@pytest.mark.parametrize("training", [True, False])
def test_bntt_single_step_equals_multi_step(training):
    T = 3
    a, b = layer.BNTT(2, T=T).double(), layer.BNTT(2, T=T, step_mode="s").double()
    warm = _x((T, 6, 2, 2, 2), seed=13)
    a(warm)
    b.load_state_dict(a.state_dict())
    a.train(training), b.train(training)
    x = _x((T, 4, 2, 2, 2), seed=14)
    assert torch.allclose(torch.stack([b(x[t]) for t in range(T)]), a(x), atol=1e-12)
    for name in ("running_mean", "running_var", "num_batches_tracked"):
        assert torch.allclose(getattr(a, name).double(), getattr(b, name).double(), atol=1e-12), name


def test_bntt_refuses_another_T():
    bn = layer.BNTT(2, T=4)
    with pytest.raises(ValueError, match=r"BNTT was built for T=4 time steps .* got an input with T=8; build it with "
                                         r"T=8"):
        bn(torch.rand(8, 2, 2, 3, 3))
    bn.step_mode = "s"
    for _ in range(4):
        bn(torch.rand(2, 2, 3, 3))
    with pytest.raises(ValueError, match=r"BNTT was built for T=4 steps and has run them"):
        bn(torch.rand(2, 2, 3, 3))


# ----------------------------------------------------------------------------- bad input
@pytest.mark.parametrize("build, message", [
    (lambda: layer.BNTT(2, T=0), r"BNTT: T must be a positive int"),
    (lambda: layer.BNTT(2, T="4"), r"BNTT: T must be a positive int"),
    (lambda: layer.BNTT(0, T=4), r"BNTT: num_features must be a positive int"),
    (lambda: layer.TemporalEffectiveBatchNorm2d(2, T=2.0), r"TemporalEffectiveBatchNorm2d: T must be a positive int"),
    (lambda: layer.ThresholdDependentBatchNorm2d(2, alpha=0.0), r"alpha must be a positive number"),
    (lambda: layer.ThresholdDependentBatchNorm2d(2, v_threshold=-1.0), r"v_threshold must be a positive number"),
    (lambda: layer.ThresholdDependentBatchNorm2d(2, step_mode="x"), r"step_mode must be 's'"),
])
def test_bad_arguments(build, message):
    with pytest.raises(ValueError, match=message):
        build()


@pytest.mark.parametrize("module, x, message", [
    (lambda: layer.ThresholdDependentBatchNorm2d(2), torch.rand(3, 2, 4, 4),
     r"ThresholdDependentBatchNorm2d in step_mode='m' expects input of shape \[T, N, C, H, W\]"),
    (lambda: layer.ThresholdDependentBatchNorm2d(2), torch.rand(2, 3, 5, 4, 4), r"num_features=2 at dim 2"),
    (lambda: layer.TemporalEffectiveBatchNorm2d(2, T=2), torch.rand(2, 3, 2, 4),
     r"expects input of shape \[T, N, C, H, W\]"),
    (lambda: layer.BNTT(2, T=2), torch.rand(2, 3), r"BNTT in step_mode='m' expects input of shape \[T, N, C, ...\]"),
    (lambda: layer.BNTT(2, T=2), torch.rand(2, 3, 4), r"expects num_features=2 channels at dim 2"),
])
def test_bad_inputs(module, x, message):
    with pytest.raises(ValueError, match=message):
        module()(x)


def test_seq_to_ann_container_refuses_the_per_step_norms():
    for bn in (layer.TemporalEffectiveBatchNorm2d(2, T=3), layer.BNTT(2, T=3)):
        with pytest.raises(TypeError, match="must be stateless"):
            layer.SeqToANNContainer(bn)


def test_tdbn_in_a_seq_to_ann_container_keeps_the_joint_statistics():
    """The container folds time into the batch and runs tdBN on one step: the same statistics over T x N."""
    a = layer.ThresholdDependentBatchNorm2d(2, v_threshold=0.5).double()
    b = layer.ThresholdDependentBatchNorm2d(2, v_threshold=0.5).double()
    x = _x((3, 4, 2, 3, 3), seed=15)
    assert torch.allclose(layer.SeqToANNContainer(b)(x), a(x), atol=1e-12)
    assert torch.allclose(a.running_var, b.running_var, atol=1e-12) and b.step_mode == "s"
