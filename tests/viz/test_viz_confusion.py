"""confusion_matrix counted by hand; per-class accuracy; bad inputs named."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from spikesmith import viz

# 6 samples, 3 classes (rows = true class, columns = predicted):
#   true 0: predicted 0, 0, 2   -> row [2, 0, 1]
#   true 1: predicted 1         -> row [0, 1, 0]
#   true 2: predicted 1, 2      -> row [0, 1, 1]
TARGET = [0, 0, 0, 1, 2, 2]
PRED = [0, 2, 0, 1, 1, 2]
EXPECTED = np.array([[2, 0, 1], [0, 1, 0], [0, 1, 1]])


def test_counts_by_hand():
    cm = viz.confusion_matrix(PRED, TARGET, num_classes=3)
    assert cm.dtype == np.int64
    np.testing.assert_array_equal(cm, EXPECTED)


def test_rows_are_true_class_not_predicted():
    # one sample of class 0 predicted as class 1 lands in row 0, column 1
    np.testing.assert_array_equal(viz.confusion_matrix([1], [0], 2), [[0, 1], [0, 0]])


def test_tensors_scores_and_unseen_classes():
    scores = torch.zeros(6, 4)
    scores[torch.arange(6), torch.tensor(PRED)] = 1.0  # argmax gives PRED
    cm = viz.confusion_matrix(scores, torch.tensor(TARGET), num_classes=4)
    assert cm.shape == (4, 4)
    np.testing.assert_array_equal(cm[:3, :3], EXPECTED)
    assert cm[3].sum() == 0 and cm[:, 3].sum() == 0


def test_per_class_accuracy():
    acc = viz.per_class_accuracy(np.pad(EXPECTED, ((0, 1), (0, 1))))
    np.testing.assert_allclose(acc[:3], [2 / 3, 1.0, 0.5])
    assert np.isnan(acc[3])  # a class with no samples


@pytest.mark.parametrize(
    "pred, target, num_classes, match",
    [
        ([0, 1], [0], 2, "same length"),
        ([0, 3], [0, 1], 3, r"pred must be class indices in \[0, 3\), got \[3\]"),
        ([0, 1], [-1, 1], 3, "target must be class indices"),
        ([0.5, 1], [0, 1], 2, "pred must hold integer"),
        ([[0, 1, 2]], [0], 2, r"pred as scores must be N x num_classes \(2\)"),
        ([0], [0], 0, "num_classes"),
        (np.zeros((1, 1, 1)), [0], 1, "pred must be 1-D"),
    ],
)
def test_bad_input(pred, target, num_classes, match):
    with pytest.raises(ValueError, match=match):
        viz.confusion_matrix(pred, target, num_classes)


@pytest.mark.parametrize(
    "cm, names, match",
    [
        (np.zeros((2, 3)), None, "cm must be a square"),
        (np.array([[1, -1], [0, 1]]), None, "non-negative integer counts"),
        (EXPECTED, ["a", "b"], "class_names must have 3 entries"),
        (EXPECTED, "abc", "class_names must be a sequence"),
    ],
)
def test_plot_bad_input(cm, names, match, tmp_path):
    with pytest.raises(ValueError, match=match):
        viz.plot_confusion_matrix(cm, tmp_path / "cm.png", class_names=names)
