"""Accuracy against T: convert an ANN with several methods and measure each at several T.

A conversion that does not depend on T (:func:`~spikesmith.conversion.steps.depends_on_T`: no MSE
thresholds, V_th/(2T) offset, calibration or bias removal) is converted and run once for the largest T
and read at every T from that run (``accuracy_over_time``); the others are converted for each T.

>>> for done in sweep(ann, x_calib, x_test, y_test, steps=[4, 16], variants=variants(["max", "light"])):
...     print(done.label, done.row["accuracy"])        # done.snn: the network at the largest T
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Callable, Iterator, Optional, Sequence

from torch import Tensor, nn

from .convert import convert, resolve_options
from .evaluate import accuracy_over_time
from .network import ConvertedSNN
from .steps import depends_on_T


@dataclass(frozen=True)
class Variant:
    """One conversion of the sweep: a method and the options given to it."""

    method: str
    options: dict

    @property
    def resolved(self) -> dict:
        return resolve_options(self.method, self.options)

    @property
    def label(self) -> str:
        """How tables and plots name it: the method, with " (no bias)" when the biases are removed."""
        return self.method + ("" if self.resolved["bias"] else " (no bias)")

    @property
    def file_stem(self) -> str:
        """``converted_<stem>.pt``: the method, with ``_nobias`` when the biases are removed."""
        return self.method + ("" if self.resolved["bias"] else "_nobias")


@dataclass
class Converted:
    """A variant done: its row of results and the network converted at the largest T."""

    variant: Variant
    snn: ConvertedSNN
    row: dict

    @property
    def label(self) -> str:
        return self.variant.label


def variants(methods: Sequence[str], options: Optional[dict] = None, no_bias: bool = False,
             weights: bool = False) -> list[Variant]:
    """Each method with ``options``; then, with ``no_bias``, each again without biases.

    ``weights`` adds weight calibration to the ``advanced`` method. Every variant is checked here,
    before anything runs: a bad method or option fails at once.
    """
    options = dict(options or {})
    out = [Variant(m, dict(options)) for m in methods]
    if no_bias:
        out += [Variant(m, {**options, "bias": False}) for m in methods]
    out = [Variant(v.method, {**v.options, "calibration": ("bias", "potential", "weights")})
           if v.method == "advanced" and weights else v for v in out]
    for v in out:
        v.resolved  # noqa: B018  (fail early on a bad method or option)
    return out


def sweep(ann: nn.Module, x_calib: Tensor, x_test: Tensor, y_test: Tensor, steps: Sequence[int],
          variants: Sequence[Variant], batch_size: Optional[int] = None, source: Optional[dict] = None,
          log: Optional[Callable[[str], Any]] = None) -> Iterator[Converted]:
    """Convert ``ann`` with every variant; yield each as it is done, measured at every T of ``steps``.

    A row holds ``method``, ``options`` (as given), ``accuracy`` and ``calibration_s`` (keyed by
    ``str(T)``), ``one_run`` (True: converted once for the largest T and read at every T) and, for
    one-run variants, ``eval_s``.
    """
    steps = sorted(set(steps))
    say = log or (lambda msg: None)
    for variant in variants:
        opts = variant.options
        one_run = not depends_on_T(variant.resolved)
        row = {"method": variant.method,
               "options": {k: (list(v) if isinstance(v, tuple) else v) for k, v in opts.items()},
               "accuracy": {}, "calibration_s": {}, "one_run": one_run}
        snn = None
        if one_run:
            t0 = time.perf_counter()
            snn = convert(ann, x_calib, T=steps[-1], method=variant.method, source=source, **opts)
            row["calibration_s"][str(steps[-1])] = time.perf_counter() - t0
            accs = accuracy_over_time(snn, x_test, y_test, steps, batch_size)
            row["accuracy"] = {str(t): a for t, a in accs.items()}
            row["eval_s"] = time.perf_counter() - t0
        else:
            for T in steps:
                t0 = time.perf_counter()
                snn = convert(ann, x_calib, T=T, method=variant.method, source=source, **opts)
                row["calibration_s"][str(T)] = time.perf_counter() - t0
                row["accuracy"][str(T)] = accuracy_over_time(snn, x_test, y_test, [T], batch_size)[T]
                say(f"{variant.label} T={T}: {100 * row['accuracy'][str(T)]:.2f}% "
                    f"(conversion {row['calibration_s'][str(T)]:.1f} s)")
        say(f"{variant.label}: " + ", ".join(f"T={t} {100 * row['accuracy'][str(t)]:.2f}%" for t in steps))
        yield Converted(variant, snn, row)


def table(results: dict, ann_accuracy: float, steps: Sequence[int]) -> list[str]:
    """The sweep as text lines: a row per variant (accuracy in % at each T, the longest conversion)."""
    width = max(len(k) for k in results) if results else 6
    lines = [f"{'method':<{width}}  " + "  ".join(f"{'T=' + str(t):>7}" for t in steps) + "   conversion (s)",
             f"{'ANN':<{width}}  " + "  ".join(f"{100 * ann_accuracy:7.2f}" for _ in steps)]
    for label, row in results.items():
        secs = max(row["calibration_s"].values())
        lines.append(f"{label:<{width}}  " + "  ".join(f"{100 * row['accuracy'][str(t)]:7.2f}" for t in steps)
                     + f"   {secs:.1f}")
    return lines
