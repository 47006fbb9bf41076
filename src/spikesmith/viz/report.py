"""A training report: the figures of this package plus ``README.md`` with a summary table.

``write_report(out_dir, ...)`` writes into ``out_dir/report/``:

    README.md                   summary table, mean firing rate per layer, the figures linked
    training_curves.png         from ``history``
    firing_rates.png            from ``firing_rates`` (+ firing_rate_histograms.png for arrays)
    confusion_matrix.png        from ``confusion``
    spike_raster.png            from ``raster``            (optional)
    membrane_traces.png         from ``traces``            (optional)
    class_patterns.png          from ``patterns``          (optional)

Every piece is optional: a missing one is left out, and one that fails to draw (bad data,
matplotlib not installed) is listed under "Skipped" in the README with the reason, with a
warning, so a long training run never loses its report to one figure.

>>> write_report("runs/fmnist", history=hist, firing_rates=rates, confusion=cm,    # doctest: +SKIP
...              class_names=names, summary={"dataset": "fashion-mnist", "model": "mlp",
...                                          "test_accuracy": 0.881, "wall_time_s": 192.4})
PosixPath('runs/fmnist/report/README.md')
"""

from __future__ import annotations

import contextlib
import math
import os
import warnings
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np

from ..atomic import write_text
from ._common import to_numpy
from .confusion import check_confusion, plot_confusion_matrix
from .curves import history_series, plot_training_curves
from .patterns import class_patterns_from_model, plot_class_patterns
from .raster import plot_spike_raster
from .rates import RATE_LABEL, layer_rates, plot_firing_rate_histograms, plot_firing_rates
from .traces import plot_membrane_traces

LABELS = {
    "dataset": "Dataset",
    "model": "Model",
    "test_accuracy": "Test accuracy",
    "epochs": "Epochs",
    "wall_time_s": "Wall time",
    "wall_time": "Wall time",
}


def _md(value: Any) -> str:
    """A value as one Markdown table cell."""
    return str(value).replace("|", "\\|").replace("\r", " ").replace("\n", " ")


def format_duration(seconds: float) -> str:
    """``12.3 s``, ``3 min 12 s``, ``1 h 02 min``."""
    s = float(seconds)
    if s < 60:
        return f"{s:.1f} s"
    if s < 3600:
        return f"{int(s // 60)} min {int(round(s % 60)):02d} s"
    return f"{int(s // 3600)} h {int(round(s % 3600 / 60)):02d} min"


def _format_value(key: str, value: Any) -> str:
    if hasattr(value, "item") and getattr(value, "ndim", 1) == 0:
        value = value.item()
    if isinstance(value, bool) or not isinstance(value, (int, float, np.number)):
        return _md(value)
    v = float(value)
    if key.startswith("wall_time") and math.isfinite(v):
        return format_duration(v)
    if "accuracy" in key and 0.0 <= v <= 1.0:
        return f"{v * 100:.2f} %"
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    return f"{v:.4g}"


def _summary_rows(summary: Mapping[str, Any], history: Any, confusion: Any) -> list[tuple[str, str]]:
    summary = dict(summary)
    series = None  # history as {key: (epochs, values)}, None when missing or malformed
    if _given(history):
        with contextlib.suppress(ValueError):
            series = history_series(history)
    if summary.get("test_accuracy") is None:  # fall back on what the other pieces say
        if series and "test_accuracy" in series:
            summary["test_accuracy"] = series["test_accuracy"][1][-1]
        elif confusion is not None:
            with contextlib.suppress(ValueError):
                cm = check_confusion(confusion, "confusion")
                if cm.sum():
                    summary["test_accuracy"] = float(np.trace(cm) / cm.sum())
    if summary.get("epochs") is None and series is not None:
        summary["epochs"] = len(history)
    keys = [k for k in LABELS if summary.get(k) is not None]
    keys += [k for k in summary if k not in LABELS and summary[k] is not None]
    return [
        (LABELS.get(k, str(k).replace("_", " ").capitalize()), _format_value(str(k), summary[k]))
        for k in keys
    ]


def _given(piece: Any) -> bool:
    """False for None and for an empty list / tuple / dict (nothing to draw)."""
    if piece is None:
        return False
    return not (isinstance(piece, (list, tuple, Mapping)) and len(piece) == 0)


def _square_shape(pixels: int) -> tuple[int, int]:
    side = math.isqrt(pixels)
    if side * side != pixels:
        raise ValueError(f"image_shape is needed: {pixels} pixels per pattern is not a square image")
    return side, side


def write_report(
    out_dir: str | os.PathLike,
    *,
    history: Sequence[Mapping[str, Any]] | None = None,
    firing_rates: Mapping[str, Any] | None = None,
    confusion: Any = None,
    class_names: Sequence[str] | None = None,
    raster: Any = None,
    traces: Any = None,
    patterns: Any = None,
    image_shape: Sequence[int] | None = None,
    summary: Mapping[str, Any] | None = None,
    extra_figures: Sequence[tuple[str, str, Callable[[Path], Any]]] = (),
    extra_lines: Sequence[str] = (),
) -> Path:
    """Draw the given pieces into ``out_dir/report/`` and write its ``README.md``; returns the README path.

    - ``history``: per-epoch dicts (see :func:`plot_training_curves`).
    - ``firing_rates``: ``{layer: mean rate or per-neuron rates}``.
    - ``confusion``: ``num_classes x num_classes`` counts (:func:`confusion_matrix`).
    - ``class_names``: names for the confusion matrix and the patterns.
    - ``raster``: ``T x N`` spikes or ``{layer: T x N}`` for one sample.
    - ``traces``: ``T x N`` membrane potentials, or a dict with ``v`` and optionally ``spikes``,
      ``threshold``, ``neurons`` (the arguments of :func:`plot_membrane_traces`).
    - ``patterns``: ``num_classes x pixels`` array, or a fully connected ``nn.Module``
      (:func:`class_patterns_from_model`); ``image_shape`` defaults to a square image.
    - ``summary``: ``{dataset, model, test_accuracy (fraction), epochs, wall_time_s, ...}``; test
      accuracy and epochs fall back on ``history`` / ``confusion`` when missing. Other keys are
      listed as they are.
    - ``extra_figures``: ``(heading, file name, draw(path))`` of a model family's own figures (the
      liquid state machine's, a DBN's receptive fields), drawn last, each skipped alone if it fails;
      ``extra_lines``: Markdown lines after the summary.
    """
    if summary is not None and not isinstance(summary, Mapping):
        raise ValueError(f"summary must be a dict or None, got {type(summary).__name__}")
    report_dir = Path(out_dir) / "report"
    report_dir.mkdir(parents=True, exist_ok=True)
    figures: list[tuple[str, str]] = []  # (heading, file name)
    skipped: list[str] = []

    def draw(heading: str, file_name: str, fn: Callable[[Path], Any]) -> None:
        try:
            fn(report_dir / file_name)
        except Exception as exc:  # one bad figure must not cost the rest of the report
            reason = f"{type(exc).__name__}: {exc}"
            skipped.append(f"{heading}: {reason}")
            warnings.warn(f"write_report skipped {heading!r}: {reason}", RuntimeWarning, stacklevel=3)
        else:
            figures.append((heading, file_name))

    if _given(history):
        draw("Training curves", "training_curves.png", lambda p: plot_training_curves(history, p))
    if _given(firing_rates):
        draw("Mean firing rate per layer", "firing_rates.png", lambda p: plot_firing_rates(firing_rates, p))
        per_neuron = False
        with contextlib.suppress(Exception):
            per_neuron = any(v.size > 1 for v in layer_rates(firing_rates, "firing_rates").values())
        if per_neuron:
            draw("Per-neuron firing rates", "firing_rate_histograms.png",
                 lambda p: plot_firing_rate_histograms(
                     {k: v for k, v in layer_rates(firing_rates).items() if v.size > 1}, p))
    if confusion is not None:
        draw("Confusion matrix", "confusion_matrix.png",
             lambda p: plot_confusion_matrix(confusion, p, class_names=class_names))
    if raster is not None:
        draw("Spike raster (one sample)", "spike_raster.png",
             lambda p: plot_spike_raster(raster, p, title="Spike raster (one sample)"))
    if traces is not None:
        def _traces(p: Path) -> None:
            if isinstance(traces, Mapping):
                if "v" not in traces:
                    keys = sorted(map(str, traces))
                    raise ValueError(f"traces as a dict needs a 'v' entry, got keys {keys}")
                plot_membrane_traces(path=p, **dict(traces))
            else:
                plot_membrane_traces(traces, p)
        draw("Membrane potential", "membrane_traces.png", _traces)
    if patterns is not None:
        def _patterns(p: Path) -> None:
            if hasattr(patterns, "named_modules"):
                if image_shape is None:
                    raise ValueError("image_shape is needed to get class patterns from a model")
                weight = class_patterns_from_model(patterns, image_shape)
            else:
                weight = patterns
            shape = image_shape
            if shape is None:
                w = to_numpy(weight, "patterns")
                if w.ndim != 2:
                    raise ValueError(f"patterns must be num_classes x pixels, got shape {list(w.shape)}")
                shape = _square_shape(int(w.shape[1]))
            plot_class_patterns(weight, shape, p, class_names=class_names)
        draw("Class patterns", "class_patterns.png", _patterns)
    for heading, file_name, fn in extra_figures:
        draw(heading, file_name, fn)

    lines = ["# Training report", "",
             f"Written {datetime.now(timezone.utc).strftime('%Y-%m-%d %H:%M UTC')}.", ""]
    rows = _summary_rows(summary or {}, history, confusion)
    if rows:
        lines += ["## Summary", "", "| | |", "|---|---|"]
        lines += [f"| {_md(k)} | {v} |" for k, v in rows]
        lines.append("")
    lines += list(extra_lines) + ([""] if extra_lines else [])
    if _given(firing_rates):
        try:
            means = {k: float(v.mean()) for k, v in layer_rates(firing_rates, "firing_rates").items()}
        except Exception:  # the firing rate figure above is listed as skipped with the reason
            pass
        else:
            lines += ["## Mean firing rate per layer", "", f"| Layer | Mean {RATE_LABEL} |", "|---|---:|"]
            lines += [f"| {_md(k)} | {m:.4g} |" for k, m in means.items()]
            lines.append("")
    if figures:
        lines += ["## Figures", ""]
        for heading, file_name in figures:
            lines += [f"### {heading}", "", f"![{heading}]({file_name})", ""]
    if skipped:
        lines += ["## Skipped", ""] + [f"- {_md(s)}" for s in skipped] + [""]
    readme = report_dir / "README.md"
    write_text(readme, "\n".join(lines))
    return readme
