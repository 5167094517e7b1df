"""The report, checked against numbers recomputed here from the jobs' results.json files."""

import csv
import json
import re
import statistics

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import f1_score

from helpers import fake_results, fake_sweep
from imbalance.report import figures, paired, tables
from imbalance.report.__main__ import main
from imbalance.report.sweep import read_sweep

RATIOS, REGS, SEEDS = [1, 3], ["none", "norm"], [0, 1, 2]
FAILED = (3, "norm", 2)
PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def sweep(tmp_path):
    return fake_sweep(tmp_path / "sweep", RATIOS, REGS, SEEDS, skip={FAILED})


@pytest.fixture(scope="module")
def reported(tmp_path_factory):
    """The sweep of `sweep`, reported once, for the tests that only read what was written."""
    root = tmp_path_factory.mktemp("reported") / "sweep"
    sweep = fake_sweep(root, RATIOS, REGS, SEEDS, skip={FAILED})
    assert main([str(sweep)]) == 0
    return sweep


def finished_runs(sweep, ratio, reg):
    runs = []
    for seed in SEEDS:
        path = sweep / f"ratio={ratio},reg={reg},seed={seed}" / "results.json"
        if path.exists():
            runs.append(json.loads(path.read_text()))
    return runs


def read_csv(path):
    with open(path, newline="") as file:
        return list(csv.DictReader(file))


def test_summary_csv_is_the_mean_and_sd_over_seeds(reported):
    sweep = reported
    rows = read_csv(sweep / "summary.csv")
    assert [(int(r["ratio"]), r["reg"]) for r in rows] == [
        (1, "none"),
        (1, "norm"),
        (3, "none"),
        (3, "norm"),
    ]
    for row in rows:
        runs = finished_runs(sweep, int(row["ratio"]), row["reg"])
        assert (
            int(row["seeds"])
            == len(runs)
            == (2 if (int(row["ratio"]), row["reg"]) == FAILED[:2] else 3)
        )
        # Every metric of the study, as each run's results.json holds it.
        metrics = ["acc", "balanced_acc", "macro_f1", "g_mean", "auroc", "ece"]
        metrics += ["minority_recall", "majority_recall"]
        assert [key[: -len("_mean")] for key in row if key.endswith("_mean")] == metrics
        expected = {metric: [run["test"][metric] for run in runs] for metric in metrics}
        for metric, values in expected.items():
            assert float(row[f"{metric}_mean"]) == pytest.approx(statistics.mean(values)), metric
            assert float(row[f"{metric}_std"]) == pytest.approx(statistics.stdev(values)), metric


def test_table3_csv_is_per_class_precision_and_recall_over_seeds(reported):
    sweep = reported
    rows = read_csv(sweep / "table3.csv")
    assert len(rows) == len(RATIOS) * len(REGS) * 4
    for row in rows:
        runs = finished_runs(sweep, int(row["ratio"]), row["reg"])
        assert row["minority"] == str(row["class"] in ("c", "d"))
        for stat in ("precision", "recall"):
            values = [run["test"][stat][row["class"]] for run in runs]
            assert float(row[f"{stat}_mean"]) == pytest.approx(statistics.mean(values))
            assert float(row[f"{stat}_std"]) == pytest.approx(statistics.stdev(values))


def test_markdown_tables_state_the_seeds_and_mark_minority_classes(reported):
    sweep = reported
    summary = (sweep / "summary.md").read_text()
    assert "mean ± sd over 3 seeds (0, 1, 2)" in summary
    runs = finished_runs(sweep, 1, "none")
    accs = [run["test"]["acc"] for run in runs]
    assert f"{statistics.mean(accs):.3f} ± {statistics.stdev(accs):.3f}" in summary
    table3 = (sweep / "table3.md").read_text()
    assert "### reg=none" in table3 and "### reg=norm" in table3
    assert "| c * |" in table3 and "| a |" in table3
    assert "| class | 1:1 precision | 1:1 recall | 3:1 precision | 3:1 recall |" in table3


def test_a_missing_job_is_named_and_not_fatal(sweep, capsys):
    # One job failed (its directory, no results); another never started (no directory).
    never = sweep / "ratio=1,reg=none,seed=1"
    for file in sorted(never.rglob("*"), reverse=True):
        file.unlink() if file.is_file() else file.rmdir()
    never.rmdir()
    assert main([str(sweep)]) == 0
    out = capsys.readouterr().out
    for text in (out, (sweep / "summary.md").read_text(), (sweep / "table3.md").read_text()):
        assert "ratio=3,reg=norm,seed=2 (failed or unfinished)" in text
        assert "ratio=1,reg=none,seed=1 (never ran)" in text
    assert len(read_csv(sweep / "summary.csv")) == 4


def test_a_sweep_run_again_with_rerun_true_is_the_same_sweep(sweep, capsys):
    """rerun=true is in multirun.yaml and the jobs' .hydra/overrides.yaml, not in results.json:
    it names no setting, and no job is missing for it."""
    multirun = sweep / "multirun.yaml"
    multirun.write_text(multirun.read_text() + "    - rerun=true\n")
    for file in sweep.glob("*/.hydra/overrides.yaml"):
        file.write_text(file.read_text() + "- rerun=true\n")
    assert main([str(sweep)]) == 0
    out = capsys.readouterr().out
    assert "ratio=3,reg=norm,seed=2 (failed or unfinished)" in out
    assert "never ran" not in out and "rerun" not in (sweep / "summary.md").read_text()


def test_one_seed_gives_plain_values(tmp_path):
    sweep = fake_sweep(tmp_path / "one", RATIOS, REGS, [0])
    assert main([str(sweep)]) == 0
    summary = (sweep / "summary.md").read_text()
    assert "±" not in summary and "1 seed (0)" in summary
    assert all(row["acc_std"] == "" for row in read_csv(sweep / "summary.csv"))


def test_figures_are_written_with_the_expected_panels(reported, tmp_path):
    sweep = reported
    for name in ("fig1_accuracy", "fig2_error", "fig3_settings", "fig_recall"):
        data = (sweep / f"{name}.png").read_bytes()
        assert data.startswith(PNG) and len(data) > 10_000, name

    runs = [run for ratio in RATIOS for reg in REGS for run in finished_runs(sweep, ratio, reg)]
    columns = tables.setting_columns(runs)
    epochs, classes = tables.per_epoch(runs, columns), tables.per_class(runs, columns)
    fig1 = figures.train_test_curves(
        epochs, columns, "acc", "accuracy", "t", "c", tmp_path / "1.png"
    )
    # The paper's layout: a row per regularizer, a column per ratio.
    assert [ax.get_title() for ax in fig1.axes] == [
        "reg=none, 1:1", "reg=none, 3:1", "reg=norm, 1:1", "reg=norm, 3:1"
    ]  # fmt: skip
    assert all(len(ax.get_lines()) == 2 for ax in fig1.axes)  # train and test
    assert [len(c.get_paths()) for c in fig1.axes[0].collections] == [1, 1]  # a band each
    fig3 = figures.setting_curves(epochs, columns, "c", tmp_path / "3.png")
    assert len(fig3.axes) == 4 and all(len(ax.get_lines()) == 2 for ax in fig3.axes)
    assert fig3.get_suptitle().startswith("Test curves per epoch, by reg")
    (legend,) = fig3.legends
    assert legend.get_title().get_text() == "reg"
    assert [t.get_text() for t in legend.get_texts()] == ["none", "norm"]
    recall = figures.recall_figure(classes, columns, "c", tmp_path / "r.png")
    assert [ax.get_title() for ax in recall.axes] == ["reg=none", "reg=norm"]
    assert [ax.get_xlabel() for ax in recall.axes] == [
        "imbalance ratio ρ (largest : smallest class)"
    ] * 2


def study_sweep(root, seeds):
    return fake_sweep(root, [1, 3, 7, 15], ["none", "full", "norm"], seeds)


REMEDIES = [
    "class_balanced", "crt", "drw", "focal", "ldam_drw", "logit_adjusted_loss", "none",
    "oversample", "oversample_replicate", "reweight", "sqrt_sampling", "threshold", "two_phase",
    "undersample",
]  # fmt: skip


def remedies_sweep(root):
    """The README's remedies sweep at one ratio, 3 seeds: undersampling far worse than the
    others, which lie within a few points of no remedy."""
    rng = np.random.default_rng(1)
    values = {
        remedy: list(0.8 + (-0.7 if remedy == "undersample" else 0.02) + rng.normal(0, 0.01, 3))
        for remedy in REMEDIES
    }
    values["none"] = [0.8, 0.81, 0.79]
    return remedy_sweep(root, values)


def pixels(path):
    from PIL import Image

    with Image.open(path) as image:
        return image.size


def drawn(figure):
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    canvas = FigureCanvasAgg(figure)
    canvas.draw()
    return canvas.get_renderer()


@pytest.mark.parametrize(
    "make, baseline, expected",
    [
        (lambda root: study_sweep(root, [0]), None, {"fig3_settings", "fig_recall"}),
        (lambda root: study_sweep(root, [0, 1, 2]), "reg=none", {"fig3_settings", "fig_recall"}),
        (remedies_sweep, "remedy=none", {"fig3_settings", "fig_recall"}),
        (lambda root: fake_sweep(root, [15], ["none"], [0, 1, 2]), None, set()),
    ],
    ids=["study", "seeded study", "remedies at one ratio", "one setting"],
)
def test_every_figure_fits_a_screen_for_the_readmes_sweeps(tmp_path, make, baseline, expected):
    sweep = make(tmp_path / "sweep")
    assert main([str(sweep), *(["--baseline", baseline] if baseline else [])]) == 0
    written = {path.stem for path in sweep.glob("*.png")}
    # Figures 1 and 2 always; Figure 3 and recall only where a setting varies to draw them by.
    paired = {"fig_paired"} if baseline else set()
    assert written == {"fig1_accuracy", "fig2_error"} | expected | paired
    for path in sweep.glob("*.png"):
        width, height = pixels(path)
        assert 400 <= min(width, height) and max(width, height) <= 2000, (path.name, width, height)
        assert max(width, height) / min(width, height) <= 4, (path.name, width, height)


def test_a_remedies_sweep_at_one_ratio_gets_figures_by_remedy(tmp_path):
    sweep = remedies_sweep(tmp_path / "sweep")
    runs = read_sweep(sweep).runs
    columns = tables.setting_columns(runs)
    epochs, classes = tables.per_epoch(runs, columns), tables.per_class(runs, columns)

    fig1 = figures.train_test_curves(epochs, columns, "acc", "acc", "t", "c", tmp_path / "1.png")
    shown = [ax for ax in fig1.axes if ax.get_visible()]
    assert [ax.get_title() for ax in shown] == [f"remedy={remedy}" for remedy in REMEDIES]
    assert fig1.axes[0].get_gridspec().ncols == figures.MAX_COLUMNS  # the grid wraps
    assert "(15:1, reg=none)" in fig1.get_suptitle()  # the settings with one value, once

    fig3 = figures.setting_curves(epochs, columns, "c", tmp_path / "3.png")
    assert "by remedy" in fig3.get_suptitle() and "regularizer" not in fig3.get_suptitle()
    styles = [(line.get_color(), line.get_linestyle()) for line in fig3.axes[0].get_lines()]
    assert len(styles) == len(REMEDIES) == len(set(styles)), "two remedies look alike"
    renderer = drawn(fig3)
    (legend,) = fig3.legends
    box = legend.get_window_extent(renderer)
    assert not any(box.overlaps(ax.get_window_extent(renderer)) for ax in fig3.axes)

    recall = figures.recall_figure(classes, columns, "c", tmp_path / "r.png")
    (ax,) = recall.axes
    assert [label.get_text() for label in ax.get_xticklabels()] == REMEDIES
    assert ax.get_xlabel() == "remedy" and "ratio" not in recall.get_suptitle().split("(")[0]


def test_a_far_outlier_is_cut_at_the_edge_of_the_paired_plot_with_its_value(tmp_path):
    runs = read_sweep(remedies_sweep(tmp_path / "sweep")).runs
    columns = tables.setting_columns(runs)
    each_run = tables.per_run(runs, columns)
    metrics = {"balanced_acc": "balanced accuracy"}
    frame = paired.paired_differences(each_run, columns, "remedy", "none", list(metrics))
    figure = paired.forest_plot(frame, columns, metrics, "t", tmp_path / "p.png")
    (ax,) = figure.axes
    left, right = ax.get_xlim()
    table = {row["remedy"]: row for row in frame.to_dict("records")}
    under = table["undersample"]["balanced_acc_diff"]
    assert under < left, "the outlier sets the scale"
    assert f"{under:+.2f}" in [text.get_text() for text in ax.texts]
    # Every other interval is at least a twentieth of the panel wide: readable, not a sliver.
    for remedy, row in table.items():
        if remedy != "undersample":
            width = row["balanced_acc_high"] - row["balanced_acc_low"]
            assert width / (right - left) > 1 / 20, remedy
    assert paired.beyond_the_noise(frame, columns, metrics) == (
        f"Beyond the noise (BH-adjusted p < 0.05): balanced accuracy: remedy=undersample "
        f"{under:+.3f}."
    )


def test_the_scale_of_a_paired_panel_keeps_every_interval_unless_one_is_far_beyond():
    low, high = np.array([-0.05, -0.02, 0.01]), np.array([0.03, 0.04, 0.06])
    left, right = paired.panel_limits(low, high)
    assert (left, right) == pytest.approx((-0.05 - 0.0088, 0.06 + 0.0088))
    # A fourth interval 10 times as far out as the median one is left beyond the edge.
    left, right = paired.panel_limits(np.append(low, -0.8), np.append(high, -0.6))
    assert left == pytest.approx(-0.05 - 0.0088)
    # Half of them that far: no longer outliers, the scale is theirs.
    far_low, far_high = np.append(low, [-0.8] * 3), np.append(high, [-0.6] * 3)
    assert paired.panel_limits(far_low, far_high)[0] < -0.8


def test_a_directory_without_runs_is_one_clear_line(tmp_path, capsys):
    assert main([str(tmp_path)]) == 2
    assert capsys.readouterr().err.strip() == (
        f"error: no finished runs (no results.json) under '{tmp_path}'; "
        "give a sweep's directory, e.g. outputs/multirun/<time>"
    )
    assert main([str(tmp_path / "nowhere")]) == 2
    assert "is not a directory" in capsys.readouterr().err


def test_by_default_the_newest_sweep_not_an_empty_directory(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    multirun = tmp_path / "outputs" / "multirun"
    assert main([]) == 2
    assert "no sweep under outputs/multirun/" in capsys.readouterr().err
    fake_sweep(multirun / "2026-01-01_10-00-00", [1], ["none"], [0])
    fake_sweep(multirun / "2026-01-01_10-00-00_2", [3], ["none"], [0])
    # What `python -m imbalance.train --cfg hydra --resolve` leaves behind: the directory that
    # the sweep would have run in.
    (multirun / "2026-01-01_10-00-01").mkdir()
    assert main([]) == 0
    assert "1 runs in outputs/multirun/2026-01-01_10-00-00_2" in capsys.readouterr().out


def test_report_on_a_real_sweep(real_sweep, capsys):
    assert main([str(real_sweep)]) == 0
    assert "4 runs in" in capsys.readouterr().out
    rows = read_csv(real_sweep / "summary.csv")
    assert [(r["ratio"], r["reg"]) for r in rows] == [
        ("1", "none"),
        ("1", "norm"),
        ("3", "none"),
        ("3", "norm"),
    ]
    for name in ("table3.md", "fig1_accuracy.png", "fig_recall.png"):
        assert (real_sweep / name).stat().st_size > 0


def test_runs_without_a_sweep_record_report_nothing_missing(sweep, capsys):
    # A folder of runs gathered by hand: no multirun.yaml, so no list of expected jobs.
    (sweep / "multirun.yaml").unlink()
    assert main([str(sweep)]) == 0
    out = capsys.readouterr().out
    assert "never ran" not in out
    assert "ratio=3,reg=norm,seed=2 (failed or unfinished)" in out


def rewrite_runs(sweep, change) -> None:
    """Applies `change(results)` to every results.json of a sweep."""
    for path in sweep.rglob("results.json"):
        results = json.loads(path.read_text())
        change(results)
        path.write_text(json.dumps(results))


def test_runs_differing_only_in_their_data_seed_are_replicates(tmp_path, capsys):
    sweep = fake_sweep(tmp_path / "sweep", RATIOS, REGS, [0, 1])

    def data_seed_from_ratio(results):  # as `seed=0,1 data.seed=7` would, per ratio
        results["config"]["data"]["seed"] = 7 + results["config"]["seed"]
        results["overrides"].append(f"data.seed={7 + results['config']['seed']}")

    rewrite_runs(sweep, data_seed_from_ratio)
    assert main([str(sweep)]) == 0
    rows = read_csv(sweep / "summary.csv")
    assert len(rows) == 4 and {row["seeds"] for row in rows} == {"2"}
    assert "data.seed" not in rows[0]
    assert "mean ± sd over 2 runs (seeds 0, 1; data seeds 7, 8)" in capsys.readouterr().out


def test_long_tail_runs_report_their_many_medium_and_few_groups(tmp_path):
    sweep = fake_sweep(tmp_path / "sweep", RATIOS, REGS, [0, 1])

    def long_tail(results):
        results["config"]["profile"] = "exponential"
        results["groups"] = {"many": ["a"], "medium": ["b", "c"], "few": ["d"]}
        recall = results["test"]["recall"]
        results["test"] |= {
            "many_recall": recall["a"],
            "medium_recall": (recall["b"] + recall["c"]) / 2,
            "few_recall": recall["d"],
        }
        for key in ("majority_recall", "minority_recall"):
            del results["test"][key]

    rewrite_runs(sweep, long_tail)
    assert main([str(sweep)]) == 0
    row = read_csv(sweep / "summary.csv")[0]
    runs = finished_runs(sweep, 1, "none")
    for group in ("many", "medium", "few"):
        values = [run["test"][f"{group}_recall"] for run in runs]
        assert float(row[f"{group}_recall_mean"]) == pytest.approx(statistics.mean(values))
    assert "minority_recall_mean" not in row
    assert "| many recall | medium recall | few recall |" in (sweep / "summary.md").read_text()
    every_run = read_sweep(sweep).runs  # the ratio varies: recall against it
    columns = tables.setting_columns(every_run)
    classes = tables.per_class(every_run, columns)
    figure = figures.recall_figure(classes, columns, "t", tmp_path / "r.png")
    labels = [text.get_text() for text in figure.legends[0].get_texts()]
    groups = ("many", "medium", "few")
    assert sorted(labels) == sorted(
        f"{g} classes, {kind}" for g in groups for kind in ("each", "mean")
    )


def test_results_written_before_the_metrics_module_still_report(tmp_path):
    # results.json as runs wrote it until 2026-11-28: no groups, no macro F1, G-mean, AUROC, ECE.
    sweep = fake_sweep(tmp_path / "sweep", RATIOS, REGS, [0, 1])

    def old_format(results):
        del results["groups"], results["config"]["profile"], results["config"]["data"]
        for key in ("macro_f1", "g_mean", "auroc", "ece", "f1"):
            del results["test"][key]
        for key in ("majority_recall", "minority_recall"):
            del results["test"][key]

    rewrite_runs(sweep, old_format)
    assert main([str(sweep)]) == 0
    row = read_csv(sweep / "summary.csv")[0]
    runs = finished_runs(sweep, 1, "none")
    f1s = []
    for run in runs:
        matrix = np.array(run["test"]["confusion_matrix"])
        true = np.repeat(np.arange(4), matrix.sum(axis=1))
        predicted = np.concatenate([np.repeat(np.arange(4), counts) for counts in matrix])
        f1s.append(f1_score(true, predicted, average="macro", zero_division=0))
    assert float(row["macro_f1_mean"]) == pytest.approx(statistics.mean(f1s))
    minority = [statistics.mean(run["test"]["recall"][c] for c in "cd") for run in runs]
    assert float(row["minority_recall_mean"]) == pytest.approx(statistics.mean(minority))
    assert row["g_mean_mean"] == "" and "| - |" in (sweep / "summary.md").read_text()


def remedy_sweep(root, values: dict[str, list[float]], ratios=(15,), skip=()):
    """Runs at each ratio, reg none, one per remedy and replicate: replicate i has seed i and
    data seed 10 + i, and these balanced accuracies (+ the ratio, so ratios differ). Jobs are
    written in a shuffled order; (remedy, replicate) pairs in `skip` are left out."""
    jobs = [
        (ratio, remedy, i, value)
        for ratio in ratios
        for remedy, accuracies in values.items()
        for i, value in enumerate(accuracies)
        if (remedy, i) not in skip
    ]
    for k in np.random.default_rng(0).permutation(len(jobs)):
        ratio, remedy, i, value = jobs[k]
        results = fake_results(ratio, "none", i)
        results["choices"]["remedy"] = remedy
        results["config"]["data"]["seed"] = 10 + i
        results["overrides"] += [f"remedy={remedy}", f"data.seed={10 + i}"]
        results["test"]["balanced_acc"] = value + ratio
        job = root / f"ratio={ratio},remedy={remedy},seed={i},data.seed={10 + i}"
        job.mkdir(parents=True)
        (job / "results.json").write_text(json.dumps(results))
    return root


def test_paired_differences_from_a_baseline_with_intervals_and_p_values(tmp_path, capsys):
    from scipy import stats

    values = {
        "none": [0.50, 0.55, 0.52, 0.48, 0.51],
        "focal": [0.60, 0.62, 0.63, 0.55, 0.61],  # +0.10, +0.07, +0.11, +0.07, +0.10
        "oversample": [0.49, 0.57, 0.50, 0.50, 0.50],  # -0.01, +0.02, -0.02, +0.02, -0.01
    }
    # Two ratios (each paired within its own ratio), and focal's replicate 4 missing.
    sweep = remedy_sweep(tmp_path / "sweep", values, ratios=(3, 15), skip={("focal", 4)})
    assert main([str(sweep), "--baseline", "remedy=none"]) == 0
    rows = {(float(row["ratio"]), row["remedy"]): row for row in read_csv(sweep / "paired.csv")}
    assert set(rows) == {(r, m) for r in (3, 15) for m in ("focal", "oversample")}
    for (_, remedy), row in rows.items():
        n = 4 if remedy == "focal" else 5
        diff = np.array(values[remedy][:n]) - np.array(values["none"][:n])
        half = stats.t.ppf(0.975, n - 1) * diff.std(ddof=1) / np.sqrt(n)
        assert int(row["pairs"]) == n
        assert float(row["balanced_acc_diff"]) == pytest.approx(diff.mean())
        assert float(row["balanced_acc_low"]) == pytest.approx(diff.mean() - half)
        assert float(row["balanced_acc_high"]) == pytest.approx(diff.mean() + half)
        p = stats.ttest_rel(values[remedy][:n], values["none"][:n]).pvalue
        assert float(row["balanced_acc_p"]) == pytest.approx(p)
    # Benjamini-Hochberg over the four comparisons: focal's p-values stay small, oversample's 1.
    p_values = [float(rows[key]["balanced_acc_p"]) for key in sorted(rows)]
    adjusted = stats.false_discovery_control(p_values)
    assert [float(rows[key]["balanced_acc_p_bh"]) for key in sorted(rows)] == pytest.approx(
        adjusted
    )
    assert float(rows[15, "focal"]["balanced_acc_low"]) > 0  # beyond the noise
    oversample = rows[15, "oversample"]
    assert float(oversample["balanced_acc_low"]) < 0 < float(oversample["balanced_acc_high"])
    text = (sweep / "paired.md").read_text()
    assert "| 15:1 | none | focal | 4 | +0.087 [+0.055, +0.120], p 0.003 (BH 0.007) |" in text
    assert "[-0.023, +0.023], p 1.000 (BH 1.000) |" in text
    assert (sweep / "fig_paired.png").read_bytes().startswith(PNG)
    assert "Paired differences from remedy=none" in capsys.readouterr().out
    summary = read_csv(sweep / "summary.csv")
    assert [row["remedy"] for row in summary if row["ratio"] == "15"] == [
        "focal",
        "none",
        "oversample",
    ]


def test_paired_differences_with_one_seed_say_no_interval_can_be_given(tmp_path):
    sweep = remedy_sweep(tmp_path / "sweep", {"none": [0.5], "focal": [0.6]})
    assert main([str(sweep), "--baseline", "remedy=none"]) == 0
    text = (sweep / "paired.md").read_text()
    assert "With one seed per setting no interval can be given" in text
    assert "+0.100 (no interval)" in text


@pytest.mark.parametrize(
    "baseline, message",
    [
        ("remedy", "give it as key=value"),
        ("loss=none", "'loss' is not one of this sweep's settings: ratio, reg, remedy"),
        ("remedy=magic", r"no run has it \(remedy is one of: focal, none\)"),
    ],
)
def test_a_bad_baseline_is_one_line(tmp_path, capsys, baseline, message):
    sweep = remedy_sweep(tmp_path / "sweep", {"none": [0.5], "focal": [0.6]})
    assert main([str(sweep), "--baseline", baseline]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1
    assert re.search(message, err), err
    assert not list(sweep.glob("*.md")) and not list(sweep.glob("*.png"))  # nothing written


def test_the_report_survives_runs_without_history_and_old_zero_recalls(tmp_path):
    sweep = fake_sweep(tmp_path / "sweep", RATIOS, REGS, [0])

    def stopped_early_and_old(results):
        results["history"] = []
        results["counts"]["test"]["d"] = 0  # written as recall 0 before 2026-11-29
        results["test"]["recall"]["d"] = 0.0

    rewrite_runs(sweep, stopped_early_and_old)
    assert main([str(sweep)]) == 0
    assert not (sweep / "fig1_accuracy.png").exists()
    rows = [row for row in read_csv(sweep / "table3.csv") if row["class"] == "d"]
    assert all(row["recall_mean"] == "" for row in rows)  # undefined, not 0


def test_a_sweep_over_a_dotted_key_has_a_column_for_it(tmp_path, capsys):
    # As the README sweeps it: remedy.loss.beta=0.9,0.99,0.999 (seeds 0 and 1).
    for beta in (0.9, 0.99, 0.999):
        for seed in (0, 1):
            results = fake_results(7, "none", seed)
            results["overrides"] = [f"remedy.loss.beta={beta}", f"seed={seed}"]
            results["test"]["balanced_acc"] = beta + seed / 100
            job = tmp_path / f"remedy.loss.beta={beta},seed={seed}"
            job.mkdir()
            (job / "results.json").write_text(json.dumps(results))
    assert main([str(tmp_path), "--baseline", "remedy.loss.beta=0.9"]) == 0
    rows = read_csv(tmp_path / "summary.csv")
    assert [row["remedy.loss.beta"] for row in rows] == ["0.9", "0.99", "0.999"]
    summary = (tmp_path / "summary.md").read_text()
    assert "| ratio | reg | remedy.loss.beta | seeds |" in summary
    assert "| 7:1 | none | 0.999 | 2 |" in summary
    # Each seed gains the same (but for float rounding): no spread, so no p-value.
    paired = (tmp_path / "paired.md").read_text()
    assert "| 7:1 | none | 0.999 | 2 | +0.099 [+0.099, +0.099], no spread |" in paired


def test_a_folder_of_several_sweeps_is_refused_not_mixed(tmp_path, capsys):
    for name in ("2026-01-01_10-00-00", "2026-01-02_10-00-00"):
        fake_sweep(tmp_path / "multirun" / name, [1], ["none"], [0])
    assert main([str(tmp_path)]) == 2
    assert capsys.readouterr().err.strip() == (
        f"error: '{tmp_path}' holds 2 sweep(s) ('{tmp_path}/multirun/2026-01-01_10-00-00', "
        f"'{tmp_path}/multirun/2026-01-02_10-00-00'), whose runs would be mixed; give one "
        f"sweep's directory, e.g. {tmp_path}/multirun/2026-01-02_10-00-00 (to pool sweeps on "
        "purpose, copy their job directories into one folder)"
    )


@pytest.mark.parametrize(
    ("content", "why"),
    [
        ('{"test": {}}', "it lacks overrides, choices, config, classes, minority, counts"),
        ("[1]", "it lacks"),
        ("{", "unreadable: "),
    ],
)
def test_a_results_json_that_is_no_runs_is_named(sweep, capsys, content, why):
    stray = sweep / "notes" / "results.json"
    stray.parent.mkdir()
    stray.write_text(content)
    assert main([str(sweep)]) == 2
    error = capsys.readouterr().err
    assert error.startswith(f"error: '{stray}' is not a run's results.json ({why}")
    assert error.strip().endswith("or give the sweep's own directory") and "\n" not in error.strip()


def test_differences_equal_but_for_float32_rounding_have_no_spread():
    # One test image of 200 gained in both seeds, as float32 metrics record it.
    f32 = lambda x: float(np.float32(x))  # noqa: E731
    diff = np.array([f32(0.8175) - f32(0.8125), f32(0.785) - f32(0.78)])
    row = paired._interval("balanced_acc", diff)
    assert row["balanced_acc_diff"] == pytest.approx(0.005, abs=1e-6)
    assert np.isnan(row["balanced_acc_p"]), "no spread, so no p-value: not 'beyond the noise'"


def test_line_styles_stay_distinct_for_a_sweep_of_many_settings():
    # 14 remedies x 3 regularizers: 42 lines in Figure 3.
    styles = [(s["color"], s["linestyle"], s["marker"]) for s in figures.line_styles(42)]
    assert len(set(styles)) == 42


def test_an_interval_cut_at_the_panels_edge_ends_in_arrow_heads(tmp_path):
    # Four settings: one mean inside the scale of the others, its interval far wider.
    table = pd.DataFrame(
        {
            "remedy": ["a", "b", "c", "d"],
            "pairs": [2] * 4,
            "balanced_acc_diff": [0.01, -0.01, 0.015, 0.02],
            "balanced_acc_low": [-0.01, -0.02, 0.0, -0.3],
            "balanced_acc_high": [0.02, 0.01, 0.03, 0.34],
            "balanced_acc_p": [0.5] * 4,
            "balanced_acc_p_bh": [0.5] * 4,
        }
    )
    figure = paired.forest_plot(
        table, ["remedy"], {"balanced_acc": "balanced accuracy"}, "t", tmp_path / "p.png"
    )
    (ax,) = figure.axes
    heads = [line.get_marker() for line in ax.get_lines() if line.get_marker() in ("<", ">")]
    assert sorted(heads) == ["<", ">"]  # row d, cut at both edges
    assert not ax.texts  # its mean is inside: nothing written


def report_files(folder) -> dict:
    return {
        path.name: path.read_bytes() for path in folder.iterdir() if path.is_file() and not
        path.name.startswith(("multirun", "failed", "."))
    }  # fmt: skip


def test_the_report_goes_elsewhere_with_out_and_one_line_when_it_cannot_be_written(
    sweep, tmp_path, monkeypatch, capsys
):
    import errno

    from imbalance.report import publish

    before = report_files(sweep)

    def read_only(**kwargs):
        raise OSError(errno.EROFS, "Read-only file system", kwargs["dir"])

    with monkeypatch.context() as patched:
        patched.setattr(publish.tempfile, "mkdtemp", read_only)
        assert main([str(sweep)]) == 2
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert line == (
        f"error: cannot write the report into {sweep} (Read-only file system): write it "
        "elsewhere with --out DIR"
    )
    elsewhere = tmp_path / "report"
    elsewhere.mkdir()
    (elsewhere / "fig_paired.png").write_text("the user's own")  # in a folder of the user's
    assert main([str(sweep), "--out", str(elsewhere)]) == 0
    assert report_files(sweep) == before
    assert {"summary.md", "table3.csv"} <= set(report_files(elsewhere))
    assert (elsewhere / "fig_paired.png").read_text() == "the user's own"  # not the report's
    assert main([str(sweep), "--out", str(elsewhere), "--baseline", "reg=none"]) == 0
    assert main([str(sweep), "--out", str(elsewhere)]) == 0  # the earlier report's: removed
    assert not (elsewhere / "paired.md").exists() and not (elsewhere / "fig_paired.png").exists()


def test_ctrl_c_leaves_the_earlier_report_whole_and_a_new_one_replaces_all_of_it(
    sweep, monkeypatch, capsys
):
    assert main([str(sweep), "--baseline", "reg=none"]) == 0
    earlier = report_files(sweep)
    assert "paired.md" in earlier

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    with monkeypatch.context() as patched:
        patched.setattr(figures, "recall_figure", interrupted)  # after the tables are written
        assert main([str(sweep)]) == 130
    assert capsys.readouterr().err == f"interrupted: the report in {sweep} is as it was\n"
    assert report_files(sweep) == earlier
    assert not [
        path for path in sweep.iterdir() if path.name.startswith(".report-") and path.is_dir()
    ]

    assert main([str(sweep)]) == 0  # without --baseline: no paired files of the earlier one
    assert not {"paired.md", "paired.csv", "fig_paired.png"} & set(report_files(sweep))


def test_test_curves_with_a_point_every_few_epochs_join_the_points(tmp_path):
    runs = [fake_results(3, "none", seed, epochs=10) for seed in (0, 1)]
    for run in runs:
        for entry in run["history"]:
            if entry["epoch"] % 5:  # trainer.check_val_every_n_epoch=5: no test pass
                entry["test_acc"] = entry["test_loss"] = None
    columns = tables.setting_columns(runs)
    epochs = tables.per_epoch(runs, columns)
    figure = figures.train_test_curves(epochs, columns, "acc", "acc", "t", "c", tmp_path / "1.png")
    lines = {line.get_label(): line for line in figure.axes[0].get_lines()}
    test = next(line for label, line in lines.items() if label.startswith("test"))
    assert test.get_xdata().tolist() == [5, 10]  # a line between the tested epochs, not gaps
    assert not np.isnan(test.get_ydata()).any()
    train = next(line for label, line in lines.items() if label.startswith("train"))
    assert len(train.get_xdata()) == 10


def test_seeds_needed_are_those_of_a_paired_t_test_at_80_percent_power():
    # Cohen's effect sizes dz = mean / sd of the differences: 1 needs 10 pairs, 0.5 needs 34
    # (as G*Power gives them for a two-sided paired t-test at 0.05 with power 0.8).
    assert paired.seeds_needed(np.array([0.0, 1.0, 2.0])) == 10
    assert paired.seeds_needed(np.array([-0.5, 0.5, 1.5])) == 34
    assert np.isnan(paired.seeds_needed(np.array([0.2])))  # one pair: no spread to go by
    assert np.isinf(paired.seeds_needed(np.array([-0.5, 0.5, 0.001])))  # tiny against its spread


def test_an_interval_of_a_difference_of_recalls_stays_within_minus_1_and_1():
    # Two seeds: Student's t with one degree of freedom spans +-7.6 around the mean here.
    row = paired._interval("few_recall", np.array([-0.3, 0.9]))
    assert (row["few_recall_low"], row["few_recall_high"]) == (-1.0, 1.0)
    row = paired._interval("few_recall", np.array([0.10, 0.12, 0.11]))
    assert -1 < row["few_recall_low"] < 0.10 < 0.12 < row["few_recall_high"] < 1  # not cut


def decided(values: dict[str, list[float]]) -> str:
    runs = pd.DataFrame(
        [
            {"remedy": remedy, "seed": seed, "data_seed": seed, "balanced_acc": value}
            for remedy, per_seed in values.items()
            for seed, value in enumerate(per_seed)
        ]
    )
    table = paired.paired_differences(runs, ["remedy"], "remedy", "none", ["balanced_acc"])
    return paired.decision(table, ["remedy"], "remedy", "none", "balanced_acc", "balanced accuracy")


def test_the_decision_ranks_the_settings_and_names_the_best_or_says_none_is():
    none = [0.50, 0.55, 0.60]
    text = decided({"none": none, "over": [0.60, 0.66, 0.70], "rw": [0.45, 0.60, 0.62]})
    lines = text.splitlines()
    # over: differences 0.10, 0.11, 0.10; rw: -0.05, 0.05, 0.02, mean 0.0067
    assert lines[2].startswith("1. remedy=over: +0.103 [+0.089, +0.118], BH-adjusted p ")
    assert lines[2].endswith(": beyond the noise")
    rw_needed = paired.seeds_needed(np.array([-0.05, 0.05, 0.02]))
    assert lines[3].startswith("2. remedy=rw: +0.007 [")
    assert lines[3].endswith(f"within the noise; about {rw_needed} seeds would establish a "
                             "difference of this size")  # fmt: skip
    assert "**Pick remedy=over**: balanced accuracy +0.103 [+0.089, +0.118] over remedy=" in text
    text = decided({"none": none, "rw": [0.45, 0.60, 0.62]})
    assert (
        "**No setting differs from remedy=none beyond the noise** in balanced accuracy. The best "
        "observed, remedy=rw (+0.007 ["
        in text
        and f"about {rw_needed} seeds" in text
    )
    text = decided({"none": none, "worse": [0.40, 0.44, 0.52]})
    assert "**Keep remedy=none**: no setting did better in balanced accuracy." in text


def test_the_curves_show_balanced_accuracy_and_the_small_classes_recall_on_shared_scales(
    tmp_path,
):
    runs = [fake_results(3, reg, seed, epochs=4) for reg in ("none", "norm") for seed in (0, 1)]
    for run in runs:
        for k, entry in enumerate(run["history"]):
            entry["test_balanced_acc"], entry["test_minority_recall"] = 0.5 + 0.1 * k, 0.1 * k
        run["history"][0]["test_loss"] = 9.0 if run["choices"]["reg"] == "norm" else 1.0
    columns = tables.setting_columns(runs)
    epochs = tables.per_epoch(runs, columns)
    fig1 = figures.train_test_curves(epochs, columns, "acc", "acc", "t", "c", tmp_path / "1.png")
    labels = [line.get_label() for line in fig1.axes[0].get_lines()]
    assert labels == ["test balanced accuracy", "test minority recall", "train", "test"]
    # At one ratio: the ratio once, in the title; each panel named by its metric, one scale a
    # metric (a single row here).
    fig3 = figures.setting_curves(epochs, columns, "c", tmp_path / "3.png")
    assert [ax.get_title() for ax in fig3.axes] == [
        "test balanced accuracy", "test minority recall", "test accuracy",
        "test loss (cross-entropy)",
    ]  # fmt: skip
    assert "(3:1)" in fig3.get_suptitle()
    # Figure 2's panels, one a setting, share the loss's scale: a setting's losses compare.
    fig2 = figures.train_test_curves(epochs, columns, "loss", "loss", "t", "c", tmp_path / "2.png")
    none, norm = fig2.axes[:2]
    assert none.get_ylim() == norm.get_ylim() and none.get_ylim()[1] > 9


def test_the_report_names_a_file_list_by_its_file_not_its_folder(tmp_path):
    runs = [fake_results(3, "none", seed) for seed in (0, 1)]
    for run in runs:
        run["overrides"].append("data.source.train=/home/someone/lists/train.txt")
    sweep = tmp_path / "sweep"
    for run in runs:
        (sweep / run["job"]).mkdir(parents=True)
        (sweep / run["job"] / "results.json").write_text(json.dumps(run))
    assert main([str(sweep)]) == 0
    summary = (sweep / "summary.md").read_text()
    assert "data.source.train=train.txt" in summary and "/home/someone" not in summary


def test_the_summary_says_which_rule_made_the_groups(tmp_path):
    assert tables.group_rule([fake_results(3, "none", 0)]) == (
        "minority: the classes data.minority names, majority: the others"
    )
    natural = fake_results(3, "none", 0)
    natural["config"] |= {"profile": "natural", "data": {"seed": 0, "many_shot": 500}}
    assert tables.group_rule([natural]) == (
        "many-shot: more than 500 training images, few-shot: fewer than 20 (the field's thresholds)"
    )
    natural["config"]["data"]["shot_groups"] = "thirds"
    assert tables.group_rule([natural]) == (
        "many-, medium- and few-shot: thirds of the classes by their training images"
    )


def test_the_pick_is_the_best_setting_beyond_the_noise_even_when_a_noisier_one_leads():
    # wide: a larger mean difference within the noise; tight: smaller, beyond it.
    text = decided({"none": [0.50, 0.55, 0.60], "wide": [0.40, 0.90, 0.75],
                    "tight": [0.55, 0.61, 0.65]})  # fmt: skip
    lines = text.splitlines()
    assert lines[2].startswith("1. remedy=wide: ") and "within the noise" in lines[2]
    assert lines[3].startswith("2. remedy=tight: ") and lines[3].endswith("beyond the noise")
    assert "**Pick remedy=tight**" in text
