"""The tuned comparison: grids, their jobs, and the report's selection on validation."""

import copy
import json

import pytest

from helpers import TINY, fake_results, run_main
from imbalance.errors import ConfigError
from imbalance.grid import grid_axes, grid_jobs
from imbalance.report.__main__ import main as report
from imbalance.report.selection import select


def test_a_grid_is_a_list_of_values_at_each_key_of_the_remedy():
    grid = {"loss": {"gamma": [0.5, 1.0, 0.5]}, "stage2": {"lr": [0.1]}, "weight_decay": [0]}
    assert grid_axes(grid) == {
        "remedy.loss.gamma": [0.5, 1.0],  # a value twice is one point
        "remedy.stage2.lr": [0.1],
        "remedy.weight_decay": [0],
    }
    with pytest.raises(ConfigError, match=r"^remedy.grid gives remedy.loss.gamma the value 2.0: "):
        grid_axes({"loss": {"gamma": 2.0}})


def test_each_job_becomes_one_job_per_grid_point(config):
    job = ["remedy=cb_focal", "seed=1", "data.val_fraction=0.2"]
    points = grid_jobs(job, config(*job, hydra=True))
    assert points == [
        [*job, f"remedy.loss.gamma={gamma}", f"remedy.loss.beta={beta}"]
        for gamma in (0.5, 1.0, 2.0)
        for beta in (0.999, 0.9999)
    ]
    # A key of the command line keeps its one value; interpolated values come resolved.
    job = ["remedy=crt", "remedy.stage2.lr=0.5", "optim.lr=0.02", "data.val_fraction=0.2"]
    assert grid_jobs(job, config(*job, hydra=True)) == [job]
    job = ["remedy=crt", "optim.lr=0.07", "data.val_fraction=0.2"]
    rates = [point[-1] for point in grid_jobs(job, config(*job, hydra=True))]
    assert rates == ["remedy.stage2.lr=0.007", "remedy.stage2.lr=0.07"]  # not 0.007000000000000001
    job = ["remedy=drw", "trainer.max_epochs=10", "data.val_fraction=0.2"]
    drw = [point[-1] for point in grid_jobs(job, config(*job, hydra=True))]
    assert drw == ["remedy.loss.drw_epoch=5", "remedy.loss.drw_epoch=8"]
    job = ["remedy=remix", "data.val_fraction=0.2"]  # no grid: runs once
    assert grid_jobs(job, config(*job, hydra=True)) == [job]


def test_bad_grids_and_a_missing_validation_split_are_one_line(config):
    job = ["remedy=focal", "++remedy.grid.loss.gama=[1,2]", "data.val_fraction=0.2"]
    with pytest.raises(ConfigError, match="^remedy=focal's grid names remedy.loss.gama, which is"):
        grid_jobs(job, config(*job, hydra=True))
    job = ["remedy=focal", "data.val_fraction=0"]
    with pytest.raises(ConfigError, match="^imbalance.tune picks .* data.val_fraction=0 holds"):
        grid_jobs(job, config(*job, hydra=True))


def test_a_run_without_a_validation_split_gets_one_unless_its_source_gives_one(config):
    job = ["remedy=remix"]
    assert grid_jobs(job, config(*job, hydra=True)) == [[*job, "data.val_fraction=0.2"]]
    job = ["data=filelist", "data.source.val=val.txt", "remedy=remix"]
    assert grid_jobs(job, config(*job, hydra=True)) == [job]


def tuned_results(remedy: str, point: str | None, seed: int, val: float, test: float) -> dict:
    """A run of a tuned sweep: its final validation and test balanced accuracy as given."""
    run = fake_results(3, "none", seed)
    overrides = [f"remedy={remedy}", f"seed={seed}", *([point] if point else [])]
    run |= {"job": ",".join(overrides), "overrides": overrides}
    run["choices"] = run["choices"] | {"remedy": remedy}
    run["config"] = run["config"] | {"optimized_metric": "balanced_acc"}
    run["history"] = copy.deepcopy(run["history"])
    run["history"][-1]["val_balanced_acc"] = val
    run["test"] = run["test"] | {"balanced_acc": test}
    return run


def test_the_selection_follows_validation_where_test_disagrees(tmp_path):
    # focal: gamma 0.5 is best on validation, 2.0 on test; the report must pick 0.5.
    runs = [
        tuned_results("none", None, seed, 0.50, 0.50)
        for seed in (0, 1)
    ] + [
        tuned_results("focal", f"remedy.loss.gamma={gamma}", seed, val, test)
        for gamma, val, test in [(0.5, 0.80, 0.40), (2.0, 0.70, 0.90)]
        for seed in (0, 1)
    ]  # fmt: skip
    sweep = tmp_path / "sweep"
    for run in runs:
        (sweep / run["job"]).mkdir(parents=True)
        (sweep / run["job"] / "results.json").write_text(json.dumps(run))
    assert report([str(sweep), "--baseline", "remedy=none", "--select-on", "val"]) == 0
    selection = (sweep / "selection.md").read_text()
    picked = "| 3 | none | focal | remedy.loss.gamma=0.5 | 0.800 | 2 | remedy.loss.gamma=2.0 |"
    assert f"{picked} 0.100 |" in selection  # the margin: 0.80 - 0.70
    summary = (sweep / "summary.csv").read_text().splitlines()
    assert summary[0].startswith("ratio,reg,remedy,seeds,")  # the grid is no column
    paired = (sweep / "paired.csv").read_text().splitlines()
    header, (focal,) = paired[0].split(","), paired[1:]
    focal = dict(zip(header, focal.split(","), strict=True))
    assert float(focal["balanced_acc_diff"]) == pytest.approx(0.40 - 0.50)


def test_grid_points_are_ranked_on_the_seeds_they_all_finished(tmp_path):
    # gamma 0.5 wins on seeds 0 and 1; its seed 2, which gamma 2.0 lacks, would tip it.
    runs = [
        tuned_results("focal", f"remedy.loss.gamma={gamma}", seed, val, 0.5)
        for gamma, seed, val in [
            (0.5, 0, 0.8), (0.5, 1, 0.8), (0.5, 2, 0.0), (2.0, 0, 0.7), (2.0, 1, 0.7)
        ]
    ]  # fmt: skip
    picked, chosen = select(runs)
    assert chosen["picked"].tolist() == ["remedy.loss.gamma=0.5"] and chosen["seeds"][0] == 2
    assert chosen["margin"][0] == pytest.approx(0.1)
    assert chosen["ranked_on_fewer_seeds"][0] == "remedy.loss.gamma=0.5"
    assert [run["config"]["seed"] for run in picked] == [0, 1, 2]  # every run of the picked point
    apart = [tuned_results("focal", "remedy.loss.gamma=0.5", 0, 0.8, 0.5)]
    apart.append(tuned_results("focal", "remedy.loss.gamma=2.0", 1, 0.7, 0.5))
    with pytest.raises(ConfigError, match="^the grid points of ratio=3, reg=none, remedy=focal "):
        select(apart)


def test_select_on_val_without_a_validation_split_is_one_line(tmp_path, capsys):
    sweep = tmp_path / "sweep"
    for seed in (0, 1):
        run = tuned_results("focal", None, seed, 0.5, 0.5)
        del run["history"][-1]["val_balanced_acc"]
        (sweep / run["job"]).mkdir(parents=True)
        (sweep / run["job"] / "results.json").write_text(json.dumps(run))
    assert report([str(sweep), "--select-on", "val"]) == 2
    assert capsys.readouterr().err.startswith(
        "error: --select-on val reads each run's validation balanced_acc, and remedy=focal,seed=0 "
        "has none (no validation split)"
    )


def test_tune_runs_every_grid_point_and_a_rerun_skips_them(tmp_path):
    from imbalance.tune import main as tune

    sweep = tmp_path / "tuned"
    args = ["remedy=none,focal", "seed=0", *TINY]
    args += ["trainer.max_epochs=1", f"hydra.sweep.dir={sweep}", "trainer.accelerator=cpu"]
    result = run_main(*args, cwd=tmp_path, main=tune)
    assert result.returncode == 0, result.stderr[-3000:]
    jobs = sorted(path.parent.name for path in sweep.glob("*/results.json"))
    # The seed, shared by every job, is left out of the names.
    assert jobs == sorted(
        ["remedy=none"] + [f"remedy.loss.gamma={g},remedy=focal" for g in (0.5, 1.0, 2.0)]
    )
    run = json.loads((sweep / jobs[0] / "results.json").read_text())
    assert "data.val_fraction=0.2" in run["overrides"] and "val_balanced_acc" in run["history"][-1]
    assert report([str(sweep), "--baseline", "remedy=none", "--select-on", "val"]) == 0
    assert "remedy.loss.gamma=" in (sweep / "selection.md").read_text()
    again = run_main(*args, cwd=tmp_path, main=tune)
    assert again.returncode == 0 and again.stdout.count("skipped: ") == len(jobs) == 4


def test_a_tie_on_validation_is_named_and_a_grid_of_one_finished_point_is_still_a_grid(tmp_path):
    runs = [
        tuned_results("focal", f"remedy.loss.gamma={gamma}", seed, 0.75, test)
        for gamma, test in [(0.5, 0.4), (2.0, 0.9)]
        for seed in (0, 1)
    ] + [tuned_results("logit_adjusted_loss", "remedy.loss.tau=1.0", 0, 0.7, 0.5)]
    _, chosen = select(runs)
    focal, adjusted = chosen.to_dict("records")
    assert (focal["picked"], focal["tied_with"], focal["margin"]) == (
        "remedy.loss.gamma=0.5", "remedy.loss.gamma=2.0", 0.0
    )  # fmt: skip
    assert (adjusted["picked"], adjusted["tied_with"]) == ("remedy.loss.tau=1.0", "")

    sweep = tmp_path / "sweep"
    for run in runs:
        (sweep / run["job"]).mkdir(parents=True)
        (sweep / run["job"] / "results.json").write_text(json.dumps(run))
    failed = sweep / "remedy.loss.tau=-1.0,remedy=logit_adjusted_loss,seed=0"  # out of range
    (failed / ".hydra").mkdir(parents=True)
    (failed / ".hydra" / "overrides.yaml").write_text(
        "- remedy=logit_adjusted_loss\n- seed=0\n- remedy.loss.tau=-1.0\n"
    )
    assert report([str(sweep), "--select-on", "val"]) == 0
    text = (sweep / "selection.md").read_text()
    assert "1 job(s) did not finish and were not ranked: remedy.loss.tau=-1.0," in text
    assert "(no grid)" not in text and "| remedy.loss.tau=1.0 |" in text


def test_a_learning_rate_is_tuned_as_a_grid_key_outside_the_remedy(config, tmp_path):
    assert grid_axes({"optim": {"lr": [0.01, 0.1]}, "loss": {"gamma": [1.0]}}) == {
        "optim.lr": [0.01, 0.1],
        "remedy.loss.gamma": [1.0],
    }
    job = ["remedy=none", "+remedy.grid.optim.lr=[0.01,0.1]", "data.val_fraction=0.2"]
    assert [point[-1] for point in grid_jobs(job, config(*job, hydra=True))] == [
        "optim.lr=0.01",
        "optim.lr=0.1",
    ]
    # A remedy's values that follow the rate (crt's stage2.lr: a tenth of it, or it) follow
    # each point's rate, not the default's.
    job = ["remedy=crt", "+remedy.grid.optim.lr=[0.01,0.1]", "data.val_fraction=0.2"]
    assert [point[-2:] for point in grid_jobs(job, config(*job, hydra=True))] == [
        ["optim.lr=0.01", "remedy.stage2.lr=0.001"],
        ["optim.lr=0.01", "remedy.stage2.lr=0.01"],
        ["optim.lr=0.1", "remedy.stage2.lr=0.01"],
        ["optim.lr=0.1", "remedy.stage2.lr=0.1"],
    ]
    # The report picks each remedy's rate on validation, as it picks a remedy's own values.
    runs = [
        tuned_results("none", f"optim.lr={lr}", seed, val, test)
        for lr, val, test in [(0.01, 0.60, 0.70), (0.1, 0.75, 0.65)]
        for seed in (0, 1)
    ]
    # In a sweep of imbalance.tune the rate is a grid key, picked on validation.
    _, chosen = select(runs, tuned=True)
    assert chosen[["picked", "runner_up"]].values.tolist() == [["optim.lr=0.1", "optim.lr=0.01"]]
    # In a plain sweep over the rate (-m optim.lr=0.01,0.1), each rate is a setting of its own.
    kept, chosen = select(runs, tuned=False)
    assert len(kept) == 4 and set(chosen["optim.lr"]) == {"0.01", "0.1"}
