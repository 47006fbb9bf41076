"""``spikesmith stdp``: unsupervised STDP (Diehl & Cook; Nessler's stochastic WTA), STDP + gradient descent
(hybrid) or the STDP-trained deep spiking CNN (sdnn, Kheradpisheh et al. 2018),
config file + command-line overrides -> a trained network, metrics and a report in ``--out``."""

from __future__ import annotations

import argparse
import os

from ._flags import add_config_flags, config_overrides

HELP = {
    "dataset": "digits | fashion_mnist | mnist (default: Fashion-MNIST where found, else digits)",
    "model": "diehl_cook (unsupervised, labels assigned afterwards) | hybrid (STDP conv + GD readout) | nessler "
             "(stochastic WTA with probabilistic STDP, labels assigned afterwards) | sdnn (DoG + rank-order code, IF "
             "convolutions trained layer by layer by simplified STDP, logistic readout)",
    "wta_rate": "nessler: the circuit's total output rate in Hz (which neuron fires: softmax of the potentials)",
    "sigma": "nessler: ms an input spike counts as 'before' an output spike",
    "c": "nessler: the rule's constant; weights converge to log(c p(input active | neuron))",
    "eta": "nessler: learning rate of the weights, per output spike",
    "eta_bias": "nessler: learning rate of the prior rule (0: a fixed uniform prior)",
    "homeostasis": "nessler: rate of the homeostatic bias rule that keeps every neuron in use (0: off)",
    "p_min": "nessler: the smallest probability a weight stands for (w >= log(c p_min))",
    "stdp_images": "sdnn: training images each convolution learns from (0: the kernels stay at their random start, "
                   "the frozen-random-filters baseline)",
    "feature_grid": "sdnn: 1 = global max pooling of the last layer (the paper); g = max pooling over a g x g grid",
    "sdnn_winners": "sdnn: STDP winners per image of each convolution, comma-separated (0: one per map)",
    "n_neurons": "excitatory neurons (Diehl & Cook: 100 to 6400)",
    "time": "simulated time per input in ms",
    "dt": "simulation step in ms",
    "max_rate": "input firing rate in Hz at intensity 1",
    "k": "winners per step of the lateral inhibition (none: no limit)",
    "time_limit": "stop training after this many minutes (checkpointed; --resume continues)",
    "dist_timeout": "under torchrun: seconds a rank waits for the others; past it the job fails, naming the rank "
                    "that stopped answering",
    "batch_size": "inputs simulated at once (default: 16; 1: the sequential rule)",
    "reduction": "sum (default: a batch moves the weights as far as its inputs one by one) | mean",
    "input_norm": "scale every image's input rates to this mean intensity (Fashion-MNIST preset: 0.286)",
    "inhibition": "mV a spike removes from the other neurons (default 120: strict winner-take-all)",
    "vote": "mean (Diehl & Cook: mean count of each class's neurons) | proportion (counts weighted by selectivity)",
    "assign_subset": "label the neurons from the first N training images (default: all)",
}


def add_parser(sub) -> None:
    from ..run import STDPConfig

    p = sub.add_parser("stdp", help="train a spiking network with STDP", description=__doc__)
    add_config_flags(p, STDPConfig, HELP)


def run(args: argparse.Namespace) -> int:
    from ..run import STDPConfig, make_stdp_config, resumed_config, run_stdp

    # a resumed run keeps its own config (presets already applied), under the flags given now
    given = config_overrides(args, STDPConfig)
    saved = resumed_config(args.resume, args.allow_nonfinite)
    if args.resume:
        from typing import get_type_hints

        from ..data import canonical_name
        from ..run.resume import check_overrides, resume_rules_for

        check_overrides(given, saved, resume_rules_for(saved.get("model")), args.resume, get_type_hints(STDPConfig),
                        canonical={"dataset": canonical_name})
    overrides = {**saved, **given}
    cfg = make_stdp_config(args.config, overrides, preset=not args.resume)
    metrics = run_stdp(cfg, resume=args.resume, allow_nonfinite=args.allow_nonfinite)
    if int(os.environ.get("RANK", "0")) == 0:           # under torchrun, rank 0 speaks
        print(f"test_accuracy {metrics['test_accuracy']:.4f}")
    return 0
