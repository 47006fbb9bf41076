"""Configuration of ``spikesmith stdp``: defaults, per-dataset presets, a config file and
``key=value`` overrides, every key and type checked (the conventions of ``spikesmith train``)."""

from __future__ import annotations

import dataclasses
import sys
from dataclasses import dataclass
from typing import Any, Optional

from ..training.config import read_config_values
from ..training.distributed import DEFAULT_TIMEOUT_S
from ..learning.assign import VOTES


@dataclass
class STDPConfig:
    # data
    dataset: Optional[str] = None          # None: Fashion-MNIST where it is found, else digits
    data_dir: Optional[str] = None
    train_subset: Optional[int] = None
    test_subset: Optional[int] = None
    # model: the Diehl & Cook network, a conv layer learning by STDP under a readout trained by GD,
    # Nessler's stochastic WTA circuit learning by probabilistic STDP, or the STDP-trained deep spiking CNN
    model: str = "diehl_cook"              # diehl_cook | hybrid | nessler | sdnn
    n_neurons: int = 100
    time: float = 100.0                    # simulated ms per input
    dt: float = 1.0                        # ms per step
    max_rate: float = 128.0                # input rate in Hz at intensity 1
    tau: float = 100.0                     # membrane time constant, ms
    v_threshold: float = 13.0              # mV above rest
    theta_plus: float = 0.05               # threshold rise per spike, mV
    tau_theta: float = 1e7                 # threshold decay, ms
    inhibition: float = 120.0              # mV removed from the other neurons per spike (strict WTA)
    k: Optional[int] = 1                   # winners per step (None: no limit)
    # STDP
    a_plus: float = 1e-2
    a_minus: float = 1e-4
    tau_plus: float = 20.0
    tau_minus: float = 20.0
    trace: str = "nearest"
    weight_dependence: str = "additive"
    w_max: float = 1.0
    norm: Optional[float] = None           # None: 0.1 * inputs (78.4 for 28 x 28); 0: off
    w_init: float = 0.3
    reduction: str = "sum"                 # how a batch's weight and threshold changes combine: sum | mean
    input_norm: Optional[float] = None     # scale every image's rates to this mean intensity (None: as they are)
    # hybrid model
    channels: int = 16
    kernel: int = 5
    lr: float = 2e-3                       # readout learning rate (Adam)
    # Nessler's stochastic WTA (model nessler; n_neurons, time, dt, max_rate as above)
    wta_rate: float = 200.0                # the circuit's total output rate, Hz
    sigma: float = 10.0                    # ms an input spike counts as "before" an output spike
    c: float = 1.0                         # the rule's constant: weights converge to log(c p(input | neuron))
    eta: float = 0.01                      # learning rate of the weights (per output spike)
    eta_bias: float = 0.0                  # learning rate of the prior (0: uniform prior)
    homeostasis: float = 0.5               # homeostatic bias rate (Habenschuss et al. 2013; 0: off)
    p_min: float = 0.01                    # smallest probability a weight stands for
    # sdnn model (Kheradpisheh et al. 2018): DoG + rank-order code, IF convolutions learning by simplified STDP
    time_steps: int = 15                   # rank-order steps per image
    dog_size: int = 7                      # DoG window side (odd)
    sigma_centre: float = 1.0              # DoG centre and surround widths, pixels
    sigma_surround: float = 2.0
    dog_threshold: float = 0.05            # DoG responses at or below this never spike
    sdnn_maps: str = "30,100"              # maps of each convolution (comma-separated)
    sdnn_kernels: str = "5,5"              # kernel side of each convolution
    sdnn_thresholds: str = "15,10"         # IF threshold of each convolution
    sdnn_pools: str = "2"                  # pooling window between convolutions (one fewer than convolutions)
    sdnn_winners: str = "5,8"              # STDP winners per image of each convolution (0: one per map)
    sdnn_radii: str = "3,1"                # local inter-map inhibition radius of each convolution's winners
    w_std: float = 0.05                    # the kernels start as N(w_init, w_std), clamped to [0, 1]
    stdp_images: int = 2000                # training images each convolution learns from (0: frozen random kernels)
    lr_double_every: int = 500             # images after which a_plus and a_minus double ...
    a_plus_max: float = 0.15               # ... until a_plus reaches this (a_minus keeps its ratio)
    stdp_convergence: float = 0.0          # stop a layer once mean w(1-w) falls below this (paper: 0.01; 0: off)
    feature_grid: int = 1                  # 1: global max pooling of the last layer (the paper); g: over a g x g grid
    readout_epochs: int = 100              # passes of the logistic readout over the features (Adam, lr)
    # loop
    epochs: int = 1
    batch_size: int = 16                   # inputs simulated at once (their changes summed: reduction)
    eval_batch_size: int = 256
    curve_points: int = 20                 # accuracy-curve points per epoch
    assign_pass: bool = True               # after training, label neurons from a pass without learning
    assign_subset: Optional[int] = None    # training images of that pass (None: all)
    vote: str = "mean"                     # classification: mean count of each class's neurons | proportion
    seed: int = 0
    threads: Optional[int] = None
    time_limit: Optional[float] = None     # minutes of training after which the run stops (checkpointed)
    checkpoint_every: int = 200            # batches between checkpoints (and at every epoch end)
    dist_timeout: float = DEFAULT_TIMEOUT_S  # seconds a torchrun rank waits for the others before the run fails
    # output
    out: Optional[str] = None
    report: bool = True

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


#: Per-dataset recipes, applied under the config file and the command line. Fashion-MNIST scales
#: every image to the set's mean intensity (0.286), so faint classes (sandals) are not drowned out;
#: 400 neurons, one pass: 72.8% with tau_theta 1e7, 73.6% with 2e6 (theta grows less, more spikes).
PRESETS: dict[str, dict[str, Any]] = {
    "digits": {"max_rate": 500.0, "theta_plus": 0.2, "epochs": 3},
    "fashion_mnist": {"max_rate": 128.0, "theta_plus": 0.1, "tau_theta": 2e6, "input_norm": 0.286, "epochs": 1},
    "mnist": {"max_rate": 128.0, "theta_plus": 0.05, "epochs": 1},
}

#: Defaults of the hybrid model (a convolution needs far fewer steps and a lower threshold).
HYBRID_PRESET: dict[str, Any] = {"time": 16.0, "max_rate": 500.0, "tau": 20.0, "v_threshold": 1.0, "theta_plus": 0.0,
                                 "inhibition": 0.0, "k": 1, "a_plus": 1e-4, "a_minus": 5e-5, "trace": "all_to_all",
                                 "reduction": "mean", "batch_size": 64, "epochs": 1}

#: Defaults of Nessler's network: a shorter presentation (the circuit fires 10 times in 50 ms).
NESSLER_PRESET: dict[str, Any] = {"time": 50.0, "max_rate": 200.0}

#: Defaults of the STDP-trained deep spiking CNN (the paper's rates, kernels starting at N(0.8, 0.05)).
SDNN_PRESET: dict[str, Any] = {"a_plus": 0.004, "a_minus": 0.003, "w_init": 0.8, "lr": 3e-3, "batch_size": 1000,
                               "eval_batch_size": 128}

#: A model's preset for one dataset. The SDNN's, tuned on Fashion-MNIST (3,000 STDP images per layer; see README): every map may learn from an image,
#: the rates double every 250 images, 200 maps in conv 2, the last layer pooled over a 3 x 3 grid
#: (global max pooling, the paper's, is ``feature_grid=1``).
MODEL_DATASET_PRESETS: dict[tuple[str, str], dict[str, Any]] = {
    ("sdnn", "fashion_mnist"): {"sdnn_winners": "0,0", "lr_double_every": 250, "stdp_images": 3000, "sdnn_maps": "30,200",
                      "feature_grid": 3},
}

#: The preset each model lays over the dataset's (the command line and the config file win).
MODEL_PRESETS: dict[str, dict[str, Any]] = {"diehl_cook": {}, "hybrid": HYBRID_PRESET, "nessler": NESSLER_PRESET,
                                             "sdnn": SDNN_PRESET}
MODELS = tuple(MODEL_PRESETS)


def int_list(cfg: STDPConfig, key: str, low: int) -> tuple[int, ...]:
    """A comma-separated config value (``"30,100"``) as ints >= ``low``, or one error naming the key."""
    text = getattr(cfg, key)
    try:
        values = tuple(int(v) for v in str(text).split(","))
    except ValueError:
        values = ()
    if not values or any(v < low for v in values):
        raise ValueError(f"config: {key} must be comma-separated ints >= {low} (one per convolution), e.g. "
                         f"{getattr(STDPConfig, key)!r}, got {text!r}")
    return values


def pool_list(cfg: STDPConfig) -> tuple[int, ...]:
    """``sdnn_pools`` as ints >= 1 (empty: no gap, a single convolution)."""
    return () if not str(cfg.sdnn_pools).strip() else int_list(cfg, "sdnn_pools", 1)


def float_list(cfg: STDPConfig, key: str) -> tuple[float, ...]:
    """A comma-separated config value (``"15,10"``) as positive finite floats, or one error naming the key."""
    text = getattr(cfg, key)
    try:
        values = tuple(float(v) for v in str(text).split(","))
    except ValueError:
        values = ()
    if not values or any(not 0 < v < float("inf") for v in values):
        raise ValueError(f"config: {key} must be comma-separated numbers > 0 (one per convolution), e.g. "
                         f"{getattr(STDPConfig, key)!r}, got {text!r}")
    return values


def make_stdp_config(file: Optional[str] = None, overrides: Optional[dict[str, Any]] = None,
                     preset: bool = True) -> STDPConfig:
    """Defaults, then the dataset's preset, then the config file, then the overrides; every key checked."""
    values = read_config_values(STDPConfig, file, overrides)
    from ..data import canonical_name

    dataset = values.get("dataset") or _default_dataset(values.get("data_dir"))
    values["dataset"] = dataset = canonical_name(dataset)
    if preset:
        model = values.get("model") or STDPConfig.model
        model_preset = {**MODEL_PRESETS.get(model, {}), **MODEL_DATASET_PRESETS.get((model, dataset), {})}
        values = {**PRESETS.get(dataset, {}), **model_preset, **values}
    cfg = STDPConfig(**values)
    _validate(cfg)
    return cfg


def _default_dataset(data_dir: Optional[str]) -> str:
    from ..data import dataset_available

    name = "fashion_mnist" if dataset_available("fashion_mnist", data_dir) else "digits"
    print(f"[spikesmith] no dataset given: using {name}", file=sys.stderr, flush=True)
    return name


def _validate(cfg: STDPConfig) -> None:
    checks = [
        (cfg.model in MODELS, f"model must be one of {', '.join(MODELS)}, got {cfg.model!r}"),
        (cfg.dataset != "sfmnist", "the STDP networks take images; sfmnist is a sequence dataset"),
        (cfg.n_neurons >= 1, "n_neurons must be >= 1"),
        (cfg.time > 0 and cfg.dt > 0 and round(cfg.time / cfg.dt) >= 1, "time and dt must be > 0 (at least one step)"),
        (cfg.epochs >= 1, "epochs must be >= 1"),
        (cfg.batch_size >= 1 and cfg.eval_batch_size >= 1, "batch_size and eval_batch_size must be >= 1"),
        (cfg.curve_points >= 1, "curve_points must be >= 1"),
        (cfg.checkpoint_every >= 1, "checkpoint_every must be >= 1"),
        (cfg.channels >= 1 and cfg.kernel >= 1, "channels and kernel must be >= 1"),
        (cfg.lr > 0, "lr must be > 0"),
        (cfg.train_subset is None or cfg.train_subset >= 1, "train_subset must be >= 1"),
        (cfg.test_subset is None or cfg.test_subset >= 1, "test_subset must be >= 1"),
        (cfg.assign_subset is None or cfg.assign_subset >= 1, "assign_subset must be >= 1"),
        (cfg.time_limit is None or cfg.time_limit > 0, "time_limit must be > 0 minutes"),
        (cfg.dist_timeout > 0, "dist_timeout must be > 0 seconds"),
        (cfg.wta_rate > 0 and cfg.wta_rate * cfg.dt / 1000 <= 1,
         f"wta_rate * dt / 1000 is the circuit's spike probability per step and must lie in (0, 1], got "
         f"wta_rate={cfg.wta_rate} Hz, dt={cfg.dt} ms; lower wta_rate or dt"),
        (cfg.sigma >= cfg.dt, f"sigma must be at least one step (dt={cfg.dt} ms), got {cfg.sigma}; raise sigma or "
                              f"lower dt"),
        (cfg.c > 0 and cfg.eta > 0, "c and eta must be > 0"),
        (cfg.eta_bias >= 0 and cfg.homeostasis >= 0, "eta_bias and homeostasis must be >= 0 (0: off)"),
        (0 < cfg.p_min < 1, f"p_min must lie in (0, 1), got {cfg.p_min}"),
        (cfg.vote in VOTES, f"vote must be {' or '.join(VOTES)}, got {cfg.vote!r}"),
    ]
    for ok, message in checks:
        if not ok:
            raise ValueError(f"config: {message}")
    if cfg.model == "sdnn":
        _validate_sdnn(cfg)


def _validate_sdnn(cfg: STDPConfig) -> None:
    from ..learning.simplified_stdp import check_stdp_rates

    check_stdp_rates(cfg.a_plus, cfg.a_minus, "config")
    layers = len(int_list(cfg, "sdnn_maps", 1))
    lengths = {"sdnn_kernels": len(int_list(cfg, "sdnn_kernels", 1)),
               "sdnn_thresholds": len(float_list(cfg, "sdnn_thresholds")),
               "sdnn_winners": len(int_list(cfg, "sdnn_winners", 0)), "sdnn_radii": len(int_list(cfg, "sdnn_radii", 0))}
    wrong = [f"{k} has {n}" for k, n in lengths.items() if n != layers]
    pools = len(pool_list(cfg))
    if pools != layers - 1:
        wrong.append(f"sdnn_pools has {pools} (want {layers - 1}, one per gap between convolutions; '' for none)")
    if wrong:
        raise ValueError(f"config: sdnn_maps names {layers} convolution(s) but {'; '.join(wrong)}; give one value "
                         f"per convolution")
    checks = [
        (cfg.time_steps >= 1, "time_steps must be >= 1"),
        (cfg.dog_threshold >= 0, "dog_threshold must be >= 0"),
        (cfg.stdp_images >= 0, "stdp_images must be >= 0 (0: the kernels stay at their random start)"),
        (cfg.lr_double_every >= 1, "lr_double_every must be >= 1 image"),
        (cfg.a_plus_max >= cfg.a_plus, f"a_plus_max ({cfg.a_plus_max}) must be >= a_plus ({cfg.a_plus})"),
        (0 <= cfg.stdp_convergence < 0.25, "stdp_convergence must lie in [0, 0.25) (0: off; the paper stops at 0.01)"),
        (cfg.readout_epochs >= 1, "readout_epochs must be >= 1"),
        (cfg.feature_grid >= 1, "feature_grid must be >= 1 (1: global max pooling)"),
        (0 <= cfg.w_init <= 1 and cfg.w_std >= 0, "the kernels start in [0, 1]: w_init in [0, 1], w_std >= 0"),
    ]
    for ok, message in checks:
        if not ok:
            raise ValueError(f"config: {message}")
