"""Training configuration: defaults, config files (YAML or TOML) and ``key=value`` overrides.

``TrainConfig`` holds what every run shares; the chosen model's own options live in
``model_options``, checked against the family's config (``spikesmith.models``). In files, on the
command line and in ``--set`` they may be written as top-level keys (``hidden: 256``), as before
0.2, or nested under ``model_options``. A wrong key, an option the chosen model has not got, or a
value of the wrong type is an error that names the key and what would accept it.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import sys
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Optional, Union, get_args, get_origin, get_type_hints

from ..data.event_frames import NFMNIST_METHODS
from .distributed import DEFAULT_TIMEOUT_S


@dataclass
class TrainConfig:
    # data
    dataset: Optional[str] = None          # None: Fashion-MNIST where it is found, else digits
    data_dir: Optional[str] = None
    train_subset: Optional[int] = None     # use only the first K training samples (quick runs)
    test_subset: Optional[int] = None
    event_method: str = "saccade"          # nfmnist: images to events by saccade | flash | poisson
    event_threshold: Optional[float] = None  # nfmnist: the simulated camera's contrast threshold (None: 0.2)
    # model: its family, that family's own options (spikesmith.models: spikesmith train --model NAME --help),
    # and the ANN twin every family has
    model: Optional[str] = None            # None: csnn for images, fcsnn for digits, rsnn for sequences
    model_options: dict[str, Any] = field(default_factory=dict)
    ann: bool = False
    activation: str = "relu"
    # encoding and time
    encoder: Optional[str] = None          # None: direct for csnn, poisson for fcsnn
    T: int = 4
    # optimisation
    epochs: int = 8
    batch_size: int = 128
    optimizer: str = "adam"
    lr: float = 2e-3
    weight_decay: float = 0.0
    momentum: float = 0.9
    schedule: str = "onecycle"             # onecycle | cosine | none
    loss: str = "ce"                       # ce | mse | tet
    tet_lambda: float = 0.05
    rate_reg: float = 0.0                  # weight of the firing-rate regulariser (0: off)
    feedback: str = "bp"                   # how errors reach hidden layers: bp | fa (random B for W^T) | dfa (output error direct)
    online: Optional[str] = None           # None: BPTT | ottt | sltt: online training through time (training.online)
    sltt_k: Optional[int] = None           # online=sltt: backpropagate at this many random time steps per batch (None: all)
    label_smoothing: float = 0.0
    random_flip: bool = False              # mirror training images / frames left-right with probability 1/2
    random_shift: int = 0                  # translate training images / frames by up to this many pixels
    seed: int = 0
    device: str = "auto"
    amp: bool = False
    threads: Optional[int] = None
    reuse_memory: bool = True              # keep freed memory for reuse (no page faults per step)
    channels_last: bool = False            # conv models in channels_last memory (each conv family's run_defaults set it)
    time_limit: Optional[float] = None     # minutes of training after which the run stops early
    nonfinite_loss: str = "error"          # a NaN/Inf batch loss: error (stop the run) | skip (count it in metrics.json)
    dist_timeout: float = DEFAULT_TIMEOUT_S  # seconds a torchrun rank waits for the others before the run fails
    # output
    out: Optional[str] = None
    report: bool = True
    tensorboard: bool = False

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def _coerce(key: str, value: Any, typ: Any) -> Any:
    """Convert ``value`` (possibly a string from the command line) to the field's type."""
    optional = get_origin(typ) is Union and type(None) in get_args(typ)
    base = [a for a in get_args(typ) if a is not type(None)][0] if optional else typ
    # "none" on the command line means None for an optional number; for an optional string it is a
    # word (``--encoder none`` is the identity encoder, and a stored "none" must load as "none")
    if value is None or (isinstance(value, str) and value.lower() in {"none", "null"} and optional
                         and base is not str):
        if optional:
            return None
        raise ValueError(f"config key {key!r} must not be empty; expected {base.__name__}")
    try:
        if base is bool:
            if isinstance(value, bool):
                return value
            if isinstance(value, str) and value.lower() in {"true", "1", "yes", "on", "false", "0", "no", "off"}:
                return value.lower() in {"true", "1", "yes", "on"}
            raise ValueError
        if base is int:
            if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
                raise ValueError
            return int(value)
        if base is float:
            if isinstance(value, bool):
                raise ValueError
            number = float(value)
            if not math.isfinite(number):
                raise ValueError(f"config key {key!r} must be a finite number, got {value!r}")
            return number
        if base is str:
            if not isinstance(value, (str, int, float)) or isinstance(value, bool):
                raise ValueError
            return str(value)
    except (TypeError, ValueError) as err:
        if "finite" in str(err):
            raise
    raise ValueError(f"config key {key!r} expects {base.__name__}, got {value!r} ({type(value).__name__})")


def coerce_value(key: str, value: Any, typ: Any) -> Any:
    """``value`` (a string from the command line, or a stored value) as type ``typ``, or a ValueError
    naming ``key``; a mapping or another type it does not convert is returned as it is."""
    base = [a for a in get_args(typ) if a is not type(None)] if get_origin(typ) is Union else [typ]
    if not base or base[0] not in (bool, int, float, str):
        return value
    return _coerce(key, value, typ)


def read_config_values(config_class: type, file: Optional[str] = None,
                       overrides: Optional[dict[str, Any]] = None, also_valid: tuple[str, ...] = ()) -> dict[str, Any]:
    """The config file's keys, then the overrides, each checked against ``config_class``'s fields
    (unknown key: error listing the valid ones, and ``also_valid``) and converted to the field's type."""
    values: dict[str, Any] = {}
    if file:
        values.update(load_config_file(file))
    values.update(overrides or {})
    types = get_type_hints(config_class)
    known = {f.name for f in fields(config_class)}
    unknown = sorted(set(values) - known)
    if unknown:
        raise ValueError(f"unknown config key(s) {', '.join(map(repr, unknown))}; valid keys: "
                         f"{', '.join(sorted(known | set(also_valid)))}")
    return {k: _coerce(k, v, types[k]) for k, v in values.items()}


def load_config_file(path: Union[str, os.PathLike]) -> dict[str, Any]:
    """Read a YAML (.yaml/.yml), TOML (.toml) or JSON config into a dict."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"config file {path} does not exist")
    text = path.read_text()
    suffix = path.suffix.lower()
    if suffix == ".toml":
        try:
            import tomllib
        except ImportError:  # Python 3.10
            try:
                import tomli as tomllib
            except ImportError:
                raise ImportError("reading TOML configs on Python 3.10 needs tomli: pip install tomli") from None
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as err:
            raise ValueError(f"config file {path} is not valid TOML: {err}") from None
    elif suffix in {".yaml", ".yml"}:
        try:
            import yaml
        except ImportError:
            raise ImportError("reading YAML configs needs PyYAML: pip install 'spikesmith[data]'") from None
        try:
            data = yaml.safe_load(text) or {}
        except yaml.YAMLError as err:
            where = getattr(err, "problem_mark", None)
            at = f" (line {where.line + 1}, column {where.column + 1})" if where is not None else ""
            problem = getattr(err, "problem", None) or str(err).splitlines()[0]
            raise ValueError(f"config file {path} is not valid YAML{at}: {problem}") from None
    elif suffix == ".json":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as err:
            raise ValueError(f"config file {path} is not valid JSON: {err}") from None
    else:
        raise ValueError(f"config file {path} must end in .yaml, .yml, .toml or .json")
    if not isinstance(data, dict):
        raise ValueError(f"config file {path} must hold a mapping of keys to values, got {type(data).__name__}")
    return data


#: Per-dataset recipes, applied under the config file and the command line. A recipe's
#: ``model_options`` are for its model: they apply when the run trains that model.
PRESETS: dict[str, dict[str, Any]] = {
    "digits": {"model": "fcsnn", "encoder": "direct", "lr": 5e-3, "batch_size": 64, "epochs": 20,
               "model_options": {"hidden": 256}},
    "fashion_mnist": {"model": "csnn", "encoder": "direct", "epochs": 5, "lr": 3e-3},
    "mnist": {"model": "csnn", "encoder": "direct", "epochs": 2, "lr": 3e-3},
    "sfmnist": {"model": "rsnn", "encoder": "none", "epochs": 20, "lr": 2e-3},
    # measured with --model fcsnn: 62.08/62.92/61.25% (seeds 0/1/2) on the held-out voices (data.spoken_digits)
    "spoken_digits": {"encoder": "none", "epochs": 80, "batch_size": 32, "lr": 5e-3},
}


def model_option_names() -> list[str]:
    """Every registered model's option names: the keys that may stand at the top level."""
    from ..models import MODELS, config_class

    return sorted({name for model in MODELS for name in config_class(model).option_names()})


def split_model_options(values: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """``values`` as (run keys, model options): top-level option keys (``hidden: 256``) join the
    ``model_options`` mapping, and win over it."""
    values = dict(values)
    nested = values.pop("model_options", None) or {}
    if not isinstance(nested, dict):
        raise ValueError(f"config key 'model_options' expects a mapping of option names to values, got {nested!r}")
    options = dict(nested)
    for key in model_option_names():
        if key in values:
            options[key] = values.pop(key)
    return values, options


def resolve_model_options(model: str, options: dict[str, Any]) -> dict[str, Any]:
    """Every option of ``model``: ``options`` (strings from the command line converted to the
    field's type) over the family's defaults. An option the model has not got is an error naming
    the model and the models that take it."""
    return dataclasses.asdict(model_config(model, options))


def model_config(model: str, options: dict[str, Any]):
    """The family's config (``spikesmith.models.options.ModelOptions``) for ``options``, checked."""
    from ..models import config_class, model_options

    types = get_type_hints(config_class(model))
    return model_options(model, {k: _coerce(k, v, types[k]) if k in types else v for k, v in options.items()})


def family_run_defaults(model: Optional[str]) -> dict[str, Any]:
    """The run options model ``model``'s family sets (``ModelOptions.run_defaults``): over the
    dataset's recipe, under the config file and the command line."""
    if model is None:
        return {}
    from ..models import config_class

    return dict(config_class(model).run_defaults)


def make_config(file: Optional[str] = None, overrides: Optional[dict[str, Any]] = None,
                preset: bool = True) -> TrainConfig:
    """Defaults, then the dataset's preset, then the model family's run defaults, then the config file,
    then the overrides; every key checked."""
    values, options = {}, {}
    for layer in (load_config_file(file) if file else {}, overrides or {}):
        run_keys, layer_options = split_model_options(layer)
        values.update(run_keys)
        options.update(layer_options)
    values = read_config_values(TrainConfig, None, values, also_valid=tuple(model_option_names()))
    if values.get("model") is not None:
        from ..models import MODELS

        values["model"] = MODELS.canonical(values["model"])
    if preset:
        from ..data import canonical_name

        dataset = values.get("dataset") or default_dataset(values.get("data_dir"))
        values["dataset"] = dataset = canonical_name(dataset)
        recipe = dict(PRESETS.get(dataset, {}))
        recipe_options = recipe.pop("model_options", {})
        if values.get("model") in (None, recipe.get("model")):
            options = {**recipe_options, **options}
        values = {**recipe, **family_run_defaults(values.get("model") or recipe.get("model")), **values}
    else:
        values = {**family_run_defaults(values.get("model")), **values}
    if values.get("model") is not None:
        options = resolve_model_options(values["model"], options)
    cfg = TrainConfig(**values, model_options=options)
    _validate(cfg)
    return cfg


#: The model options that were ``TrainConfig`` fields before 0.2, stored flat in every checkpoint.
_FLAT_BEFORE_0_2 = ("arch", "width", "channels", "hidden", "neuron", "surrogate", "tau", "pool", "readout",
                    "detach_reset", "dropout")


def saved_config(saved: dict[str, Any]) -> dict[str, Any]:
    """A config a checkpoint stored, in this version's form.

    Before 0.2 the model options were ``TrainConfig`` fields: every checkpoint holds all of them,
    for whichever model it trained, and the model ignored those it did not have (and ``tau`` for
    IF). They move into ``model_options``, keeping only what the model uses.
    """
    from ..models import MODELS, config_class
    from ..neuron import NEURONS, time_constant_argument

    model = saved.get("model")
    if "model_options" in saved or not isinstance(model, str) or model not in MODELS:
        return dict(saved)
    saved = dict(saved)
    flat = {key: saved.pop(key) for key in _FLAT_BEFORE_0_2 if key in saved}
    own = config_class(model).option_names()
    options = {key: value for key, value in flat.items() if key in own and value is not None}
    neuron = options.get("neuron")
    if "tau" in options and isinstance(neuron, str) and neuron in NEURONS and time_constant_argument(neuron) is None:
        del options["tau"]
    saved["model_options"] = options
    return saved


def default_dataset(data_dir: Optional[str] = None) -> str:
    """Fashion-MNIST where it is found, else scikit-learn's digits (which ship with it)."""
    from ..data import dataset_available

    if dataset_available("fashion_mnist", data_dir):
        print("[spikesmith] no dataset given: Fashion-MNIST was found, training on it", file=sys.stderr, flush=True)
        return "fashion_mnist"
    print("[spikesmith] no dataset given and Fashion-MNIST was not found (apt-get install dataset-fashion-mnist, "
          "or set SPIKESMITH_DATA): training on scikit-learn's digits", file=sys.stderr, flush=True)
    return "digits"


def parse_overrides(items: list[str]) -> dict[str, str]:
    """``["lr=0.01", "epochs=3"]`` -> ``{"lr": "0.01", "epochs": "3"}``."""
    out = {}
    for item in items:
        key, eq, value = item.partition("=")
        if not eq or not key:
            raise ValueError(f"override {item!r} must look like key=value")
        out[key.strip().replace("-", "_")] = value
    return out


def _validate(cfg: TrainConfig) -> None:
    checks = [
        (cfg.T >= 1, "T must be >= 1"),
        (cfg.epochs >= 1, "epochs must be >= 1"),
        (cfg.batch_size >= 1, "batch_size must be >= 1"),
        (cfg.lr > 0, "lr must be > 0"),
        (cfg.weight_decay >= 0, "weight_decay must be >= 0"),
        (0 <= cfg.momentum < 1, f"momentum must be in [0, 1), got {cfg.momentum}"),
        (cfg.tet_lambda >= 0, "tet_lambda must be >= 0"),
        (cfg.rate_reg >= 0, "rate_reg must be >= 0"),
        (0 <= cfg.label_smoothing < 1, f"label_smoothing must be in [0, 1), got {cfg.label_smoothing}"),
        (cfg.threads is None or cfg.threads >= 1, f"threads must be >= 1 (or none: PyTorch's default), got {cfg.threads}"),
        (cfg.nonfinite_loss in {"error", "skip"}, f"nonfinite_loss must be error or skip, got {cfg.nonfinite_loss!r}"),
        (cfg.dist_timeout > 0, "dist_timeout must be > 0 seconds"),
        (cfg.optimizer in {"adam", "adamw", "sgd"}, f"optimizer must be adam, adamw or sgd, got {cfg.optimizer!r}"),
        (cfg.schedule in {"onecycle", "cosine", "none"}, f"schedule must be onecycle, cosine or none, got {cfg.schedule!r}"),
        (cfg.label_smoothing == 0 or cfg.loss == "ce", "label_smoothing works with loss=ce only"),
        (cfg.train_subset is None or cfg.train_subset >= 1, "train_subset must be >= 1"),
        (cfg.test_subset is None or cfg.test_subset >= 1, "test_subset must be >= 1"),
        (cfg.time_limit is None or cfg.time_limit > 0, "time_limit must be > 0 minutes"),
        (cfg.random_shift >= 0, "random_shift must be >= 0 pixels"),
        (cfg.event_threshold is None or cfg.event_threshold > 0,
         f"event_threshold must be > 0 (a contrast step on log intensity), got {cfg.event_threshold}"),
        (cfg.event_method in NFMNIST_METHODS,
         f"event_method must be {', '.join(NFMNIST_METHODS[:-1])} or {NFMNIST_METHODS[-1]}, got {cfg.event_method!r}"),
    ]
    for ok, message in checks:
        if not ok:
            raise ValueError(f"config: {message}")
    _check_names(cfg)


def _check_names(cfg: TrainConfig) -> None:
    """Names looked up in a registry are checked now, not after the data has loaded: the registry's
    own unknown-name error lists what is known."""
    from ..encoding.registry import ENCODERS
    from ..models.blocks import make_activation
    from .losses import LOSSES

    LOSSES.get(cfg.loss)
    if cfg.online is not None or cfg.sltt_k is not None:
        from .online import check_online, check_online_options

        check_online_options(cfg.online, cfg.sltt_k)
        if cfg.online is not None and cfg.model is not None:   # checked again once the defaults are resolved
            check_online(cfg.online, cfg.model, ann=cfg.ann, feedback=cfg.feedback, rate_reg=cfg.rate_reg,
                         sltt_k=cfg.sltt_k)
    if cfg.encoder is not None:
        ENCODERS.get(cfg.encoder)
    make_activation(cfg.activation)
