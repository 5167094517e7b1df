"""A sweep's runs as tables: one row per run, per class, per epoch; and their means over seeds.

Runs that differ only in their seed form one setting; every number of a setting is the mean and
the sample standard deviation (n - 1) over its seeds. Settings keep the order of the runs given.
"""

from collections.abc import Sequence

import pandas as pd

from imbalance.metrics import SCALARS, summary_names
from imbalance.run.results import groups, test_metric

# Replicates of a setting: runs that differ only in these.
SEEDS = ("seed", "data.seed")


def summary_metrics(runs: list[dict]) -> dict[str, str]:
    """The final test metrics of the summary, name -> label: every single-number metric of the
    study, and the mean recall of each group of classes that some run has."""
    present = {group for run in runs for group in groups(run)}
    return {name: SCALARS.get(name, name.replace("_", " ")) for name in summary_names(present)}


def setting_columns(runs: list[dict]) -> list[str]:
    """What tells settings apart: ratio, regularizer, remedy (once there are remedies), and any
    other override that varies across the runs (the seed aside)."""
    varying = set()
    for key in {key for run in runs for key in overrides_of(run)} - {*SEEDS, "ratio", "reg"}:
        if len({overrides_of(run).get(key) for run in runs}) > 1:
            varying.add(key)
    remedies = {run["choices"].get("remedy", "none") for run in runs}
    remedy = ["remedy"] if remedies != {"none"} else []
    return ["ratio", "reg", *remedy, *sorted(varying - {"remedy"})]


def overrides_of(run: dict) -> dict[str, str]:
    return dict(override.split("=", 1) for override in run["overrides"] if "=" in override)


def ratio(run: dict) -> float:
    """The run's imbalance ratio: the one its profile drew; with profile=natural, which draws
    none, the data's own (its largest training class over its smallest, to one decimal)."""
    if run["config"].get("profile") == "natural":
        return round(run["imbalance"], 1) if run.get("imbalance") else float("nan")
    return run["config"]["ratio"]


def setting_of(run: dict, columns: list[str]) -> dict:
    values = {
        "ratio": ratio(run),
        "reg": run["choices"]["reg"],
        "remedy": run["choices"].get("remedy", "none"),
    }
    return {column: values.get(column, overrides_of(run).get(column)) for column in columns}


def seeds(run: dict) -> dict:
    """The run's seed and data seed (the seed, in a results.json from before data.seed)."""
    config = run["config"]
    return {"seed": config["seed"], "data_seed": config.get("data", {}).get("seed", config["seed"])}


def _number(value):
    """null (an undefined metric, or no test pass that epoch) as NaN, which averages skip."""
    return float("nan") if value is None else value


def per_run(runs: list[dict], columns: list[str]) -> pd.DataFrame:
    """One row per run: its setting, seeds and final test metrics (NaN for a metric that its
    results.json lacks)."""
    metrics = summary_metrics(runs)
    rows = []
    for run in runs:
        values = {name: test_metric(run, name) for name in metrics}
        rows.append({**setting_of(run, columns), **seeds(run), **values})
    return pd.DataFrame(rows)


def per_class(runs: list[dict], columns: list[str]) -> pd.DataFrame:
    rows = []
    for run in runs:
        minority = set(run["minority"])
        group = {name: group for group, members in groups(run).items() for name in members}
        for name in run["classes"]:
            rows.append(
                {
                    **setting_of(run, columns),
                    **seeds(run),
                    "class": name,
                    "minority": name in minority,
                    "group": group[name],
                    "precision": _number(run["test"]["precision"][name]),
                    # A class without test images has no recall (results.json from before
                    # 2026-11-29 wrote 0 for it).
                    "recall": _number(run["test"]["recall"][name])
                    if run["counts"]["test"].get(name, 1)
                    else float("nan"),
                }
            )
    return pd.DataFrame(rows)


def per_epoch(runs: list[dict], columns: list[str]) -> pd.DataFrame:
    rows = []
    for run in runs:
        setting = setting_of(run, columns)
        for epoch in run["history"]:
            rows.append({**setting, **seeds(run), **{k: _number(v) for k, v in epoch.items()}})
    return pd.DataFrame(rows)


def over_seeds(frame: pd.DataFrame, keys: list[str], values: list[str]) -> pd.DataFrame:
    """Mean and sample standard deviation of `values` over seeds, one row per `keys`; the
    column `seeds` counts the runs behind each row. Rows keep the order of first appearance."""
    grouped = frame.groupby(keys, sort=False, dropna=False)
    table = grouped[values].agg(["mean", "std"])
    table.columns = [f"{value}_{stat}" for value, stat in table.columns]
    table.insert(0, "seeds", grouped.size())
    return table.reset_index()


def summary(each_run: pd.DataFrame, columns: list[str], metrics: Sequence[str]) -> pd.DataFrame:
    """One row per setting: the final test `metrics` of `each_run` (`per_run`'s frame) over
    seeds."""
    return over_seeds(each_run, columns, list(metrics))


def table3(runs: list[dict], columns: list[str]) -> pd.DataFrame:
    """The paper's Table 3: per-class test precision and recall for each setting, over seeds."""
    return over_seeds(
        per_class(runs, columns), [*columns, "class", "minority"], ["precision", "recall"]
    )


def mean_sd(mean: float, sd: float, digits: int = 3) -> str:
    """`0.912 ± 0.013`, `0.912` where there is no spread to show (a single seed), `-` where
    there is no value."""
    if pd.isna(mean):
        return "-"
    return f"{mean:.{digits}f}" if pd.isna(sd) else f"{mean:.{digits}f} ± {sd:.{digits}f}"


def ratio_label(ratio: float) -> str:
    return f"{ratio:g}:1"


def summary_markdown(table: pd.DataFrame, columns: list[str], metrics: dict[str, str]) -> str:
    header = [*columns, "seeds", *metrics.values()]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for row in table.to_dict("records"):  # not itertuples: it renames `remedy.loss.beta`
        setting = [ratio_label(row["ratio"]) if c == "ratio" else str(row[c]) for c in columns]
        values = [mean_sd(row[f"{m}_mean"], row[f"{m}_std"]) for m in metrics]
        lines.append("| " + " | ".join([*setting, str(row["seeds"]), *values]) + " |")
    return "\n".join(lines)


def table3_markdown(table: pd.DataFrame, columns: list[str]) -> str:
    """One table per setting other than the ratio: classes down, ratios across."""
    panels = [c for c in columns if c != "ratio"]
    sections = []
    for panel, rows in table.groupby(panels, sort=False):
        panel = panel if isinstance(panel, tuple) else (panel,)
        title = ", ".join(f"{key}={value}" for key, value in zip(panels, panel, strict=True))
        ratios = list(dict.fromkeys(rows["ratio"]))
        header = ["class"] + [
            f"{ratio_label(r)} {stat}" for r in ratios for stat in ("precision", "recall")
        ]
        lines = [f"### {title}", "", "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        for name, by_class in rows.groupby("class", sort=False):
            marked = f"{name} *" if by_class["minority"].iloc[0] else name
            cells = []
            for ratio in ratios:
                row = by_class[by_class["ratio"] == ratio]
                for stat in ("precision", "recall"):
                    cells.append(
                        mean_sd(row[f"{stat}_mean"].iloc[0], row[f"{stat}_std"].iloc[0], 2)
                        if len(row)
                        else "-"
                    )
            lines.append("| " + " | ".join([marked, *cells]) + " |")
        sections.append("\n".join(lines))
    return "\n\n".join(sections)


def group_rule(runs: list[dict]) -> str:
    """How the runs grouped their classes, in words, for the report: the minority classes of
    the step profile, the field's thresholds of profile=natural or thirds of the classes by
    their training counts. Runs that grouped differently are each named by their rule."""
    rules = []
    for run in runs:
        config, data = run["config"], run["config"].get("data", {})
        profile = config.get("profile", "step")
        if profile == "step":
            rule = "minority: the classes data.minority names, majority: the others"
        elif profile == "natural" and data.get("shot_groups", "thresholds") == "thresholds":
            many, few = data.get("many_shot", 100), data.get("few_shot", 20)
            rule = (
                f"many-shot: more than {many} training images, few-shot: fewer than {few} (the "
                "field's thresholds)"
            )
        else:
            rule = "many-, medium- and few-shot: thirds of the classes by their training images"
        rules.append(rule)
    return "; ".join(dict.fromkeys(rules))
