"""Runs that survive a kill, sweeps that resume, and what a run records of where it ran."""

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import compose_train
from omegaconf import OmegaConf

from helpers import REPO, make_image_tree, run_main
from helpers import TINY as TINY_RUN
from imbalance.errors import ConfigError
from imbalance.resolvers import fresh_dir
from imbalance.run.provenance import git_state
from imbalance.run.resume import (
    CHECKPOINT,
    AtomicCheckpointIO,
    EpochCheckpoint,
    earlier_run,
    finished,
    rng_states,
    set_rng_states,
    start_afresh,
    stored_run,
)

# Epochs long enough (0.2 to 0.5 s on 2 cores) to be killed in the middle of one; reg=full
# draws augmentation and dropout from the global RNG, crt adds a sampler and a second stage.
KILLED = [
    "data.per_class=100",
    "reg=full",
    "remedy=crt",
    "trainer.max_epochs=3",
    "remedy.stage2.epochs=3",
    "checkpoint_every_s=0",
]

# A checkpoint at every epoch's end, as the tests of resuming need.
TINY = [*TINY_RUN, "checkpoint_every_s=0"]


def train(*args: str, cwd: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "imbalance.train", *args],
        cwd=cwd,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )


def on_disk(tmp_path: Path) -> list[str]:
    """A folder's images kept on disk, read by workers: the settings for KILLED's run."""
    root = make_image_tree(tmp_path / "images", {"a": 300, "b": 150, "c": 60})
    return [
        "data=folder", f"data.root={root}", "profile=natural", "data.in_memory=false",
        f"data.cache_dir={tmp_path / 'cache'}", "data.image_size=16",
        *(setting for setting in KILLED if not setting.startswith("data.")),
    ]  # fmt: skip


@pytest.mark.parametrize(
    "where, killed_after",
    [("in memory", 4), ("on disk", 4), ("in memory, the second stage's first epoch", 3)],
)
def test_a_run_killed_mid_epoch_resumes_to_the_same_numbers(tmp_path, where, killed_after):
    """SIGKILL in the middle of the second stage's second epoch (or its first, whose start draws
    the last layer afresh), the same command again: the history and the test results equal an
    uninterrupted run's to the last digit."""
    settings = on_disk(tmp_path) if where == "on disk" else KILLED
    uninterrupted = run_main(*settings, f"hydra.run.dir={tmp_path / 'whole'}", cwd=tmp_path)
    assert uninterrupted.returncode == 0, uninterrupted.stderr[-3000:]

    command = [*settings, f"hydra.run.dir={tmp_path / 'killed'}"]
    checkpoint = tmp_path / "killed" / CHECKPOINT
    process = train(*command, cwd=tmp_path)
    deadline = time.monotonic() + 120
    while not (checkpoint.exists() and stored_run(checkpoint)[1] >= killed_after):
        assert process.poll() is None, process.stderr.read()[-3000:]
        assert time.monotonic() < deadline, f"no checkpoint of epoch {killed_after} in 2 minutes"
        time.sleep(0.02)
    time.sleep(0.1 if killed_after == 4 else 0)  # into the next epoch
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert not (tmp_path / "killed" / "results.json").exists()
    done = stored_run(checkpoint)[1]
    assert killed_after <= done < killed_after + 2, f"killed after {done} epochs: not midway"
    if killed_after == 3:  # the second stage's first epoch resumes: its last layer drawn anew
        assert done == 3, f"killed after {done} epochs, not in the second stage's first"

    resumed = run_main(*command, cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert f"resuming from {checkpoint}: {done} epoch(s) done" in resumed.stdout
    whole, killed = (
        json.loads((tmp_path / name / "results.json").read_text()) for name in ("whole", "killed")
    )
    assert [epoch["stage"] for epoch in killed["history"]] == [1, 1, 1, 2, 2, 2]
    assert killed["history"] == whole["history"]
    assert killed["test"] == whole["test"]
    assert killed["timing"]["resumed_after_epoch"] == done
    assert whole["timing"]["resumed_after_epoch"] is None


def test_a_sweep_again_skips_finished_jobs_and_resumes_unfinished_ones(tmp_path):
    sweep = tmp_path / "sweep"
    args = ["-m", "ratio=1,3", *TINY, f"hydra.sweep.dir={sweep}"]
    first = run_main(*args, cwd=tmp_path)
    assert first.returncode == 0, first.stderr[-3000:]
    finished_job, unfinished_job = (sweep / f"ratio={r}" for r in (1, 3))
    kept = (finished_job / "results.json").stat().st_mtime_ns
    # As a job killed after its last epoch leaves it: a checkpoint, no results.json.
    (unfinished_job / "results.json").unlink()

    again = run_main(*args, cwd=tmp_path)
    assert again.returncode == 0, again.stderr[-3000:]
    assert f"skipped: {finished_job} holds this run's results.json" in again.stdout
    assert f"resuming from {unfinished_job / CHECKPOINT}: 2 epoch(s) done" in again.stdout
    assert (finished_job / "results.json").stat().st_mtime_ns == kept
    assert (unfinished_job / "results.json").exists()

    rerun = run_main(*args, "rerun=true", cwd=tmp_path)
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    assert "skipped" not in rerun.stdout and "resuming" not in rerun.stdout
    assert (finished_job / "results.json").stat().st_mtime_ns != kept
    assert sorted(p.name for p in sweep.iterdir() if p.name[0] != ".") == sorted(
        [finished_job.name, unfinished_job.name, "multirun.yaml"]
    ), "rerun=true is not part of the job's name: the same directories"

    # The job's directory holds a finished run of another config: say so, keep its results.
    results = json.loads((finished_job / "results.json").read_text())
    results["config"]["optim"]["lr"] = 0.5
    (finished_job / "results.json").write_text(json.dumps(results))
    clash = run_main(*args, cwd=tmp_path)
    assert clash.returncode == 1  # a job of the sweep failed; the other one ran
    assert f"error: {finished_job} holds a finished run of another config (optim.lr differ)" in (
        clash.stderr
    )
    assert json.loads((finished_job / "results.json").read_text())["config"]["optim"]["lr"] == 0.5


def config(seed=0, lr=1, root="/data"):
    return {"seed": seed, "optim": {"lr": lr}, "data": {"root": root, "cache_dir": root}}


def test_finished_reads_results_only_of_the_same_config(tmp_path):
    assert finished(tmp_path, config()) is None
    (tmp_path / "results.json").write_text(json.dumps({"config": config()}))
    assert finished(tmp_path, config())["config"]["seed"] == 0
    # Where the images lie does not decide the numbers: the data may move.
    assert finished(tmp_path, config(root="/moved")) is not None
    with pytest.raises(ConfigError, match=r"another config \(optim.lr, seed differ\)"):
        finished(tmp_path, config(seed=1, lr=2))


def test_a_run_from_before_optim_schedule_is_the_same_run_with_its_step_schedule(tmp_path):
    today = OmegaConf.to_container(compose_train("optim.schedule.every=15"), resolve=True)
    before = json.loads(json.dumps(today))  # as results.json written before optim.schedule
    before["optim"] = {"lr": 0.01, "momentum": 0.9, "lr_step_epochs": 15, "lr_gamma": 0.1}
    (tmp_path / "results.json").write_text(json.dumps({"config": before}))
    assert finished(tmp_path, today) is not None
    with pytest.raises(ConfigError, match=r"another config \(optim.schedule.every differ\)"):
        finished(tmp_path, OmegaConf.to_container(compose_train(), resolve=True))


def test_a_run_from_before_its_network_class_moved_is_the_same_run(tmp_path):
    today = OmegaConf.to_container(compose_train(), resolve=True)
    assert today["model"]["_target_"] == "imbalance.models.cnn.CNN"
    before = json.loads(json.dumps(today))  # as a run started before models/ took the CNN
    before["model"]["_target_"] = "imbalance.model.CNN"
    (tmp_path / "finished").mkdir()
    (tmp_path / "finished" / "results.json").write_text(json.dumps({"config": before}))
    assert finished(tmp_path / "finished", today) is not None  # skipped, not refused
    # A checkpoint written then holds the config with the old path.
    state = EpochCheckpoint(tmp_path / "last.ckpt", today).state_dict()
    state["config"]["model"]["_target_"] = "imbalance.model.CNN"
    checkpoint = tmp_path / "stopped" / CHECKPOINT
    checkpoint.parent.mkdir(parents=True)
    torch.save({"callbacks": {"EpochCheckpoint": state}, "history": "[{}, {}]"}, checkpoint)
    assert earlier_run(tmp_path / "stopped", today, None, checkpointing=True) == (
        None,
        checkpoint,
        2,
    )
    EpochCheckpoint(checkpoint, today).load_state_dict(state)  # resumed, not refused
    moved_elsewhere = today | {"model": today["model"] | {"_target_": "my.CNN"}}
    with pytest.raises(ConfigError, match=r"another config \(model._target_ differ\)"):
        finished(tmp_path / "finished", moved_elsewhere)


def test_a_run_from_before_a_setting_was_added_is_the_run_with_its_default(tmp_path):
    today = OmegaConf.to_container(compose_train(), resolve=True)
    assert today["data"]["shot_groups"] == "thresholds"
    before = json.loads(json.dumps(today))
    del before["data"]["shot_groups"]  # a run made before data.shot_groups
    (tmp_path / "results.json").write_text(json.dumps({"config": before}))
    assert finished(tmp_path, today) is not None
    state = EpochCheckpoint(tmp_path / "last.ckpt", today).state_dict()
    del state["config"]["data"]["shot_groups"]
    EpochCheckpoint(tmp_path / "last.ckpt", today).load_state_dict(state)  # resumed
    other = today | {"data": today["data"] | {"shot_groups": "thirds"}}
    with pytest.raises(ConfigError, match=r"another config \(data.shot_groups differ\)"):
        finished(tmp_path, other)


def test_a_setting_added_as_null_keeps_finished_runs_finished_and_names_itself(tmp_path):
    (tmp_path / "results.json").write_text(json.dumps({"config": config()}))
    newer = config() | {"mix": None}  # a later version's unused part, null
    assert finished(tmp_path, newer) is not None  # the same run: skipped, not refused
    state = EpochCheckpoint(tmp_path / "last.ckpt", config()).state_dict()
    # A checkpoint's network may not fit the later version's: refused, the key named.
    with pytest.raises(ConfigError, match=r"another config \(mix differ\)"):
        EpochCheckpoint(tmp_path / "last.ckpt", newer).load_state_dict(state)


def test_a_checkpoint_of_another_config_is_refused(tmp_path):
    saved = EpochCheckpoint(tmp_path / "last.ckpt", config())
    state = saved.state_dict()
    assert set(state["rng"]) >= {"python", "numpy", "torch"}
    EpochCheckpoint(tmp_path / "last.ckpt", config(root="/moved")).load_state_dict(state)
    with pytest.raises(ConfigError, match=r"another config \(seed differ\).*rerun=true"):
        EpochCheckpoint(tmp_path / "last.ckpt", config(seed=7)).load_state_dict(state)


def write_checkpoint(run_dir: Path, config: dict, epochs: int) -> Path:
    """What a run's checkpoint holds of its config and history."""
    path = run_dir / CHECKPOINT
    path.parent.mkdir(parents=True, exist_ok=True)
    callback = EpochCheckpoint(path, config)
    history = json.dumps([{"epoch": epoch} for epoch in range(1, epochs + 1)])
    torch.save({"callbacks": {"EpochCheckpoint": callback.state_dict()}, "history": history}, path)
    return path


def test_a_checkpoint_left_for_a_run_without_checkpoints_is_an_error(tmp_path):
    checkpoint = write_checkpoint(tmp_path, config(), epochs=3)
    assert earlier_run(tmp_path, config(), None, checkpointing=True) == (None, checkpoint, 3)
    with pytest.raises(ConfigError, match="enable_checkpointing=false: drop that to resume it"):
        earlier_run(tmp_path, config(), None, checkpointing=False)
    rerun = earlier_run(tmp_path, config(), 2e9, checkpointing=False)
    assert rerun == (None, None, None)


def test_a_checkpoint_of_another_config_or_none_is_refused_before_the_data_is_built(tmp_path):
    write_checkpoint(tmp_path, config(), epochs=2)
    assert earlier_run(tmp_path, config(root="/moved"), None, checkpointing=True)[2] == 2
    with pytest.raises(ConfigError, match=r"checkpoint of another config \(optim.lr differ\)"):
        earlier_run(tmp_path, config(lr=2), None, checkpointing=True)
    (tmp_path / CHECKPOINT).write_bytes(b"not a checkpoint")
    with pytest.raises(ConfigError, match="is not a checkpoint of an imbalance run.*rerun=true"):
        earlier_run(tmp_path, config(), None, checkpointing=True)


def test_a_file_that_is_no_checkpoint_stops_the_run_before_any_image_is_read(tmp_path):
    run_dir = tmp_path / "run"
    (run_dir / CHECKPOINT).parent.mkdir(parents=True)
    (run_dir / CHECKPOINT).write_text("not a checkpoint")
    result = run_main(*TINY, f"hydra.run.dir={run_dir}", cwd=tmp_path)
    assert result.returncode == 2
    assert f"error: {run_dir / CHECKPOINT} is not a checkpoint of an imbalance run" in (
        result.stderr
    )
    assert "images:" not in result.stdout, "the data was built first"


class RunsCode:
    """What unpickling builds by calling a function: here, one that leaves a file behind."""

    def __init__(self, witness: Path):
        self.witness = witness

    def __reduce__(self):
        return (Path.touch, (self.witness,))


def test_a_checkpoint_whose_reading_would_run_code_is_refused_and_nothing_runs(tmp_path):
    run_dir, witness = tmp_path / "run", tmp_path / "code_ran"
    (run_dir / CHECKPOINT).parent.mkdir(parents=True)
    torch.save({"callbacks": {}, "history": RunsCode(witness)}, run_dir / CHECKPOINT)
    result = run_main(*TINY, f"hydra.run.dir={run_dir}", cwd=tmp_path)
    assert result.returncode == 2
    assert f"error: {run_dir / CHECKPOINT} is not a checkpoint of an imbalance run" in (
        result.stderr
    )
    assert not witness.exists(), "reading the checkpoint ran its code"
    torch.load(run_dir / CHECKPOINT, weights_only=False)  # what the run refused to do
    assert witness.exists()


def test_random_states_round_trip_through_a_checkpoint_read_without_code(tmp_path):
    random.seed(3), np.random.seed(4), torch.manual_seed(5)
    np.random.standard_normal()  # a cached gaussian in NumPy's state
    torch.save({"rng": rng_states()}, tmp_path / "states.pt")
    expected = (random.random(), np.random.standard_normal(), torch.rand(1).item())
    random.seed(0), np.random.seed(0), torch.manual_seed(0)
    set_rng_states(torch.load(tmp_path / "states.pt", weights_only=True)["rng"])
    assert (random.random(), np.random.standard_normal(), torch.rand(1).item()) == expected


def test_rerun_removes_only_what_earlier_commands_left(tmp_path):
    """A job that SLURM requeues runs its command again, rerun=true included: what the job
    wrote after its sweep started is its own, and stays for it to resume from."""
    old, own = tmp_path / "results.json", tmp_path / CHECKPOINT
    own.parent.mkdir()
    old.write_text("{}")
    own.write_bytes(b"checkpoint")
    os.utime(old, (1000, 1000))
    start_afresh(tmp_path, before=2000)
    assert not old.exists() and own.exists()


def test_a_checkpoint_that_fails_to_write_leaves_the_last_one_whole(tmp_path):
    path = tmp_path / "checkpoints" / "last.ckpt"
    writer = AtomicCheckpointIO()
    writer.save_checkpoint({"epoch": 1, "weights": torch.ones(3)}, path)

    class Unpicklable:
        def __reduce__(self):
            raise RuntimeError("cannot be saved")

    with pytest.raises(RuntimeError, match="cannot be saved"):
        writer.save_checkpoint({"epoch": 2, "weights": Unpicklable()}, path)
    assert torch.load(path, weights_only=True)["epoch"] == 1
    assert [p.name for p in path.parent.iterdir()] == ["last.ckpt"], "no temporary file left"


def test_a_resumed_run_draws_what_the_original_drew_next(tmp_path):
    """The RNG states of the checkpoint's moment are set again when training starts, before
    any epoch's hook of any callback (a second stage's fresh last layer draws in one)."""
    callback = EpochCheckpoint(tmp_path / "last.ckpt", config())
    torch.manual_seed(1)
    state = callback.state_dict()
    expected = torch.rand(3)
    torch.manual_seed(2)
    callback.load_state_dict(state)
    trainer = type("Trainer", (), {"loggers": [], "current_epoch": 3})()
    callback.on_train_start(trainer, None)
    callback.on_train_end(trainer, None)  # its signal handlers undone
    assert torch.equal(torch.rand(3), expected)


def test_two_sweeps_started_in_the_same_second_get_two_directories(tmp_path, monkeypatch, config):
    import hydra.core.utils

    class Frozen:  # Hydra's ${now:...} reads hydra.core.utils.datetime.now()
        @staticmethod
        def now():
            from datetime import datetime

            return datetime(2026, 11, 29, 12, 0, 0)

    monkeypatch.setattr(hydra.core.utils, "datetime", Frozen)
    monkeypatch.chdir(tmp_path)
    dirs = []
    for _ in range(2):
        cfg = config(hydra=True)
        dirs.append(cfg.hydra.sweep.dir)
        assert cfg.hydra.sweep.dir == dirs[-1], "a sweep's directory is resolved once"
    assert dirs == [
        "outputs/multirun/2026-11-29_12-00-00",
        "outputs/multirun/2026-11-29_12-00-00_2",
    ]
    assert all((tmp_path / path).is_dir() for path in dirs)


def test_fresh_dir_never_hands_out_a_directory_twice(tmp_path):
    paths = [fresh_dir(str(tmp_path / "sweep")) for _ in range(3)]
    assert [Path(path).name for path in paths] == ["sweep", "sweep_2", "sweep_3"]


def test_git_state_names_the_commit_and_whether_the_tree_changed(tmp_path):
    def git(*args):
        subprocess.run(["git", "-C", str(tmp_path), *args], check=True, capture_output=True)

    git("init", "-q")
    (tmp_path / "a.py").write_text("x = 1\n")
    git("add", "a.py")
    git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "first")
    commit = subprocess.run(
        ["git", "-C", str(tmp_path), "rev-parse", "HEAD"], capture_output=True, text=True
    ).stdout.strip()
    assert git_state(tmp_path) == {"commit": commit, "dirty": False}
    (tmp_path / "a.py").write_text("x = 2\n")
    assert git_state(tmp_path) == {"commit": commit, "dirty": True}
    (tmp_path / "inner").mkdir()
    assert git_state(tmp_path / "inner") is None, "a folder inside a repository is not its root"
    assert git_state(tmp_path.parent / "nowhere") is None


def test_results_record_what_the_run_ran_on(real_sweep):
    results = json.loads(next(real_sweep.glob("*/results.json")).read_text())
    provenance = results["provenance"]
    for package in ("torch", "torchvision", "lightning", "torchmetrics", "hydra-core", "numpy"):
        assert provenance["versions"][package], package
    assert provenance["versions"]["torch"] == torch.__version__.split("+")[0]
    assert provenance["device"]["type"] == "cpu" and provenance["device"]["count"] == 1
    assert "-m imbalance.train -m ratio=1,3 reg=none,norm" in provenance["command"]
    if (REPO / ".git").exists():  # this repository's checkout, as the editable install runs it
        head = subprocess.run(
            ["git", "-C", str(REPO), "rev-parse", "HEAD"], capture_output=True, text=True
        ).stdout.strip()
        assert provenance["git"]["commit"] == head


def test_an_interrupted_run_says_it_stopped_and_how_to_resume(tmp_path, monkeypatch):
    from imbalance.module import StudyModule

    step = StudyModule.training_step

    def interrupted_in_epoch_2(module, *args, **kwargs):
        if module.current_epoch == 1:
            raise KeyboardInterrupt  # Ctrl-C
        return step(module, *args, **kwargs)

    monkeypatch.setattr(StudyModule, "training_step", interrupted_in_epoch_2)
    run_dir = tmp_path / "run"
    handler = signal.getsignal(signal.SIGINT)
    try:
        result = run_main(*TINY, f"hydra.run.dir={run_dir}", cwd=tmp_path)
    finally:
        signal.signal(signal.SIGINT, handler)  # Lightning ignores Ctrl-C once interrupted
    assert result.returncode == 1
    line = (
        f"stopped: interrupted in epoch 2; 1 epoch(s) done are in {run_dir / CHECKPOINT}: the "
        "same command resumes from there"
    )
    assert line in result.stdout and line in (run_dir / "train.log").read_text()


@pytest.mark.parametrize(
    "every_s, remedy, written",
    [
        (0, [], [1, 2, 3, 4]),
        (1000, [], [4]),
        (1000, ["remedy=crt", "remedy.stage2.epochs=2"], [2, 4]),
    ],
    ids=["every epoch", "at the end", "at the end of each stage"],
)
def test_checkpoints_come_on_time_and_at_the_end_of_each_stage(
    tmp_path, monkeypatch, every_s, remedy, written
):
    epochs, save = [], EpochCheckpoint.on_train_epoch_end

    def recorded(self, trainer, module):
        before = self.saved_epochs
        save(self, trainer, module)
        if self.saved_epochs != before:
            epochs.append(self.saved_epochs)

    monkeypatch.setattr(EpochCheckpoint, "on_train_epoch_end", recorded)
    max_epochs = 4 - (2 if remedy else 0)
    result = run_main(*TINY_RUN, f"trainer.max_epochs={max_epochs}", *remedy,
                      f"checkpoint_every_s={every_s}", f"hydra.run.dir={tmp_path / 'run'}",
                      cwd=tmp_path)  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    assert epochs == written


def test_slurms_time_up_signal_checkpoints_the_epoch_then_ends_the_job(tmp_path):
    run_dir = tmp_path / "run"
    args = [*TINY_RUN, "trainer.max_epochs=40", "checkpoint_every_s=1000",
            f"hydra.run.dir={run_dir}"]  # fmt: skip
    job = subprocess.Popen(
        [sys.executable, "-m", "imbalance.train", *args], cwd=tmp_path, text=True,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )  # fmt: skip
    for line in job.stdout:
        if "epoch 3/40" in line:
            job.send_signal(signal.SIGUSR2)  # as SLURM sends it, signal_delay_s before the end
            break
    job.stdout.read()
    assert job.wait(timeout=60) == -signal.SIGUSR2  # ended by it, once the checkpoint was written
    done = stored_run(run_dir / CHECKPOINT)[1]
    assert 3 <= done < 40
    resumed = run_main(*args, cwd=tmp_path)
    assert f"resuming from {run_dir / CHECKPOINT}: {done} epoch(s) done" in resumed.stdout
