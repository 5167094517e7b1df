"""Step imbalance (Buda et al. 2017) as plain arithmetic over labels: no images, no torch.

A data set of N classes, k = mu * N of them minority, b images per class at 1:1. The total N * b
stays fixed whatever the ratio rho between a majority and a minority class's size:

    n_min = round(N * b / (k + (N - k) * rho))     half up, at least 1
    n_maj = round(rho * n_min)                     so the ratio is exact for integer rho

For non-integer rho the total can drift from N * b by rounding; the ratio is the study's axis, so
it is the number kept honest.
"""

import math
from collections.abc import Sequence

import numpy as np

from imbalance.errors import ConfigError


def round_half_up(x: float) -> int:
    return math.floor(x + 0.5)


def minority_count(num_classes: int, mu: float) -> int:
    """k = mu * N, rounded to the nearest integer; at least one class in each group."""
    if not 0 < mu < 1:
        raise ConfigError(f"mu={mu} is outside (0, 1): it is the fraction of minority classes")
    k = round_half_up(mu * num_classes)
    if not 1 <= k <= num_classes - 1:
        raise ConfigError(
            f"mu={mu} gives {k} minority classes out of {num_classes}; "
            f"choose mu so that 1 <= mu * {num_classes} <= {num_classes - 1}"
        )
    return k


def step_sizes(is_minority: Sequence[bool], per_class: int, ratio: float) -> list[int]:
    """Images per class under step imbalance, the total kept at len(is_minority) * per_class."""
    if ratio < 1:
        raise ConfigError(
            f"ratio={ratio} is below 1: it is the size of a majority class over a minority class"
        )
    if per_class < 1:
        raise ConfigError(f"data.per_class={per_class} must be at least 1")
    n, k = len(is_minority), sum(is_minority)
    n_min = max(1, round_half_up(n * per_class / (k + (n - k) * ratio)))
    n_maj = round_half_up(ratio * n_min)
    return [n_min if minority else n_maj for minority in is_minority]


def nested_selection(
    labels: Sequence[int], sizes: Sequence[int], seed: int, class_names: Sequence[str]
) -> np.ndarray:
    """Indices of sizes[c] images of each class c, drawn at random under `seed`.

    Each class has one random order fixed by (seed, class index) alone, and a subset is a prefix of
    that order. So whatever the ratio, a smaller subset of a class lies inside a larger one: the
    minority images of 15:1 are among those of 7:1, and the majority images of 7:1 among those of
    15:1. The result lists class 0's images first, each class in its random order.
    """
    labels = np.asarray(labels)
    chosen = []
    for c, (name, size) in enumerate(zip(class_names, sizes, strict=True)):
        members = np.flatnonzero(labels == c)
        if len(members) < size:
            raise ConfigError(
                f"class '{name}' has {len(members)} images but this ratio needs {size}; "
                f"lower data.per_class or the ratio, or add images"
            )
        order = np.random.default_rng([seed, c]).permutation(members)
        chosen.append(order[:size])
    return np.concatenate(chosen)


def stratified_split(
    labels: Sequence[int], selection: np.ndarray, test_fraction: float
) -> tuple[np.ndarray, np.ndarray]:
    """Split a selection into (train, test) class by class.

    Each class keeps round(test_fraction * n) of its n images for test (half up), at least one
    for each side when n >= 2. The test images are the first of the class in the selection; since
    `nested_selection` gives each class in random order, this is a random draw that also keeps
    test sets nested across ratios.
    """
    if not 0 < test_fraction < 1:
        raise ConfigError(f"data.test_fraction={test_fraction} is outside (0, 1)")
    labels = np.asarray(labels)
    selected_labels = labels[selection]
    train, test = [], []
    for c in np.unique(selected_labels):
        members = selection[selected_labels == c]
        n_test = round_half_up(test_fraction * len(members))
        if len(members) >= 2:
            n_test = min(max(n_test, 1), len(members) - 1)
        test.append(members[:n_test])
        train.append(members[n_test:])
    return np.concatenate(train), np.concatenate(test)
