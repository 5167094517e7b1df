"""The statistics of a sitting's turns: the order in which a turn runs its runs, each turn's
ratio of one run over another, and an interval for the median of those ratios."""

import statistics

import numpy as np
from scipy.stats import binom, quantile_test


def turn_order(turn: int, runs: list[str]) -> list[str]:
    """The order in which turn `turn` (from 0) runs `runs`: a Williams design, so that over
    len(runs) turns (an even number of runs) each run takes each place once and follows each
    other run once: whatever a run leaves behind (a page cache to write back, a warm CPU)
    falls on each of the others alike."""
    n = len(runs)
    first = [0] + [(i + 1) // 2 if i % 2 else n - i // 2 for i in range(1, n)]
    return [runs[(place + turn) % n] for place in first]


def paired_ratios(numerator: list[list[float]], denominator: list[list[float]]) -> list[float]:
    """For each turn, the median epoch of one run over the median epoch of the other run of
    the same turn (lists of epoch times, a list per turn)."""
    return [
        statistics.median(top) / statistics.median(bottom)
        for top, bottom in zip(numerator, denominator, strict=True)
    ]


def median_interval(values: list[float], level: float = 0.9) -> tuple[float, float, float] | None:
    """A distribution-free interval for the median of `values`, scipy's `quantile_test`'s: the
    j-th smallest to the j-th largest value, for the largest j whose coverage (a binomial sum)
    is at least `level`; with that coverage. None when even the smallest and the largest cover
    less than `level`."""
    n, ordered = len(values), np.sort(values)
    # Tested on the ranks 0 .. n-1, the interval's ends are the order statistics' indices.
    ends = quantile_test(np.arange(n), p=0.5).confidence_interval(confidence_level=level)
    if np.isnan(ends.low) or np.isnan(ends.high):
        return None
    low, high = int(ends.low), int(ends.high)
    # The median lies between them when more than `low` and at most `high` values are below it.
    coverage = binom.cdf(high, n, 0.5) - binom.cdf(low, n, 0.5)
    return float(ordered[low]), float(ordered[high]), float(coverage)
