"""python -m imbalance.train [-m] [overrides]: one run (or a sweep) of the imbalance study."""

import logging
import math
import os
import sys
import time
import traceback
from collections.abc import Sequence
from pathlib import Path

import hydra
import torch
from hydra.core.hydra_config import HydraConfig
from hydra.errors import CompactHydraException, HydraException, InstantiationException
from hydra.types import RunMode
from lightning.pytorch.utilities import rank_zero_only
from omegaconf import DictConfig
from omegaconf.errors import InterpolationResolutionError, OmegaConfBaseException

from imbalance.build import batch_rule, build, check_launch, make_trainer, trained_at
from imbalance.checks import check_config, hydras_refusal
from imbalance.data.sources import UnreadableImages
from imbalance.data.spelling import expand
from imbalance.data.subsets import imbalance_label
from imbalance.errors import ConfigError, JobFailed, one_line, quoted
from imbalance.metrics import summary_names
from imbalance.module import Diverged
from imbalance.run import resume
from imbalance.run.directory import DirectoryRefused, cannot_write, only_writer, write_hydra_files
from imbalance.run.provenance import provenance
from imbalance.run.results import diverged, run_config, write_results
from imbalance.run.tensorboard_logger import TensorBoardLogger

log = logging.getLogger(__name__)


def train(cfg: DictConfig) -> dict:
    """Train and test one run; write and return its results. A run directory that holds this
    run's results is skipped (they are returned), one with its checkpoint is resumed."""
    # First, before torch starts its CPU threads: they take the setting from this one.
    torch.set_flush_denormal(cfg.flush_denormal)
    started = time.time()
    hydra_cfg = HydraConfig.get()
    run_dir = Path(hydra_cfg.runtime.output_dir)
    check_config(cfg, hydra_cfg.overrides.task)  # before the Trainer reads its arguments
    config = run_config(cfg)
    checkpoints = cfg.trainer.enable_checkpointing
    earlier, checkpoint, resumed_after = resume.earlier_run(
        run_dir,
        config,
        rerun_since=resume.command_start(hydra_cfg, started) if cfg.rerun else None,
        checkpointing=checkpoints,
    )
    if earlier is not None and "diverged" in earlier:
        earlier_line = diverged_line(earlier["diverged"])
        raise DirectoryRefused(f"{run_dir} holds this run, which {earlier_line}")
    if earlier is not None:
        log.info(f"skipped: {run_dir} holds this run's results.json (rerun=true trains it again)")
        return earlier
    if rank_zero_only.rank == 0:
        write_hydra_files(run_dir, cfg)
    logger = TensorBoardLogger(
        run_dir,
        name="",
        version="",
        default_hp_metric=False,
        # TensorBoard hides what an interrupted run logged after its checkpoint.
        purge_step=None if checkpoint is None else resumed_after + 1,
    )
    saver = resume.EpochCheckpoint(run_dir / resume.CHECKPOINT, config, cfg.checkpoint_every_s)
    trainer = make_trainer(
        cfg,
        logger=logger,
        callbacks=[saver] if checkpoints else [],
        plugins=[resume.AtomicCheckpointIO()] if checkpoints else [],
    )
    check_launch(trainer, hydra_cfg.mode, cfg.remedy)
    try:
        # checked before the Trainer was made
        data, module = build(cfg, overrides=None, processes=trainer.world_size)
    except UnreadableImages as error:  # the whole list beside the run, the line names it
        listing = Path(run_dir) / "unreadable_images.txt"
        listing.write_text("".join(f"{file}\n" for file in error.files))
        raise ConfigError(f"{error} (all {len(error.files)} listed in {listing})") from error
    effective = trained_at(data, module)
    if trainer.is_global_zero:  # once, not once per process of a multi-device run
        sizes = ", ".join(f"{name} {count}" for name, count in data.counts("train").items())
        log.info(
            f"images: {', '.join(f'{split} {len(images)}' for split, images in data.sets.items())}"
            f"; training images per class: {sizes}; imbalance {imbalance_label(data.imbalance)}"
            f" (largest training class over the smallest); splits sha256 {data.splits_hash}"
        )
        log.info(batch_rule(cfg, effective))
        if checkpoint is not None:
            log.info(f"resuming from {checkpoint}: {resumed_after} epoch(s) done")
    ready = time.time()

    def record(**outcome) -> dict:
        """The run's results.json content, with its `outcome` (its test, or how it diverged)."""
        return {
            "job": hydra_cfg.job.override_dirname,
            # rerun=true says how this command treated the directory, not what the run was.
            "overrides": [o for o in hydra_cfg.overrides.task if not o.startswith("rerun=")],
            "choices": {
                group: option
                for group, option in hydra_cfg.runtime.choices.items()
                if not group.startswith("hydra/")
            },
            "config": config,
            "classes": data.class_names,
            "minority": data.minority_names,
            "groups": data.groups,
            "counts": {split: data.counts(split) for split in ("train", "val", "test")},
            "imbalance": data.imbalance,  # the largest training class over the smallest
            "effective": effective,
            "history": module.history,
            **outcome,
            "splits": data.splits,
            "splits_hash": data.splits_hash,
            "timing": {  # seconds; the two moments as Unix time, for benchmarks
                "job_started_at": started,
                "data_ready_at": ready,
                "fit": fitted - ready,
                "epochs": module.epoch_seconds,
                "test": time.time() - fitted,
                "torch_threads": torch.get_num_threads(),
                "resumed_after_epoch": resumed_after,  # null: ran without interruption
            },
            "provenance": provenance(trainer.strategy.root_device, trainer.num_devices),
        }

    # weights_only: nothing in the checkpoint can run code (resume.stored_run checked it).
    try:
        trainer.fit(module, datamodule=data, ckpt_path=checkpoint, weights_only=True)
    except Diverged as stop:
        fitted = time.time()
        stopped = stop.stopped | {"checkpointed_epochs": saver.saved_epochs if checkpoints else 0}
        if trainer.is_global_zero:
            write_results(run_dir, record(diverged=stopped))
        raise ConfigError(diverged_line(stopped, hydra_cfg.overrides.task)) from None
    finally:
        data.teardown("fit")  # Lightning's own call is left out where fit raises
    fitted = time.time()
    trainer.test(module, datamodule=data, verbose=False)
    results = record(test=module.test_results)
    if trainer.is_global_zero:  # the other processes of a multi-device run hold the same results
        # Imported only now: its sklearn and matplotlib would add 0.3 s to every job's start-up.
        from imbalance.run.summary import log_run_summary

        log_run_summary(logger, results)
        logger.finalize("success")  # flushes what the summary wrote after Lightning's finalize
        path = write_results(run_dir, results)
        shown = {name: results["test"][name] for name in summary_names(list(data.groups))}
        log.info(
            "test "
            + ", ".join(
                f"{name} {value:.3f}" if math.isfinite(value) else f"{name} undefined"
                for name, value in shown.items()
            )
            + f" -> {path}"
        )
        absent = [name for name, count in results["counts"]["test"].items() if count == 0]
        if absent:
            log.warning(
                f"class(es) {quoted(absent)} have no test image: their recall and F1 are "
                f"undefined (null in results.json) and every average leaves them out"
            )
    return results


def diverged_line(stopped: dict, overrides: Sequence[str] | None = None) -> str:
    """What a run whose loss stopped being finite (results.json's `diverged`) tells the user."""
    setting = f" ({' '.join(overrides) or 'the defaults'})" if overrides is not None else ""
    done = stopped.get("checkpointed_epochs", 0)
    kept = f"its checkpoint holds {done} finite epoch(s)" if done else "no checkpoint was written"
    return (
        f"{diverged(stopped)}{setting}; results.json marks the run as diverged, {kept}. Lower "
        "optim.lr or change the setting (or run it again with rerun=true)"
    )


def to_log_file(message: str, exc_info=None) -> str | None:
    """`message` into the run's train.log only (the console has its own line): a run that
    stopped says why in its directory, whose log would be empty otherwise. Returns the log's
    path (None without one)."""
    record = log.makeRecord(log.name, logging.ERROR, __file__, 0, message, None, exc_info)
    written = None
    for handler in logging.getLogger().handlers:
        if isinstance(handler, logging.FileHandler):
            handler.handle(record)
            written = handler.baseFilename
    return written


def unwrapped(error: BaseException) -> BaseException:
    """What `error` wraps, bad input included: instantiate() wraps what a _target_'s
    constructor raises (its cause), OmegaConf what a config's resolver raises (its context)."""
    if isinstance(error, InstantiationException) and error.__cause__ is not None:
        return unwrapped(error.__cause__)
    if isinstance(error, InterpolationResolutionError) and error.__context__ is not None:
        return unwrapped(error.__context__)
    return error


@hydra.main(config_path="pkg://imbalance.conf", config_name="train", version_base="1.3")
def run(cfg: DictConfig) -> float:
    """One run: bad input ends it in one line with exit status 2. In a sweep, a job that fails
    in any way raises JobFailed with that line instead, and the sweep goes on."""
    run_dir = Path(HydraConfig.get().runtime.output_dir)
    try:
        with only_writer(run_dir):
            results = train(cfg)
    except Exception as error:
        cause = unwrapped(error)
        in_sweep = HydraConfig.get().mode == RunMode.MULTIRUN
        if isinstance(cause, ConfigError):
            reason = one_line(cause)
            if not isinstance(cause, DirectoryRefused):  # a refused command writes nothing
                to_log_file(f"error: {reason}")
        elif unwritable := cannot_write(
            cause, run_dir, {"data.cache_dir": expand(cfg.data.get("cache_dir"))}
        ):
            reason = unwritable
        else:
            log_file = to_log_file("the run failed", sys.exc_info())
            if not in_sweep:
                raise
            reason = " ".join(f"the run failed: {type(cause).__name__}: {cause}".split())
            reason += f" (traceback in {log_file})" if log_file else ""
        print(f"error: {reason}", file=sys.stderr)
        if in_sweep:
            raise JobFailed(reason) from None
        sys.exit(2)
    return results["test"][cfg.optimized_metric]


def main() -> None:
    """python -m imbalance.train: `run`, with Hydra's refusals of the command line (a key or
    an option misspelled) in one line, as this project's own (`hydras_refusal`). Hydra prints
    its errors itself unless HYDRA_FULL_ERROR is set; set, it raises them, to be read here."""
    before = os.environ.get("HYDRA_FULL_ERROR")
    own = before == "1"  # as Hydra reads it: the user asked for Hydra's tracebacks
    os.environ["HYDRA_FULL_ERROR"] = "1"
    try:
        run()
    except Exception as error:
        if own:
            raise
        line = None
        if isinstance(error, HydraException):
            line = hydras_refusal(error, [arg for arg in sys.argv[1:] if arg[:1] != "-"])
        if line is not None:
            print(f"error: {line}", file=sys.stderr)
            sys.exit(2)
        if isinstance(error, CompactHydraException):  # as Hydra prints them
            print(error, file=sys.stderr)
            if isinstance(error.__cause__, OmegaConfBaseException):
                print(error.__cause__, file=sys.stderr)
        else:
            traceback.print_exc()
        sys.exit(1)
    finally:
        if before is None:
            del os.environ["HYDRA_FULL_ERROR"]
        else:
            os.environ["HYDRA_FULL_ERROR"] = before


if __name__ == "__main__":
    main()
