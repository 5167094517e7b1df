import numpy as np
import pytest

from imbalance.data.subsets import (
    DRAWN,
    balanced_test,
    data_imbalance,
    exponential_sizes,
    largest_fitting,
    linear_sizes,
    long_tail_sizes,
    minority_count,
    natural_sizes,
    nested_selection,
    profile_sizes,
    shot_groups,
    shot_groups_by_count,
    step_sizes,
    stratified_split,
    validation_split,
)
from imbalance.errors import ConfigError

# The paper's Table 1: available images, then sizes at 1:1, 3:1, 7:1, 15:1.
TABLE1 = {
    "airplanes": (800, [32, 48, 56, 60]),
    "Faces": (435, [32, 48, 56, 60]),
    "watch": (239, [32, 48, 56, 60]),
    "Leopards": (200, [32, 48, 56, 60]),
    "bonsai": (128, [32, 48, 56, 60]),
    "water_lilly": (37, [32, 16, 8, 4]),
    "strawberry": (35, [32, 16, 8, 4]),
    "wild_cat": (34, [32, 16, 8, 4]),
    "binocular": (33, [32, 16, 8, 4]),
    "metronome": (32, [32, 16, 8, 4]),
}
NAMES = list(TABLE1)
IS_MINORITY = [False] * 5 + [True] * 5
RATIOS = [1, 3, 7, 15]
# Labels laid out like Caltech101's ten classes, shuffled so that classes interleave.
LABELS = np.random.default_rng(1).permutation(
    np.repeat(np.arange(10), [available for available, _ in TABLE1.values()])
)


@pytest.mark.parametrize("column, ratio", list(enumerate(RATIOS)))
def test_step_sizes_equal_table1(column, ratio):
    sizes = step_sizes(IS_MINORITY, per_class=32, ratio=ratio)
    assert sizes == [table[column] for _, table in TABLE1.values()]
    assert sum(sizes) == 320


def test_non_integer_sizes_keep_the_ratio_and_round_half_up():
    # 320 / (5 + 5 * 2) = 21.33 -> 21 minority, 2 * 21 = 42 majority.
    assert step_sizes(IS_MINORITY, 32, 2) == [42] * 5 + [21] * 5
    # 30 / (1 + 2 * 4) = 3.33 -> 3; 4 * 3 = 12.
    assert step_sizes([True, False, False], 10, 4) == [3, 12, 12]
    # Never an empty minority class.
    assert step_sizes([True, False], 1, 100) == [1, 100]


def test_minority_count():
    assert minority_count(10, 0.5) == 5
    assert minority_count(10, 0.25) == 3  # 2.5 rounds half up
    with pytest.raises(ConfigError, match=r"mu=1.5 is outside \(0, 1\)"):
        minority_count(10, 1.5)
    with pytest.raises(ConfigError, match=r"mu=0 is outside"):
        minority_count(10, 0)
    with pytest.raises(ConfigError, match="gives 0 minority classes"):
        minority_count(10, 0.01)


def test_ratio_below_one_is_refused():
    with pytest.raises(ConfigError, match="ratio=0.5 is below 1"):
        step_sizes(IS_MINORITY, 32, 0.5)


def test_selection_takes_the_sizes_asked_for():
    for ratio in RATIOS:
        sizes = step_sizes(IS_MINORITY, 32, ratio)
        chosen = nested_selection(LABELS, sizes, seed=0, class_names=NAMES)
        assert np.bincount(LABELS[chosen], minlength=10).tolist() == sizes
        assert len(set(chosen.tolist())) == len(chosen)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_subsets_are_nested_across_ratios(seed):
    chosen = {
        ratio: set(nested_selection(LABELS, step_sizes(IS_MINORITY, 32, ratio), seed, NAMES))
        for ratio in RATIOS
    }
    for smaller_rho, larger_rho in zip(RATIOS, RATIOS[1:], strict=False):
        for c, minority in enumerate(IS_MINORITY):
            low = {i for i in chosen[smaller_rho] if LABELS[i] == c}
            high = {i for i in chosen[larger_rho] if LABELS[i] == c}
            if minority:
                assert high < low  # 15:1's minority images are among 7:1's, and so on
            else:
                assert low < high  # majority images the other way round


def test_selection_depends_on_the_seed_and_is_reproducible():
    sizes = step_sizes(IS_MINORITY, 32, 3)
    first = nested_selection(LABELS, sizes, 0, NAMES)
    assert np.array_equal(first, nested_selection(LABELS, sizes, 0, NAMES))
    assert not np.array_equal(first, nested_selection(LABELS, sizes, 1, NAMES))


def test_too_few_images_names_the_class_and_the_numbers():
    sizes = step_sizes(IS_MINORITY, 40, 1)
    message = "class 'water_lilly' has 37 images but this ratio needs 40"
    with pytest.raises(ConfigError, match=message):
        nested_selection(LABELS, sizes, 0, NAMES)


@pytest.mark.parametrize("ratio", RATIOS)
def test_split_is_stratified_70_30_per_class(ratio):
    sizes = step_sizes(IS_MINORITY, 32, ratio)
    chosen = nested_selection(LABELS, sizes, 0, NAMES)
    train, test = stratified_split(LABELS, chosen, test_fraction=0.3)
    assert set(train).isdisjoint(test)
    assert sorted(np.concatenate([train, test])) == sorted(chosen)
    for c, size in enumerate(sizes):
        n_test = int(np.sum(LABELS[test] == c))
        n_train = int(np.sum(LABELS[train] == c))
        assert n_train + n_test == size
        assert n_test == int(np.floor(0.3 * size + 0.5))  # 32 -> 10, 16 -> 5, 8 -> 2, 4 -> 1


def test_split_keeps_one_image_each_side_and_checks_the_fraction():
    labels = np.array([0, 0, 1, 1, 1])
    train, test = stratified_split(labels, np.arange(5), test_fraction=0.01)
    assert sorted(labels[test].tolist()) == [0, 1]
    assert sorted(labels[train].tolist()) == [0, 1, 1]
    with pytest.raises(ConfigError, match="test_fraction=1.0 is outside"):
        stratified_split(labels, np.arange(5), 1.0)


def test_test_sets_are_nested_across_ratios_too():
    tests = {}
    for ratio in RATIOS:
        chosen = nested_selection(LABELS, step_sizes(IS_MINORITY, 32, ratio), 0, NAMES)
        tests[ratio] = set(stratified_split(LABELS, chosen, 0.3)[1])
    for smaller_rho, larger_rho in zip(RATIOS, RATIOS[1:], strict=False):
        for c, minority in enumerate(IS_MINORITY):
            low = {i for i in tests[smaller_rho] if LABELS[i] == c}
            high = {i for i in tests[larger_rho] if LABELS[i] == c}
            assert (high <= low) if minority else (low <= high)


# Sizes of N=10 classes at b=32, worked out by hand from the rule in subsets._sizes:
# n_min = round(320 / sum of the relative sizes), n_c = round(relative_c * n_min).
# linear, ratio 3: relative sizes 3 - 2i/9, summing to 20: n_min = 16; 16 * 2.778 = 44.4 -> 44,
# 16 * 2.556 = 40.9 -> 41, ... The total is exact for linear: the sum is N (rho + 1) / 2.
LINEAR = {
    1: [32] * 10,
    3: [48, 44, 41, 37, 34, 30, 27, 23, 20, 16],
    7: [56, 51, 45, 40, 35, 29, 24, 19, 13, 8],
    15: [60, 54, 48, 41, 35, 29, 23, 16, 10, 4],
}
# exponential, ratio 15: relative sizes 15^(j/9) = 15, 11.10, 8.218, 6.082, 4.502, 3.332,
# 2.466, 1.825, 1.351, 1, summing to 57.17: n_min = round(5.60) = 6, and 6 times each:
# 90, 66.6, 49.3, 36.49, 27.01, 19.99, 14.80, 10.95, 8.11, 6, total 329 (n_min rounded up).
EXPONENTIAL = {
    1: [32] * 10,
    3: [51, 45, 40, 35, 31, 28, 25, 22, 19, 17],
    7: [70, 56, 45, 37, 29, 24, 19, 15, 12, 10],
    15: [90, 67, 49, 36, 27, 20, 15, 11, 8, 6],
}
STEP = {ratio: [table[i] for _, table in TABLE1.values()] for i, ratio in enumerate(RATIOS)}
PROFILE_TABLES = {"step": STEP, "linear": LINEAR, "exponential": EXPONENTIAL}


@pytest.mark.parametrize("profile", list(PROFILE_TABLES))
@pytest.mark.parametrize("ratio", RATIOS)
def test_profile_sizes_equal_the_hand_computed_tables(profile, ratio):
    sizes = profile_sizes(profile, IS_MINORITY, per_class=32, ratio=ratio)
    assert sizes == PROFILE_TABLES[profile][ratio]
    assert max(sizes) / min(sizes) == ratio
    assert sum(sizes) == {"exponential": {3: 313, 7: 317, 15: 329}}.get(profile, {}).get(ratio, 320)
    assert sizes == sorted(sizes, reverse=True)  # the order of data.classes, largest first


@pytest.mark.parametrize("num_classes", [2, 3, 10, 100])
@pytest.mark.parametrize("per_class", [1, 8, 32, 500])
@pytest.mark.parametrize("ratio", [1, 2, 3.5, 15, 100])
def test_long_tail_sizes_keep_ratio_shape_and_total_within_the_rounding_rule(
    num_classes, per_class, ratio
):
    for profile, sizes_of in (("linear", linear_sizes), ("exponential", exponential_sizes)):
        sizes = sizes_of(num_classes, per_class, ratio)
        assert len(sizes) == num_classes and min(sizes) >= 1, profile
        assert sizes == sorted(sizes, reverse=True), profile
        if float(ratio).is_integer():
            assert sizes[0] == ratio * sizes[-1], profile
        # n_min is within 1/2 of N b / sum(r) (or raised to 1); each class within 1/2 of r n_min.
        steps = num_classes - 1
        relative = (
            [ratio - i * (ratio - 1) / steps for i in range(num_classes)]
            if profile == "linear"
            else [ratio ** ((steps - i) / steps) for i in range(num_classes)]
        )
        ideal = num_classes * per_class
        slack = 0.5 * sum(relative) + 0.5 * num_classes
        assert abs(sum(sizes) - ideal) <= slack or sizes[-1] == 1, profile


@pytest.mark.parametrize("profile", DRAWN)
def test_every_profile_is_nested_across_ratios_for_every_class(profile):
    chosen = {}
    for ratio in RATIOS:
        sizes = profile_sizes(profile, IS_MINORITY, 32, ratio)
        chosen[ratio] = nested_selection(LABELS, sizes, 0, NAMES)
    for smaller, larger in zip(RATIOS, RATIOS[1:], strict=False):
        for c in range(10):
            low = set(chosen[smaller][LABELS[chosen[smaller]] == c])
            high = set(chosen[larger][LABELS[chosen[larger]] == c])
            # A class that grows with the ratio keeps its images, one that shrinks keeps some.
            assert (low <= high) if len(high) >= len(low) else (high < low)
        assert len(high) < len(low)  # the last class shrinks as the ratio grows


def test_unknown_profile_and_too_few_classes_are_refused():
    every = "step, linear, exponential, long_tail"
    with pytest.raises(ConfigError, match=f"^profile=zipf is not one of {every}$"):
        profile_sizes("zipf", IS_MINORITY, 32, 3)
    with pytest.raises(ConfigError, match="at least 2 classes"):
        linear_sizes(1, 32, 3)
    with pytest.raises(ConfigError, match="ratio=0.5 is below 1"):
        exponential_sizes(10, 32, 0.5)


def test_shot_groups_are_thirds_by_training_size():
    # round(10 / 3) = 3 many, 3 few, 4 medium; ties keep the classes' order.
    assert (
        shot_groups([9, 8, 8, 7, 6, 5, 4, 3, 2, 1]) == ["many"] * 3 + ["medium"] * 4 + ["few"] * 3
    )
    assert shot_groups([1, 5, 3]) == ["few", "many", "medium"]
    assert shot_groups([4, 4]) == ["many", "few"]


def test_a_balanced_test_set_is_the_same_at_every_ratio_and_never_trained_on():
    test = balanced_test(LABELS, 10, seed=0, class_names=NAMES)
    assert np.bincount(LABELS[test], minlength=10).tolist() == [10] * 10
    for profile in DRAWN:
        for ratio in RATIOS:
            sizes = profile_sizes(profile, IS_MINORITY, 20, ratio)
            train = nested_selection(LABELS, sizes, 0, NAMES, held_out=10)
            assert set(train).isdisjoint(test)
            assert np.bincount(LABELS[train], minlength=10).tolist() == sizes


def test_a_class_too_small_for_a_balanced_test_set_names_what_is_needed():
    sizes = step_sizes(IS_MINORITY, 32, 1)
    message = (
        "class 'water_lilly' has 37 images but data.test=balanced needs 10 test images plus 32"
    )
    with pytest.raises(ConfigError, match=message):
        nested_selection(LABELS, sizes, 0, NAMES, held_out=10)
    with pytest.raises(ConfigError, match="class 'metronome' has 32 images but data.test=balanced"):
        balanced_test(LABELS, 33, 0, NAMES)


def test_the_validation_split_is_stratified_and_disjoint():
    chosen = nested_selection(LABELS, step_sizes(IS_MINORITY, 32, 3), 0, NAMES)
    train, test = stratified_split(LABELS, chosen, 0.3)
    kept, val = validation_split(LABELS, train, 0.25)
    assert set(kept).isdisjoint(val) and set(val) <= set(train)
    assert sorted([*kept, *val]) == sorted(train)
    # 34 majority training images -> round(8.5) = 9 for validation; 11 minority -> round(2.75) = 3.
    assert np.bincount(LABELS[val], minlength=10).tolist() == [9] * 5 + [3] * 5
    assert validation_split(LABELS, train, 0.0)[1].size == 0
    for fraction in (1.0, -0.1):
        with pytest.raises(ConfigError, match=rf"data.val_fraction={fraction} is outside \[0, 1\)"):
            validation_split(LABELS, train, fraction)


def test_a_class_with_one_image_keeps_it_for_training():
    labels = np.array([0, 1, 1, 1])
    for split in (validation_split, stratified_split):
        rest, share = split(labels, np.arange(4), 0.5)
        assert labels[rest].tolist().count(0) == 1 and 0 not in labels[share].tolist()
        assert labels[share].tolist() == [1] * 2  # round(1.5) = 2 of class 1's three


def test_the_largest_per_class_that_fits_the_images():
    # Step at 15:1, two of four classes minority: n_min = round(4b / 32), n_max = 15 n_min.
    def sizes_at(b):
        return step_sizes([False, False, True, True], b, 15)

    assert sizes_at(20) == [45, 45, 3, 3]  # 80 / 32 = 2.5 rounds up: too many for 40 images
    assert sizes_at(19) == [30, 30, 2, 2]
    assert largest_fitting([40] * 4, sizes_at, 32, held_out=0) == 19
    assert largest_fitting([40] * 4, sizes_at, 32, held_out=10) == 19  # 10 + 30 = 40
    assert largest_fitting([40] * 4, sizes_at, 32, held_out=11) == 11  # n_min 1: 11 + 15 <= 40
    assert largest_fitting([40] * 4, sizes_at, 12, held_out=0) == 12  # fits as asked
    assert largest_fitting([0] * 4, sizes_at, 32, held_out=0) == 0


def test_natural_sizes_are_every_image_less_the_test_set_capped():
    names = ["a", "b", "c", "d"]
    assert natural_sizes([130, 40, 12, 5], 0, None, names) == [130, 40, 12, 5]
    assert natural_sizes([130, 40, 12, 5], 0, 50, names) == [50, 40, 12, 5]
    assert natural_sizes([130, 40, 12, 5], 4, 50, names) == [50, 36, 8, 1]
    with pytest.raises(ConfigError, match="class 'd' has 5 images but data.test=balanced takes 5"):
        natural_sizes([130, 40, 12, 5], 5, None, names)
    with pytest.raises(ConfigError, match="data.max_per_class=0 must be at least 1"):
        natural_sizes([130, 40, 12, 5], 0, 0, names)


def test_shot_groups_follow_the_fields_thresholds():
    # More than 100 training images: many; fewer than 20: few; 20 to 100: medium.
    sizes = [101, 100, 20, 19, 1]
    assert shot_groups_by_count(sizes, 100, 20) == ["many", "medium", "medium", "few", "few"]
    assert shot_groups_by_count(sizes, 10, 2) == ["many", "many", "many", "many", "few"]
    with pytest.raises(ConfigError, match="0 < few_shot <= many_shot"):
        shot_groups_by_count(sizes, 10, 20)


def test_the_data_imbalance_is_the_largest_class_over_the_smallest():
    assert data_imbalance([91, 28, 8, 3]) == pytest.approx(91 / 3)
    assert data_imbalance([5, 5]) == 1
    assert data_imbalance([5, 0]) is None


def test_the_fields_long_tail_anchors_the_largest_class_and_lets_the_total_fall():
    # 5000 * 0.01^(i/9): 5000, 2997.4, 1796.9, 1077.2, 645.7, 387.1, 232.1, 139.1, 83.4, 50,
    # rounded down as Cao et al.'s code rounds.
    sizes = profile_sizes("long_tail", [False] * 10, per_class=5000, ratio=100)
    assert sizes == [5000, 2997, 1796, 1077, 645, 387, 232, 139, 83, 50]
    # The training totals of CIFAR-10-LT and CIFAR-100-LT at 100, 50 and 10 (Cao et al. 2019).
    totals = {
        (10, 5000): [12_406, 13_996, 20_431],
        (100, 500): [10_847, 12_608, 19_573],
    }
    for (classes, largest), expected in totals.items():
        drawn = [sum(long_tail_sizes(classes, largest, ratio)) for ratio in (100, 50, 10)]
        assert drawn == expected
    assert long_tail_sizes(4, 32, 1) == [32] * 4 and "long_tail" in DRAWN
