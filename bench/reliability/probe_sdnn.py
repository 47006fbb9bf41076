"""The STDP-trained deep spiking CNN (issue 16, point 10) under bad input: DoG sizes and widths,
images that are too small, NaN or of the wrong shape, rank-order inputs that are negative or
infinite, STDP rates <= 0, winner counts and radii, layer lists that do not fit, and configs of
``spikesmith stdp --model sdnn`` with broken lists. Every case must end in a clean error, or give
a checked result.

    PYTHONPATH=src python bench/reliability/probe_sdnn.py --memory-gb 4
"""

from __future__ import annotations

import math

import harness
import torch


def _raises(call):
    def run():
        call()
        return "wrong: accepted"
    return run


def cases():
    from spikesmith.encoding.dog import dog_kernel, dog_on_off
    from spikesmith.encoding.rank_order import rank_order_encode, rank_order_times
    from spikesmith.learning.simplified_stdp import simplified_stdp, stdp_conv_winners
    from spikesmith.learning.winner_take_all import Winner, lateral_inhibition, select_winners
    from spikesmith.models.sdnn import SDNN
    from spikesmith.run import make_stdp_config

    k7 = dog_kernel(7)
    bad = {
        "dog/size-even": lambda: dog_kernel(6),
        "dog/size-zero": lambda: dog_kernel(0),
        "dog/size-huge": lambda: dog_kernel(10 ** 6 + 1),
        "dog/size-float": lambda: dog_kernel(7.0),
        "dog/sigma-nan": lambda: dog_kernel(7, math.nan, 2.0),
        "dog/sigma-inf": lambda: dog_kernel(7, 1.0, math.inf),
        "dog/sigma-equal": lambda: dog_kernel(7, 2.0, 2.0),
        "dog/sigma-negative": lambda: dog_kernel(7, -1.0, 2.0),
        "dog/image-small": lambda: dog_on_off(torch.rand(1, 1, 5, 5), k7),
        "dog/image-empty": lambda: dog_on_off(torch.rand(0, 1, 5, 5), k7),
        "dog/image-rgb": lambda: dog_on_off(torch.rand(1, 3, 9, 9), k7),
        "dog/image-3d": lambda: dog_on_off(torch.rand(1, 9, 9), k7),
        "dog/image-int": lambda: dog_on_off(torch.zeros(1, 1, 9, 9, dtype=torch.uint8), k7),
        "dog/image-nan": lambda: dog_on_off(torch.full((1, 1, 9, 9), math.nan), k7),
        "dog/threshold-negative": lambda: dog_on_off(torch.rand(1, 1, 9, 9), k7, -0.1),
        "dog/threshold-nan": lambda: dog_on_off(torch.rand(1, 1, 9, 9), k7, math.nan),
        "dog/kernel-even": lambda: dog_on_off(torch.rand(1, 1, 9, 9), torch.rand(4, 4)),
        "rank/negative": lambda: rank_order_times(torch.tensor([[0.5, -0.1]]), 4),
        "rank/inf": lambda: rank_order_times(torch.tensor([[0.5, math.inf]]), 4),
        "rank/nan": lambda: rank_order_times(torch.tensor([[0.5, math.nan]]), 4),
        "rank/T-zero": lambda: rank_order_times(torch.rand(2, 3), 0),
        "rank/T-float": lambda: rank_order_times(torch.rand(2, 3), 2.5),
        "rank/1d": lambda: rank_order_times(torch.rand(3), 4),
        "rank/int": lambda: rank_order_encode(torch.ones(2, 3, dtype=torch.long), 4),
        "stdp/a-plus-zero": lambda: simplified_stdp(torch.rand(3), torch.ones(3, dtype=torch.bool), 0.0, 0.1),
        "stdp/a-plus-nan": lambda: simplified_stdp(torch.rand(3), torch.ones(3, dtype=torch.bool), math.nan, 0.1),
        "stdp/a-minus-negative": lambda: simplified_stdp(torch.rand(3), torch.ones(3, dtype=torch.bool), 0.1, -1.0),
        "stdp/shape": lambda: simplified_stdp(torch.rand(3), torch.ones(4, dtype=torch.bool), 0.1, 0.1),
        "stdp/winner-outside": lambda: stdp_conv_winners(torch.rand(2, 1, 3, 3), torch.rand(1, 4, 4),
                                                         [Winner(0, 3, 3, 1.0)], 0.1, 0.1),
        "stdp/channels": lambda: stdp_conv_winners(torch.rand(2, 2, 3, 3), torch.rand(1, 4, 4), [], 0.1, 0.1),
        "wta/k-zero": lambda: select_winners(torch.rand(2, 3, 3), torch.rand(2, 3, 3), k=0),
        "wta/k-bool": lambda: select_winners(torch.rand(2, 3, 3), torch.rand(2, 3, 3), k=True),
        "wta/radius-negative": lambda: select_winners(torch.rand(2, 3, 3), torch.rand(2, 3, 3), radius=-2),
        "wta/shape": lambda: select_winners(torch.rand(2, 3, 3), torch.rand(2, 3, 4)),
        "wta/2d": lambda: lateral_inhibition(torch.rand(3, 3), torch.rand(3, 3)),
        "sdnn/image-small": lambda: SDNN(image_size=(6, 6)),
        "sdnn/layers-too-big": lambda: SDNN(image_size=(12, 12)),
        "sdnn/pools-missing": lambda: SDNN(pools=()),
        "sdnn/threshold-zero": lambda: SDNN(thresholds=(0.0, 10.0)),
        "sdnn/threshold-nan": lambda: SDNN(thresholds=(math.nan, 10.0)),
        "sdnn/maps-zero": lambda: SDNN(maps=(0, 100)),
        "sdnn/w-mean": lambda: SDNN(w_mean=1.5),
        "sdnn/grid-too-big": lambda: SDNN(feature_grid=9),
        "sdnn/rgb": lambda: SDNN(in_channels=3),
        "sdnn/features-wrong-size": lambda: SDNN().features(torch.rand(2, 1, 20, 20)),
        "sdnn/learn-index": lambda: SDNN().learn(5, torch.rand(1, 28, 28), 0.1, 0.1),
        "sdnn/learn-a-plus": lambda: SDNN().learn(0, torch.rand(1, 28, 28), -0.1, 0.1),
    }
    configs = {
        "config/a-plus-zero": {"a_plus": 0.0},
        "config/maps-word": {"sdnn_maps": "30,many"},
        "config/maps-empty": {"sdnn_maps": ""},
        "config/kernels-length": {"sdnn_kernels": "5"},
        "config/pools-length": {"sdnn_pools": "2,2"},
        "config/thresholds-negative": {"sdnn_thresholds": "15,-1"},
        "config/winners-negative": {"sdnn_winners": "-1,0"},
        "config/stdp-images-negative": {"stdp_images": -5},
        "config/a-plus-max": {"a_plus_max": 0.001},
        "config/convergence": {"stdp_convergence": 0.5},
        "config/grid": {"feature_grid": 0},
        "config/time-steps": {"time_steps": 0},
    }
    out = [harness.Case("sdnn/" + name.split("/")[0], name, _raises(call)) for name, call in bad.items()]
    for name, over in configs.items():
        out.append(harness.Case("sdnn/config", name, _raises(
            lambda over=over: make_stdp_config(overrides={"model": "sdnn", "dataset": "fashion_mnist", **over}))))

    def good_kernel():
        k = dog_kernel(7)
        return None if abs(float(k.sum())) < 1e-12 else f"wrong: the kernel sums to {float(k.sum())}"

    def good_constant():
        r = dog_on_off(torch.full((1, 1, 9, 9), 0.4), dog_kernel(7))
        return None if float(r.abs().max()) < 1e-6 else "wrong: a constant image responds"

    def good_empty_batch():
        t = rank_order_times(torch.zeros(0, 2, 3, 3), 5)
        return None if t.shape == (0, 2, 3, 3) else f"wrong: shape {tuple(t.shape)}"

    def good_all_zero():
        t = rank_order_times(torch.zeros(2, 4), 3)
        return None if bool(torch.isinf(t).all()) else "wrong: a zero input fired"

    for name, run in (("kernel-sum", good_kernel), ("constant-image", good_constant),
                      ("rank-empty-batch", good_empty_batch), ("rank-all-zero", good_all_zero)):
        out.append(harness.Case("sdnn/valid", name, run))
    return out


if __name__ == "__main__":
    harness.main(cases)
