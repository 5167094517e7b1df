"""A tuned comparison's selection: for each remedy, the grid point with the best mean validation
value, chosen from validation numbers only (`python -m imbalance.report --select-on val`).

The grid's keys are the sweep's `remedy.*` overrides and, in a sweep of `imbalance.tune`, its
varying `optim.*` ones (`imbalance.tune` sets them). Every
setting (ratio, regularizer, remedy...) keeps, of its grid points, the one whose mean over seeds
of the final validation value of `optimized_metric` (the last epoch's, as the test values are)
is best; a setting without a grid keeps its one point. Points whose means tie with the best are
named (`tied_with`), the first in the grid's order picked.
"""

import math

import pandas as pd

from imbalance.errors import ConfigError
from imbalance.grid import OUTSIDE
from imbalance.metrics import LOWER_IS_BETTER
from imbalance.report.tables import overrides_of, seeds, setting_columns, setting_of


def grid_keys(runs: list[dict]) -> list[str]:
    """The grids' keys: the remedy settings the runs' command lines give (`imbalance.tune`
    gives each run its grid point), whether or not they vary (a grid whose other points all
    failed leaves one point, which is still a grid point); and the optimizer's (OUTSIDE) where
    they vary, in a sweep of `imbalance.tune`, which tried them as grid points (a plain sweep
    over optim.lr=0.01,0.1 keeps them as settings: `select`'s `tuned`)."""
    keys = {key for run in runs for key in overrides_of(run) if key.startswith("remedy.")}
    for key in {key for run in runs for key in overrides_of(run)}:
        if key.split(".")[0] in OUTSIDE:
            values = {overrides_of(run).get(key) for run in runs}
            if len(values) > 1:
                keys.add(key)
    return sorted(keys)


def final_val(run: dict, metric: str) -> float:
    """The run's last epoch's validation value of `metric`; ConfigError when it has none."""
    last = run["history"][-1] if run.get("history") else {}
    name = run.get("job") or "a run"
    if f"val_{metric}" not in last:
        raise ConfigError(
            f"--select-on val reads each run's validation {metric}, and {name} has none (no "
            "validation split): tune with python -m imbalance.tune, which holds one out, or "
            "give data.val_fraction=0.2"
        )
    if last[f"val_{metric}"] is None:
        raise ConfigError(
            f"{name}'s validation {metric} is undefined (a class without validation images): "
            "select on another optimized_metric, e.g. optimized_metric=balanced_acc, or hold "
            "out more with a larger data.val_fraction"
        )
    return last[f"val_{metric}"]


def select(runs: list[dict], tuned: bool = True) -> tuple[list[dict], pd.DataFrame]:
    """The runs of each setting's selected grid point, their grid overrides dropped (so that
    the picked remedies compare as settings), and a table of the selection: per setting, the
    point picked, its mean validation value over the seeds that every point of the setting
    finished (`seeds`), the runner-up and the margin (how much better the picked point's mean
    is; NaN without a runner-up), and the points ranked on fewer seeds than they ran.

    Raises ConfigError when the grid points of a setting share no seed."""
    keys = grid_keys(runs)
    if not tuned:  # not a sweep of imbalance.tune: the optimizer's settings are settings
        keys = [key for key in keys if key.startswith("remedy.")]
    metric = runs[0]["config"]["optimized_metric"]
    lower_better = metric in LOWER_IS_BETTER
    settings = [column for column in setting_columns(runs) if column not in keys]
    frame = pd.DataFrame(
        {
            "index": i,
            **{column: str(value) for column, value in setting_of(run, settings).items()},
            "point": _point(run, keys),
            "seeds": str(tuple(seeds(run).values())),
            "val": final_val(run, metric),
        }
        for i, run in enumerate(runs)
    )
    kept, rows = [], []
    for setting, group in frame.groupby(settings, sort=False):
        described = ", ".join(f"{c}={v}" for c, v in zip(settings, setting, strict=True))
        ran = {point: set(done["seeds"]) for point, done in group.groupby("point", sort=False)}
        shared = set.intersection(*ran.values())
        if not shared:
            raise ConfigError(
                f"the grid points of {described} share no seed, so none compares with another: "
                "run the missing jobs (the same imbalance.tune command runs only those)"
            )
        means = group[group["seeds"].isin(shared)].groupby("point", sort=False)["val"].mean()
        ranked = means.sort_values(ascending=lower_better, kind="stable")
        best = ranked.index[0]
        tied = [point for point in ranked.index[1:] if ranked[point] == ranked.iloc[0]]
        rows.append(
            {
                **dict(zip(settings, setting, strict=True)),
                "picked": best or "(no grid)",
                f"val_{metric}": ranked.iloc[0],
                "seeds": len(shared),
                "runner_up": ranked.index[1] if len(ranked) > 1 else "",
                "margin": abs(ranked.iloc[0] - ranked.iloc[1]) if len(ranked) > 1 else math.nan,
                "tied_with": "; ".join(tied),
                "ranked_on_fewer_seeds": "; ".join(p for p, s in ran.items() if s != shared),
            }
        )
        kept += group.loc[group["point"] == best, "index"].tolist()
    picked = []
    for i in sorted(kept):
        run = dict(runs[i])
        run["overrides"] = [o for o in run["overrides"] if o.split("=", 1)[0] not in keys]
        picked.append(run)
    return picked, pd.DataFrame(rows)


def _point(run: dict, keys: list[str]) -> str:
    """`remedy.loss.gamma=2.0`: the run's values of the grid's keys ('' for none)."""
    return ", ".join(f"{key}={value}" for key, value in overrides_of(run).items() if key in keys)


def markdown(chosen: pd.DataFrame) -> str:
    """The selection table in Markdown, values to 3 decimals."""
    lines = ["| " + " | ".join(chosen.columns) + " |", "|" + "---|" * len(chosen.columns)]
    for row in chosen.itertuples(index=False):
        cells = [_cell(value) for value in row]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _cell(value) -> str:
    if isinstance(value, float):
        return "" if value != value else f"{value:.3f}"  # NaN: no runner-up
    return str(value)
