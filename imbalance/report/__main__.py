"""python -m imbalance.report [SWEEP] [--baseline KEY=VALUE] [--out DIR]: a sweep's results as
the paper's tables and figures, and which settings differ from a baseline beyond the noise.

Writes into the sweep directory (or DIR) summary.md/.csv, table3.md/.csv (the paper's Table 3)
and the figures the sweep's axes call for: fig1_accuracy.png, fig2_error.png, fig3_settings.png
(test curves, a line per setting other than the ratio) and fig_recall.png (per-class recall
against the ratio, or against the setting that varies); and prints the summary table. With
--baseline (e.g. remedy=none) also paired.md/.csv and fig_paired.png, the paired differences of
every setting from the baseline's. With --select-on val (a sweep of `python -m imbalance.tune`),
each remedy's grid point is first picked by its validation value (selection.md/.csv), and the
report is that of the picked points. The files appear together or not at all, replacing an
earlier report's (`imbalance.report.publish`).
"""

import argparse
import sys
import textwrap
from pathlib import Path, PureWindowsPath

import pandas as pd

from imbalance.errors import ConfigError, quoted
from imbalance.metrics import LOWER_IS_BETTER
from imbalance.report import collapsed, figures, paired, selection, tables
from imbalance.report.publish import staged
from imbalance.report.sweep import Sweep, newest_sweep, read_sweep
from imbalance.run.directory import within
from imbalance.run.results import COMMAND_KEYS, untested_classes
from imbalance.run.sweep_dir import JOBS

# The metrics compared with a baseline: a group's recall is the smallest classes' (minority or few).
PAIRED = ["balanced_acc", "minority_recall", "few_recall", "macro_f1", "auroc"]
TABLES = ["summary.md", "summary.csv", "table3.md", "table3.csv"]
# Figures 1 and 2: (metric, y label, title, file).
CURVES = [
    (
        "acc",
        "accuracy",
        "Train and test accuracy, and the test's balanced accuracy, per epoch",
        "fig1_accuracy.png",
    ),
    ("loss", "loss (cross-entropy)", "Train and test error (loss) per epoch", "fig2_error.png"),
]
FIG3, RECALL = "fig3_settings.png", "fig_recall.png"
FIGURES = [*(curve[-1] for curve in CURVES), FIG3, RECALL]
PAIRED_FILES = ["paired.md", "paired.csv", "fig_paired.png"]
SELECTION = ["selection.md", "selection.csv"]
# Every file a report may write: one that this report does not write is an earlier one's.
REPORT_FILES = [*TABLES, *FIGURES, *PAIRED_FILES, *SELECTION]


# Overrides that say where files lie or how the command treated the directories, not what ran.
NOT_DESCRIBED = ("data.root", "data.cache_dir", "data.manifest", *COMMAND_KEYS)


def describe(sweep: Sweep, columns: list[str]) -> str:
    """`digits, compact, mean ± sd over 2 seeds (0, 1); trainer.max_epochs=20`: what every
    number is, with the overrides that every run shares (the settings in `columns` and the
    seeds aside)."""
    runs = sweep.runs
    common = [
        runs[0]["choices"][group]
        for group in ("data", "model")
        if len({run["choices"][group] for run in runs}) == 1
    ]
    pairs = {tuple(tables.seeds(run).values()) for run in runs}
    seeds, data_seeds = (sorted({pair[i] for pair in pairs}) for i in (0, 1))
    named = ", ".join(map(str, seeds))
    if any(seed != data_seed for seed, data_seed in pairs):  # data.seed set apart from seed
        named = f"seeds {named}; data seeds {', '.join(map(str, data_seeds))}"
        spread = f"mean ± sd over {len(pairs)} runs" if len(pairs) > 1 else "1 run"
    else:
        spread = f"mean ± sd over {len(seeds)} seeds" if len(seeds) > 1 else "1 seed"
    shared = set(runs[0]["overrides"]).intersection(*(run["overrides"] for run in runs[1:]))
    groups = set(runs[0]["choices"])  # data=..., model=...: named above, or a column
    hidden = {*columns, *tables.SEEDS, *NOT_DESCRIBED, *groups}
    shown = sorted(o for o in shared if o.split("=", 1)[0].lstrip("+~") not in hidden)
    return ", ".join([*common, f"{spread} ({named})"]) + "".join(f"; {pathless(o)}" for o in shown)


def pathless(override: str) -> str:
    """`data.source.train=/home/me/lists/train.txt` as `data.source.train=train.txt`: a file's
    name says which it was, its folder only where it lies on one machine."""
    key, equals, value = override.partition("=")
    if not equals or value.startswith(("[", "{", "${")) or not {"/", "\\"} & set(value):
        return override
    return f"{key}={PureWindowsPath(value).name}"  # it splits at / and at \\ alike


def write_report(
    sweep: Sweep, out: Path, baseline: str | None = None, select_on: str | None = None
) -> list[Path]:
    """Writes the tables and figures into `out`, and with `baseline` (`key=value`, e.g.
    `remedy=none`) the paired differences from it; with `select_on="val"`, of each setting's
    grid point picked on the validation split (selection.md/.csv); returns their paths."""
    picked = []
    if select_on:
        runs, chosen = selection.select(sweep.runs, tuned=(sweep.path / JOBS).exists())
        sweep = Sweep(sweep.path, runs, sweep.missing)
        picked = write_selection(chosen, out, sweep.missing)
    runs = sweep.runs
    columns = tables.setting_columns(runs)
    each_run = tables.per_run(runs, columns)
    # Checked before anything is written: a wrong baseline leaves the directory as it was.
    compared = paired.parse_baseline(baseline, each_run, columns) if baseline else None
    context = describe(sweep, columns)
    if select_on:
        context += f"; each setting at its grid point picked on the {select_on} split"
    missing = "".join(f"\n- {job}" for job in sweep.missing)
    missing = f"\n\nMissing jobs, left out:{missing}\n" if missing else "\n"
    untested = "".join(
        f"\n- {run['job'] or 'run'}: {quoted(classes)}"
        for run in runs
        if (classes := untested_classes(run))
    )
    if untested:
        missing += (
            "\nRuns without test images of some classes (their recall and F1 are undefined and "
            f"every average leaves them out):{untested}\n"
        )

    flagged = collapsed.collapsed_runs(
        runs, [tuple(tables.setting_of(run, columns).values()) for run in runs]
    )
    if flagged:
        missing += "\nRuns that learned nothing, flagged:" + "".join(f"\n- {x}" for x in flagged)
        missing += "\n"
    metrics = tables.summary_metrics(runs)
    summary = tables.summary(each_run, columns, metrics)
    summary.to_csv(out / "summary.csv", index=False)
    summary_table = tables.summary_markdown(summary, columns, metrics)
    (out / "summary.md").write_text(
        f"# Summary\n\nFinal test metrics ({context}; a setting's runs in column `seeds`). "
        "Balanced accuracy is the mean per-class recall, G-mean their geometric mean (0 if any "
        "class has recall 0), macro AUROC the mean one-vs-rest AUROC of the classes, ECE the "
        "expected calibration error (15 bins, lower is better); a group's recall (minority, "
        "majority; many, medium, few) is the mean recall of its classes; groups: "
        f"{tables.group_rule(runs)}.\n\n"
        f"{summary_table}" + missing
    )
    table3 = tables.table3(runs, columns)
    table3.to_csv(out / "table3.csv", index=False)
    (out / "table3.md").write_text(
        "# Per-class test precision and recall (the paper's Table 3)\n\n"
        f"{context}. * marks a minority class. A class that is never predicted has precision "
        f"0.\n\n{tables.table3_markdown(table3, columns)}" + missing
    )

    epochs, classes = tables.per_epoch(runs, columns), tables.per_class(runs, columns)
    drawn = []
    if epochs.empty:  # runs stopped before their first epoch ended: no curves to draw
        missing += "\nNo run has a history of epochs: the curve figures are left out.\n"
    else:
        for metric, ylabel, what, name in CURVES:
            path = out / name
            figures.train_test_curves(epochs, columns, metric, ylabel, what, context, path)
            drawn.append(path)
        if figures.setting_curves(epochs, columns, context, out / FIG3):
            drawn.append(out / FIG3)
    if figures.recall_figure(classes, columns, context, out / RECALL):
        drawn.append(out / RECALL)

    written = picked + [out / name for name in TABLES] + drawn
    print(f"{len(runs)} runs in {sweep.path} ({context})")
    print(summary_table + missing.rstrip())
    if compared:
        written += write_paired(sweep, each_run, columns, *compared, context, out, flagged)
    return written


def write_selection(chosen: pd.DataFrame, out: Path, missing: list[str]) -> list[Path]:
    """selection.md and selection.csv: the grid point picked for each setting, among the points
    whose jobs finished (`missing`: those that did not)."""
    failed = (
        f" {len(missing)} job(s) did not finish and were not ranked: " + "; ".join(missing) + "."
        if missing
        else ""
    )
    chosen.to_csv(out / "selection.csv", index=False)
    value = next(column for column in chosen.columns if column.startswith("val_"))
    table = selection.markdown(chosen)
    text = (
        "# Grid points picked on the validation split\n\n"
        f"For each setting, the grid point with the best mean final {value} (the last epoch's, "
        "over the `seeds` that every point of the setting finished), and its margin over the "
        "runner-up; `ranked_on_fewer_seeds` names the points that ran more seeds than they were "
        "ranked on, `tied_with` the points whose mean equals the picked one's (the first in the "
        "grid's order is picked: another seed would tell them apart). Only validation numbers "
        "chose; the other tables and figures of this directory are those of the picked points, "
        f"on the test split.{failed}\n\n{table}\n"
    )
    (out / "selection.md").write_text(text)
    print(text)
    return [out / name for name in SELECTION]


def write_paired(
    sweep: Sweep,
    each_run: pd.DataFrame,
    columns: list[str],
    key: str,
    value: str,
    context: str,
    out: Path,
    flagged: list[str] = (),
) -> list:
    """paired.md, paired.csv and fig_paired.png: every setting against the baseline's
    (`each_run`: `tables.per_run`'s frame), with the runs that learned nothing (`flagged`)."""
    names = tables.summary_metrics(sweep.runs)
    chosen = sweep.runs[0]["config"].get("optimized_metric")
    # The sweep's own metric first (the decision's), then the imbalance metrics.
    metrics = {m: names[m] for m in dict.fromkeys([chosen, *PAIRED]) if m in names}
    table = paired.paired_differences(each_run, columns, key, value, list(metrics))
    table.to_csv(out / "paired.csv", index=False)
    most = table["pairs"].max() if len(table) else 0
    note = (
        "With one seed per setting no interval can be given: run more seeds (seed=0,1,2,3,4)."
        if most < 2
        else "Mean paired difference [95% confidence interval], the paired t-test's p-value, "
        "and in brackets that p-value adjusted for comparing every setting with the baseline "
        "at once (Benjamini-Hochberg): a difference is beyond the noise when that is below 0.05."
    )
    markdown_table = paired.markdown(table, columns, metrics)
    found = paired.beyond_the_noise(table, columns, metrics) if most >= 2 else ""
    metric = chosen if chosen in metrics else next(iter(metrics))
    decided = paired.decision(
        table, columns, key, value, metric, metrics[metric], metric in LOWER_IS_BETTER
    )
    (out / "paired.md").write_text(
        f"# Paired differences from {key}={value}\n\n{context}. Each setting against the "
        f"{key}={value} setting that shares its other values, run by run (runs pair when they "
        f"share seed and data seed). {note}\n\n{decided}\n\n## Every metric\n\n"
        + (f"{found}\n\n" if found else "")
        + f"{markdown_table}\n"
    )
    if flagged:
        decided += (
            "\n\nRuns that learned nothing, in these numbers: "
            + "; ".join(flagged)
            + ". Their setting's mean is theirs too: run them again as the cause says."
        )
    with (out / "summary.md").open("a") as summary:
        summary.write(f"\n{decided}\n\nEvery metric: paired.md.\n")
    paired.forest_plot(
        table,
        [c for c in columns if c != key] + [key],
        metrics,
        f"Paired difference from {key}={value}: mean and 95% interval; coloured where beyond "
        f"the noise (BH-adjusted p < 0.05): green above 0, vermillion below\n"
        f"{textwrap.fill(context, 110)}",
        out / "fig_paired.png",
    )
    print(f"\nPaired differences from {key}={value}. {note}")
    print(markdown_table)
    print(found)
    print(f"\n{decided}")
    return [out / name for name in PAIRED_FILES]


def arguments() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m imbalance.report", description=__doc__)
    parser.add_argument(
        "sweep",
        nargs="?",
        type=Path,
        help="a sweep directory (default: the newest under outputs/multirun)",
    )
    parser.add_argument(
        "--baseline",
        metavar="KEY=VALUE",
        help="also compare every setting with this one, run by run (e.g. remedy=none): "
        "paired.md, paired.csv, fig_paired.png",
    )
    parser.add_argument(
        "--select-on",
        choices=["val"],
        help="first pick each remedy's grid point (python -m imbalance.tune) by its mean "
        "validation value of optimized_metric: selection.md, selection.csv",
    )
    parser.add_argument(
        "--out",
        metavar="DIR",
        type=Path,
        help="write the report into DIR (made if need be) instead of the sweep directory",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    args = arguments().parse_args(argv)
    out = None
    try:
        sweep = read_sweep(args.sweep or newest_sweep())
        out = args.out or sweep.path
        out.mkdir(parents=True, exist_ok=True)
        owned = REPORT_FILES if out.resolve() == sweep.path.resolve() else []
        with staged(out, owned) as stage:
            written = write_report(sweep, stage, args.baseline, args.select_on)
        print(f"wrote into {out}: " + ", ".join(path.name for path in written))
    except ConfigError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except OSError as error:  # a read-only or full file system where the report goes
        if out is None or error.filename is None or not within(error.filename, out):
            raise
        print(
            f"error: cannot write the report into {out} ({error.strerror or error}): "
            "write it elsewhere with --out DIR",
            file=sys.stderr,
        )
        return 2
    except KeyboardInterrupt:
        where = f"the report in {out} is as it was" if out is not None else "nothing written"
        print(f"interrupted: {where}", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
