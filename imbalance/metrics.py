"""Every metric of the study, defined once, with the names that training, TensorBoard,
results.json and the report all use.

Each evaluation (every epoch's test and validation passes, the final test) computes all of them
from the softmax scores over the whole split, as torchmetrics accumulates them batch by batch.
"""

import warnings
from collections.abc import Mapping, Sequence

import torch
from torchmetrics import MetricCollection
from torchmetrics.classification import (
    MulticlassAUROC,
    MulticlassCalibrationError,
    MulticlassStatScores,
)
from torchmetrics.utilities import dim_zero_cat

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
LOWER_IS_BETTER = ("ece", LOSS)
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


class ClassRates(MulticlassStatScores):
    """Accuracy, per-class precision, recall and F1, and the averages of the study, from one
    count per class of true and false positives and negatives (accuracy: the true positives
    over all images).

    A class with no image in the split has no recall and no F1 (NaN; null in results.json), and
    every average leaves it out, as scikit-learn's balanced accuracy does: balanced accuracy is
    the mean recall of the classes present, macro F1 their mean F1 (F1 = 2TP / (2TP + FP + FN)),
    G-mean the geometric mean of their recalls (Kubat and Matwin 1997: one class with recall 0
    makes it 0, however well the others do), `<group>_recall` the mean recall of a group's
    classes present. A class never predicted has precision 0 (torchmetrics' convention), or no
    precision when it is not in the split either.
    """

    def __init__(self, class_names: Sequence[str], groups: Mapping[str, Sequence[str]], **kwargs):
        super().__init__(len(class_names), average=None, **kwargs)
        self.class_names = list(class_names)
        index = {name: c for c, name in enumerate(class_names)}
        self.groups = {group: [index[name] for name in names] for group, names in groups.items()}

    def compute(self) -> dict[str, torch.Tensor]:
        # float32 (counts are exact up to 2^24): float64 does not exist on every GPU (Apple's).
        tp, fp, _, fn, support = super().compute().float().unbind(dim=1)
        nan = torch.tensor(float("nan"), device=tp.device)
        present, predicted = support > 0, tp + fp
        recall = torch.where(present, tp / support.clamp_min(1), nan)
        precision = torch.where(predicted > 0, tp / predicted.clamp_min(1), 0.0)
        precision = torch.where(present | (predicted > 0), precision, nan)
        f1 = torch.where(present, 2 * tp / (2 * tp + fp + fn).clamp_min(1), nan)
        values = {
            "acc": tp.sum() / support.sum(),
            "balanced_acc": recall.nanmean(),
            "macro_f1": f1.nanmean(),
            "g_mean": recall[present].log().mean().exp(),
            **{group_recall(g): recall[members].nanmean() for g, members in self.groups.items()},
        }
        for metric, per_class in (("precision", precision), ("recall", recall), ("f1", f1)):
            values |= {
                f"{metric}/{name}": value
                for name, value in zip(self.class_names, per_class, strict=True)
            }
        return values


class PresentClassesAUROC(MulticlassAUROC):
    """Macro one-vs-rest AUROC over the classes present in the split (a class without images
    has no AUROC; torchmetrics would count it as 0)."""

    def __init__(self, num_classes: int, **kwargs):
        super().__init__(num_classes, average="none", thresholds=None, **kwargs)

    def compute(self) -> torch.Tensor:
        with warnings.catch_warnings():  # about absent classes, which are left out below
            warnings.filterwarnings("ignore", "No positive samples in targets")
            per_class = super().compute()
        present = torch.bincount(dim_zero_cat(self.target).long(), minlength=self.num_classes) > 0
        return per_class[present].mean()


def study_metrics(
    class_names: Sequence[str], groups: Mapping[str, Sequence[str]]
) -> MetricCollection:
    """The study's metrics of one split; update it with softmax scores [n, C] and labels [n].

    compute() gives the SCALARS, `<group>_recall` for each group of `groups` (group name -> class
    names) and `precision/<class>`, `recall/<class>`, `f1/<class>` (`ClassRates`: a class with
    no image in the split is NaN and left out of every average). Macro AUROC is the mean of the
    one-vs-rest AUROCs of the classes present (Buda et al. 2018's measure), exact (no thresholds
    binned); ECE is the expected calibration error over 15 equal-width confidence bins (Guo et
    al. 2017).
    """
    n = len(class_names)
    fast = {"validate_args": False}  # inputs are the module's own: no checks, no host syncs
    return MetricCollection(
        {
            "rates": ClassRates(class_names, groups, **fast),
            "auroc": PresentClassesAUROC(n, **fast),
            "ece": MulticlassCalibrationError(n, n_bins=15, norm="l1", **fast),
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
