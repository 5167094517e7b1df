"""A sweep's figures: the paper's Figures 1 to 3, and per-class recall against the ratio.

Every curve is the mean over seeds, with a band of one standard deviation when there are
several. Colours are the Okabe-Ito palette, which colour-blind readers can tell apart.
"""

from pathlib import Path

import pandas as pd
from matplotlib.figure import Figure

from imbalance.report.tables import over_seeds, ratio_label

OKABE_ITO = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000"]
TRAIN, TEST = OKABE_ITO[0], OKABE_ITO[1]
# The classes of each group: the large ones blue, the small ones vermillion.
GROUP_COLORS = {
    "majority": OKABE_ITO[0],
    "many": OKABE_ITO[0],
    "medium": OKABE_ITO[2],
    "minority": OKABE_ITO[1],
    "few": OKABE_ITO[1],
}


def _curve(axes, runs: pd.DataFrame, value: str, color: str, label: str) -> None:
    """`value` per epoch, its mean over seeds as a line and one sd either side as a band."""
    curve = over_seeds(runs, ["epoch"], [value])
    x, mean, sd = curve["epoch"], curve[f"{value}_mean"], curve[f"{value}_std"]
    axes.plot(x, mean, color=color, label=label, linewidth=1.8)
    if sd.notna().any():
        axes.fill_between(x, mean - sd, mean + sd, color=color, alpha=0.2, linewidth=0)


def _panel_label(keys: list[str], values) -> str:
    values = values if isinstance(values, tuple) else (values,)
    return ", ".join(f"{k}={v}" for k, v in zip(keys, values, strict=True)) or "all runs"


def _grid(rows: int, cols: int, title: str) -> tuple[Figure, list]:
    figure = Figure(figsize=(max(3.4 * cols, 6) + 0.6, 2.8 * rows + 1.2), layout="constrained")
    axes = figure.subplots(rows, cols, squeeze=False, sharex=True, sharey=True)
    figure.suptitle(title, fontsize=12)
    return figure, axes


def train_test_curves(
    epochs: pd.DataFrame, columns: list[str], metric: str, ylabel: str, title: str, path: Path
) -> Figure:
    """Figures 1 and 2: train and test `metric` per epoch; a column per ratio, a row per
    regularizer (and per other setting)."""
    rows_keys = [c for c in columns if c != "ratio"]
    rows = list(epochs.groupby(rows_keys, sort=False, dropna=False))
    ratios = list(dict.fromkeys(epochs["ratio"]))
    figure, axes = _grid(len(rows), len(ratios), title)
    for i, (row_value, in_row) in enumerate(rows):
        for j, ratio in enumerate(ratios):
            ax = axes[i][j]
            runs = in_row[in_row["ratio"] == ratio]
            for split, color in (("train", TRAIN), ("test", TEST)):
                _curve(ax, runs, f"{split}_{metric}", color, split)
            ax.set_title(f"{ratio_label(ratio)}, {_panel_label(rows_keys, row_value)}", fontsize=10)
            ax.grid(alpha=0.3)
            if i == len(rows) - 1:
                ax.set_xlabel("epoch")
            if j == 0:
                ax.set_ylabel(ylabel)
    if metric == "acc":
        axes[0][0].set_ylim(0, 1.02)
    axes[0][-1].legend(loc="best", frameon=False)
    figure.savefig(path, dpi=110)
    return figure


def regularizer_curves(epochs: pd.DataFrame, columns: list[str], title: str, path: Path) -> Figure:
    """Figure 3: test accuracy (top) and test loss (bottom) per epoch, a line per regularizer
    (and per other setting), a column per ratio."""
    line_keys = [c for c in columns if c != "ratio"]
    lines = [line for line, _ in epochs.groupby(line_keys, sort=False, dropna=False)]
    color = {line: OKABE_ITO[k % len(OKABE_ITO)] for k, line in enumerate(lines)}
    ratios = list(dict.fromkeys(epochs["ratio"]))
    figure = Figure(figsize=(max(3.4 * len(ratios), 6) + 0.6, 6.6), layout="constrained")
    axes = figure.subplots(2, len(ratios), squeeze=False, sharex=True, sharey="row")
    figure.suptitle(title, fontsize=12)
    for j, ratio in enumerate(ratios):
        at_ratio = epochs[epochs["ratio"] == ratio]
        for line, runs in at_ratio.groupby(line_keys, sort=False, dropna=False):
            for i, metric in enumerate(("test_acc", "test_loss")):
                _curve(axes[i][j], runs, metric, color[line], _panel_label(line_keys, line))
        axes[0][j].set_title(ratio_label(ratio), fontsize=10)
        axes[1][j].set_xlabel("epoch")
        for ax in axes[:, j]:
            ax.grid(alpha=0.3)
    axes[0][0].set_ylabel("test accuracy")
    axes[1][0].set_ylabel("test loss (cross-entropy)")
    axes[0][0].set_ylim(0, 1.02)
    axes[0][-1].legend(loc="best", frameon=False, fontsize=9)
    figure.savefig(path, dpi=110)
    return figure


def recall_by_ratio(classes: pd.DataFrame, columns: list[str], title: str, path: Path) -> Figure:
    """Per-class test recall against the ratio: thin lines for each class, thick lines for the
    mean of each group of classes (minority and majority; many, medium, few); a panel per
    regularizer (and per other setting)."""
    panel_keys = [c for c in columns if c != "ratio"]
    panels = list(classes.groupby(panel_keys, sort=False, dropna=False))
    figure, axes = _grid(1, len(panels), title)
    ratios = sorted(set(classes["ratio"]))
    for j, (panel, runs) in enumerate(panels):
        ax = axes[0][j]
        for group, color in GROUP_COLORS.items():
            members = runs[runs["group"] == group]
            if members.empty:
                continue
            per_class = over_seeds(members, ["class", "ratio"], ["recall"])
            for i, (_, curve) in enumerate(per_class.groupby("class", sort=False)):
                curve = curve.sort_values("ratio")
                label = f"{group} classes, each" if i == 0 else None
                ax.plot(
                    curve["ratio"], curve["recall_mean"], color=color, alpha=0.35, lw=1, label=label
                )
            # The group's mean recall in each run, then its mean and spread over seeds.
            replicate = ["ratio", "seed", "data_seed"]
            by_run = members.groupby(replicate, sort=False)["recall"].mean().reset_index()
            mean = over_seeds(by_run, ["ratio"], ["recall"]).sort_values("ratio")
            ax.errorbar(
                mean["ratio"],
                mean["recall_mean"],
                yerr=mean["recall_std"].fillna(0),
                color=color,
                lw=2.6,
                marker="o",
                capsize=4,
                label=f"{group} classes, mean",
            )
        ax.set_xscale("log")
        ax.set_xlim(min(ratios) / 1.3, max(ratios) * 1.3)  # a sweep at one ratio has a width too
        ax.set_xticks(ratios, [ratio_label(r) for r in ratios])
        ax.minorticks_off()
        ax.set_ylim(-0.03, 1.03)
        ax.set_xlabel("imbalance ratio ρ (largest : smallest class)")
        ax.set_title(_panel_label(panel_keys, panel), fontsize=10)
        ax.grid(alpha=0.3)
    axes[0][0].set_ylabel("test recall")
    legend = {}  # every group of every panel, once
    for ax in axes[0]:
        for handle, label in zip(*ax.get_legend_handles_labels(), strict=True):
            legend.setdefault(label, handle)
    labels, handles = list(legend), list(legend.values())
    legend_columns = 4 if len(panels) > 2 else 2
    figure.legend(
        handles, labels, loc="outside lower center", ncols=legend_columns, frameon=False, fontsize=9
    )
    figure.savefig(path, dpi=110)
    return figure
