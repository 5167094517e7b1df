"""The training split's class counts, as every remedy part reads them."""

from collections.abc import Mapping

import torch

from imbalance.errors import ConfigError


def count_tensor(class_counts: Mapping[str, int], needed_by: str) -> torch.Tensor:
    """Training images per class, float [C] in label order (the mapping's order).

    Raises ConfigError naming the first class with no training image: `needed_by` (a remedy
    part) divides by the counts or takes their logarithm, and a class it never saw has none.
    """
    empty = [name for name, count in class_counts.items() if count < 1]
    if empty:
        raise ConfigError(
            f"{needed_by} needs training images of every class, and class '{empty[0]}' has "
            f"none; use remedy=none, or a larger data.per_class or data.val_fraction=0"
        )
    return torch.tensor(list(class_counts.values()), dtype=torch.float64)


def priors(class_counts: Mapping[str, int], needed_by: str) -> torch.Tensor:
    """The training split's class frequencies n_c / n, float32 [C]."""
    counts = count_tensor(class_counts, needed_by)
    return (counts / counts.sum()).float()
