import numpy as np
import pytest

from imbalance.data.subsets import minority_count, nested_selection, step_sizes, stratified_split
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
