"""A sweep through hydra/launcher=slurm on a real SLURM cluster, as a new user runs it: the
one-node cluster that .ci/slurm starts on this machine (make test-slurm). Skipped, in one line,
where no cluster answers `sinfo` with an idle node; failed instead where .ci/slurm started one
(IMBALANCE_SLURM_TEST=1)."""

import json
import os
import subprocess
import time

import pytest

from helpers import TINY, run_cli


def idle_nodes() -> str:
    """The cluster's idle nodes as `sinfo` names them; empty without a cluster."""
    try:
        done = subprocess.run(
            ["sinfo", "--noheader", "--states=idle", "--format=%N"],
            capture_output=True, text=True, timeout=30,
        )  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        return ""
    return done.stdout.strip() if done.returncode == 0 else ""


if not idle_nodes():
    why = "no SLURM cluster with an idle node here (sinfo): make test-slurm starts one"
    if os.environ.get("IMBALANCE_SLURM_TEST") == "1":
        pytest.fail(why, pytrace=False)
    pytest.skip(why, allow_module_level=True)


def slurm_sweep(tmp_path, *overrides: str):
    """A tiny sweep through hydra/launcher=slurm into tmp_path/sweep, as a user runs it."""
    sweep = tmp_path / "sweep"
    return run_cli("-m", "hydra/launcher=slurm", *overrides, *TINY,
                   f"hydra.sweep.dir={sweep}", cwd=tmp_path)  # fmt: skip


def test_a_sweep_runs_as_slurm_jobs_with_the_cpu_defaults(tmp_path):
    sweep = tmp_path / "sweep"
    result = slurm_sweep(tmp_path, "seed=0,1", "trainer.accelerator=cpu")
    assert result.returncode == 0, result.stderr[-3000:]
    results = [json.loads(path.read_text()) for path in sweep.glob("*/results.json")]
    assert sorted(r["config"]["seed"] for r in results) == [0, 1]
    for r in results:
        assert len(r["history"]) == 2 and 0 <= r["test"]["balanced_acc"] <= 1
    # One array job of two, run by SLURM through submitit, its logs beside the sweep: 2 CPUs and
    # 4 GB a job, no GPU asked for.
    (script,) = sweep.glob(".submitit/*/*_submission.sh")
    sbatch = [line for line in script.read_text().splitlines() if line.startswith("#SBATCH")]
    assert {"#SBATCH --array=0-1%2", "#SBATCH --cpus-per-task=2", "#SBATCH --mem=4GB"} <= set(
        sbatch
    )
    assert not [line for line in sbatch if "gpu" in line or "gres" in line]
    assert len(list(sweep.glob(".submitit/*_[01]/*_result.pkl"))) == 2


def test_a_failed_job_does_not_stop_the_others_and_is_listed(tmp_path):
    sweep = tmp_path / "sweep"
    result = slurm_sweep(tmp_path, "ratio=200,1", "trainer.accelerator=cpu")
    assert result.returncode == 1, result.stderr[-3000:]
    assert (sweep / "ratio=1" / "results.json").is_file()
    failed = json.loads((sweep / "failed_jobs.json").read_text())
    assert list(failed) == ["ratio=200"] and "this ratio needs 200" in failed["ratio=200"]


@pytest.mark.parametrize(
    "override, asked",
    [
        ("hydra.launcher.cpus_per_task=4096", "4096 CPUs"),
        ("hydra.launcher.gpus_per_node=64", "64 GPUs"),
    ],
)
def test_a_request_no_node_can_run_stops_at_once_in_one_line(tmp_path, override, asked):
    sweep = tmp_path / "sweep"
    started = time.monotonic()
    result = slurm_sweep(tmp_path, "seed=0,1", override)
    assert time.monotonic() - started < 60
    assert result.returncode == 2
    line = result.stderr.strip().splitlines()[-1]
    assert line.startswith("error: no node of SLURM partition ") and asked in line, line
    assert "; set hydra.launcher." in line
    assert not (sweep / ".submitit").exists()  # nothing submitted
