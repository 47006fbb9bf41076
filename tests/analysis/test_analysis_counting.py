"""spikesmith.analysis: synaptic operations, MACs, rates and energy counted by hand on tiny networks."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from spikesmith import functional, layer, neuron
from spikesmith.analysis import EnergyCosts, Profiler, plot_profile, positions_fanout, profile
from spikesmith.models import build_model


def _linear_net():
    fc = layer.Linear(3, 2, bias=False, step_mode="m")
    with torch.no_grad():
        fc.weight.copy_(torch.tensor([[1.0, 1.0, 1.0], [0.0, 0.0, 0.0]]))
    return nn.Sequential(fc, neuron.IFNode(step_mode="m"))


def _row(p, name):
    return next(r for r in p.rows if r.name == name)


def test_linear_synops_rates_and_energy_by_hand():
    # T=2, N=2: sample 0 has 3 spikes, sample 1 has 1 spike -> 4 spikes x fan-out 2 = 8 ACs, 4 per sample
    x = torch.tensor([[[1.0, 0, 1], [0, 0, 0]], [[0, 1, 0], [1, 0, 0]]])
    p = profile(_linear_net(), x)
    fc, lif = _row(p, "0"), _row(p, "1")
    assert (p.samples, p.steps) == (2, 2)
    assert fc.input == "spikes" and fc.acs == 4.0 and fc.macs == 0.0
    assert fc.dense_macs == 6.0                     # 3 x 2 per dense pass
    assert fc.rate == pytest.approx(4 / 12) and fc.sparsity == pytest.approx(8 / 12)
    assert fc.energy_pj == pytest.approx(4 * 0.9) and fc.ann_energy_pj == pytest.approx(6 * 4.6)
    # IF, V_th = 1, weights [1,1,1] / [0,0,0]: neuron 0 spikes at both steps of sample 0 (H = 2, then 1)
    # and at step 2 of sample 1 (H = 0 + 1); neuron 1 never -> 3 spikes of 8
    assert lif.kind == "neuron" and lif.rate == pytest.approx(3 / 8) and lif.sparsity == pytest.approx(5 / 8)
    assert lif.elements == 2 and lif.steps == 2
    costs = EnergyCosts(ac_pj=2.0, mac_pj=10.0)
    p2 = profile(_linear_net(), x, costs=costs)
    assert p2.energy_pj == pytest.approx(4 * 2.0) and p2.ann_energy_pj == pytest.approx(60.0)


def test_spike_amplitude_counts_as_events():
    x = torch.tensor([[[0.5, 0, 0.5]], [[0, 0.5, 0]]])      # spikes of amplitude 0.5 (a V_th-scaled spike)
    assert _row(profile(_linear_net(), x), "0").acs == 6.0


def test_conv_fanout_at_borders_by_hand():
    conv = nn.Conv2d(1, 4, 3, padding=1)
    f = positions_fanout(conv, (4, 4))
    assert f[0, 0] == 4 and f[0, 1] == 6 and f[1, 1] == 9 and f[3, 3] == 4 and f[3, 1] == 6
    strided = nn.Conv2d(1, 1, 3, stride=2)                 # 5x5 -> 2x2; rows read by out rows: 1,1,2,1,1
    g = positions_fanout(strided, (5, 5))
    r = torch.tensor([1.0, 1, 2, 1, 1], dtype=torch.float64)
    torch.testing.assert_close(g, r[:, None] * r[None, :])
    cut = nn.Conv2d(1, 1, 2, stride=2)                     # 5x5 -> 2x2: the last row and column are never read
    h = positions_fanout(cut, (5, 5))
    assert h[4].sum() == 0 and h[:, 4].sum() == 0 and h[:4, :4].eq(1).all()


def test_conv_synops_and_macs_by_hand():
    conv = layer.Conv2d(1, 4, 3, padding=1, bias=False, step_mode="m")
    net = nn.Sequential(conv, neuron.IFNode(step_mode="m"))
    spikes = torch.zeros(1, 1, 1, 4, 4)
    spikes[0, 0, 0, 0, 0] = 1      # corner: read by 4 output positions
    spikes[0, 0, 0, 0, 1] = 1      # edge: 6
    spikes[0, 0, 0, 1, 1] = 1      # inside: 9
    p = profile(net, spikes)
    row = _row(p, "0")
    assert row.input == "spikes" and row.acs == (4 + 6 + 9) * 4
    assert row.dense_macs == 4 * 4 * 4 * 9             # out elements x in_channels x k^2
    # the same count from a ones-kernel convolution of the spike map
    ones = torch.nn.functional.conv2d(spikes[0], torch.ones(1, 1, 3, 3), padding=1)
    assert row.acs == float(ones.sum()) * 4
    # an analog input: dense MACs as executed, T=3 steps
    analog = torch.rand(3, 2, 1, 4, 4) + 0.1
    q = _row(profile(net, analog), "0")
    assert q.input == "analog" and q.acs == 0 and q.macs == 3 * 576 and q.steps == 3 and q.rate is None
    assert q.energy_pj == pytest.approx(3 * 576 * 4.6)


def test_per_neuron_and_per_channel_amplitudes_count_as_events():
    """A converted network emits V_th,c S with one threshold per neuron or channel: still events."""
    x = torch.tensor([[[0.5, 0, 2.0]], [[0, 0.7, 2.0]]])    # neuron 0: 0.5, neuron 1: 0.7, neuron 2: 2.0
    row = _row(profile(_linear_net(), x), "0")
    assert row.input == "spikes" and row.acs == 4 * 2 and row.macs == 0
    mixed = torch.tensor([[[0.5, 0, 2.0]], [[0.6, 0, 0]]])  # neuron 0 with two amplitudes: not spikes
    assert _row(profile(_linear_net(), mixed), "0").input == "analog"
    conv = layer.Conv2d(2, 1, 1, bias=False, step_mode="m")
    net = nn.Sequential(layer.AvgPool2d(2, step_mode="m"), conv, neuron.IFNode(step_mode="m"))
    x = torch.zeros(1, 1, 2, 2, 2)
    x[0, 0, 0, 0, 0] = x[0, 0, 0, 1, 1] = 0.3                 # channel 0 spikes at 0.3
    x[0, 0, 1, 0, 1] = 1.7                                    # channel 1 at 1.7
    row = _row(profile(net, x), "1")
    assert row.input == "pooled spikes" and row.acs == 3 and row.macs == 0


def test_pooled_spikes_cost_each_spike_its_fanout():
    conv = layer.Conv2d(1, 2, 3, padding=1, bias=False, step_mode="m")
    net = nn.Sequential(layer.AvgPool2d(2, step_mode="m"), conv, neuron.IFNode(step_mode="m"))
    x = torch.zeros(1, 1, 1, 4, 4)
    x[0, 0, 0, 0, 0] = x[0, 0, 0, 0, 1] = x[0, 0, 0, 3, 3] = 1   # 2 spikes in window (0,0), 1 in window (1,1)
    row = _row(profile(net, x), "1")
    # 2x2 map, k=3, padding 1: every output position reads every input position -> fan-out 4 x 2 channels
    assert row.input == "pooled spikes" and row.acs == 3 * 4 * 2 and row.macs == 0
    assert row.rate == pytest.approx(3 / 4)           # 3 spikes arrive at 4 pooled positions


def test_ann_is_dense_and_twin_matches_snn_dense_macs():
    torch.manual_seed(0)
    snn = build_model("csnn", channels=4, pool="avg", neuron="plif", readout="spike")
    ann = build_model("csnn", channels=4, pool="avg", neuron="plif", readout="spike", ann=True)
    img = torch.rand(3, 1, 28, 28)
    ps = profile(snn, img.unsqueeze(0).expand(4, *img.shape))
    pa = profile(ann, img)
    assert not pa.spiking and pa.acs == 0 and all(r.input == "analog" for r in pa.rows)
    assert pa.macs == pytest.approx(ps.dense_macs)
    assert pa.energy_pj == pytest.approx(ps.ann_energy_pj)
    first = ps.synaptic()[0]
    assert first.input == "analog" and first.steps == 1      # static prefix: the first conv runs once
    assert first.macs == first.dense_macs == 4 * 28 * 28 * 9
    assert [r.kind for r in ps.neurons()] == ["neuron"] * 4 and ps.steps == 4


def test_profiler_accumulates_batches_and_plots(tmp_path):
    pytest.importorskip("matplotlib")
    net = build_model("fcsnn", in_shape=(1, 8, 8), hidden=16)
    torch.manual_seed(1)
    batches = [(torch.rand(4, n, 1, 8, 8) < 0.3).float() for n in (5, 3)]
    p = profile(net, batches)
    assert p.samples == 8
    with Profiler(net) as prof:
        for b in batches:
            net(b)
            from spikesmith.functional import reset_net
            reset_net(net)
    assert prof.result().acs == pytest.approx(p.acs)
    text = p.table()
    assert "total" in text and "Horowitz" in text and "spikes" in text
    out = plot_profile(p, tmp_path / "e.png")
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with pytest.raises(ValueError, match=".png"):
        plot_profile(p, tmp_path / "e.jpg")


def test_bad_input():
    with pytest.raises(ValueError, match="no Linear or Conv"):
        profile(nn.Sequential(neuron.IFNode(step_mode="m")), torch.rand(2, 1, 3))
    with pytest.raises(ValueError, match="ac_pj"):
        EnergyCosts(ac_pj=-1.0)
    with pytest.raises(ValueError, match="not been run"):
        Profiler(_linear_net()).result()


def test_pooled_per_channel_spikes_through_an_adaptive_pool_and_flatten():
    """A converted CSNN: spikes of per-channel amplitude -> avg pool -> adaptive pool (same size) ->
    flatten -> linear: the linear still receives events."""
    M = dict(step_mode="m")
    fc = layer.Linear(2 * 1 * 1, 3, bias=False, **M)
    net = nn.Sequential(layer.AvgPool2d(2, **M), nn.Identity(), layer.Flatten(start_dim=2), fc,
                        neuron.IFNode(**M))
    net[1] = _TorchAdaptive()
    x = torch.zeros(1, 1, 2, 2, 2)
    x[0, 0, 0, 0, 0] = x[0, 0, 0, 1, 1] = 0.3        # channel 0: 2 spikes of 0.3
    x[0, 0, 1, 0, 1] = 1.7                            # channel 1: 1 spike of 1.7
    row = _row(profile(net, x), "3")
    assert row.input == "pooled spikes" and row.acs == 3 * 3 and row.macs == 0


class _TorchAdaptive(nn.Module):
    """torch's adaptive pool on [T, N, C, H, W] (a converted network's pools are plain torch layers)."""

    def __init__(self):
        super().__init__()
        self.pool = nn.AdaptiveAvgPool2d(1)

    def forward(self, x):
        return self.pool(x.flatten(0, 1)).unflatten(0, x.shape[:2])


class _OwnWeights(nn.Module):
    """A layer that holds its weight matrix itself and multiplies with F.linear: nothing counts it."""

    def __init__(self):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(4, 3))

    def forward(self, x):
        return torch.nn.functional.linear(x, self.weight)


def test_layers_the_counter_cannot_count_are_said_not_silently_left_out():
    # a layer with its own weight matrix used to be missing from the totals without a word (as the
    # spiking LSTM was before its cells reported their products)
    import warnings

    net = nn.Sequential(_OwnWeights(), nn.Linear(4, 2))
    with pytest.warns(RuntimeWarning, match=r"_OwnWeights '0'.*totals are too low"):
        prof = Profiler(net)
    assert [name for name, _ in prof.uncounted] == ["0"]
    prof.remove()
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        Profiler(_linear_net()).remove()
        Profiler(nn.Sequential(layer.SpikingLSTM(3, 4), nn.Linear(4, 2))).remove()


@pytest.mark.parametrize("variant", ["spikingjelly", "snntorch"])
def test_a_spiking_lstm_counts_both_matrix_products_of_every_step(variant):
    # --model slstm's profile counted only the readout: the cells multiply inside their stack, without hooks
    torch.manual_seed(0)
    T, N, I, H = 6, 3, 5, 4
    cell_stack = layer.SpikingLSTM(I, H, variant=variant)
    net = nn.Sequential(cell_stack, nn.Linear(H, 2))
    x = (torch.rand(T, N, I) < 0.4).float()
    p = profile(net, x)
    ih, hh = _row(p, "0.cells.0.ih"), _row(p, "0.cells.0.hh")
    assert ih.steps == T and hh.steps == T
    assert ih.acs == float(x.sum()) / N * 4 * H and ih.macs == 0        # each input spike reaches 4H gate rows
    assert ih.dense_macs == T * 4 * H * I and hh.dense_macs == T * 4 * H * H   # the LSTM twin runs every step

    # what the recurrent product read: the state before each step (zero at the first)
    cell = cell_stack.cells[0]
    seen = []
    cell.product_observer = lambda _x, h: seen.append(h.clone())
    functional.reset_net(net)
    with torch.no_grad():
        net(x)
    cell.product_observer = None
    h_in = torch.stack(seen)
    assert float(h_in[0].abs().sum()) == 0
    values = h_in[h_in != 0]
    if values.numel() and bool((values == values[0]).all()):
        assert hh.input == "spikes" and hh.acs == float((h_in != 0).sum()) / N * 4 * H
    else:
        assert "analog" in hh.input and hh.macs > 0


def test_a_gated_cell_is_watched_by_one_profiler_at_a_time_and_let_go_after():
    net = nn.Sequential(layer.SpikingLSTM(3, 4), nn.Linear(4, 2))
    with Profiler(net):
        assert net[0].cells[0].product_observer is not None
        with pytest.raises(RuntimeError, match="already watched by another Profiler"):
            Profiler(net)
    assert net[0].cells[0].product_observer is None
