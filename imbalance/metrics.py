"""Every metric of the study, defined once, with the names that training, TensorBoard,
results.json and the report all use.

Each evaluation (every epoch's test and validation passes, the final test) computes all of them
from the softmax scores over the whole split, as torchmetrics accumulates them batch by batch.
"""

from collections.abc import Mapping, Sequence

import torch
from torchmetrics import MetricCollection
from torchmetrics.classification import (
    MulticlassAccuracy,
    MulticlassAUROC,
    MulticlassCalibrationError,
    MulticlassF1Score,
    MulticlassPrecision,
    MulticlassRecall,
)
from torchmetrics.wrappers import ClasswiseWrapper

# Name -> how tables and figures label it. Higher is better for all but `ece` and `loss`.
SCALARS = {
    "acc": "accuracy",
    "balanced_acc": "balanced accuracy",
    "macro_f1": "macro F1",
    "g_mean": "G-mean",
    "auroc": "macro AUROC",
    "ece": "ECE",
}
PER_CLASS = ("precision", "recall", "f1")
LOSS = "loss"  # mean cross-entropy: a MeanMetric beside the collection
# Groups of classes whose mean recall is reported: step imbalance's two, the long tail's three.
GROUPS = ("minority", "majority", "many", "medium", "few")


def group_recall(group: str) -> str:
    """The name of a group's mean recall: `minority_recall`, `few_recall`..."""
    return f"{group}_recall"


def summary_names(groups: Sequence[str]) -> list[str]:
    """The final metrics that summarise a run whose classes fall in `groups` (in GROUPS
    order): SCALARS, then each group's recall."""
    return [*SCALARS, *(group_recall(group) for group in GROUPS if group in groups)]


def scalar_names(groups: Sequence[str]) -> list[str]:
    """Every single-number metric of such a run, the loss included: what `optimized_metric`
    may name."""
    return [*summary_names(groups), LOSS]


def in_order(values: Mapping[str, float], groups: Sequence[str]) -> dict[str, float]:
    """compute()'s values (which torchmetrics sorts by name) in the order of this module:
    summary_names, the loss, then per-class values metric by metric."""
    first = [name for name in scalar_names(groups) if name in values]
    rest = sorted(set(values) - set(first), key=lambda key: PER_CLASS.index(key.split("/")[0]))
    return {key: values[key] for key in [*first, *rest]}


class GeometricMeanRecall(MulticlassRecall):
    """G-mean: the geometric mean of the per-class recalls (Kubat and Matwin 1997). A single
    class with recall 0 makes it 0, however well the others do: that is its point."""

    def __init__(self, num_classes: int, **kwargs):
        super().__init__(num_classes, average=None, **kwargs)

    def compute(self) -> torch.Tensor:
        return super().compute().log().mean().exp()


class GroupRecall(MulticlassRecall):
    """The mean recall of a group of classes (given by index), e.g. the minority classes."""

    def __init__(self, num_classes: int, classes: Sequence[int], **kwargs):
        super().__init__(num_classes, average=None, **kwargs)
        self.classes = list(classes)

    def compute(self) -> torch.Tensor:
        return super().compute()[self.classes].mean()


def study_metrics(
    class_names: Sequence[str], groups: Mapping[str, Sequence[str]]
) -> MetricCollection:
    """The study's metrics of one split; update it with softmax scores [n, C] and labels [n].

    compute() gives the SCALARS, `<group>_recall` for each group of `groups` (group name -> class
    names) and `precision/<class>`, `recall/<class>`, `f1/<class>`. Sources: balanced accuracy is
    the mean per-class recall; macro AUROC is the mean of the one-vs-rest AUROCs of the classes
    (Buda et al. 2018's measure), exact (no thresholds binned); ECE is the expected calibration
    error over 15 equal-width confidence bins (Guo et al. 2017). A class never predicted has
    precision 0 and F1 0 (torchmetrics' zero_division=0).
    """
    n = len(class_names)
    index = {name: c for c, name in enumerate(class_names)}
    class_names = list(class_names)
    return MetricCollection(
        {
            "acc": MulticlassAccuracy(n, average="micro"),
            "balanced_acc": MulticlassAccuracy(n, average="macro"),
            "macro_f1": MulticlassF1Score(n, average="macro"),
            "g_mean": GeometricMeanRecall(n),
            "auroc": MulticlassAUROC(n, average="macro", thresholds=None),
            "ece": MulticlassCalibrationError(n, n_bins=15, norm="l1"),
            **{
                group_recall(group): GroupRecall(n, [index[name] for name in members])
                for group, members in groups.items()
            },
            "precision": ClasswiseWrapper(
                MulticlassPrecision(n, average=None), class_names, prefix="precision/"
            ),
            "recall": ClasswiseWrapper(
                MulticlassRecall(n, average=None), class_names, prefix="recall/"
            ),
            "f1": ClasswiseWrapper(MulticlassF1Score(n, average=None), class_names, prefix="f1/"),
        },
        compute_groups=False,
    )


def split_values(values: Mapping[str, float], class_names: Sequence[str]) -> dict:
    """compute()'s flat dict as results.json holds it: scalars by name, per-class metrics as
    `{metric: {class: value}}`."""
    per_class = {key for key in values if "/" in key}
    result = {key: value for key, value in values.items() if key not in per_class}
    for metric in PER_CLASS:
        result[metric] = {name: values[f"{metric}/{name}"] for name in class_names}
    return result
