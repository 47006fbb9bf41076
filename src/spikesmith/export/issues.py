"""An ``Issue``: one reason a layer cannot be deployed exactly on a target, with its fix and severity.

Severities:

- ``'error'``: the exporter refuses (an unsupported layer or neuron, step hooks, ...);
- ``'approximate'``: the exporter refuses unless ``approximate=True``, which changes the model to what
  the target runs and reports the accuracy change (see ``export.approximate``);
- ``'precision'``: exported as it is but not bit-exact (Loihi's 8-bit weights, 12-bit decays).
"""

from __future__ import annotations

from dataclasses import dataclass

SEVERITIES = ("error", "approximate", "precision")


@dataclass
class Issue:
    """One reason a layer cannot be deployed exactly."""

    layer: str
    problem: str
    fix: str
    severity: str = "error"

    def __str__(self) -> str:
        return f"[{self.severity}] {self.layer}: {self.problem}. Fix: {self.fix}"


def blocking(issues: list[Issue], approximate: bool) -> list[Issue]:
    """The issues that stop an export (with or without ``approximate``)."""
    stop = {"error"} if approximate else {"error", "approximate"}
    return [i for i in issues if i.severity in stop]


def raise_for(issues: list[Issue], target: str, approximate: bool) -> None:
    """Raise ValueError listing every issue that stops the export to ``target``; nothing when none does."""
    bad = blocking(issues, approximate)
    if not bad:
        return
    hint = "" if approximate or not any(i.severity == "approximate" for i in bad) else \
        "\n(approximate=True handles the issues marked [approximate] and reports the accuracy change)"
    raise ValueError(f"the model cannot be exported to {target} exactly:\n" + "\n".join(f"  {i}" for i in bad) + hint)
