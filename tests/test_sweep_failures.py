"""Sweeps that finish: a job that fails does not stop the others, on any launcher; the failed
ones are listed at the end, in the sweep's directory and in the report, and the command exits
non-zero."""

import json
import os
import shutil

import pytest

from helpers import TINY, fake_sweep, run_cli, run_main
from imbalance.report.__main__ import main as report

# ratio=200 asks more images of the majority classes than TINY's data.per_class=8 holds.
FAILING = "ratio=200"
REASON = "this ratio needs 200; lower data.per_class or the ratio, or add images"


@pytest.mark.parametrize(
    "launcher",
    [
        # Hydra's basic launcher, one job after another in this process, a batch each
        ["hydra.sweeper.max_batch_size=1"],
        ["hydra/launcher=joblib", "hydra.launcher.n_jobs=2"],
        ["hydra/launcher=submitit_local"],  # the SLURM launcher's code, on this machine
    ],
    ids=["basic", "joblib", "submitit"],
)
def test_every_job_of_a_sweep_runs_and_the_failed_ones_are_listed(tmp_path, launcher):
    run = run_main if "hydra/launcher" not in " ".join(launcher) else run_cli
    sweep = tmp_path / "sweep"
    # Shared by every job, so left out of the job directories' names.
    shared = [*TINY, "trainer.max_epochs=1", "trainer.accelerator=cpu"]
    result = run("-m", *launcher, f"{FAILING},1", *shared, f"hydra.sweep.dir={sweep}", cwd=tmp_path)
    assert result.returncode == 1, result.stderr[-3000:]
    assert (sweep / "ratio=1" / "results.json").is_file()
    failed = json.loads((sweep / "failed_jobs.json").read_text())
    assert list(failed) == [FAILING] and failed[FAILING].endswith(REASON)
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("error: 1 of 2 jobs failed") and str(sweep / "failed_jobs.json") in last

    assert report([str(sweep)]) == 0
    summary = (sweep / "summary.md").read_text()
    assert f"- {FAILING} (failed: {failed[FAILING]})" in summary
    if "hydra/launcher=joblib" in launcher:
        # joblib's loky workers share the cores instead of fighting over them: cores // n_jobs
        # threads each, unless OMP_NUM_THREADS says otherwise.
        share = int(os.environ.get("OMP_NUM_THREADS", max(1, os.cpu_count() // 2)))
        results = json.loads((sweep / "ratio=1" / "results.json").read_text())
        assert results["timing"]["torch_threads"] == share


def test_a_sweep_that_fails_nowhere_leaves_no_list_and_exits_0(tmp_path):
    sweep = tmp_path / "sweep"
    (sweep / "failed_jobs.json").parent.mkdir()
    (sweep / "failed_jobs.json").write_text('{"ratio=1": "an earlier try"}')
    result = run_main("-m", "ratio=1", *TINY, f"hydra.sweep.dir={sweep}", cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    assert not (sweep / "failed_jobs.json").exists()


def test_the_report_names_missing_jobs_as_their_directories_are_named(tmp_path):
    sweep = tmp_path / "sweep"
    shared = [*TINY, "trainer.max_epochs=1", "trainer.accelerator=cpu", "data.seed=3"]
    result = run_main("-m", "ratio=1,3", "seed=0,1", *shared, f"hydra.sweep.dir={sweep}",
                      cwd=tmp_path)  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    assert sorted(p.name for p in sweep.iterdir() if p.is_dir()) == [
        "ratio=1,seed=0", "ratio=1,seed=1", "ratio=3,seed=0", "ratio=3,seed=1"
    ]  # fmt: skip
    shutil.rmtree(sweep / "ratio=3,seed=1")  # never ran
    (sweep / "ratio=1,seed=0" / "results.json").unlink()  # started, did not finish
    assert report([str(sweep)]) == 0
    summary = (sweep / "summary.md").read_text()
    assert "- ratio=1,seed=0 (failed or unfinished)\n- ratio=3,seed=1 (never ran)" in summary


def test_the_report_lists_a_run_that_diverged_among_the_failed(tmp_path):
    sweep = fake_sweep(tmp_path / "sweep", [1, 3], ["none"], [0])
    results = json.loads((sweep / "ratio=3,reg=none,seed=0" / "results.json").read_text())
    del results["test"]
    results["diverged"] = {"epoch": 2, "step": 7, "loss": "nan"}
    (sweep / "ratio=3,reg=none,seed=0" / "results.json").write_text(json.dumps(results))
    assert report([str(sweep)]) == 0
    summary = (sweep / "summary.md").read_text()
    assert (
        "- ratio=3,reg=none,seed=0 (failed: diverged: the training loss is nan at epoch 2, "
        "step 7)" in summary
    )
    assert "| 3:1 |" not in summary
