"""python -m imbalance.report [SWEEP]: a sweep's results as the paper's tables and figures.

Writes into the sweep directory summary.md/.csv, table3.md/.csv (the paper's Table 3),
fig1_accuracy.png, fig2_error.png, fig3_regularizers.png and fig_recall.png, and prints the
summary table.
"""

import argparse
import sys
from pathlib import Path

from imbalance.errors import ConfigError
from imbalance.report import figures, tables
from imbalance.report.sweep import Sweep, newest_sweep, read_sweep

WRITES = [
    "summary.md", "summary.csv", "table3.md", "table3.csv",
    "fig1_accuracy.png", "fig2_error.png", "fig3_regularizers.png", "fig_recall.png",
]  # fmt: skip


def describe(sweep: Sweep) -> str:
    """`digits, compact, mean ± sd over 2 seeds (0, 1)`: what every number is."""
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
    return ", ".join([*common, f"{spread} ({named})"])


def write_report(sweep: Sweep) -> list[Path]:
    """Writes the tables and figures into the sweep directory; returns their paths."""
    runs, out = sweep.runs, sweep.path
    columns = tables.setting_columns(runs)
    context = describe(sweep)
    missing = "".join(f"\n- {job}" for job in sweep.missing)
    missing = f"\n\nMissing jobs, left out:{missing}\n" if missing else "\n"

    summary, metrics = tables.summary(runs, columns), tables.summary_metrics(runs)
    summary.to_csv(out / "summary.csv", index=False)
    summary_table = tables.summary_markdown(summary, columns, metrics)
    (out / "summary.md").write_text(
        f"# Summary\n\nFinal test metrics ({context}; a setting's runs in column `seeds`). "
        "Balanced accuracy is the mean per-class recall, G-mean their geometric mean (0 if any "
        "class has recall 0), macro AUROC the mean one-vs-rest AUROC of the classes, ECE the "
        "expected calibration error (15 bins, lower is better); a group's recall (minority, "
        "majority; many, medium, few) is the mean recall of its classes.\n\n"
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
    figures.train_test_curves(
        epochs,
        columns,
        "acc",
        "accuracy",
        f"Train and test accuracy per epoch\n{context}",
        out / "fig1_accuracy.png",
    )
    figures.train_test_curves(
        epochs,
        columns,
        "loss",
        "loss (cross-entropy)",
        f"Train and test error (loss) per epoch\n{context}",
        out / "fig2_error.png",
    )
    figures.regularizer_curves(
        epochs,
        columns,
        f"Test accuracy and error (loss) per epoch, by regularizer\n{context}",
        out / "fig3_regularizers.png",
    )
    figures.recall_by_ratio(
        classes, columns,
        f"Per-class test recall against the imbalance ratio\n{context}", out / "fig_recall.png",
    )  # fmt: skip

    written = [out / name for name in WRITES]
    print(f"{len(runs)} runs in {out} ({context})")
    print(summary_table + missing.rstrip())
    print("wrote " + ", ".join(path.name for path in written))
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m imbalance.report", description=__doc__)
    parser.add_argument(
        "sweep",
        nargs="?",
        type=Path,
        help="a sweep directory (default: the newest under outputs/multirun)",
    )
    args = parser.parse_args(argv)
    try:
        write_report(read_sweep(args.sweep or newest_sweep()))
    except ConfigError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
