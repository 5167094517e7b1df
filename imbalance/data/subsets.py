"""The imbalance arithmetic as plain functions over labels: no images, no torch.

Profiles give each class's size from N classes, b images per class at 1:1 and a ratio rho
between the largest and the smallest class; the total stays N * b (within rounding):

- step (Buda et al. 2017): k minority classes of n_min, N - k majority classes of n_max;
- linear (Buda et al. 2018): sizes fall linearly from n_max to n_min in the order of the classes;
- exponential (long tail, as CIFAR-10-LT, Cui et al. 2019): n_i proportional to rho^(-i/(N-1)).

Subsets are nested: each class has one random order fixed by (data seed, class index) and a
subset is a prefix of it, so whatever the ratio or profile, a smaller subset of a class lies
inside a larger one. A balanced test set is the head of each order, and training subsets come
after it, so its images are the same at every ratio and profile.
"""

import math
from collections.abc import Sequence

import numpy as np

from imbalance.errors import ConfigError

PROFILES = ("step", "linear", "exponential")


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


def _check_sizes(num_classes: int, per_class: int, ratio: float) -> None:
    if ratio < 1:
        raise ConfigError(
            f"ratio={ratio} is below 1: it is the size of the largest class over the smallest"
        )
    if per_class < 1:
        raise ConfigError(f"data.per_class={per_class} must be at least 1")
    if num_classes < 2:
        raise ConfigError(f"an imbalance study needs at least 2 classes, not {num_classes}")


def _smallest(relative: Sequence[float], per_class: int) -> int:
    """n_min = round(N * b / sum of the relative sizes), half up, at least 1."""
    return max(1, round_half_up(len(relative) * per_class / sum(relative)))


def step_sizes(is_minority: Sequence[bool], per_class: int, ratio: float) -> list[int]:
    """Images per class under step imbalance:

        n_min = round(N * b / (k + (N - k) * rho))     half up, at least 1
        n_maj = round(rho * n_min)                     so the ratio is exact for integer rho

    The total is N * b when rho * n_min comes out whole (the paper's Table 1); otherwise it can
    drift by rounding: the ratio is the study's axis, so it is the number kept honest.
    """
    _check_sizes(len(is_minority), per_class, ratio)
    n_min = _smallest([1 if minority else ratio for minority in is_minority], per_class)
    n_maj = round_half_up(ratio * n_min)
    return [n_min if minority else n_maj for minority in is_minority]


def _long_tail(relative: list[float], per_class: int, ratio: float) -> list[int]:
    """Sizes for relative sizes falling from `ratio` (the first class) to 1 (the last).

    n_min = round(N * b / sum(relative)) and n_max = round(ratio * n_min) (half up), so the
    ratio is exact for integer rho; the classes between share the rest of the total N * b in
    proportion to their relative sizes, rounded by largest remainder (Hamilton's method), so the
    total is exactly N * b and the sizes never increase.
    """
    n = len(relative)
    n_min = _smallest(relative, per_class)
    n_max = round_half_up(ratio * n_min)
    middle = relative[1:-1]
    rest = n * per_class - n_min - n_max
    if not middle:
        return [n_max, n_min]
    shares = [rest * r / sum(middle) for r in middle]
    sizes = [math.floor(share) for share in shares]
    by_remainder = sorted(range(len(shares)), key=lambda i: sizes[i] - shares[i])
    for i in by_remainder[: rest - sum(sizes)]:
        sizes[i] += 1
    # Only for tiny b (a few images per class) can a share leave [n_min, n_max].
    return [n_max, *(min(max(size, n_min), n_max) for size in sizes), n_min]


def linear_sizes(num_classes: int, per_class: int, ratio: float) -> list[int]:
    """Sizes falling linearly from n_max (the first class) to n_min = n_max / rho (the last)."""
    _check_sizes(num_classes, per_class, ratio)
    steps = num_classes - 1
    relative = [ratio - i * (ratio - 1) / steps for i in range(num_classes)]
    return _long_tail(relative, per_class, ratio)


def exponential_sizes(num_classes: int, per_class: int, ratio: float) -> list[int]:
    """Long-tail sizes, n_i proportional to rho^(-i/(N-1)): n_max for the first class, n_max/rho
    for the last (Cui et al. 2019's CIFAR-10-LT)."""
    _check_sizes(num_classes, per_class, ratio)
    steps = num_classes - 1
    relative = [ratio ** ((steps - i) / steps) for i in range(num_classes)]
    return _long_tail(relative, per_class, ratio)


def profile_sizes(
    profile: str, is_minority: Sequence[bool], per_class: int, ratio: float
) -> list[int]:
    """Images per class under `profile`; `is_minority` matters to step alone."""
    if profile == "step":
        return step_sizes(is_minority, per_class, ratio)
    if profile == "linear":
        return linear_sizes(len(is_minority), per_class, ratio)
    if profile == "exponential":
        return exponential_sizes(len(is_minority), per_class, ratio)
    raise ConfigError(f"profile={profile} is not one of {', '.join(PROFILES)}")


def shot_groups(train_sizes: Sequence[int]) -> list[str]:
    """'many', 'medium' or 'few' for each class, as the long-tail literature reports them
    (Liu et al. 2019), here by thirds of the classes: the round(N/3) largest training sets are
    'many', the round(N/3) smallest 'few', the rest 'medium'. Ties keep the classes' order."""
    n = len(train_sizes)
    edge = round_half_up(n / 3)
    order = sorted(range(n), key=lambda c: -train_sizes[c])  # stable: ties keep class order
    groups = [""] * n
    for rank, c in enumerate(order):
        groups[c] = "many" if rank < edge else "few" if rank >= n - edge else "medium"
    return groups


def _class_order(labels: np.ndarray, c: int, seed: int) -> np.ndarray:
    """Class c's images in the one random order fixed by (seed, c)."""
    return np.random.default_rng([seed, c]).permutation(np.flatnonzero(labels == c))


def nested_selection(
    labels: Sequence[int],
    sizes: Sequence[int],
    seed: int,
    class_names: Sequence[str],
    held_out: int = 0,
) -> np.ndarray:
    """Indices of sizes[c] images of each class c, drawn at random under `seed`, after the first
    `held_out` images of each class's order (a balanced test set's, `balanced_test`).

    The result lists class 0's images first, each class in its random order.
    """
    labels = np.asarray(labels)
    chosen = []
    for c, (name, size) in enumerate(zip(class_names, sizes, strict=True)):
        order = _class_order(labels, c, seed)
        if len(order) < held_out + size and held_out:
            raise ConfigError(
                f"class '{name}' has {len(order)} images but data.test=balanced needs {held_out} "
                f"test images plus {size} for training at this ratio; lower "
                f"data.test_per_class, data.per_class or the ratio, or add images"
            )
        if len(order) < size:
            raise ConfigError(
                f"class '{name}' has {len(order)} images but this ratio needs {size}; "
                f"lower data.per_class or the ratio, or add images"
            )
        chosen.append(order[held_out : held_out + size])
    return np.concatenate(chosen)


def balanced_test(
    labels: Sequence[int], per_class: int, seed: int, class_names: Sequence[str]
) -> np.ndarray:
    """The first `per_class` images of each class's order: a test set the same at every ratio
    and profile, which `nested_selection(..., held_out=per_class)` never draws for training."""
    if per_class < 1:
        raise ConfigError(f"data.test_per_class={per_class} must be at least 1")
    labels = np.asarray(labels)
    test = []
    for c, name in enumerate(class_names):
        order = _class_order(labels, c, seed)
        if len(order) < per_class:
            raise ConfigError(
                f"class '{name}' has {len(order)} images but data.test=balanced needs "
                f"{per_class} for testing alone; lower data.test_per_class or add images"
            )
        test.append(order[:per_class])
    return np.concatenate(test)


def _split(
    labels: np.ndarray, selection: np.ndarray, fraction: float
) -> tuple[np.ndarray, np.ndarray]:
    """(rest, share): round(fraction * n) of each class's n images, half up, taken from the head
    of the class in `selection`; at least one each side when n >= 2 and fraction > 0."""
    selected_labels = labels[selection]
    rest, share = [], []
    for c in np.unique(selected_labels):
        members = selection[selected_labels == c]
        n_share = round_half_up(fraction * len(members))
        if len(members) >= 2 and fraction > 0:
            n_share = min(max(n_share, 1), len(members) - 1)
        share.append(members[:n_share])
        rest.append(members[n_share:])
    empty = np.array([], dtype=np.int64)
    return np.concatenate(rest or [empty]), np.concatenate(share or [empty])


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
    return _split(np.asarray(labels), selection, test_fraction)


def validation_split(
    labels: Sequence[int], train: np.ndarray, val_fraction: float
) -> tuple[np.ndarray, np.ndarray]:
    """Hold out a stratified share of a training split as validation: (train, val).

    Each class gives round(val_fraction * n) of its n training images (half up), at least one
    when val_fraction > 0 and n >= 2, never its last one. val_fraction=0 holds out nothing.
    """
    if not 0 <= val_fraction < 1:
        raise ConfigError(f"data.val_fraction={val_fraction} is outside [0, 1)")
    return _split(np.asarray(labels), train, val_fraction)
