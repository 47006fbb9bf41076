"""Process-wide switches: the debug check and the forgotten-reset check.

The debug check is off by default so the fast path pays nothing. Turn it on with
``spikesmith.set_debug(True)`` or by setting the environment variable ``SPIKESMITH_DEBUG=1``
before importing spikesmith.

The forgotten-reset check (``spikesmith.reset_check``) is ``'warn'`` by default; ``'error'`` makes
its warnings errors and ``'off'`` skips it. Set it with ``functional.set_reset_check(mode)`` or
``SPIKESMITH_RESET_CHECK=warn|error|off`` before import; ``SPIKESMITH_RESET_CHECK_STEPS`` sets how
many steps a state may carry an autograd graph before the check calls it a leak.
"""

from __future__ import annotations

import os

_DEBUG = os.environ.get("SPIKESMITH_DEBUG", "").strip().lower() in {"1", "true", "yes", "on"}

RESET_CHECK_MODES = ("warn", "error", "off")
DEFAULT_RESET_CHECK = "warn"
DEFAULT_MAX_GRAPH_STEPS = 2000


def set_debug(enabled: bool = True) -> None:
    """Check every neuron input for NaN/Inf (and name the layer) when ``enabled``."""
    global _DEBUG
    _DEBUG = bool(enabled)


def is_debug() -> bool:
    """Whether the NaN/Inf check of neuron inputs is on."""
    return _DEBUG


def _check_mode(mode, source: str) -> str:
    if mode not in RESET_CHECK_MODES:
        raise ValueError(f"{source} must be one of {', '.join(map(repr, RESET_CHECK_MODES))}, got {mode!r}; "
                         f"the default is {DEFAULT_RESET_CHECK!r}")
    return mode


def _check_steps(steps, source: str) -> int:
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 1:
        raise ValueError(f"{source} must be a positive int, got {steps!r}; the default is {DEFAULT_MAX_GRAPH_STEPS}")
    return steps


def _steps_from_env() -> int:
    text = os.environ.get("SPIKESMITH_RESET_CHECK_STEPS", "").strip()
    if not text:
        return DEFAULT_MAX_GRAPH_STEPS
    try:
        value = int(text)
    except ValueError:
        value = text
    return _check_steps(value, "SPIKESMITH_RESET_CHECK_STEPS")


_RESET_CHECK = (
    _check_mode(os.environ.get("SPIKESMITH_RESET_CHECK", "").strip().lower() or DEFAULT_RESET_CHECK,
                "SPIKESMITH_RESET_CHECK"),
    _steps_from_env(),
)


def set_reset_check(mode=None, max_graph_steps=None) -> None:
    """Set the forgotten-reset check's mode and step limit (None keeps the current value)."""
    global _RESET_CHECK
    current_mode, current_steps = _RESET_CHECK
    _RESET_CHECK = (
        current_mode if mode is None else _check_mode(mode, "set_reset_check: mode"),
        current_steps if max_graph_steps is None else _check_steps(max_graph_steps, "set_reset_check: max_graph_steps"),
    )


def reset_check() -> tuple[str, int]:
    """``(mode, max_graph_steps)`` of the forgotten-reset check."""
    return _RESET_CHECK
