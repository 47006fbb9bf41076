"""Shared fixtures for the training tests."""

from __future__ import annotations

import pytest
from training_helpers import tiny_run


@pytest.fixture(scope="session")
def tiny_two_epochs(tmp_path_factory):
    """One uninterrupted 2-epoch tiny run, shared: (out_dir, metrics)."""
    out = tmp_path_factory.mktemp("tiny2")
    return out, tiny_run(out)
