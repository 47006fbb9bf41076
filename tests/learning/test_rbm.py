"""learning.RBM: free energy by hand, CD-1 learning, PCD chains, the sparsity target, bad input."""

import itertools
import math

import pytest
import torch

from spikesmith.learning import RBM
from spikesmith.learning.rbm import CDOptions, RBMParams, cd_step, free_energy, initial_state


pytestmark = pytest.mark.usefixtures("one_thread")


def _params_2x2():
    w = torch.tensor([[1.0, -1.0], [0.5, 2.0]], dtype=torch.float64)     # [hidden, visible]
    return RBMParams(w, torch.tensor([0.1, -0.2], dtype=torch.float64), torch.tensor([0.3, -0.5], dtype=torch.float64))


def test_free_energy_matches_hand_computation_on_2x2():
    params = _params_2x2()
    v = torch.tensor([[1.0, 0.0], [1.0, 1.0]], dtype=torch.float64)
    # v = [1, 0]: -b.v = -0.1; W v + c = [1.3, 0.0] -> -(softplus(1.3) + ln 2)
    # v = [1, 1]: -b.v = +0.1; W v + c = [0.3, 2.0] -> -(softplus(0.3) + softplus(2.0))
    expected = torch.tensor([-0.1 - math.log1p(math.exp(1.3)) - math.log(2.0),
                             0.1 - math.log1p(math.exp(0.3)) - math.log1p(math.exp(2.0))], dtype=torch.float64)
    assert torch.allclose(free_energy(v, params), expected, atol=1e-12)
    assert abs(float(expected[0]) - (-2.334156)) < 1e-6 and abs(float(expected[1]) - (-2.881283)) < 1e-6


def test_free_energy_is_minus_log_of_the_energy_summed_over_hidden_states():
    params = _params_2x2()
    w, b, c = params
    for bits in itertools.product([0.0, 1.0], repeat=2):
        v = torch.tensor(bits, dtype=torch.float64)
        total = sum(math.exp(float(b @ v + c @ h + h @ w @ v))
                    for h in (torch.tensor(hb, dtype=torch.float64) for hb in itertools.product([0.0, 1.0], repeat=2)))
        assert abs(float(free_energy(v[None], params)[0]) + math.log(total)) < 1e-12


def _prototype_data(seed: int, n: int = 64, flip: float = 0.05):
    """Noisy copies of four 16-pixel binary prototypes."""
    g = torch.Generator().manual_seed(1000 + seed)
    protos = (torch.rand(4, 16, generator=g) < 0.5).float()
    x = protos[torch.randint(0, 4, (n,), generator=g)]
    noise = (torch.rand(x.shape, generator=g) < flip).float()
    return (x + noise) % 2


def test_cd1_lowers_the_reconstruction_error():
    # the margin was measured over seeds 0-9 (error after / before: 0.17-0.33), so < 0.5 holds for
    # every seed with room to spare; three seeds run here
    for seed in range(3):
        x = _prototype_data(seed)
        rbm = RBM(16, 8, k=1, lr=0.2, momentum=0.5, seed=seed)
        before = rbm.reconstruction_error(x)
        history = rbm.fit(x, epochs=30, batch_size=16)
        after = rbm.reconstruction_error(x)
        assert after < 0.5 * before, (seed, before, after)
        assert len(history) == 30 * 4 and history[-1].reconstruction_error < history[0].reconstruction_error
        # training lowers the data's free energy relative to random vectors'
        noise = (torch.rand(64, 16, generator=torch.Generator().manual_seed(seed)) < 0.5).float()
        assert float(rbm.free_energy(x).mean()) < float(rbm.free_energy(noise).mean())


def test_pcd_chains_persist_across_updates_and_ignore_the_data():
    rbm = RBM(16, 8, k=1, persistent=True, n_chains=7, seed=0)
    x = _prototype_data(0)
    for i in range(4):
        rbm.cd_step(x[16 * i:16 * (i + 1)])
        # chains are kept (7 of them, whatever the batch size), binary, and change from update to update
        assert rbm.state.chains.shape == (7, 16)
        assert set(rbm.state.chains.unique().tolist()) <= {0.0, 1.0}
    # the negative phase continues from the chains, not from the data: two different batches with the
    # same chains and the same random stream give the same new chains under PCD, different ones under CD
    params, state = rbm.params(), rbm.state
    results = {}
    for persistent in (True, False):
        opts = CDOptions(k=1, persistent=persistent)
        chains = []
        for batch in (x[:16], x[16:32]):
            g = torch.Generator().manual_seed(5)
            _, new_state, _ = cd_step(batch, params, opts, state if persistent else initial_state(params), g)
            chains.append(new_state.chains)
        results[persistent] = chains
    assert results[False][0] is None
    assert torch.equal(results[True][0], results[True][1])
    # and the chains differ from those of a fresh start from the first batch (they were carried over)
    fresh = RBM(16, 8, k=1, persistent=True, n_chains=7, seed=0)
    fresh.cd_step(x[:16])
    assert not torch.equal(fresh.state.chains, rbm.state.chains)


def test_sparsity_target_pulls_mean_hidden_activity_toward_it():
    x = _prototype_data(1, n=128)
    for target in (0.05, 0.9):
        plain = RBM(16, 12, lr=0.05, seed=3)
        sparse = RBM(16, 12, lr=0.05, sparsity_target=target, sparsity_cost=0.5, seed=3)
        plain.fit(x, epochs=10, batch_size=32)
        sparse.fit(x, epochs=10, batch_size=32)
        got_plain = float(plain.hidden_probs(x).mean())
        got_sparse = float(sparse.hidden_probs(x).mean())
        assert abs(got_sparse - target) < 0.5 * abs(got_plain - target), (target, got_plain, got_sparse)
        assert sparse.history[-1].hidden_mean == pytest.approx(float(sparse.hidden_probs(x).mean()), abs=0.05)


def test_weight_decay_and_momentum_enter_the_update():
    x = _prototype_data(2, n=16)
    params = RBM(16, 8, seed=0).params()
    outs = {}
    for name, opts in {"plain": CDOptions(momentum=0.0, weight_decay=0.0),
                       "decay": CDOptions(momentum=0.0, weight_decay=0.5)}.items():
        new, _, _ = cd_step(x, params, opts, initial_state(params), torch.Generator().manual_seed(0))
        outs[name] = new
    # same random stream: the only difference is -lr * wd * W on the weight, none on the biases
    assert torch.allclose(outs["decay"].weight - outs["plain"].weight, -CDOptions().lr * 0.5 * params.weight, atol=1e-7)
    assert torch.equal(outs["decay"].visible_bias, outs["plain"].visible_bias)
    opts = CDOptions(momentum=0.9, weight_decay=0.0)
    state = initial_state(params)._replace(velocity=RBMParams(*(torch.ones_like(p) for p in params)))
    new, new_state, _ = cd_step(x, params, opts, state, torch.Generator().manual_seed(0))
    assert torch.allclose(new.weight - outs["plain"].weight, torch.full_like(params.weight, 0.9), atol=1e-6)


@pytest.mark.parametrize("kwargs, message", [
    ({"n_visible": 0}, "n_visible must be a positive int"),
    ({"n_visible": -3}, "n_visible must be a positive int"),
    ({"n_hidden": 0}, "n_hidden must be a positive int"),
    ({"k": 0}, "k .* must be an int >= 1"),
    ({"k": 1.5}, "k .* must be an int >= 1"),
    ({"sparsity_target": 0.0}, r"sparsity_target .* must lie in \(0, 1\)"),
    ({"sparsity_target": 1.0}, r"sparsity_target .* must lie in \(0, 1\)"),
    ({"sparsity_target": 1.5}, r"sparsity_target .* must lie in \(0, 1\)"),
    ({"sparsity_target": float("nan")}, "sparsity_target .* must be a finite number"),
    ({"lr": 0.0}, "lr must be a finite number > 0"),
    ({"momentum": 1.0}, r"momentum must lie in \[0, 1\)"),
    ({"weight_decay": -1e-3}, "weight_decay must be a finite number >= 0"),
])
def test_bad_hyper_parameters_get_a_one_line_error(kwargs, message):
    args = {"n_visible": 16, "n_hidden": 8, **kwargs}
    with pytest.raises(ValueError, match=message) as err:
        RBM(args.pop("n_visible"), args.pop("n_hidden"), **args)
    assert "\n" not in str(err.value)


def test_data_of_the_wrong_width_or_dtype_is_refused():
    rbm = RBM(16, 8)
    with pytest.raises(ValueError, match=r"data must have shape \[N >= 1, 16\], got \[4, 15\]"):
        rbm.cd_step(torch.zeros(4, 15))
    with pytest.raises(TypeError, match="floating-point"):
        rbm.cd_step(torch.zeros(4, 16, dtype=torch.long))
