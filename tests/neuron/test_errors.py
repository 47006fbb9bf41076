"""Bad input gets a clear ValueError/TypeError naming the argument and the fix."""

import pytest
import torch

from spikesmith import neuron


@pytest.mark.parametrize("mode, shape, layout", [("s", (), r"\[N, \.\.\.\]"), ("m", (5,), r"\[T, N, \.\.\.\]")])
def test_wrong_number_of_dims(mode, shape, layout):
    node = neuron.LIFNode(step_mode=mode)
    with pytest.raises(ValueError, match=f"step_mode='{mode}' expects input of shape {layout}"):
        node(torch.zeros(shape))


@pytest.mark.parametrize("dtype", [torch.int64, torch.int32, torch.bool, torch.uint8])
def test_integer_or_bool_input(dtype):
    with pytest.raises(TypeError, match="floating-point input.*x.float()"):
        neuron.IFNode()(torch.zeros(2, 3, dtype=dtype))


def test_non_tensor_input():
    with pytest.raises(TypeError, match="torch.Tensor"):
        neuron.IFNode()([1.0, 2.0])


@pytest.mark.parametrize("tau", [1.0, 0.5, -2.0, torch.tensor([2.0, 1.0])])
def test_tau_must_exceed_one(tau):
    with pytest.raises(ValueError, match="tau must be > 1"):
        neuron.LIFNode(tau=tau)


def test_plif_init_tau_must_exceed_one():
    with pytest.raises(ValueError, match="init_tau must be > 1"):
        neuron.ParametricLIFNode(init_tau=1.0)


def test_alif_arguments():
    with pytest.raises(ValueError, match="tau_adapt must be > 1"):
        neuron.AdaptiveLIFNode(tau_adapt=0.5)
    with pytest.raises(ValueError, match="beta must be >= 0"):
        neuron.AdaptiveLIFNode(beta=-1.0)


@pytest.mark.parametrize("v_threshold, v_reset", [(0.0, 0.0), (-1.0, 0.0), (torch.tensor([1.0, 0.0]), 0.5)])
def test_threshold_must_exceed_reset(v_threshold, v_reset):
    with pytest.raises(ValueError, match="v_threshold must be greater than v_reset"):
        neuron.IFNode(v_threshold=v_threshold, v_reset=v_reset)


def test_unknown_surrogate_name_lists_known():
    with pytest.raises(ValueError, match="unknown surrogate 'atann'; known surrogates: atan, dspike"):
        neuron.LIFNode(surrogate_function="atann")


def test_bad_step_mode_and_backend():
    with pytest.raises(ValueError, match="step_mode must be 's'"):
        neuron.IFNode(step_mode="multi")
    node = neuron.IFNode()
    with pytest.raises(ValueError, match="step_mode must be 's'"):
        node.step_mode = "x"
    with pytest.raises(ValueError, match="unknown backend 'cuda'"):
        neuron.IFNode(backend="cuda")


def test_bad_parameter_types():
    with pytest.raises(TypeError, match="v_threshold must be a float or a tensor"):
        neuron.IFNode(v_threshold="1")
    with pytest.raises(ValueError, match="v_threshold contains NaN"):
        neuron.IFNode(v_threshold=torch.tensor([float("nan")]))
    # a NaN float as a NaN tensor (it reached the fused kernel with a soft reset; issue 14)
    for kw in (dict(v_reset=None, v_threshold=float("nan")), dict(v_init=float("nan")), dict(v_reset=float("nan"))):
        with pytest.raises(ValueError, match="is NaN; give a number"):
            neuron.IFNode(**kw)
    with pytest.raises(ValueError, match="tau is NaN|tau must be > 1"):
        neuron.LIFNode(tau=float("nan"))


def test_parameter_that_does_not_broadcast():
    node = neuron.IFNode(v_reset=None, v_init=torch.zeros(3))
    with pytest.raises(ValueError, match="v_init of shape \\[3\\] does not broadcast"):
        node(torch.zeros(2, 4))


def test_izhikevich_dt():
    with pytest.raises(ValueError, match="dt must be a positive"):
        neuron.IzhikevichNode(dt=0)
