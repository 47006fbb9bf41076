"""SpikingJelly-compat learners, ann2snn Converter, SJ checkpoint loading, VotingLayer/GroupNorm (issue 17).

    PYTHONPATH=src python bench/reliability/probe_sj_learn.py --memory-gb 4

``sj stdp``: STDPLearner / MSTDPLearner / MSTDPETLearner given hostile time constants, step modes,
synapses, spikes, rewards and modulation functions must end in a clean error; ordinary runs must give
the hand-computed pair-rule change (``wrong`` otherwise). ``sj ann2snn``: bad modes, momenta, loaders,
batches and ANNs must be clean errors; a calibrated ReLU must scale by the batch maximum.
``sj checkpoint``: truncated, bit-flipped, mis-shaped or foreign checkpoints must be clean errors, and a
checkpoint with old names must load exactly. ``sj layers``: VotingLayer / GroupNorm arguments and inputs.
"""

from __future__ import annotations

import math
import random
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import harness  # noqa: E402
import torch  # noqa: E402
from torch import nn  # noqa: E402

from spikesmith import layer, neuron  # noqa: E402
from spikesmith.compat import (  # noqa: E402
    Converter,
    MSTDPETLearner,
    MSTDPLearner,
    STDPLearner,
    load_spikingjelly_state_dict,
)

BAD_TAUS = [0.0, 0.5, -1.0, math.nan, math.inf, "2", None, True]
BAD_MODES = ["", "max%", "101%", "-1%", "abc", 0.0, 1.5, -0.2, math.nan, None, [1], True]


def _stdp_case(make):
    def run():
        make()
        return "wrong: accepted"

    return run


def stdp_cases():
    cases = []
    fc = lambda: nn.Linear(3, 2)  # noqa: E731
    for i, tau in enumerate(BAD_TAUS):
        cases.append(
            harness.Case(
                "sj stdp", f"stdp-tau-{i}", _stdp_case(lambda t=tau: STDPLearner("s", fc(), nn.Identity(), t, 2.0))
            )
        )
        if tau == 0.5:  # reward learners decay by exp(-1/tau): any tau > 0 is valid there
            continue
        cases.append(
            harness.Case(
                "sj stdp", f"mstdp-tau-{i}", _stdp_case(lambda t=tau: MSTDPLearner("s", fc(), nn.Identity(), 2.0, t))
            )
        )
        cases.append(
            harness.Case(
                "sj stdp",
                f"mstdpet-tau-{i}",
                _stdp_case(lambda t=tau: MSTDPETLearner("s", fc(), nn.Identity(), 2.0, 2.0, tau_trace=t)),
            )
        )
    for i, mode in enumerate(["x", "", None, 1, "M"]):
        cases.append(
            harness.Case(
                "sj stdp", f"step-mode-{i}", _stdp_case(lambda m=mode: STDPLearner(m, fc(), nn.Identity(), 2.0, 2.0))
            )
        )
    for i, syn in enumerate(
        [
            lambda: nn.Conv3d(1, 1, 1),
            lambda: nn.Conv2d(2, 2, 3, groups=2),
            lambda: nn.Conv2d(1, 1, 3, dilation=2),
            lambda: nn.Conv1d(1, 1, 3, padding="same"),
            lambda: "fc",
            lambda: nn.ReLU(),
        ]
    ):
        cases.append(
            harness.Case(
                "sj stdp", f"synapse-{i}", _stdp_case(lambda s=syn: STDPLearner("s", s(), nn.Identity(), 2.0, 2.0))
            )
        )
    cases.append(harness.Case("sj stdp", "sn-not-module", _stdp_case(lambda: STDPLearner("s", fc(), "sn", 2.0, 2.0))))
    cases.append(
        harness.Case(
            "sj stdp", "f-not-callable", _stdp_case(lambda: STDPLearner("s", fc(), nn.Identity(), 2.0, 2.0, f_pre=3))
        )
    )

    def stepping(inputs, step_mode="s", f_pre=lambda w: w, synapse=None, run_sn=True):
        def run():
            syn = synapse() if synapse else nn.Linear(3, 2)
            sn = nn.Identity()
            learner = STDPLearner(step_mode, syn, sn, 2.0, 2.0, f_pre=f_pre)
            with torch.no_grad():
                for x in inputs:
                    y = syn(x)
                    if run_sn:
                        sn(y)
            learner.step()
            return "wrong: accepted"

        return run

    bad_steps = {
        "3d-in-s": [torch.ones(2, 4, 3)],
        "1d-in-s": [torch.ones(3)],
        "2d-in-m": ([torch.ones(2, 3)], "m"),
        "batch-change": [torch.ones(2, 3), torch.ones(3, 3)],
        "f-shape": ([torch.ones(1, 3)], "s", lambda w: torch.ones(7)),
        "f-raises-type": ([torch.ones(1, 3)], "s", lambda w: "x"),
        "no-sn": ([torch.ones(1, 3)], "s", lambda w: w, None, False),
        "double-pre": (
            [torch.ones(1, 3, dtype=torch.float64)],
            "s",
            lambda w: w,
            lambda: nn.Linear(3, 2).double(),
            True,
        ),
        "conv-wrong-post": ([torch.ones(1, 1, 5, 5)], "s", lambda w: w, lambda: nn.Conv2d(1, 2, 3, padding=1), True),
    }
    for name, spec in bad_steps.items():
        if isinstance(spec, list):
            spec = (spec,)
        if name == "double-pre":  # a double synapse on double spikes is fine: expect valid
            cases.append(harness.Case("sj stdp", name, _valid_double))
            continue
        if name == "conv-wrong-post":
            cases.append(harness.Case("sj stdp", name, _conv_wrong_post))
            continue
        cases.append(harness.Case("sj stdp", name, stepping(*spec)))

    def reward(value, learner_kind="mstdp"):
        def run():
            syn, sn = nn.Linear(3, 2), nn.Identity()
            if learner_kind == "mstdp":
                learner, x = MSTDPLearner("s", syn, sn, 2.0, 2.0), torch.ones(4, 3)
            else:
                learner, x = MSTDPETLearner("s", syn, sn, 2.0, 2.0, 3.0), torch.ones(3)
            with torch.no_grad():
                sn(syn(x))
            learner.step(value)
            return "wrong: accepted"

        return run

    for i, value in enumerate([torch.ones(3), torch.ones(4, 1), "good", [1, 2], object()]):
        cases.append(harness.Case("sj stdp", f"mstdp-reward-{i}", reward(value)))
    for i, value in enumerate([torch.ones(2), "good", object()]):
        cases.append(harness.Case("sj stdp", f"mstdpet-reward-{i}", reward(value, "et")))

    def mstdp_two_records():
        syn, sn = nn.Linear(3, 2), nn.Identity()
        learner = MSTDPLearner("s", syn, sn, 2.0, 2.0)
        with torch.no_grad():
            sn(syn(torch.ones(2, 3)))
            sn(syn(torch.ones(2, 3)))
        learner.step(1.0)
        return "wrong: accepted"

    cases.append(harness.Case("sj stdp", "mstdp-two-records", mstdp_two_records))

    def closed():
        learner = STDPLearner("s", nn.Linear(3, 2), nn.Identity(), 2.0, 2.0)
        learner.close()
        learner.close()
        learner.step()
        return "wrong: accepted"

    cases.append(harness.Case("sj stdp", "closed", closed))

    rng = random.Random(0)
    for i in range(20):
        cases.append(harness.Case("sj stdp", f"pair-rule-{i}", lambda seed=rng.randrange(1 << 30): _pair_rule(seed)))
    return cases


def _valid_double():
    syn, sn = nn.Linear(3, 2).double(), nn.Identity()
    learner = STDPLearner("s", syn, sn, 2.0, 2.0)
    with torch.no_grad():
        sn(syn(torch.ones(1, 3, dtype=torch.float64)))
    dw = learner.step(on_grad=False)
    return None if dw.dtype == torch.float64 else f"wrong: dtype {dw.dtype}"


def _conv_wrong_post():
    syn = nn.Conv2d(1, 2, 3, padding=1)
    sn = nn.MaxPool2d(2)  # not fed by the synapse's output shape
    learner = STDPLearner("s", syn, sn, 2.0, 2.0)
    with torch.no_grad():
        sn(syn(torch.ones(1, 1, 6, 6)))
    learner.step()
    return "wrong: accepted"


def _pair_rule(seed):
    g = torch.Generator().manual_seed(seed)
    T, n_in, n_out, tau_pre, tau_post = (
        5,
        3,
        2,
        1 + 4 * torch.rand(1, generator=g).item(),
        1 + 4 * torch.rand(1, generator=g).item(),
    )
    pre = (torch.rand(T, 1, n_in, generator=g) > 0.5).double()
    post = (torch.rand(T, 1, n_out, generator=g) > 0.5).double()
    syn = nn.Linear(n_in, n_out, bias=False).double()
    outs = list(post)

    class Replay(nn.Module):
        def forward(self, x):
            return outs.pop(0)

    sn = Replay()
    learner = STDPLearner("s", syn, sn, tau_pre, tau_post)
    w = syn.weight.detach().clone()
    tr_pre, tr_post, want = torch.zeros(n_in).double(), torch.zeros(n_out).double(), torch.zeros_like(w)
    with torch.no_grad():
        for t in range(T):
            sn(syn(pre[t]))
            tr_pre = tr_pre * (1 - 1 / tau_pre) + pre[t][0]
            tr_post = tr_post * (1 - 1 / tau_post) + post[t][0]
            want += w * (torch.outer(post[t][0], tr_pre) - torch.outer(tr_post, pre[t][0]))
    got = learner.step(on_grad=False)
    return None if torch.allclose(got, want, atol=1e-12) else f"wrong: max diff {(got - want).abs().max().item()}"


def ann2snn_cases():
    ann = lambda: nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 2))  # noqa: E731
    cases = []
    for i, mode in enumerate(BAD_MODES):
        cases.append(
            harness.Case("sj ann2snn", f"mode-{i}", _stdp_case(lambda m=mode: Converter([torch.rand(2, 2)], mode=m)))
        )
    for i, momentum in enumerate([-0.1, 1.5, math.nan, "0.1", None, True]):
        cases.append(
            harness.Case(
                "sj ann2snn", f"momentum-{i}", _stdp_case(lambda m=momentum: Converter([torch.rand(2, 2)], momentum=m))
            )
        )
    for i, loader in enumerate([None, 3, 0.5]):
        cases.append(harness.Case("sj ann2snn", f"loader-{i}", _stdp_case(lambda d=loader: Converter(d))))

    class Branchy(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc, self.act = nn.Linear(2, 2), nn.ReLU()

        def forward(self, x):
            return self.act(self.fc(x)) if x.sum() > 0 else x

    bad = {
        "empty": ([], ann),
        "wrong-width": ([torch.rand(4, 5)], ann),
        "strings": (["abc"], ann),
        "dict-no-input": ([{"a": torch.rand(2, 2), "b": 1}], ann),
        "empty-tuple": ([()], ann),
        "never-fires": ([-torch.ones(3, 2)], lambda: nn.Sequential(nn.ReLU())),
        "nan-data": ([torch.full((2, 2), math.nan)], ann),
        "no-relu": ([torch.rand(2, 2)], lambda: nn.Sequential(nn.Linear(2, 2), nn.Tanh())),
        "branchy": ([torch.rand(2, 2)], Branchy),
        "not-module": ([torch.rand(2, 2)], lambda: "ann"),
        "bn-no-stats": (
            [torch.rand(2, 1, 3, 3)],
            lambda: nn.Sequential(nn.Conv2d(1, 1, 1), nn.BatchNorm2d(1, track_running_stats=False), nn.ReLU()),
        ),
    }
    for name, (data, make) in bad.items():
        cases.append(harness.Case("sj ann2snn", name, _stdp_case(lambda d=data, m=make: Converter(d)(m()))))

    def scale_is_max():
        net = nn.Sequential(nn.ReLU())
        snn = Converter([torch.tensor([[1.0, 3.0]])])(net)
        got = snn.spiking_0.scaler1.scale.item()
        return None if got == 3.0 else f"wrong: scale {got}"

    cases.append(harness.Case("sj ann2snn", "scale-is-max", scale_is_max))
    return cases


def checkpoint_cases():
    def net():
        return nn.Sequential(layer.SeqToANNContainer(nn.Linear(3, 4)), neuron.ParametricLIFNode(step_mode="m"))

    tmp = Path(tempfile.mkdtemp(prefix="probe_sj_"))
    good = tmp / "good.pth"
    torch.save(
        {
            "net": {
                "module.0.module.weight": torch.rand(4, 3),
                "module.0.module.bias": torch.rand(4),
                "module.1.w": torch.tensor(0.3),
            },
            "epoch": 2,
        },
        good,
    )
    raw = good.read_bytes()
    cases = []

    def load_good():
        model = net()
        load_spikingjelly_state_dict(model, good)
        want = torch.load(good)["net"]
        same = torch.equal(model[0][0].weight, want["module.0.module.weight"]) and torch.equal(
            model[1].w, want["module.1.w"]
        )
        return None if same else "wrong: values differ"

    cases.append(harness.Case("sj checkpoint", "old-names", load_good))

    rng = random.Random(1)
    for i in range(40):

        def flipped(i=i, pos=rng.randrange(len(raw)), bit=rng.randrange(8)):
            data = bytearray(raw)
            data[pos] ^= 1 << bit
            path = tmp / f"flip_{i}.pth"
            path.write_bytes(bytes(data))
            model = net()
            load_spikingjelly_state_dict(model, path)
            return None  # a flip inside a tensor's bytes loads (no checksum in torch files): valid

        cases.append(harness.Case("sj checkpoint", f"flip-{i}", flipped))
    for i, cut in enumerate([0, 10, len(raw) // 2, len(raw) - 1]):

        def truncated(i=i, cut=cut):
            path = tmp / f"cut_{i}.pth"
            path.write_bytes(raw[:cut])
            load_spikingjelly_state_dict(net(), path)
            return "wrong: accepted"

        cases.append(harness.Case("sj checkpoint", f"truncated-{i}", truncated))
    foreign = {
        "list": [1, 2],
        "tensor": torch.ones(3),
        "non-tensor-values": {"0.0.weight": "x"},
        "empty": {},
        "wrong-shape": {"0.0.weight": torch.ones(2, 2), "0.0.bias": torch.ones(4), "1.w": torch.tensor(0.1)},
        "ambiguous": {"x.module.weight": torch.ones(1)},
    }
    for name, obj in foreign.items():

        def run(name=name, obj=obj):
            path = tmp / f"{name}.pth"
            torch.save(obj, path)
            load_spikingjelly_state_dict(net(), path)
            return "wrong: accepted"

        cases.append(harness.Case("sj checkpoint", name, run))
        cases.append(
            harness.Case(
                "sj checkpoint",
                f"{name}-in-memory",
                lambda obj=obj: (load_spikingjelly_state_dict(net(), obj), "wrong: accepted")[1],
            )
        )
    cases.append(
        harness.Case(
            "sj checkpoint", "directory", lambda: (load_spikingjelly_state_dict(net(), tmp), "wrong: accepted")[1]
        )
    )
    cases.append(
        harness.Case(
            "sj checkpoint", "not-a-model", lambda: (load_spikingjelly_state_dict("m", good), "wrong: accepted")[1]
        )
    )
    return cases


def layer_cases():
    cases = []
    for i, size in enumerate([0, -1, 2.5, True, "3", None]):
        cases.append(harness.Case("sj layers", f"voting-size-{i}", _stdp_case(lambda s=size: layer.VotingLayer(s))))
    bad_inputs = {
        "voting-1d": (lambda: layer.VotingLayer(2), torch.ones(4)),
        "voting-3d-s": (lambda: layer.VotingLayer(2), torch.ones(2, 2, 4)),
        "voting-few": (lambda: layer.VotingLayer(5), torch.ones(2, 4)),
        "voting-m-2d": (lambda: layer.VotingLayer(2, step_mode="m"), torch.ones(2, 4)),
        "voting-list": (lambda: layer.VotingLayer(2), [1.0, 2.0]),
        "gn-channels": (lambda: layer.GroupNorm(2, 4, step_mode="m"), torch.ones(2, 2, 6, 3)),
        "gn-2d-m": (lambda: layer.GroupNorm(2, 4, step_mode="m"), torch.ones(2, 4)),
        "gn-s-channels": (lambda: layer.GroupNorm(2, 4), torch.ones(2, 6, 3)),
    }
    for name, (make, x) in bad_inputs.items():
        cases.append(harness.Case("sj layers", name, lambda make=make, x=x: (make()(x), "wrong: accepted")[1]))
    for i, args in enumerate([(3, 4), (0, 4), (2, 0), (-1, 4), (2.0, 4)]):
        cases.append(harness.Case("sj layers", f"gn-args-{i}", _stdp_case(lambda a=args: layer.GroupNorm(*a))))
    return cases


def cases():
    return stdp_cases() + ann2snn_cases() + checkpoint_cases() + layer_cases()


if __name__ == "__main__":
    harness.main(cases)
