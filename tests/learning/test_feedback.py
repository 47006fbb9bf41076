"""Random feedback (``--feedback bp | fa | dfa``): hand-checkable backward passes and refused combinations."""

import pytest
import torch
from torch import nn

from spikesmith import functional, layer
from spikesmith.learning.direct_feedback import OutputError, tap_hidden, tap_output
from spikesmith.learning.feedback import attach_feedback, check_feedback
from spikesmith.learning.feedback_alignment import aligned, route_feedback
from spikesmith.models import CSNN, FCSNN, RSNN

pytestmark = pytest.mark.usefixtures("one_thread")


def test_fa_linear_backward_uses_B_not_W():
    fc = nn.Linear(3, 2, bias=True)
    with torch.no_grad():
        fc.weight.copy_(torch.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]))
        fc.bias.zero_()
    B = torch.tensor([[1.0, 0.0, -1.0], [0.0, 2.0, 0.0]])
    route_feedback(fc, B)
    x = torch.tensor([[1.0, -1.0, 2.0]], requires_grad=True)
    y = fc(x)
    assert torch.allclose(y, torch.tensor([[5.0, 11.0]]))          # the forward pass is unchanged
    g = torch.tensor([[1.0, 3.0]])
    (y * g).sum().backward()
    assert torch.allclose(x.grad, torch.tensor([[1.0, 6.0, -1.0]]))   # g B, not g W = [13, 17, 21]
    assert torch.allclose(fc.weight.grad, g.t() @ x.detach())          # the weight's own gradient: g^T x
    assert torch.allclose(fc.bias.grad, g[0])


def test_fa_recurrent_error_goes_back_in_time_through_B_rec():
    rec = layer.Recurrent(None, nn.Identity(), hidden_size=2, step_mode="m")      # S(t) = X(t) + W S(t-1)
    with torch.no_grad():
        rec.layer_rec.weight.copy_(torch.tensor([[1.0, 2.0], [3.0, 4.0]]))
    B = torch.tensor([[0.0, 1.0], [1.0, 0.0]])
    route_feedback(rec, B)
    x = torch.tensor([[[1.0, 2.0]], [[0.5, -1.0]]], requires_grad=True)        # T=2, N=1
    s = rec(x)
    assert torch.allclose(s[1], x[1] + x[0] @ rec.layer_rec.weight.detach().t())
    s[1].sum().backward()                                                        # dL/dS(2) = [1, 1]
    assert torch.allclose(x.grad[0], torch.tensor([[1.0, 1.0]]))                 # [1, 1] B, not [1, 1] W = [4, 6]
    assert torch.allclose(rec.layer_rec.weight.grad, torch.ones(2, 1) @ x[0].detach())


def test_aligned_refuses_a_B_of_another_shape():
    x, W = torch.ones(1, 3), torch.ones(2, 3, requires_grad=True)
    with pytest.raises(ValueError, match=r"B must have the weight's shape \[out_features, in_features\]"):
        aligned(x @ W.t(), x, W, None, torch.ones(3, 2))


def test_dfa_hidden_gradient_is_B_e_times_the_surrogate_derivative():
    torch.manual_seed(0)
    net = FCSNN(in_shape=(6,), num_classes=3, hidden=5, depth=2, neuron="if")
    matrices = attach_feedback(net, "dfa", seed=3).direct_matrices
    x = torch.rand(1, 4, 6)                                          # T=1, N=4
    y_target = torch.tensor([0, 1, 2, 1])
    hidden_inputs = []

    def keep(module, args, out):
        out.retain_grad()
        hidden_inputs.append(out)

    for linear in (net[1], net[3]):
        linear.register_forward_hook(keep)
    out = net(x)
    loss = nn.functional.cross_entropy(out.mean(0), y_target)
    loss.backward()
    e = (torch.softmax(out.detach()[0], 1) - nn.functional.one_hot(y_target, 3)) / 4     # dL/dy, by hand
    functional.reset_net(net)
    for u, B, neuron in zip(hidden_inputs, matrices, (net[2], net[4])):
        u_probe = u.detach().clone().requires_grad_(True)            # the layer's own neuron, alone: sigma'(u)
        neuron(u_probe).backward(e.unsqueeze(0) @ B)
        functional.reset_net(net)
        assert torch.allclose(u.grad, u_probe.grad, atol=1e-7), "hidden gradient is not (e B_l) * sigma'(u)"
    assert len(matrices) == 2 and not torch.allclose(matrices[0], matrices[1])


def test_dfa_drops_the_gradient_from_above():
    store = OutputError()
    h = torch.ones(2, 4, requires_grad=True)
    B = torch.arange(12.0).reshape(3, 4)
    y = tap_output((tap_hidden(h, store, B) * 100.0)[:, :3], store)     # what comes down through "*100" is ignored
    y.backward(torch.tensor([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]]))
    assert torch.equal(h.grad, torch.stack([B[0], B[2]]))


def _grads(net, mode, x, y):
    handle = attach_feedback(net, mode, seed=0)
    net.zero_grad()
    nn.functional.cross_entropy(net(x).mean(0), y).backward()
    functional.reset_net(net)
    handle.remove()
    return [p.grad.clone() for p in net.parameters()]


def test_bp_leaves_gradients_unchanged_and_remove_restores_bp():
    torch.manual_seed(1)
    net = FCSNN(in_shape=(6,), num_classes=3, hidden=8, depth=3, neuron="lif")
    x, y = torch.rand(3, 5, 6), torch.tensor([0, 1, 2, 0, 1])
    plain = [g for g in (_grads(net, "bp", x, y))]
    net.zero_grad()
    nn.functional.cross_entropy(net(x).mean(0), y).backward()
    functional.reset_net(net)
    assert all(torch.equal(a, p.grad) for a, p in zip(plain, net.parameters()))
    fa, dfa = _grads(net, "fa", x, y), _grads(net, "dfa", x, y)
    assert torch.equal(fa[-1], plain[-1]) and torch.equal(dfa[-1], plain[-1])      # the last layer: e h^T in all three
    assert not torch.allclose(fa[0], plain[0]) and not torch.allclose(dfa[0], plain[0])
    assert all(torch.equal(a, b) for a, b in zip(_grads(net, "bp", x, y), plain))  # removed: backprop again


def test_rsnn_trains_with_fa_and_dfa():
    torch.manual_seed(2)
    net = RSNN(in_features=4, num_classes=3, n_lif=3, n_alif=3)
    x, y = torch.rand(6, 2, 4), torch.tensor([0, 2])
    plain, fa, dfa = (_grads(net, mode, x, y) for mode in ("bp", "fa", "dfa"))
    names = [n for n, _ in net.named_parameters()]
    w_in = names.index("recurrent.layer_in.weight")
    assert not torch.allclose(fa[w_in], plain[w_in]) and not torch.allclose(dfa[w_in], plain[w_in])
    assert all(torch.isfinite(g).all() for g in fa + dfa)


def test_refused_combinations_are_named():
    with pytest.raises(ValueError, match="feedback must be bp, fa or dfa, got 'kp'"):
        check_feedback("kp", FCSNN, "fcsnn")
    with pytest.raises(ValueError, match="--feedback dfa: model csnn does not support random feedback.*use "
                                         "--feedback bp, or a fully connected or recurrent model"):
        check_feedback("dfa", CSNN, "csnn")
    with pytest.raises(ValueError, match="--feedback dfa with rate_reg=0.1.*set rate_reg=0 or use --feedback fa"):
        check_feedback("dfa", FCSNN, "fcsnn", rate_reg=0.1)
    check_feedback("fa", FCSNN, "fcsnn", rate_reg=0.1)              # fa keeps every path: allowed
    with pytest.raises(ValueError, match="model csnn does not support"):
        attach_feedback(CSNN(), "fa")


def test_train_refuses_before_loading_data(tmp_path):
    from spikesmith.run import train
    from spikesmith.training.config import make_config

    cfg = make_config(overrides={"dataset": "digits", "model": "csnn", "feedback": "fa", "out": str(tmp_path)})
    with pytest.raises(ValueError, match="--feedback fa: model csnn does not support random feedback"):
        train(cfg)
    assert not any(tmp_path.iterdir())


def test_train_with_dfa_end_to_end(tmp_path):
    from spikesmith.run import train
    from spikesmith.training.config import make_config

    cfg = make_config(overrides={"dataset": "digits", "model": "fcsnn", "feedback": "dfa",
                                 "epochs": 2, "test_subset": 128, "report": False,
                                 "out": str(tmp_path)})
    metrics = train(cfg)
    assert metrics["config"]["feedback"] == "dfa" and metrics["test_accuracy"] > 0.3
