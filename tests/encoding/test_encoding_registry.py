"""Registry, and shapes / dtypes / values shared by every encoder."""

import pickle

import pytest
import torch

from spikesmith import encoding
from spikesmith.encoding import ENCODERS, get_encoder

DTYPES = [torch.float16, torch.bfloat16, torch.float32, torch.float64]

# name -> (options, output shape for x of shape [N, C] = [3, 4] and T = 5, allowed values)
CASES = {
    "poisson": ({"seed": 0}, (5, 3, 4), {0.0, 1.0}),
    "rate": ({}, (5, 3, 4), {0.0, 1.0}),
    "latency": ({"code": "log", "tau": 3.0}, (5, 3, 4), {0.0, 1.0}),
    "population": ({"n_neurons": 6}, (5, 3, 4, 6), {0.0, 1.0}),
    "direct": ({}, (5, 3, 4), None),
}


def test_registry_knows_every_name():
    assert set(ENCODERS) == {"poisson", "rate", "latency", "population", "delta", "direct", "none"}


@pytest.mark.parametrize("name", sorted(CASES))
@pytest.mark.parametrize("dtype", DTYPES)
def test_static_encoders_shape_dtype_values(name, dtype):
    options, shape, values = CASES[name]
    x = torch.rand(3, 4, generator=torch.Generator().manual_seed(0)).to(dtype)
    out = get_encoder(name, 5, **options)(x)
    assert out.shape == shape
    assert out.dtype == dtype
    if values is not None:
        assert set(out.unique().float().tolist()) <= values
        assert out.sum() > 0


@pytest.mark.parametrize("dtype", DTYPES)
def test_temporal_encoders_shape_dtype(dtype):
    x = torch.rand(5, 3, 4, generator=torch.Generator().manual_seed(0)).to(dtype)
    out = get_encoder("delta", 5, threshold=0.2)(x)
    assert out.shape == (5, 3, 4) and out.dtype == dtype
    assert set(out.unique().float().tolist()) <= {-1.0, 0.0, 1.0}
    split = get_encoder("delta", None, threshold=0.2, split_polarity=True)(x)
    assert split.shape == (5, 3, 4, 2) and split.dtype == dtype
    assert get_encoder("none", 5)(x) is x


@pytest.mark.parametrize("name", sorted(CASES))
def test_encoders_are_deterministic_or_seeded_and_leave_global_rng(name):
    options, _, _ = CASES[name]
    x = torch.rand(3, 4, generator=torch.Generator().manual_seed(0))
    state = torch.get_rng_state()
    a = get_encoder(name, 5, **options)(x)
    b = get_encoder(name, 5, **options)(x)
    assert torch.equal(a, b)
    assert torch.equal(torch.get_rng_state(), state)


@pytest.mark.parametrize("name", sorted(ENCODERS))
def test_modules_pickle_and_repr_their_options(name):
    options = dict(CASES.get(name, ({}, None, None))[0])
    enc = get_encoder(name, 5, **options)
    clone = pickle.loads(pickle.dumps(enc))
    assert repr(clone) == repr(enc) and "T=5" in repr(enc)


def test_name_is_case_insensitive():
    assert isinstance(get_encoder("Rate", 3), encoding.RateEncoder)


def test_unknown_name_lists_known_names():
    with pytest.raises(ValueError, match=r"unknown encoder 'spiky'; known encoders: delta, direct, latency, none \(aliases: identity\), poisson"):
        get_encoder("spiky", 5)


def test_unknown_option_raises_type_error():
    with pytest.raises(TypeError):
        get_encoder("rate", 5, max_rate=0.5)


def test_exports():
    for name in encoding.__all__:
        assert hasattr(encoding, name), name
