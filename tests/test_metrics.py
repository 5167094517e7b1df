"""Every metric of the study against scikit-learn or a hand computation."""

import math

import numpy as np
import pytest
import torch
from sklearn.metrics import (
    balanced_accuracy_score,
    f1_score,
    precision_score,
    recall_score,
    roc_auc_score,
)

from imbalance.metrics import SCALARS, scalar_names, split_values, study_metrics

CLASSES = ["a", "b", "c", "d", "e"]
GROUPS = {"majority": ["a", "b"], "minority": ["c", "d", "e"]}


def computed(scores: torch.Tensor, labels: torch.Tensor, batches: int = 3) -> dict:
    """The study's metrics fed batch by batch, as an epoch feeds them."""
    metrics = study_metrics(CLASSES, GROUPS)
    for part_scores, part_labels in zip(scores.chunk(batches), labels.chunk(batches), strict=True):
        metrics.update(part_scores, part_labels)
    values = {key: value.item() for key, value in metrics.compute().items()}
    return split_values(values, CLASSES)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_metrics_equal_scikit_learns_on_random_predictions(seed):
    generator = torch.Generator().manual_seed(seed)
    labels = torch.randint(0, 5, (200,), generator=generator)
    logits = torch.randn(200, 5, generator=generator) + 1.5 * torch.nn.functional.one_hot(labels)
    scores = logits.softmax(dim=1)
    values = computed(scores, labels)
    true, predicted, probabilities = labels.numpy(), scores.argmax(1).numpy(), scores.numpy()

    assert values["acc"] == pytest.approx(np.mean(true == predicted))
    assert values["balanced_acc"] == pytest.approx(balanced_accuracy_score(true, predicted))
    assert values["macro_f1"] == pytest.approx(f1_score(true, predicted, average="macro"))
    auroc = roc_auc_score(true, probabilities, multi_class="ovr", average="macro")
    assert values["auroc"] == pytest.approx(auroc, abs=1e-6)
    recall = recall_score(true, predicted, average=None)
    assert values["g_mean"] == pytest.approx(np.prod(recall) ** (1 / 5), rel=1e-5)
    assert values["majority_recall"] == pytest.approx(recall[:2].mean())
    assert values["minority_recall"] == pytest.approx(recall[2:].mean())
    per_class = {
        "precision": precision_score(true, predicted, average=None, zero_division=0),
        "recall": recall,
        "f1": f1_score(true, predicted, average=None, zero_division=0),
    }
    for metric, expected in per_class.items():
        assert values[metric] == pytest.approx(dict(zip(CLASSES, expected, strict=True)))


def test_g_mean_is_zero_when_one_class_is_never_recalled():
    # Classes a, b, c, d each recalled half the time; e never.
    labels = torch.tensor([0, 0, 1, 1, 2, 2, 3, 3, 4, 4])
    predicted = torch.tensor([0, 1, 1, 0, 2, 0, 3, 0, 0, 0])
    values = computed(torch.nn.functional.one_hot(predicted, 5).float(), labels, batches=2)
    assert values["balanced_acc"] == pytest.approx(0.4)  # (4 * 0.5 + 0) / 5
    assert values["g_mean"] == 0.0


def test_expected_calibration_error_by_hand():
    # Four predictions, confidences 0.9, 0.9, 0.6, 0.3; the first and third right. With 15 bins
    # of width 1/15, 0.9 falls in bin 13, 0.6 in bin 8, 0.3 in bin 4:
    # ECE = 2/4 * |0.9 - 1/2| + 1/4 * |0.6 - 1| + 1/4 * |0.3 - 0| = 0.2 + 0.1 + 0.075.
    scores = torch.tensor(
        [
            [0.9, 0.025, 0.025, 0.025, 0.025],
            [0.025, 0.025, 0.9, 0.025, 0.025],
            [0.1, 0.6, 0.1, 0.1, 0.1],
            [0.3, 0.175, 0.175, 0.175, 0.175],
        ]
    )
    labels = torch.tensor([0, 1, 1, 4])
    assert computed(scores, labels, batches=2)["ece"] == pytest.approx(0.375, abs=1e-6)


def test_the_names_every_consumer_uses():
    assert list(SCALARS) == ["acc", "balanced_acc", "macro_f1", "g_mean", "auroc", "ece"]
    assert scalar_names(["many", "medium", "few"])[-4:] == [
        "many_recall",
        "medium_recall",
        "few_recall",
        "loss",
    ]
    values = computed(torch.eye(5).repeat(2, 1), torch.arange(5).repeat(2), batches=2)
    assert set(values) == {*SCALARS, "majority_recall", "minority_recall", "precision"} | {
        "recall",
        "f1",
    }
    assert all(math.isclose(values[name], 1.0) for name in ("acc", "g_mean", "auroc"))


def test_a_class_without_images_in_the_split_is_undefined_and_left_out_of_averages():
    # Class e has no image here; one image of class d is predicted as e.
    labels = torch.tensor([0, 0, 1, 1, 2, 2, 3, 3])
    predicted = torch.tensor([0, 0, 1, 0, 2, 2, 3, 4])
    scores = torch.nn.functional.one_hot(predicted, 5).float() * 0.9 + 0.02
    values = computed(scores, labels, batches=2)
    assert math.isnan(values["recall"]["e"]) and math.isnan(values["f1"]["e"])
    assert values["precision"]["e"] == 0.0  # predicted once, wrongly: a defined 0
    true, guess = labels.numpy(), predicted.numpy()
    with pytest.warns(UserWarning, match="y_pred contains classes not in y_true"):
        expected = balanced_accuracy_score(true, guess)
    assert values["balanced_acc"] == pytest.approx(expected)  # (1 + 0.5 + 1 + 0.5) / 4
    assert values["macro_f1"] == pytest.approx(
        np.mean(f1_score(true, guess, labels=[0, 1, 2, 3], average=None))
    )
    assert values["g_mean"] == pytest.approx((1 * 0.5 * 1 * 0.5) ** (1 / 4))
    assert values["minority_recall"] == pytest.approx(0.75)  # c and d; e has none
    present = roc_auc_score(
        np.eye(5)[true][:, :4], scores.numpy()[:, :4], average=None
    )  # one-vs-rest of the classes present
    assert values["auroc"] == pytest.approx(present.mean(), abs=1e-6)


def test_a_group_without_images_is_undefined():
    values = computed(torch.eye(5)[:2].repeat(2, 1), torch.tensor([0, 1, 0, 1]), batches=2)
    assert math.isnan(values["minority_recall"]) and values["majority_recall"] == 1.0
