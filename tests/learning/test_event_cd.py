"""Event-driven CD: the LIF step by hand, the two-phase sign flip, learning on small data, bad input."""

import pytest
import torch

from spikesmith.learning.event_cd import EventCDOptions, EventCDRBM, LayerState, event_cd_update, lif_step, run_phase


pytestmark = pytest.mark.usefixtures("one_thread")


def test_lif_step_by_hand_with_refractory_period():
    opts = EventCDOptions(tau=2.0, v_threshold=1.0, refractory=1)
    z = torch.zeros(1, 1)
    state = LayerState(z, z.clone(), z.clone(), z.clone())
    vs, spikes = [], []
    for _ in range(4):
        state = lif_step(state, torch.full((1, 1), 0.6), opts, trace_decay=0.5)
        vs.append(float(state.v)), spikes.append(float(state.spike))
    # H1 = 0.6; H2 = 0.6 - 0.3 + 0.6 = 0.9; H3 = 0.9 - 0.45 + 0.6 = 1.05 -> spike, V = 0, refractory for 1 step;
    # step 4: refractory, held at 0
    assert spikes == [0.0, 0.0, 1.0, 0.0]
    assert vs == pytest.approx([0.6, 0.9, 0.0, 0.0])
    assert float(state.trace) == pytest.approx(0.5)


def test_update_is_data_phase_minus_reconstruction_phase():
    """With the same spikes in both phases the two STDP sums cancel; the sign of each phase is fixed."""
    opts = EventCDOptions(burn_in=0, learn=5, noise_rate=0.0, refractory=0, input_rate=1.0)
    w = torch.full((3, 4), 0.0)
    # huge biases: every unit fires at every step in both phases, the data (all ones) too
    vb, hb = torch.full((4,), 10.0), torch.full((3,), 10.0)
    x = torch.ones(2, 4)
    z = lambda n: LayerState(*(torch.zeros(2, n) for _ in range(4)))  # noqa: E731
    _, _, (dw_data, db_data, dc_data), _ = run_phase(w, vb, hb, z(4), z(3), x, 5, 1.0, opts, None)
    assert torch.all(dw_data > 0) and torch.all(db_data == 10) and torch.all(dc_data == 10)
    _, _, (dw_model, _, _), _ = run_phase(w, vb, hb, z(4), z(3), None, 5, -1.0, opts, None)
    assert torch.all(dw_model < 0)
    # in a whole update, after a burn-in long enough for the traces to settle (lambda^30 < 1e-3), the data
    # phase's sum and the reconstruction phase's cancel
    opts = EventCDOptions(burn_in=30, learn=5, noise_rate=0.0, refractory=0, input_rate=1.0)
    (dw, db, dc), _ = event_cd_update(w, vb, hb, x, opts, None)
    scale = opts.lr / (x.shape[0] * opts.learn)
    assert float(dw.abs().max()) < 1e-3 * float(dw_data.abs().max()) * scale
    assert torch.all(db == 0) and torch.all(dc == 0)


def test_learning_lowers_the_reconstruction_error_on_two_patterns():
    # margin measured over seeds 0-9 (last 5 updates' mean error / first 5's): 0.18-0.38
    for seed in range(2):
        g = torch.Generator().manual_seed(seed)
        protos = (torch.rand(2, 16, generator=g) < 0.5).float()
        x = protos[torch.randint(0, 2, (64,), generator=g)]
        rbm = EventCDRBM(16, 10, seed=seed, burn_in=5, learn=20, lr=0.05)
        history = rbm.fit(x, epochs=8, batch_size=16)
        first = sum(s.reconstruction_error for s in history[:5]) / 5
        last = sum(s.reconstruction_error for s in history[-5:]) / 5
        assert last < 0.7 * first, (seed, first, last)
        assert rbm.hidden_counts(x[:3]).shape == (3, 10)


@pytest.mark.parametrize("kwargs, error, message", [
    ({"n_visible": 0}, ValueError, "n_visible must be a positive int"),
    ({"learn": 0}, ValueError, "learn must be an int >= 1"),
    ({"tau": 1.0}, ValueError, "tau must be a finite number > 1"),
    ({"input_rate": 1.5}, ValueError, "input_rate must be a finite number > 0"),
    ({"lr": float("nan")}, ValueError, "lr must be a finite number"),
    ({"learning_rate": 0.1}, TypeError, r"unknown option\(s\) \['learning_rate'\]"),
])
def test_bad_options_get_a_one_line_error(kwargs, error, message):
    args = {"n_visible": 8, "n_hidden": 4, **kwargs}
    with pytest.raises(error, match=message) as err:
        EventCDRBM(args.pop("n_visible"), args.pop("n_hidden"), **args)
    assert "\n" not in str(err.value)


def test_data_outside_unit_interval_is_refused():
    rbm = EventCDRBM(8, 4)
    with pytest.raises(ValueError, match=r"must lie in \[0, 1\]"):
        rbm.update(torch.full((2, 8), 2.0))
    with pytest.raises(ValueError, match=r"data must be \[N, 8\]"):
        rbm.update(torch.zeros(2, 9))


def test_label_units_are_clamped_in_training_and_free_when_classifying():
    rbm = EventCDRBM(6, 5, n_classes=3, label_copies=2, seed=0, burn_in=2, learn=8)
    assert rbm.weight.shape == (5, 6 + 3 * 2)
    clamped = rbm._with_labels(torch.zeros(2, 6), torch.tensor([2, 0]), "test")
    assert clamped[:, 6:].tolist() == [[0, 0, 0, 0, 1, 1], [1, 1, 0, 0, 0, 0]]
    # only the image is clamped when classifying: strong label biases decide, whatever the image
    with torch.no_grad():
        rbm.visible_bias[6:] = torch.tensor([-5.0, -5.0, 5.0, 5.0, -5.0, -5.0])
    assert rbm.classify(torch.rand(4, 6, generator=torch.Generator().manual_seed(0))).tolist() == [1, 1, 1, 1]
    with pytest.raises(ValueError, match="this network has label units: pass labels"):
        rbm.update(torch.zeros(2, 6))
    with pytest.raises(ValueError, match=r"labels must lie in \[0, 3\)"):
        rbm.update(torch.zeros(2, 6), torch.tensor([0, 3]))
    with pytest.raises(ValueError, match="no label units"):
        EventCDRBM(6, 5).classify(torch.zeros(1, 6))


def test_label_units_learn_to_name_two_patterns():
    # two 16-pixel patterns, one per class, classified by the free label units: 10 noisy runs of each all right
    # (measured: 100 of 100 right for seeds 0-4; untrained, the predictions are a coin toss, 32-48% ones)
    g = torch.Generator().manual_seed(0)
    protos = torch.tensor([[1.0] * 8 + [0.0] * 8, [0.0] * 8 + [1.0] * 8])
    labels = torch.randint(0, 2, (64,), generator=g)
    rbm = EventCDRBM(16, 10, n_classes=2, label_copies=2, seed=0, burn_in=5, learn=20, lr=0.05)
    rbm.fit(protos[labels], labels, epochs=6, batch_size=16)
    assert rbm.classify(protos.repeat(10, 1), steps=100).tolist() == [0, 1] * 10
