"""A tuned comparison's selection: for each remedy, the grid point with the best mean validation
value, chosen from validation numbers only (`python -m imbalance.report --select-on val`).

The grid's keys are the sweep's varying `remedy.*` overrides (`imbalance.tune` sets them). Every
setting (ratio, regularizer, remedy...) keeps, of its grid points, the one whose mean over seeds
of the final validation value of `optimized_metric` (the last epoch's, as the test values are)
is best; a setting without a grid keeps its one point.
"""

import pandas as pd

from imbalance.errors import ConfigError
from imbalance.metrics import LOWER_IS_BETTER
from imbalance.report.tables import overrides_of, setting_columns, setting_of


def grid_keys(runs: list[dict]) -> list[str]:
    """The remedy settings that vary across the runs: the grids' keys."""
    return [column for column in setting_columns(runs) if column.startswith("remedy.")]


def final_val(run: dict, metric: str) -> float:
    """The run's last epoch's validation value of `metric`; ConfigError when it has none."""
    value = run["history"][-1].get(f"val_{metric}") if run.get("history") else None
    if value is None:
        raise ConfigError(
            f"--select-on val reads each run's validation {metric}, and "
            f"{run.get('job') or 'a run'} has none (no validation split): tune with "
            "python -m imbalance.tune, which holds one out, or give data.val_fraction=0.2"
        )
    return value


def select(runs: list[dict]) -> tuple[list[dict], pd.DataFrame]:
    """The runs of each setting's selected grid point, their grid overrides dropped (so that
    the picked remedies compare as settings), and a table of the selection: per setting, the
    point picked, its mean validation value over its seeds, the runner-up and the margin
    (how much better the picked point's mean is; NaN without a runner-up)."""
    keys = grid_keys(runs)
    metric = runs[0]["config"]["optimized_metric"]
    lower_better = metric in LOWER_IS_BETTER
    settings = [column for column in setting_columns(runs) if column not in keys]
    frame = pd.DataFrame(
        {
            "index": i,
            **{column: str(value) for column, value in setting_of(run, settings).items()},
            "point": ", ".join(
                f"{key}={value}" for key, value in overrides_of(run).items() if key in keys
            ),
            "val": final_val(run, metric),
        }
        for i, run in enumerate(runs)
    )
    kept, rows = [], []
    for setting, group in frame.groupby(settings, sort=False):
        means = group.groupby("point", sort=False)["val"].agg(["mean", "count"])
        ranked = means.sort_values("mean", ascending=lower_better, kind="stable")
        best, value = ranked.index[0], ranked["mean"].iloc[0]
        second = ranked.iloc[1] if len(ranked) > 1 else None
        rows.append(
            {
                **dict(zip(settings, setting, strict=True)),
                "picked": best or "(no grid)",
                f"val_{metric}": value,
                "seeds": int(ranked["count"].iloc[0]),
                "runner_up": "" if second is None else ranked.index[1],
                "margin": float("nan") if second is None else abs(value - second["mean"]),
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
