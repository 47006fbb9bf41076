"""Runs: the one skeleton behind ``spikesmith train``, ``stdp`` (Diehl & Cook and the hybrid) and ``convert``.

    config -> seed -> data -> model -> loop -> checkpoint (atomic) / resume / metrics / report

``Run`` (``skeleton.py``) is everything around a loop; each job owns only its loop:

- ``train(cfg)``: gradient descent (``gradient.py``; the epoch itself is ``spikesmith.training``);
- ``run_stdp(cfg)``: Diehl & Cook (``diehl_cook.py``), the hybrid (``hybrid.py``) or the SDNN
  (``sdnn.py``), configured by
  ``STDPConfig`` (``stdp_config.py``), reported by ``stdp_report.py``;
- ``convert_checkpoint(cfg)``: an ANN twin converted with several methods, accuracy against T
  (``conversion.py``, configured by ``ConvertConfig``; the sweep itself is ``spikesmith.conversion.sweep``).

>>> from spikesmith.run import train
>>> from spikesmith.training import make_config
>>> metrics = train(make_config(overrides={"dataset": "digits", "out": "runs/digits"}))
"""

from .skeleton import Run, default_out_dir, resumed_config
from .gradient import train
from .conversion import ConvertConfig, convert_checkpoint
from .stdp import run_stdp
from .stdp_config import STDPConfig, make_stdp_config
from . import liquid_report  # noqa: F401,E402  (registers the run phases of --model lsm: its report)
from .phases import PHASES, RunPhases, phases_for
from . import dbn_phases  # noqa: E402,F401  (registers the run phases of --model dbn)

__all__ = ["ConvertConfig", "PHASES", "Run", "RunPhases", "phases_for", "STDPConfig", "convert_checkpoint", "default_out_dir", "make_stdp_config", "resumed_config", "run_stdp", "train"]
