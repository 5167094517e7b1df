"""A sweep's figures, shaped by the sweep's axes: the paper's Figures 1 to 3, and per-class
recall against the ratio (or against the setting that varies, at one ratio).

A setting that has one value in the sweep is named once in the title, never given a panel, a
line or an axis of its own; a figure whose only axis would be such a setting is not drawn.
Panels wrap into a grid of at most MAX_COLUMNS columns, unless the ratio varies beside one
other setting: then a row per setting and a column per ratio, as the paper lays them out.
Every curve is the mean over seeds, with a band of one standard deviation when there are
several. Colours are the Okabe-Ito palette, which colour-blind readers can tell apart; past its
seven colours (its yellow left out), lines also differ in style. Legends sit outside the panels.
"""

import math
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from imbalance.report.tables import over_seeds, ratio_label

# Okabe-Ito's palette but its yellow, which thin lines on white do not show.
OKABE_ITO = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000"]
LINE_STYLES = ["-", "--", ":", "-."]
MARKERS = [None, "o", "s", "^", "v", "D"]
TRAIN, TEST = OKABE_ITO[0], OKABE_ITO[1]
# The classes of each group: the large ones blue, the small ones vermillion.
GROUP_COLORS = {
    "majority": OKABE_ITO[0],
    "many": OKABE_ITO[0],
    "medium": OKABE_ITO[2],
    "minority": OKABE_ITO[1],
    "few": OKABE_ITO[1],
}
MAX_COLUMNS = 4
PANEL = (3.4, 2.6)  # inches
BANDED_LINES = 4  # Figure 3 draws a band of one sd around each line up to this many lines
DPI = 110
TITLE_WIDTH = 80  # characters of a title's line: the narrowest figure, MIN_WIDTH, holds them
MIN_WIDTH = 6.5  # inches


def varying(frame: pd.DataFrame, columns: list[str]) -> list[str]:
    """The setting columns with more than one value in `frame`."""
    return [c for c in columns if frame[c].nunique(dropna=False) > 1]


def fixed_label(frame: pd.DataFrame, columns: list[str]) -> str:
    """`15:1, reg=none`: the settings that have one value in `frame`, for a figure's title."""
    return _label([c for c in columns if c not in varying(frame, columns)], frame.iloc[0])


def _label(keys: list[str], values) -> str:
    """`3:1, reg=norm` for the `keys` of `values` (a row, or a tuple in the order of `keys`)."""
    if isinstance(values, tuple):
        values = dict(zip(keys, values, strict=True))
    return ", ".join(ratio_label(values[k]) if k == "ratio" else f"{k}={values[k]}" for k in keys)


def line_styles(count: int) -> list[dict]:
    """`count` distinct (colour, line style, marker) triples: every colour solid first, then
    dashed..., then all of those again with a marker, and so on."""
    colours, styles = len(OKABE_ITO), len(LINE_STYLES)
    return [
        {
            "color": OKABE_ITO[k % colours],
            "linestyle": LINE_STYLES[k // colours % styles],
            "marker": MARKERS[k // (colours * styles) % len(MARKERS)],
            "markevery": 0.2,
        }
        for k in range(count)
    ]


def _groups(frame: pd.DataFrame, keys: list[str]) -> list[tuple[tuple, pd.DataFrame]]:
    """`frame` split by `keys` in order of appearance, each part with its values as a tuple;
    one part, `()`, without keys."""
    if not keys:
        return [((), frame)]
    return [
        (value if isinstance(value, tuple) else (value,), part)
        for value, part in frame.groupby(keys, sort=False, dropna=False)
    ]


def _figure(rows: int, cols: int, title: str, legend_space: float = 0.0, **share) -> tuple:
    """A figure of rows x cols panels of PANEL inches (axes as a 2-d array), `legend_space`
    inches wider for a legend at the right."""
    width = PANEL[0] * cols + 0.9 + legend_space
    figure = Figure(figsize=(max(width, MIN_WIDTH), PANEL[1] * rows + 1.3), layout="constrained")
    axes = figure.subplots(rows, cols, squeeze=False, **share)
    figure.suptitle(title, fontsize=10)
    return figure, axes


def _panel_grid(count: int) -> tuple[int, int]:
    cols = min(count, MAX_COLUMNS)
    return math.ceil(count / cols), cols


def _curve(axes, runs: pd.DataFrame, value: str, label: str, band: bool = True, **style) -> None:
    """`value` per epoch, its mean over seeds as a line and one sd either side as a band; the
    epochs without a value (no test pass: trainer.check_val_every_n_epoch) left out, so that
    the line joins the epochs that have one."""
    curve = over_seeds(runs, ["epoch"], [value]).dropna(subset=[f"{value}_mean"])
    x, mean, sd = curve["epoch"], curve[f"{value}_mean"], curve[f"{value}_std"]
    axes.plot(x, mean, label=label, linewidth=1.8, **style)
    if band and sd.notna().any():
        axes.fill_between(x, mean - sd, mean + sd, color=style["color"], alpha=0.18, linewidth=0)


def _title(what: str, fixed: str, context: str) -> str:
    return f"{what}{f' ({fixed})' if fixed else ''}\n{textwrap.fill(context, TITLE_WIDTH)}"


def train_test_curves(
    epochs: pd.DataFrame,
    columns: list[str],
    metric: str,
    ylabel: str,
    what: str,
    context: str,
    path: Path,
) -> Figure:
    """Figures 1 and 2: train and test `metric` per epoch (with accuracy, the test's balanced
    accuracy and smallest classes' recall beside it), a panel per setting, on one scale. With
    the ratio and one other setting varying, a row per setting and a column per ratio (the
    paper's layout); otherwise the panels wrap."""
    vary = varying(epochs, columns)
    others = [c for c in vary if c != "ratio"]
    title = _title(what, fixed_label(epochs, columns), context)
    # One scale for every panel: the settings' curves compare across panels.
    share = {"sharex": True, "sharey": True}
    lines = [(f"train_{metric}", "train", TRAIN), (f"test_{metric}", "test", TEST)]
    if metric == "acc":  # beside plain accuracy, what an imbalanced test set needs; drawn
        lines = imbalance_curves(epochs) + lines  # first, under it where they meet
    paper_layout = "ratio" in vary and len(others) == 1
    if paper_layout:
        rows = list(dict.fromkeys(epochs[others[0]]))
        ratios = list(dict.fromkeys(epochs["ratio"]))
        figure, axes = _figure(len(rows), len(ratios), title, **share)
        keys = [*others, "ratio"]
        panels = [
            (axes[rows.index(value[0])][ratios.index(value[1])], value, runs)
            for value, runs in _groups(epochs, keys)
        ]
    else:
        groups = _groups(epochs, vary)
        figure, axes = _figure(*_panel_grid(len(groups)), title, **share)
        keys = vary
        panels = [(ax, value, runs) for ax, (value, runs) in zip(axes.flat, groups, strict=False)]
    for ax, value, runs in panels:
        for name, label, color in lines:
            _curve(ax, runs, name, label, color=color, linestyle="--" if "recall" in name else "-")
        ax.set_title(_label(keys, value), fontsize=9)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(alpha=0.3)
    _finish_grid(axes, axes.size if paper_layout else len(panels), "epoch", ylabel)
    if metric == "acc":
        axes[0][0].set_ylim(0, 1.02)
    figure.legend(
        *axes[0][0].get_legend_handles_labels(), loc="outside lower center", ncols=len(lines)
    )
    figure.savefig(path, dpi=DPI)
    return figure


# The group of the smallest classes, whose recall an imbalance study watches, by profile.
SMALL_GROUPS = ("minority", "few")


def imbalance_curves(epochs: pd.DataFrame) -> list[tuple[str, str, str]]:
    """(column, label, colour) of the test curves an imbalanced test set needs: balanced
    accuracy, and the recall of the smallest classes (minority, or few-shot), where the runs'
    histories have them (a results.json from before 2026-11-29 has neither)."""
    wanted = [("test_balanced_acc", "test balanced accuracy", OKABE_ITO[2])] + [
        (f"test_{group}_recall", f"test {group} recall", OKABE_ITO[3]) for group in SMALL_GROUPS
    ]
    found = [w for w in wanted if w[0] in epochs and epochs[w[0]].notna().any()]
    return found[:2]


def _finish_grid(axes, used: int, xlabel: str, ylabel: str) -> None:
    """Hides the grid's unused panels, labels the bottom and left edges of the used ones."""
    rows, cols = axes.shape
    for k, ax in enumerate(axes.flat):
        if k >= used:
            ax.set_visible(False)
            continue
        if k + cols >= used:  # nothing drawn below it
            ax.set_xlabel(xlabel)
            ax.xaxis.set_tick_params(labelbottom=True)
        if k % cols == 0:
            ax.set_ylabel(ylabel)


def setting_curves(
    epochs: pd.DataFrame, columns: list[str], context: str, path: Path
) -> Figure | None:
    """Figure 3: test balanced accuracy, the smallest classes' recall, accuracy and loss per
    epoch, a line per setting other than the ratio (the paper's: per regularizer), a row per
    metric and a column per ratio on one scale a row (at one ratio, the metrics side by side);
    None when only the ratio varies, which Figures 1 and 2 show already. Bands of one sd only
    for a few lines: more would hide the lines."""
    lines_by = [c for c in varying(epochs, columns) if c != "ratio"]
    if not lines_by:
        return None
    lines = [value for value, _ in _groups(epochs, lines_by)]
    style = dict(zip(lines, line_styles(len(lines)), strict=True))
    bands = len(lines) <= BANDED_LINES
    ratios = list(dict.fromkeys(epochs["ratio"]))
    # Balanced accuracy and the smallest classes' recall first: plain accuracy, beside them,
    # rewards a network that neglects the small classes of an imbalanced test set.
    metrics = {name: label for name, label, _ in imbalance_curves(epochs)}
    metrics |= {"test_acc": "test accuracy", "test_loss": "test loss (cross-entropy)"}
    fixed = fixed_label(epochs, [c for c in columns if c != "ratio" or len(ratios) == 1])
    title = _title(f"Test curves per epoch, by {', '.join(lines_by)}", fixed, context)
    # A row per metric, a column per ratio; at one ratio, the metrics side by side.
    if len(ratios) == 1:
        figure, axes = _figure(1, len(metrics), title, legend_space=2.4, sharex=True)
        axes = axes.T
    else:
        figure, axes = _figure(
            len(metrics), len(ratios), title, legend_space=2.4, sharex=True, sharey="row"
        )
    for j, ratio in enumerate(ratios):
        for line, runs in _groups(epochs[epochs["ratio"] == ratio], lines_by):
            name = line[0] if len(lines_by) == 1 else _label(lines_by, line)
            for i, metric in enumerate(metrics):
                _curve(axes[i][j], runs, metric, str(name), bands, **style[line])
        for i, ylabel in enumerate(metrics.values()):
            ax = axes[i][j]
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
            ax.grid(alpha=0.3)
            if len(ratios) == 1:  # the ratio is in the title; each panel names its metric
                ax.set_title(ylabel, fontsize=10)
                ax.set_xlabel("epoch")
                continue
            if i == 0:  # the top row names the ratios
                ax.set_title(ratio_label(ratio), fontsize=10)
            if i == len(metrics) - 1:
                ax.set_xlabel("epoch")
            if j == 0:
                ax.set_ylabel(ylabel)
    for i, metric in enumerate(metrics):
        if metric != "test_loss":
            axes[i][0].set_ylim(0, 1.02)
    legend_title = lines_by[0] if len(lines_by) == 1 else None
    _outside_legend(figure, axes, "outside right center", ncols=1, title=legend_title)
    figure.savefig(path, dpi=DPI)
    return figure


def _outside_legend(figure: Figure, axes, loc: str, ncols: int, title: str | None = None) -> None:
    """Every label of every panel once, in a legend outside the panels."""
    legend = {}
    for ax in axes.flat:
        for handle, label in zip(*ax.get_legend_handles_labels(), strict=True):
            legend.setdefault(label, handle)
    figure.legend(
        list(legend.values()), list(legend), loc=loc, ncols=ncols, fontsize=8.5, title=title
    )


def recall_figure(
    classes: pd.DataFrame, columns: list[str], context: str, path: Path
) -> Figure | None:
    """Per-class test recall: thin lines or dots for each class, the mean of each group of
    classes (minority and majority; many, medium, few) with one sd over seeds. Against the
    ratio when it varies, a panel per other setting; else against the one setting that varies
    (the remedy, say); None when nothing varies."""
    vary = varying(classes, columns)
    if "ratio" in vary:
        return _recall_by_ratio(classes, columns, [c for c in vary if c != "ratio"], context, path)
    if vary:
        return _recall_by_setting(classes, columns, vary, context, path)
    return None


def _group_means(members: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    """A group's mean recall in each run, then its mean and sd over seeds, per `by`."""
    by_run = members.groupby([*by, "seed", "data_seed"], sort=False, dropna=False)["recall"]
    return over_seeds(by_run.mean().reset_index(), by, ["recall"])


def _recall_by_ratio(classes, columns, panel_keys, context, path) -> Figure:
    panels = _groups(classes, panel_keys)
    rows, cols = _panel_grid(len(panels))
    fixed = fixed_label(classes, [c for c in columns if c != "ratio"])
    title = _title("Per-class test recall against the imbalance ratio", fixed, context)
    figure, axes = _figure(rows, cols, title, sharex=True, sharey=True)
    ratios = sorted(set(classes["ratio"]))
    for ax, (panel, runs) in zip(axes.flat, panels, strict=False):
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
            mean = _group_means(members, ["ratio"]).sort_values("ratio")
            ax.errorbar(
                mean["ratio"], mean["recall_mean"], yerr=mean["recall_std"].fillna(0),
                color=color, lw=2.4, marker="o", capsize=4, label=f"{group} classes, mean",
            )  # fmt: skip
        ax.set_xscale("log")
        ax.set_xlim(min(ratios) / 1.3, max(ratios) * 1.3)
        ax.set_xticks(ratios, [ratio_label(r) for r in ratios])
        ax.minorticks_off()
        ax.set_ylim(-0.03, 1.03)
        ax.set_title(_label(panel_keys, panel), fontsize=9)
        ax.grid(alpha=0.3)
    _finish_grid(axes, len(panels), "imbalance ratio ρ (largest : smallest class)", "test recall")
    _outside_legend(figure, axes, "outside lower center", ncols=4 if len(panels) > 2 else 2)
    figure.savefig(path, dpi=DPI)
    return figure


def _recall_by_setting(classes, columns, vary, context, path) -> Figure:
    settings = [value for value, _ in _groups(classes, vary)]
    position = {_key(setting): k for k, setting in enumerate(settings)}

    def at(frame: pd.DataFrame, offset: float) -> list[float]:
        return [position[_key(row)] + offset for row in frame[vary].itertuples(index=False)]

    what = f"Per-class test recall by {', '.join(vary)}"
    title = _title(what, fixed_label(classes, columns), context)
    figure = Figure(figsize=(max(MIN_WIDTH, 0.6 * len(settings) + 2.5), 4.8), layout="constrained")
    ax = figure.subplots()
    figure.suptitle(title, fontsize=10)
    present = [g for g in GROUP_COLORS if (classes["group"] == g).any()]
    offsets = np.linspace(-0.2, 0.2, len(present)) if len(present) > 1 else [0.0]
    for offset, group in zip(offsets, present, strict=True):
        color, members = GROUP_COLORS[group], classes[classes["group"] == group]
        per_class = over_seeds(members, [*vary, "class"], ["recall"])
        ax.scatter(
            at(per_class, offset), per_class["recall_mean"], color=color, alpha=0.35, s=12,
            label=f"{group} classes, each",
        )  # fmt: skip
        mean = _group_means(members, vary)
        ax.errorbar(
            at(mean, offset), mean["recall_mean"], yerr=mean["recall_std"].fillna(0),
            color=color, fmt="o", ms=6, capsize=4, lw=2, label=f"{group} classes, mean",
        )  # fmt: skip
    if len(vary) == 1:  # the values alone, the key below them
        labels = [str(setting[0]) for setting in settings]
        ax.set_xlabel(vary[0])
    else:
        labels = [_label(vary, setting) for setting in settings]
    ax.set_xticks(range(len(settings)), labels, rotation=35, ha="right")
    ax.set_xlim(-0.6, len(settings) - 0.4)
    ax.set_ylim(-0.03, 1.03)
    ax.set_ylabel("test recall")
    ax.grid(axis="y", alpha=0.3)
    figure.legend(*ax.get_legend_handles_labels(), loc="outside right center", fontsize=8.5)
    figure.savefig(path, dpi=DPI)
    return figure


def _key(values) -> tuple[str, ...]:
    """A setting's values as text: NaN equals NaN, 15 equals 15.0 as a groupby gives them."""
    return tuple(str(v) for v in values)
