"""Random feedback (``--feedback``) and Nessler's stochastic WTA under bad input (issue 16, points 8-9).

    PYTHONPATH=src python bench/reliability/probe_feedback_wta.py --memory-gb 4

Every refused combination (a feedback mode a model cannot use, DFA with the rate regulariser, an
unknown mode) and every bad hyper-parameter of the WTA network must be a clean error; the valid
cases check their result (a short WTA run gives at most one spike per step; FA and DFA leave the
forward pass of a network unchanged).
"""

from __future__ import annotations

import math

import harness
import torch


def _train_refused(model: str, feedback: str, **extra):
    from spikesmith.run import train
    from spikesmith.training.config import make_config

    cfg = make_config(overrides={"dataset": "digits", "model": model, "feedback": feedback, "epochs": 1,
                                 "train_subset": 8, "test_subset": 8, "report": False, "out": "/tmp/probe_fb",
                                 **extra})
    train(cfg)
    return f"wrong: --model {model} --feedback {feedback} {extra} trained"


def _forward_unchanged(mode: str):
    from spikesmith import functional
    from spikesmith.learning.feedback import attach_feedback
    from spikesmith.models import FCSNN

    torch.manual_seed(0)
    net = FCSNN(in_shape=(5,), num_classes=3, hidden=6, depth=3)
    x = torch.rand(3, 4, 5)
    before = net(x).detach()
    functional.reset_net(net)
    handle = attach_feedback(net, mode, seed=1)
    after = net(x)
    after.sum().backward()
    handle.remove()
    if not torch.equal(before, after.detach()):
        return f"wrong: --feedback {mode} changed the forward pass"
    if not all(p.grad is not None and torch.isfinite(p.grad).all() for p in net.parameters()):
        return f"wrong: --feedback {mode} left a weight without a finite gradient"
    return None


def _wta(**kwargs):
    from spikesmith.models.nessler import NesslerWTA

    images = kwargs.pop("images", None)
    kwargs.setdefault("time", 10.0)
    net = NesslerWTA(n_inputs=16, n_neurons=4, **kwargs)
    x = torch.rand(3, 4, 4) if images is None else images
    counts = net.run(x, learn=True, generator=torch.Generator().manual_seed(0))
    if counts.shape != (3, 4) or bool((counts.sum(1) > net.steps).any()):
        return f"wrong: counts {list(counts.shape)} with more spikes than steps"
    if not bool(torch.isfinite(net.weight).all()):
        return "wrong: weights not finite after learning"
    return None


def cases():
    out = []
    for model in ("csnn", "vgg", "resnet", "lsm", "dbn", "slstm", "sgru"):
        for mode in ("fa", "dfa"):
            out.append(harness.Case("feedback", f"{mode}-on-{model}", lambda m=model, f=mode: _train_refused(m, f),
                                    timeout_s=60))
    for mode in ("kp", "", "FA", "none"):
        out.append(harness.Case("feedback", f"mode-{mode!r}", lambda f=mode: _train_refused("fcsnn", f), timeout_s=60))
    out.append(harness.Case("feedback", "dfa-with-rate-reg",
                            lambda: _train_refused("fcsnn", "dfa", rate_reg=0.1), timeout_s=60))
    for mode in ("bp", "fa", "dfa"):
        out.append(harness.Case("feedback", f"forward-unchanged-{mode}", lambda f=mode: _forward_unchanged(f)))
    bad = {"wta_rate": (0.0, -5.0, 2000.0, math.nan, math.inf), "sigma": (0.0, 0.5, math.nan),
           "c": (0.0, -1.0, math.nan), "eta": (0.0, -0.1, math.nan), "eta_bias": (-1.0, math.nan),
           "homeostasis": (-0.5, math.nan), "p_min": (0.0, 1.0, 2.0, math.nan), "max_rate": (0.0, 5000.0, math.nan),
           "dt": (0.0, -1.0), "time": (0.0, 0.1)}
    for key, values in bad.items():
        for value in values:
            out.append(harness.Case("nessler", f"{key}={value}", lambda k=key, v=value: _wta(**{k: v})))
    out.append(harness.Case("nessler", "valid-run", lambda: _wta()))
    out.append(harness.Case("nessler", "images-wrong-size", lambda: _wta(images=torch.rand(3, 5, 5))))
    out.append(harness.Case("nessler", "images-nan", lambda: _wta(images=torch.full((3, 4, 4), math.nan))))
    out.append(harness.Case("nessler", "images-empty-batch", lambda: _wta(images=torch.rand(0, 4, 4))))
    return out


if __name__ == "__main__":
    harness.main(cases)
