"""The run's TensorBoard logger writes an epoch's numbers as one event, and TensorBoard reads
them as Lightning's logger writes them."""

import numpy as np
import torch
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
from tensorboard.backend.event_processing.event_file_loader import EventFileLoader

from imbalance.run.tensorboard_logger import TensorBoardLogger


def scalars(run) -> dict[str, list[tuple[int, float]]]:
    accumulator = EventAccumulator(str(run))
    accumulator.Reload()
    return {
        tag: [(event.step, event.value) for event in accumulator.Scalars(tag)]
        for tag in accumulator.Tags()["scalars"]
    }


def test_a_calls_numbers_are_one_event_that_tensorboard_reads(tmp_path):
    logger = TensorBoardLogger(tmp_path, name="", version="")
    logger.log_metrics({"test/acc": 0.1, "test/loss": torch.tensor(2.5), "train/acc": 1}, step=3)
    logger.finalize("success")
    (events,) = tmp_path.glob("events.out.tfevents.*")
    with_values = [event for event in EventFileLoader(str(events)).Load() if event.summary.value]
    assert len(with_values) == 1 and with_values[0].step == 3
    assert scalars(tmp_path) == {
        "test/acc": [(3, np.float32(0.1))],
        "test/loss": [(3, 2.5)],
        "train/acc": [(3, 1.0)],
    }


def test_a_resumed_runs_purge_step_hides_what_came_after_the_checkpoint(tmp_path):
    first = TensorBoardLogger(tmp_path, name="", version="")
    for step in (1, 2, 3):
        first.log_metrics({"train/loss": float(step)}, step=step)
    first.finalize("success")
    resumed = TensorBoardLogger(tmp_path, name="", version="", purge_step=2)
    resumed.log_metrics({"train/loss": 20.0}, step=2)
    resumed.finalize("success")
    assert scalars(tmp_path) == {"train/loss": [(1, 1.0), (2, 20.0)]}


def test_grouped_values_are_written_by_lightnings_logger(tmp_path):
    logger = TensorBoardLogger(tmp_path, name="", version="")
    logger.log_metrics({"loss": {"train": 1.0, "test": 2.0}}, step=1)
    logger.finalize("success")
    assert {path.name for path in tmp_path.iterdir() if path.is_dir()} == {
        "loss_train",
        "loss_test",
    }
