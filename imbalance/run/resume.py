"""Runs that survive a kill. A run checkpoints at an epoch's end every `checkpoint_every_s`
seconds (EpochCheckpoint); the same command, into the same run directory, resumes from the last
checkpoint and ends as an uninterrupted run would, to the last digit on the CPU; a job whose
results.json is written is finished and skipped, unless `rerun=true`."""

import io
import json
import logging
import os
import pickle
import random
import signal
import threading
import time
import zipfile
from pathlib import Path

import lightning as L
import numpy as np
import torch
from hydra.types import RunMode
from lightning.fabric.plugins import TorchCheckpointIO
from lightning.pytorch.callbacks import Checkpoint

from imbalance.run.directory import DirectoryRefused
from imbalance.run.results import COMMAND_KEYS, FILENAME, atomic_write, read_results

log = logging.getLogger(__name__)

CHECKPOINT = Path("checkpoints") / "last.ckpt"
# SLURM's warning that a job's time is up, as hydra-submitit-launcher has it sent
# (`hydra.launcher.signal_delay_s` before the end), and the most a run waits for its epoch's
# end, to checkpoint, before passing it on.
TIME_UP = signal.SIGUSR2
GRACE_S = 60


def rng_states() -> dict:
    """Every random number generator a run draws from, as tensors and numbers, which a
    checkpoint read with `weights_only=True` (no code run) holds: Python's, NumPy's global one,
    torch's CPU generator and, when CUDA is in use, every GPU's."""
    version, python, gauss = random.getstate()
    kind, keys, position, has_gauss, cached_gaussian = np.random.get_state()
    states = {
        "python": {"version": version, "state": torch.tensor(python), "gauss": gauss},
        "numpy": {
            "kind": kind,
            "keys": torch.from_numpy(keys.astype(np.int64)),
            "position": position,
            "has_gauss": has_gauss,
            "cached_gaussian": cached_gaussian,
        },
        "torch": torch.get_rng_state(),
    }
    if torch.cuda.is_initialized():
        states["cuda"] = torch.cuda.get_rng_state_all()
    return states


def set_rng_states(states: dict) -> None:
    python, numpy = states["python"], states["numpy"]
    random.setstate((python["version"], tuple(python["state"].tolist()), python["gauss"]))
    keys = numpy["keys"].numpy().astype(np.uint32)
    np.random.set_state(
        (numpy["kind"], keys, numpy["position"], numpy["has_gauss"], numpy["cached_gaussian"])
    )
    torch.set_rng_state(states["torch"])
    if "cuda" in states and torch.cuda.is_available():
        if len(states["cuda"]) == torch.cuda.device_count():
            torch.cuda.set_rng_state_all(states["cuda"])
        else:
            log.warning(
                f"the checkpoint holds the random states of {len(states['cuda'])} GPUs and "
                f"{torch.cuda.device_count()} are visible: their random numbers start afresh"
            )


class AtomicCheckpointIO(TorchCheckpointIO):
    """Checkpoints written atomically (`results.atomic_write`: a temporary file beside the
    checkpoint, then a rename); a kill while writing leaves the previous checkpoint whole.
    (Lightning's own writer goes through a temporary file in the system's temporary folder,
    which on a cluster may lie on another file system: a copy, not a rename, and a third
    slower.)"""

    def save_checkpoint(self, checkpoint: dict, path, storage_options=None) -> None:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        # Serialized in memory first: torch's writer reports a full disk as a bare "unexpected
        # pos" error, a plain write as the OSError it is.
        serialized = io.BytesIO()
        torch.save(checkpoint, serialized)
        atomic_write(path, lambda file: file.write(serialized.getbuffer()))


class EpochCheckpoint(Checkpoint):
    """Writes `path` at the end of a training epoch, through the trainer's checkpoint writer (a
    run's: AtomicCheckpointIO, so a kill while writing leaves the previous one whole): once
    `every_s` seconds have passed since the last one (0: every epoch), at the last epoch of
    training and of a remedy's first stage, and when SLURM warns that the job's time is up
    (TIME_UP, the signal hydra-submitit-launcher asks for). A kill loses at most the epochs of
    `every_s` seconds, and the same command resumes from the last checkpoint.

    It holds what Lightning checkpoints (weights, optimizer and schedule, loop counters, the
    module's history), the run's `config` and the RNG states of the moment, which a resumed run
    sets again when its next epoch starts: it shuffles, augments and drops out as the
    uninterrupted run did. Lightning calls checkpoint callbacks after the module's own
    epoch-end hook, so the epoch's history is in. Loading a checkpoint of another config raises
    DirectoryRefused.
    """

    def __init__(self, path: Path, config: dict, every_s: float = 0):
        self.path = Path(path)
        self.config = comparable(config)
        self.every_s = every_s
        self.saved_epochs = 0  # what the checkpoint on disk holds
        self._saved_at = time.monotonic()
        self._resumed_states: dict | None = None
        self._time_up: tuple | None = None  # (signal, frame) once it came
        self._handlers: dict = {}  # the signals' handlers before this run's

    def on_train_start(self, trainer: L.Trainer, module: L.LightningModule) -> None:
        self.saved_epochs, self._saved_at = trainer.current_epoch, time.monotonic()
        # Before any epoch's hook: Lightning calls a checkpoint callback's last, after those of
        # callbacks that draw (a second stage's fresh last layer).
        if self._resumed_states is not None:
            set_rng_states(self._resumed_states)
            self._resumed_states = None
        if threading.current_thread() is threading.main_thread():
            self._handlers[TIME_UP] = signal.signal(TIME_UP, self._note_time_up)

    def on_train_end(self, trainer: L.Trainer, module: L.LightningModule) -> None:
        # The last epoch's checkpoint is written: a warning that came since is passed on now.
        if self._time_up is not None:
            self._pass_on_time_up()
        self._restore_handlers()

    def _note_time_up(self, signum: int, frame) -> None:
        """The job is to end: checkpoint at this epoch's end, then do what the signal did before
        (submitit's handler requeues the job and exits); GRACE_S later at the latest."""
        self._time_up = (signum, frame)
        self._handlers[signal.SIGALRM] = signal.signal(
            signal.SIGALRM, lambda *_: self._pass_on_time_up()
        )
        signal.alarm(GRACE_S)

    def _pass_on_time_up(self) -> None:
        (signum, frame), before = self._time_up, self._handlers.get(TIME_UP)
        self._time_up = None
        self._restore_handlers()
        if callable(before):
            before(signum, frame)
        elif before in (signal.SIG_DFL, None):  # end the process as the signal would have
            signal.signal(signum, signal.SIG_DFL)
            os.kill(os.getpid(), signum)

    def _restore_handlers(self) -> None:
        signal.alarm(0)
        while self._handlers:
            signum, handler = self._handlers.popitem()
            signal.signal(signum, handler if handler is not None else signal.SIG_DFL)

    def on_train_epoch_end(self, trainer: L.Trainer, module: L.LightningModule) -> None:
        epoch = trainer.current_epoch + 1
        remedy = getattr(module, "remedy", None)
        due = (
            epoch == trainer.max_epochs
            or (remedy is not None and remedy.ends_a_stage(epoch))
            or self._time_up is not None
            or time.monotonic() - self._saved_at >= self.every_s
        )
        # Every process of a multi-device run decides as the first: writing waits for them all.
        if not trainer.strategy.broadcast(due, src=0):
            return
        # The epoch's scalars on disk first: a kill loses none of what the checkpoint holds
        # (a resumed run hides what was logged after it, TensorBoard's purge_step).
        for logger in trainer.loggers:
            logger.save()
        trainer.save_checkpoint(self.path)  # the global-zero process writes, the others wait
        self.saved_epochs, self._saved_at = epoch, time.monotonic()
        if self._time_up is not None:
            self._pass_on_time_up()

    def state_dict(self) -> dict:
        return {"config": self.config, "rng": rng_states()}

    def load_state_dict(self, state: dict) -> None:
        # A run has checked already (earlier_run); this guards any other fit from this file.
        stored = comparable(state["config"])
        refuse_other_config(stored, self.config, f"{self.path} is a checkpoint", RESUME)
        self._resumed_states = state["rng"]

    def on_exception(
        self, trainer: L.Trainer, module: L.LightningModule, exception: BaseException
    ) -> None:
        self._restore_handlers()
        if isinstance(exception, KeyboardInterrupt) and trainer.is_global_zero:
            done = self.saved_epochs
            where = (
                f"{done} epoch(s) done are in {self.path}: the same command resumes from there"
                if done
                else "no checkpoint was written yet: the same command starts it again"
            )
            # Lightning exits at once (status 1), and says nothing above its warnings.
            log.error(f"stopped: interrupted in epoch {trainer.current_epoch + 1}; {where}")


# Where the images lie: a sweep's directory still holds its runs after the data moved. (Which
# images a run used is its splits_hash.)
PLACES = ("root", "cache_dir")


def comparable(config: dict) -> dict:
    """`config` without what does not decide a run's numbers (PLACES, and how often it
    checkpoints), its optimizer's settings, its classes' paths and the settings added since as
    today's configs write them (`current_optim`, `MOVED`, `ADDED`); `optim.base_batch` where it
    changes nothing."""
    config = current_targets(config)
    for key, default in ADDED.items():
        group, name = key.split(".")
        if group in config and name not in config[group]:
            config = config | {group: config[group] | {name: default}}
    data = {key: value for key, value in config["data"].items() if key not in PLACES}
    kept = {key: value for key, value in config.items() if key not in COMMAND_KEYS}
    optim = {}
    if "optim" in config:
        optim = current_optim(config["optim"])
        # A rate given at the run's own batch, or at any batch, is the rate as given: the same
        # run as one from before optim.base_batch.
        if optim.get("base_batch") in (None, whole_batch(config)):
            optim = {key: value for key, value in optim.items() if key != "base_batch"}
        optim = {"optim": optim}
    return kept | {"data": data} | optim


def whole_batch(config: dict) -> int | None:
    """The images a step of all a run's processes together; None where the config leaves it
    to the machine (trainer.devices=auto) or to the data (data.batch_size=auto)."""
    trainer = config.get("trainer", {})
    devices, nodes = trainer.get("devices", 1), trainer.get("num_nodes", 1)
    if isinstance(devices, list):
        devices = len(devices)
    parts = (config["data"].get("batch_size"), devices, nodes)
    if not all(isinstance(part, int) and not isinstance(part, bool) for part in parts):
        return None
    return parts[0] * parts[1] * parts[2]


# Settings added since runs were made, with the value that gives those runs' numbers: a run
# made before a setting existed is the same run as one with its default.
ADDED = {"data.shot_groups": "thresholds"}
# Classes that moved, by the path a run's config named them with before, to today's.
MOVED = {
    "imbalance.model.CNN": "imbalance.models.cnn.CNN",
    "imbalance.run_dir.WritableOutput": "imbalance.run.directory.WritableOutput",
}


def current_targets(value):
    """A config with every `_target_` that moved (`MOVED`) written as today's configs write it:
    a run started before the move resumes after it."""
    if isinstance(value, dict):
        return {
            key: MOVED.get(item, item) if key == "_target_" else current_targets(item)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [current_targets(item) for item in value]
    return value


def current_optim(optim: dict) -> dict:
    """`optim` as today's configs write it. A run from before optim.schedule had its rate
    multiplied by optim.lr_gamma every optim.lr_step_epochs: EpochSchedule's every and gamma,
    the same rates to the last bit."""
    if "lr_step_epochs" not in optim:
        return optim
    schedule = {
        "_target_": "imbalance.schedule.EpochSchedule",
        "_partial_": True,
        "warmup_epochs": 0,
        "gamma": optim["lr_gamma"],
        "every": optim["lr_step_epochs"],
        "milestones": None,
    }
    kept = {key: value for key, value in optim.items() if key not in ("lr_step_epochs", "lr_gamma")}
    return kept | {"schedule": schedule}


def without_nulls(value):
    """A config without its null settings: a finished run's results.json from before a version
    added a key as null (an unused remedy part) reads as the same run."""
    if isinstance(value, dict):
        return {k: without_nulls(v) for k, v in value.items() if v is not None}
    return value


# What to do about a checkpoint of another config.
RESUME = "resume with the config it was written with, or start afresh with rerun=true"


def refuse_other_config(stored: dict, config: dict, what: str, advice: str) -> None:
    """Raises DirectoryRefused when the `stored` config of `what` (a run directory's results,
    a checkpoint) is not `config` (both `comparable`), naming the keys that differ."""
    if stored != config:
        raise DirectoryRefused(
            f"{what} of another config ({', '.join(differences(stored, config))} differ): {advice}"
        )


MISSING = object()  # a key one config has and the other lacks, as differing from null


def differences(stored: dict, current: dict, prefix: str = "") -> list[str]:
    """The dotted keys whose values differ between two nested configs."""
    keys = sorted(set(stored) | set(current))
    found = []
    for key in keys:
        a, b = stored.get(key, MISSING), current.get(key, MISSING)
        if isinstance(a, dict) and isinstance(b, dict):
            found += differences(a, b, f"{prefix}{key}.")
        elif a != b:
            found.append(f"{prefix}{key}")
    return found


def finished(run_dir: Path, config: dict) -> dict | None:
    """The results of `run_dir` when it holds a finished run of `config` (its results.json is
    written atomically: there means complete), None when it holds none.

    Raises DirectoryRefused when it holds a finished run of another config.
    """
    if not (run_dir / FILENAME).exists():
        return None
    results = read_results(run_dir)
    refuse_other_config(
        without_nulls(comparable(results["config"])),
        without_nulls(comparable(config)),
        f"{run_dir} holds a finished run",
        "choose another hydra.sweep.dir (or hydra.run.dir), or replace it with rerun=true",
    )
    return results


def command_start(hydra_cfg, started: float) -> float:
    """When the command that started this job started (Unix time): its sweep's, whose
    multirun.yaml Hydra writes before any job starts, or the run's own `started`. A job that
    SLURM requeues runs later, with the same sweep, and so the same answer."""
    sweep_file = Path(hydra_cfg.sweep.dir) / "multirun.yaml"
    if hydra_cfg.mode == RunMode.MULTIRUN and sweep_file.exists():
        return sweep_file.stat().st_mtime
    return started


def earlier_run(
    run_dir: Path, config: dict, rerun_since: float | None, checkpointing: bool
) -> tuple[dict | None, Path | None, int | None]:
    """What `run_dir` holds of this run: its results when it finished (then skipped); else the
    checkpoint to resume from and the epochs it had trained; else nothing (None, None, None).
    With `rerun_since` (rerun=true, the command's start) what earlier commands left is removed
    first.

    Raises DirectoryRefused, before the run builds its data, for a finished run or a checkpoint of
    another config, a checkpoint that cannot be read, and a checkpoint that a run without
    checkpoints (trainer.enable_checkpointing=false) would silently leave behind.
    """
    if rerun_since is not None:
        start_afresh(run_dir, before=rerun_since)
    elif (results := finished(run_dir, config)) is not None:
        return results, None, None
    checkpoint = run_dir / CHECKPOINT
    if not checkpoint.exists():
        return None, None, None
    if not checkpointing:
        raise DirectoryRefused(
            f"{checkpoint} is the checkpoint of an unfinished run, and this one has "
            f"trainer.enable_checkpointing=false: drop that to resume it, or add rerun=true"
        )
    stored, epochs = stored_run(checkpoint)
    refuse_other_config(
        comparable(stored), comparable(config), f"{checkpoint} is a checkpoint", RESUME
    )
    return None, checkpoint, epochs


def stored_run(checkpoint: Path) -> tuple[dict, int]:
    """The config (`comparable`) of the run that wrote `checkpoint`, and the epochs it had
    trained; read memory-mapped, its weights stay on disk.

    Raises DirectoryRefused for a file that is not such a checkpoint; OSError when it cannot be
    read (then it may well be one: nothing to advise removing).
    """
    not_one = (
        f"{checkpoint} is not a checkpoint of an imbalance run: move it away, or start afresh "
        f"with rerun=true"
    )
    if not zipfile.is_zipfile(checkpoint):  # what torch.save writes
        raise DirectoryRefused(not_one)
    try:
        # weights_only: tensors, numbers and containers; a file that would run code is refused.
        state = torch.load(checkpoint, map_location="cpu", weights_only=True, mmap=True)
        # Lightning keeps a callback's state under its state_key, the class's qualified name.
        stored = state["callbacks"][EpochCheckpoint.__qualname__]
        if not isinstance(stored["rng"], dict):  # pickled, before 2026-12-06: not read
            raise TypeError("its random states were written by an earlier version, pickled")
        return stored["config"], len(json.loads(state["history"]))
    except (RuntimeError, pickle.UnpicklingError, EOFError, KeyError, TypeError) as error:
        raise DirectoryRefused(f"{not_one} ({type(error).__name__}: {error})") from error


def start_afresh(run_dir: Path, before: float) -> None:
    """Removes what earlier commands left in `run_dir` (results, checkpoint, TensorBoard
    events), for `rerun=true`: the files last written before `before` (Unix time, when this
    command started). A job that SLURM requeued keeps what it wrote itself, and resumes."""
    for path in [run_dir / FILENAME, run_dir / CHECKPOINT, *run_dir.glob("events.out.tfevents.*")]:
        if path.exists() and path.stat().st_mtime < before:
            path.unlink()
