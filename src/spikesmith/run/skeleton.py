"""The skeleton every run shares: ``train``, ``stdp`` (Diehl & Cook and the hybrid) and ``convert``.

    config -> seed -> data -> model -> loop -> checkpoint (atomic) / resume / metrics / report

A job owns its loop (an epoch of gradient descent, a batch of STDP, a sweep over T); the :class:`Run`
it opens does everything around the loop the same way for all of them:

- the output folder (``cfg.out``, or ``runs/<date-time>``), made by the main process only;
- the thread count (``cfg.threads``) and the seed (``cfg.seed``);
- resume: the checkpoint given is read once (``weights_only``, checksum verified), checked against the
  job's :class:`~spikesmith.run.resume.ResumeRules` (entries it needs, finite weights, options that
  may not change) and its weights loaded on request;
- ``checkpoint.pt`` (the format of :mod:`spikesmith.training.checkpoint`), ``log.csv`` and the
  metrics file, each written atomically (:mod:`spikesmith.atomic`) by the main process only;
- the metrics every job ends with (versions, config, wall time, world size);
- the report, which may fail without losing the finished run.

Under ``torchrun`` every process opens the run with its ``DistContext``; only rank 0 writes and speaks.
"""

from __future__ import annotations

import os
import time
from datetime import datetime
from pathlib import Path
from typing import Any, Callable, Optional

import torch
from torch import nn

from .. import __version__
from ..atomic import write_csv, write_json
from ..training.checkpoint import atomic_save, load_checkpoint, load_weights, make_checkpoint
from ..training.distributed import DistContext
from ..training.setup import log
from . import resume as resume_rules

CHECKPOINT = "checkpoint.pt"
HISTORY = "log.csv"
METRICS = "metrics.json"


def default_out_dir() -> Path:
    """``runs/<date-time>``: where a run without ``out`` writes."""
    return Path("runs") / datetime.now().strftime("%Y%m%d-%H%M%S")


def resumed_config(resume: Optional[str], allow_nonfinite: bool = False) -> dict[str, Any]:
    """The config saved in the checkpoint a run resumes from (empty without one).

    The command line lays its overrides over it, so a resumed run continues with its own settings.
    """
    return dict(load_checkpoint(resume, allow_nonfinite=allow_nonfinite)["config"]) if resume else {}


class Run:
    """One run's output folder, resume state, checkpoints and metrics (see the module docstring).

    Args:
        cfg: the job's config; read for ``out``, ``threads``, ``seed``, ``report`` and ``to_dict()``.
            ``cfg.out`` is set to the folder used.
        resume: a checkpoint to continue from; its contents are ``self.checkpoint``.
        ctx: the distributed context (default: a single process).
        out: the folder when ``cfg.out`` is empty (default: ``runs/<date-time>``).
        rules: what the job's resume needs and allows (``run.resume``); required with ``resume``.
        allow_nonfinite: resume from weights holding NaN or Inf (refused by default).
    """

    def __init__(self, cfg: Any, resume: Optional[str] = None, ctx: Optional[DistContext] = None,
                 out: Optional[Path] = None, rules: Optional[resume_rules.ResumeRules] = None,
                 allow_nonfinite: bool = False):
        self.started = time.time()
        self.cfg = cfg
        self.ctx = ctx if ctx is not None else DistContext()
        self.resume = str(resume) if resume else None
        self.checkpoint: Optional[dict] = None
        if resume:
            if rules is None:
                raise ValueError("this job cannot resume: it was opened without resume rules")
            self.checkpoint = load_checkpoint(resume, allow_nonfinite=allow_nonfinite)
            resume_rules.check_checkpoint(self.checkpoint, rules, self.resume, allow_nonfinite)
            resume_rules.check_config(cfg.to_dict(), self.checkpoint["config"], rules, self.resume)
        threads = getattr(cfg, "threads", None)
        if threads:
            torch.set_num_threads(threads)
        self.out_dir = Path(cfg.out) if cfg.out else (Path(out) if out is not None else default_out_dir())
        cfg.out = str(self.out_dir)
        if self.is_main:
            make_out_dir(self.out_dir)
            log(f"writing to {self.out_dir}")

    @property
    def is_main(self) -> bool:
        return self.ctx.is_main

    def log(self, msg: str) -> None:
        """A progress line on stderr, from the main process only."""
        if self.is_main:
            log(msg)

    # -- seed and resume ------------------------------------------------------------------------
    def seed(self) -> None:
        """Seed torch's global generator with ``cfg.seed`` (right before the model is built)."""
        torch.manual_seed(self.cfg.seed)

    def restore_weights(self, model: nn.Module, model_name: str, model_args: dict) -> Optional[dict]:
        """Load the resumed checkpoint's weights into ``model`` (built as ``model_name(**model_args)``,
        which must be the checkpoint's model); return the checkpoint (None: a fresh run)."""
        if self.checkpoint is not None:
            resume_rules.check_model(model_name, model_args, self.checkpoint, self.resume)
            load_weights(model, self.checkpoint["state_dict"], source=self.resume)
        return self.checkpoint

    # -- files ----------------------------------------------------------------------------------
    def save_checkpoint(self, model: nn.Module, model_name: str, model_args: dict, **state: Any) -> None:
        """``checkpoint.pt``: the model, its constructor arguments, the config and ``state`` (for resume)."""
        if self.is_main:
            atomic_save(make_checkpoint(model, model_name, model_args, self.cfg.to_dict(), **state),
                        self.out_dir / CHECKPOINT)

    def write_history(self, history: list[dict]) -> None:
        """``log.csv``: one row per epoch (or accuracy-curve point)."""
        if self.is_main:
            write_csv(self.out_dir / HISTORY, history)

    def stamp(self, model_name: str, model_args: dict) -> dict[str, Any]:
        """The entries every metrics file ends with: what ran, on what, for how long."""
        return {
            "wall_time_s": time.time() - self.started,
            "dataset": getattr(self.cfg, "dataset", None),
            "model": model_name,
            "model_args": model_args,
            "config": self.cfg.to_dict(),
            "spikesmith_version": __version__,
            "torch_version": torch.__version__,
            "world_size": self.ctx.world_size,
        }

    def finish(self, metrics: dict, summary: str, report: Optional[Callable[[], Any]] = None,
               metrics_file: str = METRICS) -> dict:
        """Write the metrics, then the report (``cfg.report``), log ``summary`` and end the run.

        A failing report is logged and skipped: it must never lose a finished run.
        """
        if self.is_main:
            write_json(self.out_dir / metrics_file, metrics)
            if report is not None and getattr(self.cfg, "report", True):
                try:
                    path = report()
                    log(f"report written to {path}")
                except Exception as err:
                    log(f"report skipped ({type(err).__name__}: {err})")
            log(f"{summary}; results in {self.out_dir}")
        self.ctx.close()
        return metrics


def make_out_dir(path: Path) -> None:
    """Create the output folder (and its parents), or say in one line why it cannot be one."""
    if path.exists() and not path.is_dir():
        raise ValueError(f"out {str(path)!r} exists and is not a folder; give a folder for the run's files "
                         f"(it is created if missing)")
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise ValueError(f"out {str(path)!r}: cannot create the folder ({err.strerror or err}); "
                         f"give a folder you can write to") from None
    if not os.access(path, os.W_OK | os.X_OK):
        raise ValueError(f"out {str(path)!r}: the folder is not writable; give a folder you can write to")
