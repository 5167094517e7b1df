"""The imbalance arithmetic as plain functions over labels: no images, no torch.

Profiles give each class's size from N classes, b images per class at 1:1 and a ratio rho
between the largest and the smallest class; the total stays N * b within rounding (`_sizes`):

- step (Buda et al. 2017): k minority classes of n_min, N - k majority classes of n_max;
- linear (Buda et al. 2018): sizes fall linearly from n_max to n_min in the order of the classes;
- exponential (a long tail at the study's total): n_i proportional to rho^(-i/(N-1)).

The field's long tail anchors the largest class instead and lets the total fall as rho rises
(`long_tail`, Cao et al. 2019 and Cui et al. 2019's CIFAR-10-LT and CIFAR-100-LT): the first
class keeps b images, class i int(b * (1/rho)^(i/(N-1))).

The natural profile draws no sizes: every image of every class, as the source has it
(`natural_sizes`).

Subsets are nested: each class has one random order fixed by (data seed, class index) and a
subset is a prefix of it, so whatever the ratio or profile, a smaller subset of a class lies
inside a larger one. A balanced test set is the head of each order, and training subsets come
after it, so its images are the same at every ratio and profile.
"""

import math
from collections.abc import Callable, Sequence

import numpy as np

from imbalance.errors import ConfigError

PROFILES = ("step", "linear", "exponential", "long_tail", "natural")
# The profiles that draw class sizes from a ratio; natural takes them from the data.
DRAWN = ("step", "linear", "exponential", "long_tail")


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


def _sizes(relative: Sequence[float], per_class: int) -> list[int]:
    """Sizes in proportion to `relative` (the smallest 1, the largest the ratio rho):

        n_min = round(N * b / sum(relative))      half up, at least 1
        n_c   = round(relative_c * n_min)         half up

    so the ratio is exact for integer rho and the profile's shape is kept to the image; the
    total is N * b up to the rounding of n_min (by at most sum(relative) / 2, plus N / 2 for the
    classes' own rounding). With integer sizes the ratio, the shape and the total cannot all be
    exact: the ratio is the study's axis, so it is the number kept honest.
    """
    n_min = max(1, round_half_up(len(relative) * per_class / sum(relative)))
    return [round_half_up(r * n_min) for r in relative]


def step_sizes(is_minority: Sequence[bool], per_class: int, ratio: float) -> list[int]:
    """Step imbalance: minority classes of n_min, the others of n_max = round(rho * n_min)
    (`_sizes`; the paper's Table 1 for b=32 and rho 1, 3, 7, 15, totals exact)."""
    _check_sizes(len(is_minority), per_class, ratio)
    return _sizes([1 if minority else ratio for minority in is_minority], per_class)


def linear_sizes(num_classes: int, per_class: int, ratio: float) -> list[int]:
    """Sizes falling linearly from n_max (the first class) to n_min = n_max / rho (the last):
    relative sizes rho - i (rho - 1) / (N - 1) (`_sizes`)."""
    _check_sizes(num_classes, per_class, ratio)
    steps = num_classes - 1
    return _sizes([ratio - i * (ratio - 1) / steps for i in range(num_classes)], per_class)


def exponential_sizes(num_classes: int, per_class: int, ratio: float) -> list[int]:
    """Long-tail sizes, n_i proportional to rho^(-i/(N-1)): relative sizes rho^((N-1-i)/(N-1)),
    n_max for the first class, n_max / rho for the last (Cui et al. 2019's CIFAR-10-LT;
    `_sizes`)."""
    _check_sizes(num_classes, per_class, ratio)
    steps = num_classes - 1
    return _sizes([ratio ** ((steps - i) / steps) for i in range(num_classes)], per_class)


def long_tail_sizes(num_classes: int, per_class: int, ratio: float) -> list[int]:
    """The field's long tail: the first class keeps b = `per_class` images and class i has
    int(b * (1/rho)^(i/(N-1))), rounded down as Cao et al.'s and Cui et al.'s code does, so
    that b = 5,000 gives CIFAR-10-LT's 12,406 training images at 100:1."""
    _check_sizes(num_classes, per_class, ratio)
    steps = num_classes - 1.0
    return [int(per_class * (1 / ratio) ** (i / steps)) for i in range(num_classes)]


def profile_sizes(
    profile: str, is_minority: Sequence[bool], per_class: int, ratio: float
) -> list[int]:
    """Images per class under `profile`, one of DRAWN; `is_minority` matters to step alone."""
    if profile == "step":
        return step_sizes(is_minority, per_class, ratio)
    if profile == "linear":
        return linear_sizes(len(is_minority), per_class, ratio)
    if profile == "exponential":
        return exponential_sizes(len(is_minority), per_class, ratio)
    if profile == "long_tail":
        return long_tail_sizes(len(is_minority), per_class, ratio)
    raise ConfigError(f"profile={profile} is not one of {', '.join(DRAWN)}")


def natural_sizes(
    available: Sequence[int], held_out: int, max_per_class: int | None, class_names: Sequence[str]
) -> list[int]:
    """Each class's images as the source has them, less `held_out` test images each (a balanced
    test set's), capped at `max_per_class` (None: no cap). A class left without a training
    image is refused, named with its count."""
    if max_per_class is not None and max_per_class < 1:
        raise ConfigError(f"data.max_per_class={max_per_class} must be at least 1, or null")
    sizes = []
    for name, count in zip(class_names, available, strict=True):
        if count <= held_out:
            raise ConfigError(
                f"class '{name}' has {count} images but data.test=balanced takes "
                f"{held_out} for testing and training needs at least one more; lower "
                f"data.test_per_class, or leave the class out of data.classes"
            )
        size = count - held_out
        sizes.append(size if max_per_class is None else min(size, max_per_class))
    return sizes


def data_imbalance(train_sizes: Sequence[int]) -> float | None:
    """The largest training class over the smallest; None when a class has none."""
    smallest = min(train_sizes)
    return max(train_sizes) / smallest if smallest else None


def imbalance_label(imbalance: float | None) -> str:
    """`data_imbalance` as the log and `python -m imbalance.splits` write it."""
    return (
        "undefined (a class has no training image)" if imbalance is None else f"{imbalance:.3g}:1"
    )


def largest_fitting(
    available: Sequence[int], sizes_at: Callable[[int], list[int]], per_class: int, held_out: int
) -> int:
    """The largest b <= per_class whose sizes, `sizes_at(b)`, fit every class's `available`
    images after `held_out` test images each; 0 when none does."""
    for b in range(per_class, 0, -1):
        if all(held_out + n <= a for n, a in zip(sizes_at(b), available, strict=True)):
            return b
    return 0


def smallest_nonempty(sizes_at: Callable[[int], list[int]], per_class: int, limit: int) -> int:
    """The smallest b from per_class to limit whose sizes, `sizes_at(b)`, give every class at
    least one image; 0 when none does."""
    for b in range(per_class, limit + 1):
        if min(sizes_at(b)) >= 1:
            return b
    return 0


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


def shot_groups_by_count(train_sizes: Sequence[int], many: int, few: int) -> list[str]:
    """'many', 'medium' or 'few' for each class by its training images, as the long-tail
    literature reports natural long tails (Liu et al. 2019, OLTR; Kang et al. 2020): more than
    `many` images is many-shot, fewer than `few` few-shot, the rest medium-shot."""
    if not 0 < few <= many:
        raise ConfigError(
            f"data.few_shot={few} and data.many_shot={many}: give 0 < few_shot <= many_shot"
        )
    return ["many" if n > many else "few" if n < few else "medium" for n in train_sizes]


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
    of the class in `selection`; at least one each side when n >= 2 and fraction > 0, and a
    class's only image never goes to the share."""
    selected_labels = labels[selection]
    rest, share = [], []
    for c in np.unique(selected_labels):
        members = selection[selected_labels == c]
        n_share = min(round_half_up(fraction * len(members)), len(members) - 1)
        if len(members) >= 2 and fraction > 0:
            n_share = max(n_share, 1)
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
