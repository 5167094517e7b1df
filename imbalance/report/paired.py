"""Which settings differ from a baseline beyond the noise: paired differences over seeds.

Every setting is compared with the baseline setting that shares all its other values (same
ratio, regularizer...: only the baseline's key differs), run by run: two runs pair when they
share their seed and data seed, so both trained on the same images from the same start. For each
metric: the mean difference, its 95% confidence interval (Student's t over the pairs) and the
p-value of the paired t-test (scipy.stats.ttest_rel), which asks whether the mean difference is
zero. Comparing many settings with one baseline at once, some p-values fall below 0.05 by
chance: each also comes adjusted by the Benjamini-Hochberg procedure over the settings compared
(per metric), which the figure's colours follow. With one pair there is no spread, so neither
interval nor p-value.

Every metric compared lies within [0, 1], so a difference lies within [-1, 1]: an interval is cut
to that range, which keeps its coverage (the true difference is always inside it). The decision
(`decision`) ranks the settings by one metric's mean difference, names the best, and says how
many seeds a difference of the size observed would need to be established (`seeds_needed`).
"""

import warnings

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator
from scipy import stats

from imbalance.errors import ConfigError
from imbalance.report.figures import OKABE_ITO
from imbalance.report.tables import ratio_label

PAIR_BY = ["seed", "data_seed"]
LEVEL = 0.95  # of the intervals
BETTER, WORSE, NEITHER = OKABE_ITO[2], OKABE_ITO[1], OKABE_ITO[6]


def parse_baseline(text: str, runs: pd.DataFrame, columns: list[str]) -> tuple[str, str]:
    """`remedy=none` -> ("remedy", "none"), the key one of the sweep's setting columns and the
    value one that some run of `runs` (`tables.per_run`'s frame) has; ConfigError otherwise."""
    key, equals, value = text.partition("=")
    if not equals or not value:
        raise ConfigError(f"--baseline {text}: give it as key=value, e.g. --baseline remedy=none")
    if key not in columns:
        raise ConfigError(
            f"--baseline {text}: '{key}' is not one of this sweep's settings: {', '.join(columns)}"
        )
    baseline_runs(runs, key, value)
    return key, value


def baseline_runs(runs: pd.DataFrame, key: str, value: str) -> pd.Series:
    """Which of `runs` have `key` = `value`; ConfigError when none has."""
    is_baseline = runs[key].map(lambda v: _same(v, value))
    if not is_baseline.any():
        found = ", ".join(str(v) for v in dict.fromkeys(runs[key]))
        raise ConfigError(f"--baseline {key}={value}: no run has it ({key} is one of: {found})")
    return is_baseline


def _same(a, b: str) -> bool:
    """A setting's value (a number or a string) equals the command line's text."""
    try:
        return float(a) == float(b)
    except (TypeError, ValueError):
        return str(a) == b


def paired_differences(
    runs: pd.DataFrame, columns: list[str], key: str, value: str, metrics: list[str]
) -> pd.DataFrame:
    """One row per setting other than the baseline: its setting, `pairs` (the number of paired
    runs), and for each metric `<metric>_diff`, `_low`, `_high` (the 95% interval), `_p` and
    `_p_bh`, the p-value adjusted for comparing every setting with the baseline at once
    (Benjamini-Hochberg, scipy.stats.false_discovery_control).

    `runs` is `tables.per_run`'s frame. Raises ConfigError when no run has the baseline value.
    """
    is_baseline = baseline_runs(runs, key, value)
    others = [c for c in columns if c != key]
    rows = []
    for setting, group in runs[~is_baseline].groupby(columns, sort=False, dropna=False):
        setting = dict(zip(columns, setting, strict=True))  # a tuple: columns is a list
        match = is_baseline.copy()
        for column in others:
            match &= runs[column].map(lambda v, s=setting[column]: v == s or _same(v, str(s)))
        pairs = group.merge(runs[match], on=PAIR_BY, suffixes=("", "_baseline"))
        row = {**setting, "pairs": len(pairs)}
        for metric in metrics:
            diff = (pairs[metric] - pairs[f"{metric}_baseline"]).dropna().to_numpy()
            row |= _interval(metric, diff)
        rows.append(row)
    table = pd.DataFrame(rows)
    for metric in metrics:  # many settings at once: Benjamini-Hochberg over them, per metric
        p = table[f"{metric}_p"] if len(table) else pd.Series(dtype=float)
        tested = p.notna()
        table[f"{metric}_p_bh"] = np.nan
        if tested.any():
            table.loc[tested, f"{metric}_p_bh"] = stats.false_discovery_control(p[tested])
    return table


def _interval(metric: str, diff: np.ndarray) -> dict:
    n = len(diff)
    mean = diff.mean() if n else np.nan
    low = high = p = np.nan
    if n >= 2:
        with warnings.catch_warnings():  # equal differences' "precision loss": no p-value below
            warnings.filterwarnings("ignore", "Precision loss", RuntimeWarning)
            test = stats.ttest_1samp(diff, 0.0)  # = ttest_rel(setting, baseline)
        low, high = test.confidence_interval(confidence_level=LEVEL)
        low, high = max(low, -1.0), min(high, 1.0)  # a difference of metrics within [0, 1]
        # Equal differences, but for rounding, have no spread to test: the metrics are float32
        # (7 digits), so one image's difference in two seeds differs by about 1e-7.
        if np.ptp(diff) > 1e-6:
            p = test.pvalue
    return {
        f"{metric}_diff": mean,
        f"{metric}_low": low,
        f"{metric}_high": high,
        f"{metric}_p": p,
        f"{metric}_seeds": seeds_needed(diff),
    }


POWER = 0.8  # of the test a number of seeds is sized for
MOST_SEEDS = 1000  # beyond: "more than 1000", a difference too small for seeds to settle


def seeds_needed(diff: np.ndarray) -> float:
    """How many paired seeds a paired t-test at the 5% level needs to find a mean difference of
    the size of `diff`'s, with POWER, taking `diff`'s spread as the true one: the smallest n
    whose power (from the noncentral t distribution) reaches POWER. NaN without a spread to go
    by (fewer than 2 pairs, or equal differences); inf beyond MOST_SEEDS."""
    if len(diff) < 2 or np.ptp(diff) <= 1e-6:  # no spread, but for float32 rounding
        return np.nan
    effect = abs(diff.mean()) / diff.std(ddof=1)
    n = np.arange(2, MOST_SEEDS + 1)  # every count at once: one call each, not one per count
    critical = stats.t.ppf(1 - (1 - LEVEL) / 2, n - 1)
    shift = effect * np.sqrt(n)
    power = stats.nct.sf(critical, n - 1, shift) + stats.nct.cdf(-critical, n - 1, shift)
    enough = np.flatnonzero(power >= POWER)
    return int(n[enough[0]]) if len(enough) else np.inf


def _p(p: float) -> str:
    return "< 0.001" if p < 0.001 else f"{p:.3f}"


def _cell(row: dict, metric: str) -> str:
    stats_of = ("diff", "low", "high", "p", "p_bh")
    diff, low, high, p, p_bh = (row[f"{metric}_{stat}"] for stat in stats_of)
    if pd.isna(diff):
        return "-"
    if pd.isna(low):
        return f"{diff:+.3f} (no interval)"
    if pd.isna(p):
        return f"{diff:+.3f} [{low:+.3f}, {high:+.3f}], no spread"
    return f"{diff:+.3f} [{low:+.3f}, {high:+.3f}], p {_p(p)} (BH {_p(p_bh)})"


def _value(row: dict, column: str) -> str:
    return ratio_label(row[column]) if column == "ratio" else str(row[column])


def markdown(table: pd.DataFrame, columns: list[str], metrics: dict[str, str]) -> str:
    header = [*columns, "pairs", *metrics.values()]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for row in table.to_dict("records"):
        cells = [_value(row, c) for c in columns] + [str(row["pairs"])]
        lines.append("| " + " | ".join(cells + [_cell(row, m) for m in metrics]) + " |")
    return "\n".join(lines)


SEEDS_NEEDED = (
    "Seeds needed: the smallest number of paired seeds with which a paired t-test at the 5% "
    f"level finds a mean difference of the size observed {POWER:.0%} of the time, taking the "
    "observed spread of the differences as the true one (the noncentral t distribution). A "
    "guide, not a promise: it is for this comparison alone (the Benjamini-Hochberg adjustment "
    "over several settings asks for more), and the spread of a few seeds is itself uncertain."
)


def decision(
    table: pd.DataFrame, columns: list[str], key: str, value: str, metric: str, label: str,
    lower_is_better: bool = False,
) -> str:  # fmt: skip
    """What to pick, in Markdown: for each combination of the other settings (a ratio...), the
    settings ranked by `metric`'s mean paired difference from `key`=`value`, best first, with
    their intervals and BH-adjusted p-values; then the best named, or the verdict that none
    differs from the baseline beyond the noise, and the seeds a difference of its size needs."""
    others = [c for c in columns if c != key and table[c].nunique() > 1]
    sign = -1 if lower_is_better else 1
    lines = [f"## Decision, on {label}", ""]
    groups = table.groupby(others, sort=False) if others else [((), table)]
    for _, group in groups:
        rows = group.to_dict("records")
        rows.sort(key=lambda r: -sign * r[f"{metric}_diff"] if pd.notna(r[f"{metric}_diff"])
                  else np.inf)  # fmt: skip
        if others:
            where = ", ".join(f"{c}={_value(rows[0], c)}" for c in others)
            lines += [f"At {where}:", ""]
        for rank, row in enumerate(rows, 1):
            lines.append(f"{rank}. {key}={row[key]}: {_verdict(row, metric)}")
        beyond = [r for r in rows if _beyond(r, metric) and sign * r[f"{metric}_diff"] > 0]
        lines += ["", _pick((beyond or rows)[0], key, value, metric, label, sign), ""]
    return "\n".join(lines + [SEEDS_NEEDED])


def _beyond(row: dict, metric: str) -> bool:
    return row[f"{metric}_p_bh"] < 0.05  # NaN (no interval, no spread) is not


def _estimate(row: dict, metric: str) -> str:
    diff, low, high = (row[f"{metric}_{stat}"] for stat in ("diff", "low", "high"))
    return f"{diff:+.3f}" + ("" if pd.isna(low) else f" [{low:+.3f}, {high:+.3f}]")


def _seeds(row: dict, metric: str) -> str:
    n = row[f"{metric}_seeds"]
    if pd.isna(n):
        return "no spread to size more seeds by"
    if np.isinf(n):
        return f"more than {MOST_SEEDS} seeds would be needed to establish a difference this small"
    return f"about {int(n)} seeds would establish a difference of this size"


def _verdict(row: dict, metric: str) -> str:
    if pd.isna(row[f"{metric}_diff"]):
        return "no paired run"
    if pd.isna(row[f"{metric}_low"]):
        return f"{_estimate(row, metric)}, one pair: no interval (run more seeds)"
    p = row[f"{metric}_p_bh"]
    told = f", BH-adjusted p {_p(p)}" if pd.notna(p) else ""
    if _beyond(row, metric):
        return f"{_estimate(row, metric)}{told}: beyond the noise"
    return f"{_estimate(row, metric)}{told}: within the noise; {_seeds(row, metric)}"


def _pick(best: dict, key: str, value: str, metric: str, label: str, sign: int) -> str:
    """The decision's sentence for the best-ranked row `best`."""
    name, baseline = f"{key}={best[key]}", f"{key}={value}"
    if pd.isna(best[f"{metric}_diff"]):
        return f"No setting was paired with {baseline}: nothing to decide."
    better = sign * best[f"{metric}_diff"] > 0
    if better and _beyond(best, metric):
        return (
            f"**Pick {name}**: {label} {_estimate(best, metric)} over {baseline}, beyond the noise."
        )
    if pd.isna(best[f"{metric}_low"]):
        return (
            f"**Not decided**: with one seed there is no interval. The best observed is {name} "
            f"({label} {_estimate(best, metric)}); run more seeds (seed=0,1,2,3,4)."
        )
    if not better:
        return f"**Keep {baseline}**: no setting did better in {label}."
    return (
        f"**No setting differs from {baseline} beyond the noise** in {label}. The best "
        f"observed, {name} ({_estimate(best, metric)}): {_seeds(best, metric)}."
    )


# A row reaching more than this many times as far from 0 as the median row would squeeze every
# other interval into a sliver: it is cut at the panel's edge, its value written there.
OUTLIER_REACH = 4.0


def beyond_the_noise(table: pd.DataFrame, columns: list[str], metrics: dict[str, str]) -> str:
    """`Beyond the noise ...: balanced accuracy: remedy=crt +0.147; minority recall: no
    setting.`: per metric, the settings whose BH-adjusted p is below 0.05, with their mean
    difference."""
    labels_of = [c for c in columns if table[c].nunique() > 1] or columns
    found = []
    for metric, label in metrics.items():
        beyond = table[table[f"{metric}_p_bh"] < 0.05]
        named = ", ".join(
            f"{' '.join(f'{c}={_value(row, c)}' for c in labels_of)} {row[f'{metric}_diff']:+.3f}"
            for row in beyond.to_dict("records")
        )
        found.append(f"{label}: {named or 'no setting'}")
    return f"Beyond the noise (BH-adjusted p < 0.05): {'; '.join(found)}."


def forest_plot(
    table: pd.DataFrame, columns: list[str], metrics: dict[str, str], title: str, path
) -> Figure:
    """A panel per metric, a row per setting: the mean paired difference from the baseline and
    its 95% interval; the dashed line is no difference. Each panel has its own scale, fitted to
    its rows but those that reach far beyond the others (OUTLIER_REACH): an interval cut at an
    edge ends in an arrow head, and a mean beyond it is written there."""
    labels_of = [c for c in columns if table[c].nunique() > 1] or columns
    rows = table.to_dict("records")
    labels = [", ".join(f"{c}={_value(row, c)}" for c in labels_of) for row in rows]
    height = 1.6 + 0.32 * len(table)
    figure = Figure(figsize=(3.2 * len(metrics) + 2.4, height), layout="constrained")
    axes = figure.subplots(1, len(metrics), sharey=True, squeeze=False)[0]
    figure.suptitle(title, fontsize=10)
    y = np.arange(len(table))[::-1]
    for ax, (metric, label) in zip(axes, metrics.items(), strict=True):
        diff = table[f"{metric}_diff"].to_numpy(dtype=float)
        low = np.where(np.isnan(table[f"{metric}_low"]), diff, table[f"{metric}_low"])
        high = np.where(np.isnan(table[f"{metric}_high"]), diff, table[f"{metric}_high"])
        # A difference beyond the noise once every setting is counted (BH-adjusted p < 0.05):
        # green above 0, vermillion below.
        adjusted = table[f"{metric}_p_bh"].to_numpy(dtype=float)
        colors = [
            NEITHER if not q < 0.05 else BETTER if d > 0 else WORSE
            for d, q in zip(diff, adjusted, strict=True)
        ]
        left, right = panel_limits(low, high)
        for yi, d, lo, hi, color in zip(y, diff, low, high, colors, strict=True):
            if np.isnan(d):
                continue
            ax.plot([max(lo, left), min(hi, right)], [yi, yi], color=color, lw=1.6)
            # An interval cut at an edge ends in an arrow head there.
            for cut, edge, marker in ((lo < left, left, "<"), (hi > right, right, ">")):
                if cut:
                    ax.plot(edge, yi, marker, color=color, ms=7, clip_on=False)
            if left <= d <= right:
                ax.plot(d, yi, "o", color=color)
            else:  # the mean itself beyond the edge: its value written there
                edge, side = (left, "left") if d < left else (right, "right")
                ax.annotate(
                    f"{d:+.2f}", (edge, yi), xytext=(8 if side == "left" else -8, 5),
                    textcoords="offset points", ha=side, fontsize=8, color=color,
                )  # fmt: skip
        ax.axvline(0, color="grey", linestyle="--", linewidth=1)
        ax.set_xlim(left, right)
        ax.xaxis.set_major_locator(MaxNLocator(nbins=5))
        ax.set_title(label, fontsize=10)
        ax.set_xlabel("difference from baseline")
        ax.grid(axis="x", alpha=0.3)
    axes[0].set_yticks(y, labels)
    axes[0].set_ylim(-0.6, len(table) - 0.4)
    figure.savefig(path, dpi=110)
    return figure


def panel_limits(low: np.ndarray, high: np.ndarray) -> tuple[float, float]:
    """The x range of a forest plot's panel: every interval [low, high] and 0, with a margin,
    but the intervals that reach more than OUTLIER_REACH times as far from 0 as the median
    interval does."""
    reach = np.fmax(np.abs(low), np.abs(high))
    known = reach[~np.isnan(reach)]
    limit = OUTLIER_REACH * np.median(known) if len(known) else np.inf
    kept = reach <= max(limit, 0.01)
    span = np.concatenate([low[kept], high[kept], [-0.01, 0.01]])  # no difference always shown
    left, right = np.nanmin(span), np.nanmax(span)
    margin = 0.08 * (right - left)
    return left - margin, right + margin
