"""Every bad argument raises TypeError / ValueError naming it and the fix."""

import math

import pytest
import torch

from spikesmith.encoding import (
    DeltaEncoder,
    DirectEncoder,
    IdentityEncoder,
    LatencyEncoder,
    PoissonEncoder,
    PopulationEncoder,
    RateEncoder,
    delta_encode,
    direct_encode,
    gaussian_receptive_fields,
    latency_encode,
    poisson_encode,
    population_centres,
    population_encode,
    rate_encode,
    times_to_spikes,
)

# Encoders of a static [N, ...] input: f(x, T).
STATIC = {
    "poisson": lambda x, T: poisson_encode(x, T, seed=0),
    "rate": rate_encode,
    "latency": latency_encode,
    "latency_log": lambda x, T: latency_encode(x, T, code="log"),
    "population": lambda x, T: population_encode(x, T, 4),
    "direct": direct_encode,
    "PoissonEncoder": lambda x, T: PoissonEncoder(T, seed=0)(x),
    "RateEncoder": lambda x, T: RateEncoder(T)(x),
    "LatencyEncoder": lambda x, T: LatencyEncoder(T)(x),
    "PopulationEncoder": lambda x, T: PopulationEncoder(T, 4)(x),
    "DirectEncoder": lambda x, T: DirectEncoder(T)(x),
}
# Encoders of any float input (static or temporal): f(x).
ALL = {name: (lambda f: lambda x: f(x, 3))(f) for name, f in STATIC.items()}
ALL.update(
    {
        "delta": delta_encode,
        "DeltaEncoder": DeltaEncoder(),
        "IdentityEncoder": IdentityEncoder(),
    }
)
UNIT_RANGE = ["poisson", "rate", "latency", "latency_log", "PoissonEncoder", "RateEncoder", "LatencyEncoder"]


@pytest.mark.parametrize("name", sorted(STATIC))
@pytest.mark.parametrize("T", [0, -3])
def test_non_positive_T(name, T):
    with pytest.raises(ValueError, match=r"T \(number of time steps\) must be >= 1"):
        STATIC[name](torch.rand(2), T)


@pytest.mark.parametrize("name", sorted(STATIC))
@pytest.mark.parametrize("T", [2.5, "5", True, None, torch.tensor(5)])
def test_non_int_T(name, T):
    with pytest.raises(TypeError, match="T .*must be a positive int"):
        STATIC[name](torch.rand(2), T)


def test_numpy_int_T_accepted():
    np = pytest.importorskip("numpy")
    assert rate_encode(torch.rand(2), np.int64(3)).shape == (3, 2)


@pytest.mark.parametrize("name", sorted(ALL))
@pytest.mark.parametrize("dtype", [torch.uint8, torch.int64, torch.bool])
def test_integer_and_bool_inputs_rejected(name, dtype):
    x = torch.ones(3, 2, dtype=dtype)
    with pytest.raises(TypeError, match=r"floating-point.*x\.float\(\) / 255"):
        ALL[name](x)


@pytest.mark.parametrize("name", sorted(ALL))
def test_non_tensor_rejected(name):
    with pytest.raises(TypeError, match="torch.Tensor"):
        ALL[name]([[0.5, 0.5]])


@pytest.mark.parametrize("name", sorted(ALL))
def test_nan_rejected(name):
    x = torch.full((3, 2), 0.5)
    x[1, 1] = math.nan
    with pytest.raises(ValueError, match="NaN.*nan_to_num"):
        ALL[name](x)


@pytest.mark.parametrize("name", UNIT_RANGE)
@pytest.mark.parametrize("bad", [-0.1, 1.01, math.inf])
def test_outside_unit_interval_rejected(name, bad):
    x = torch.tensor([0.5, bad])
    with pytest.raises(ValueError, match=r"must lie in \[0, 1\].*clamp=True"):
        STATIC[name](x, 4)


@pytest.mark.parametrize("max_rate", [0.0, -0.5, 1.5, math.nan])
def test_poisson_bad_max_rate(max_rate):
    with pytest.raises(ValueError, match="max_rate"):
        poisson_encode(torch.rand(2), 3, max_rate=max_rate)
    with pytest.raises(ValueError, match="max_rate"):
        PoissonEncoder(3, max_rate=max_rate)


def test_poisson_bad_seed_and_generator():
    x = torch.rand(2)
    with pytest.raises(TypeError, match="seed must be an int"):
        poisson_encode(x, 3, seed=1.5)
    with pytest.raises(TypeError, match="seed must be an int"):
        PoissonEncoder(3, seed="0")
    with pytest.raises(TypeError, match="generator must be a torch.Generator"):
        poisson_encode(x, 3, generator=0)
    with pytest.raises(ValueError, match="either seed or generator"):
        poisson_encode(x, 3, seed=0, generator=torch.Generator())
    with pytest.raises(TypeError, match="max_rate must be a real number"):
        poisson_encode(x, 3, max_rate="1")


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_poisson_generator_on_wrong_device():
    with pytest.raises(ValueError, match="generator lives on"):
        poisson_encode(torch.rand(2, device="cuda"), 3, generator=torch.Generator())


def test_rate_bad_rounding():
    with pytest.raises(ValueError, match=r"rounding must be one of \['floor', 'round'\]"):
        rate_encode(torch.rand(2), 3, rounding="ceil")
    with pytest.raises(ValueError, match="rounding"):
        RateEncoder(3, rounding="nearest")


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"code": "exp"}, "code must be one of"),
        ({"code": "log", "tau": 0.0}, "tau must be a positive"),
        ({"code": "log", "tau": -1.0}, "tau must be a positive"),
        ({"code": "log", "tau": math.inf}, "tau must be a positive"),
        ({"code": "log", "threshold": 0.0}, r"threshold must lie in \(0, 1\)"),
        ({"code": "log", "threshold": 1.0}, r"threshold must lie in \(0, 1\)"),
        ({"code": "log", "threshold": 0.5, "epsilon": 0.5}, "epsilon must lie in"),
        ({"code": "log", "epsilon": 0.0}, "epsilon must lie in"),
    ],
)
def test_latency_bad_options(kwargs, match):
    with pytest.raises(ValueError, match=match):
        latency_encode(torch.rand(2), 5, **kwargs)
    with pytest.raises(ValueError, match=match):
        LatencyEncoder(5, **kwargs)


def test_latency_bad_option_types():
    with pytest.raises(TypeError, match="tau must be a real number"):
        latency_encode(torch.rand(2), 5, tau="1")
    with pytest.raises(TypeError, match="T .*positive int"):
        times_to_spikes(torch.zeros(2), 2.0)


@pytest.mark.parametrize(
    "args, kwargs, exc, match",
    [
        ((1,), {}, ValueError, "n_neurons >= 2"),
        ((2,), {"spread": "bohte"}, ValueError, "n_neurons >= 3"),
        ((3.0,), {}, TypeError, "n_neurons must be an int"),
        ((True,), {}, TypeError, "n_neurons must be an int"),
        ((4,), {"spread": "log"}, ValueError, "spread must be one of"),
        ((4,), {"x_min": 1.0, "x_max": 1.0}, ValueError, "x_min < x_max"),
        ((4,), {"x_min": 0.0, "x_max": math.inf}, ValueError, "x_min < x_max"),
        ((4,), {"sigma": 0.0}, ValueError, "sigma must be positive"),
        ((4,), {"beta": -1.0}, ValueError, "beta must be positive"),
    ],
)
def test_population_bad_layout(args, kwargs, exc, match):
    with pytest.raises(exc, match=match):
        population_centres(*args, **kwargs)
    with pytest.raises(exc, match=match):
        population_encode(torch.rand(2), 5, *args, **kwargs)
    with pytest.raises(exc, match=match):
        PopulationEncoder(5, *args, **kwargs)


def test_population_bad_output_and_min_response():
    x = torch.rand(2)
    with pytest.raises(ValueError, match="output must be one of"):
        population_encode(x, 5, 4, output="rate")
    with pytest.raises(ValueError, match="min_response must lie in"):
        population_encode(x, 5, 4, min_response=1.5)
    with pytest.raises(ValueError, match="min_response must lie in"):
        PopulationEncoder(5, 4, min_response=-0.1)
    with pytest.raises(TypeError, match="positive int"):
        population_encode(x, None, 4)  # spikes need T
    with pytest.raises(TypeError, match="positive int"):
        PopulationEncoder(None, 4)
    with pytest.raises(ValueError, match="centres must be 1-D"):
        gaussian_receptive_fields(x, torch.zeros(2, 2), 0.1)


def test_delta_bad_options():
    x = torch.rand(4, 2)
    with pytest.raises(ValueError, match="threshold must be >= 0"):
        delta_encode(x, -0.1)
    with pytest.raises(ValueError, match="split_polarity=True needs off_spike=True"):
        delta_encode(x, 0.1, off_spike=False, split_polarity=True)
    with pytest.raises(ValueError, match="split_polarity=True needs off_spike=True"):
        DeltaEncoder(off_spike=False, split_polarity=True)
    with pytest.raises(ValueError, match="0-d tensor"):
        delta_encode(torch.tensor(0.5), 0.1)
    with pytest.raises(TypeError, match="initial_reference must be a real number"):
        delta_encode(x, 0.1, initial_reference="0")
    with pytest.raises(TypeError, match="positive int"):
        DeltaEncoder(T=2.0)


def test_clamped_values_still_checked_for_nan():
    x = torch.tensor([math.nan, 2.0])
    with pytest.raises(ValueError, match="NaN"):
        poisson_encode(x, 3, clamp=True, seed=0)
