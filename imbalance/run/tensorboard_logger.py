"""Lightning's TensorBoard logger, writing each call's scalars as one event."""

from collections.abc import Mapping
from numbers import Real

from lightning.pytorch import loggers
from lightning.pytorch.utilities import rank_zero_only
from tensorboard.compat.proto.summary_pb2 import Summary
from torch import Tensor


class TensorBoardLogger(loggers.TensorBoardLogger):
    """`lightning.pytorch.loggers.TensorBoardLogger` whose `log_metrics` writes every number
    of a call as one event (one summary of many tagged values), as TensorBoard's own writers
    do, instead of an event per number: the 41 numbers of a digits run's epoch took 1.1 ms as
    41 `add_scalar` calls, 0.03 ms as one event. TensorBoard shows the same curves (values are
    float32, as `add_scalar` writes them).

    Numbers and one-element tensors only; a call holding anything else (a dict, which
    Lightning writes as a group of runs) is written by Lightning's logger, which raises for
    what it cannot write.
    """

    @rank_zero_only
    def log_metrics(self, metrics: Mapping[str, float], step: int | None = None) -> None:
        values = {
            tag: value.item() if isinstance(value, Tensor) and value.numel() == 1 else value
            for tag, value in metrics.items()
        }
        if self._prefix or not all(isinstance(value, Real) for value in values.values()):
            return super().log_metrics(metrics, step)
        summary = Summary(
            value=[Summary.Value(tag=tag, simple_value=value) for tag, value in values.items()]
        )
        # SummaryWriter has no public call for one event of many scalars; this is what its
        # add_scalar writes through, and it reopens a writer that fit's end closed.
        self.experiment._get_file_writer().add_summary(summary, step)
