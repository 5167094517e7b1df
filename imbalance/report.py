"""python -m imbalance.report [SWEEP]: a sweep's results as the paper's tables and figures.

Writes into the sweep directory: table3.md/.csv, summary.md/.csv, fig1_accuracy.png,
fig2_error.png, fig3_regularizers.png and fig_recall.png; prints a short summary.
"""

import argparse
import sys
from pathlib import Path

from imbalance import figures, tables
from imbalance.errors import ConfigError
from imbalance.sweep import Sweep, newest_sweep, read_sweep


def describe(sweep: Sweep) -> str:
    """`digits, compact, mean ± sd over 2 seeds (0, 1)`: what every number is."""
    runs = sweep.runs
    common = [
        runs[0]["choices"][group]
        for group in ("data", "model")
        if len({run["choices"][group] for run in runs}) == 1
    ]
    seeds = sorted({run["config"]["seed"] for run in runs})
    spread = f"mean ± sd over {len(seeds)} seeds" if len(seeds) > 1 else "1 seed"
    return ", ".join([*common, f"{spread} ({', '.join(map(str, seeds))})"])


def write_report(sweep: Sweep) -> list[Path]:
    columns = tables.setting_columns(sweep.runs)
    context = describe(sweep)
    summary = tables.summary(sweep.runs, columns)
    table3 = tables.table3(sweep.runs, columns)
    missing = "".join(f"\n- {job}" for job in sweep.missing)
    missing = f"\n\nMissing jobs, left out:{missing}\n" if missing else "\n"
    notes = (
        f"Final test metrics ({context}; a setting's seeds in column `seeds`). Balanced "
        "accuracy is the mean per-class recall; minority and majority recall are the mean "
        "recall of each group's classes."
    )
    out = sweep.path
    files = {
        "summary.csv": lambda path: summary.to_csv(path, index=False),
        "summary.md": lambda path: path.write_text(
            f"# Summary\n\n{notes}\n\n{tables.summary_markdown(summary, columns)}{missing}"
        ),
        "table3.csv": lambda path: table3.to_csv(path, index=False),
        "table3.md": lambda path: path.write_text(
            f"# Per-class test precision and recall (the paper's Table 3)\n\n"
            f"{context}. * marks a minority class. A class that is never predicted has "
            f"precision 0.\n\n{tables.table3_markdown(table3, columns)}{missing}"
        ),
    }
    epochs = tables.per_epoch(sweep.runs, columns)
    classes = tables.per_class(sweep.runs, columns)
    title = {
        "fig1": "Train and test accuracy per epoch",
        "fig2": "Train and test error (loss) per epoch",
        "fig3": "Test accuracy and error (loss) per epoch, by regularizer",
        "recall": "Per-class test recall against the imbalance ratio",
    }
    title = {key: f"{text}\n{context}" for key, text in title.items()}
    plots = {
        "fig1_accuracy.png": lambda path: figures.train_test_curves(
            epochs, columns, "acc", "accuracy", title["fig1"], path
        ),
        "fig2_error.png": lambda path: figures.train_test_curves(
            epochs, columns, "loss", "loss (cross-entropy)", title["fig2"], path
        ),
        "fig3_regularizers.png": lambda path: figures.regularizer_curves(
            epochs, columns, title["fig3"], path
        ),
        "fig_recall.png": lambda path: figures.recall_by_ratio(
            classes, columns, title["recall"], path
        ),
    }
    written = []
    for name, write in {**files, **plots}.items():
        write(out / name)
        written.append(out / name)
    print(f"{len(sweep.runs)} runs in {out} ({context})")
    print(tables.summary_markdown(summary, columns) + missing.rstrip())
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
