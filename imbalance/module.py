"""Training of one run: loss, optimizer and schedule, and the metrics of the study."""

import json
import logging
import math
import time
import warnings
from collections.abc import Callable, Sequence

import lightning as L
import torch
import torch.nn.functional as F
from torch import nn
from torch.distributed import ReduceOp
from torch.optim.lr_scheduler import LRScheduler
from torchmetrics import CatMetric, MeanMetric
from torchmetrics.classification import MulticlassAccuracy, MulticlassConfusionMatrix
from torchmetrics.utilities import dim_zero_cat

from imbalance.metrics import LOSS, in_order, split_values, study_metrics
from imbalance.models.network import batch_of_one_fails
from imbalance.remedies.remedy import Remedy
from imbalance.run.results import diverged

log = logging.getLogger(__name__)

# Every value this module logs comes from a torchmetrics metric, whose compute() has already
# gathered the states of all processes: Lightning's sync_dist would average equal numbers.
warnings.filterwarnings("ignore", ".*when logging on epoch level in distributed setting.*")


class Diverged(Exception):
    """The training loss was not finite, first at optimizer `step` (the run's, from 1) of
    `epoch` (from 1): the run stops before the epoch's checkpoint, keeping the last finite
    one."""

    def __init__(self, epoch: int, step: int, loss: str):
        self.stopped = {"epoch": epoch, "step": step, "loss": loss}
        super().__init__(diverged(self.stopped))


class StudyModule(L.LightningModule):
    """A network trained by SGD with momentum, its rate set each epoch by `schedule` (given the
    optimizer: `imbalance.schedule.EpochSchedule`, or any of torch's), with what its
    remedy (`imbalance.remedies.remedy.Remedy`: the loss, and any mixing, constraint,
    correction or second stage) does to it.

    Every epoch it logs train accuracy and loss (`train/`), every metric of `imbalance.metrics`
    on the test split (`test/`, per class in `test_precision/`, `test_recall/`, `test_f1/`) and
    on the validation split when there is one (`val/`), and keeps the single numbers in
    `history`. `trainer.test` then fills `test_results` with the final metrics and the confusion
    matrix (rows: true class, columns: predicted class). The test split plays the part of the
    paper's validation data: it is watched, never used to pick a model.

    `groups` maps group names (minority, majority; many, medium, few) to their classes;
    `eval_splits` names the loaders of the validation loop. A remedy's correction is fitted
    on the whole validation split at the end of each evaluation, then applied to both splits.
    """

    STEPS_KEPT = 256

    def __init__(
        self,
        net: nn.Module,
        class_names: list[str],
        groups: dict[str, list[str]],
        lr: float,
        momentum: float,
        schedule: Callable[[torch.optim.Optimizer], LRScheduler],
        remedy: Remedy,
        augment: nn.Module | None = None,
        eval_splits: Sequence[str] = ("test",),
    ):
        super().__init__()
        self.net = net
        self.augment = augment
        self.class_names = list(class_names)
        self.lr = lr
        self.momentum = momentum
        self.schedule = schedule
        self.remedy = remedy
        remedy.attach(net)
        self.eval_splits = list(eval_splits)
        self.groups = list(groups)

        # Updated from what the steps kept (_train_steps), every STEPS_KEPT steps and at the
        # epoch's end, not inside the step: an update per step is costly on a CPU (BENCHMARKS.md),
        # and MeanMetric's NaN test waits for a GPU.
        self.train_acc = MulticlassAccuracy(len(class_names), average="micro", validate_args=False)
        self.train_loss = MeanMetric()
        self._train_steps: list[tuple[torch.Tensor, torch.Tensor, torch.Tensor, int]] = []
        self.metrics = nn.ModuleDict(
            {split: study_metrics(self.class_names, groups) for split in self.eval_splits}
        )
        self.losses = nn.ModuleDict({split: MeanMetric() for split in self.eval_splits})
        self.confusion = MulticlassConfusionMatrix(len(class_names))

        self.history: list[dict] = []
        # Wall time of each epoch, from its start to the next epoch's (its test pass, its
        # checkpoint and Lightning's work between epochs included); the last to its end hook.
        self.epoch_seconds: list[float] = []
        self._epoch_started: float | None = None
        self.test_results: dict | None = None
        self._last_eval: dict = {}
        # The validation split's logits and labels, kept until the correction is fitted;
        # torchmetrics gathers them from every process. The test split's batches wait with them.
        self.held_logits, self.held_labels = CatMetric(), CatMetric()
        self._held_test: list[tuple[torch.Tensor, torch.Tensor]] = []

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.net(images.to(self.dtype))

    def batch_of_one_fails(self, image: torch.Tensor) -> bool:
        """Whether the network cannot train on a batch of one image, `image` ([1, C, H, W])."""
        return batch_of_one_fails(self.net, image.to(self.device, self.dtype))

    def configure_callbacks(self) -> list[L.Callback]:
        return self.remedy.callbacks()

    def on_train_epoch_start(self):
        now = time.perf_counter()
        if self._epoch_started is not None:  # the last epoch, to this start
            self.epoch_seconds[-1] = now - self._epoch_started
        self._epoch_started = now
        self.remedy.start_epoch(self.current_epoch + 1)
        # Read now: the schedule steps at the epoch's last batch, before on_train_epoch_end.
        self._epoch_lr = self.trainer.optimizers[0].param_groups[0]["lr"]

    def training_step(self, batch, batch_idx):
        images, labels = batch
        # The network's float type: float64 with trainer.precision=64-true, float32 otherwise
        # (bfloat16-mixed runs cast inside autocast).
        images = images.to(self.dtype)
        if self.augment is not None:
            images = self.augment(images)
        step = self.trainer.global_step + 1
        logits, loss = self.remedy.training_loss(self.net, images, labels, step)
        self._train_steps.append((logits.detach().argmax(dim=1), labels, loss.detach(), step))
        if len(self._train_steps) >= self.STEPS_KEPT:  # memory stays bounded in long epochs
            self._update_train_metrics()
        return loss

    def optimizer_step(self, *args, **kwargs) -> None:
        super().optimizer_step(*args, **kwargs)
        self.remedy.after_step(self.net)

    def _update_train_metrics(self) -> None:
        """The epoch's steps into the train metrics: the predictions in one update, each step's
        mean loss weighted by its batch, in step order (the float32 sums of per-step updates).
        Raises Diverged at the first step whose loss is not finite (one look at the GPU every
        STEPS_KEPT steps, not one a step)."""
        if not self._train_steps:
            return
        predicted, labels, losses, steps = zip(*self._train_steps, strict=True)
        self._train_steps = []
        finite = torch.isfinite(torch.stack(losses))
        # Every process of a multi-device run stops together, at the first step any of them
        # saw: the one that does not would wait for the others forever.
        here = (~finite).nonzero()
        first = steps[int(here[0])] if len(here) else math.inf
        first = self.trainer.strategy.reduce(
            torch.tensor(first, dtype=torch.float64, device=finite.device), reduce_op=ReduceOp.MIN
        )
        if math.isfinite(first):
            loss = str(losses[int(here[0])].item()) if len(here) else "not finite on another device"
            raise Diverged(self.current_epoch + 1, int(first), loss)
        self.train_acc.update(torch.cat(predicted), torch.cat(labels))
        for loss, batch in zip(losses, labels, strict=True):
            self.train_loss.update(loss, weight=len(batch))

    def on_validation_epoch_start(self):
        # A loss that stopped being finite ends the run before the evaluation, not after it.
        self._update_train_metrics()

    def on_train_epoch_end(self):
        # Lightning runs the epoch's evaluation passes (its validation loop) before this hook.
        self._update_train_metrics()
        train = {"acc": self.train_acc.compute().item(), "loss": self.train_loss.compute().item()}
        self.train_acc.reset()
        self.train_loss.reset()
        remedy = self.remedy.epoch_values()  # what changes between epochs: a section of its own
        logged = {f"train/{key}": value for key, value in train.items()}
        self._publish(logged | {f"remedy/{key}": float(value) for key, value in remedy.items()})
        evaluated, self._last_eval = self._last_eval, {}
        test = evaluated.get("test", {})
        epoch = {
            "epoch": self.current_epoch + 1,
            "train_acc": train["acc"],
            "train_loss": train["loss"],
            # None in an epoch without a test pass
            "test_acc": test.get("acc"),
            "test_loss": test.get(LOSS),
        }
        for split in self.eval_splits:
            scalars = evaluated.get(split, {})
            epoch |= {f"{split}_{key}": value for key, value in scalars.items()}
        epoch |= remedy
        epoch["lr"] = self._epoch_lr  # the rate this epoch trained with
        self.history.append(epoch)
        self.epoch_seconds.append(time.perf_counter() - self._epoch_started)
        if not self.trainer.is_global_zero:  # every process holds the same figures
            return
        tested = ", ".join(
            f"{split} acc {values['acc']:.3f} loss {values[LOSS]:.3f}"
            for split, values in evaluated.items()
        )
        log.info(
            f"epoch {epoch['epoch']}/{self.trainer.max_epochs}: "
            f"train acc {train['acc']:.3f} loss {train['loss']:.3f}, {tested or 'no test pass'}"
        )

    def _evaluate(self, logits: torch.Tensor, labels: torch.Tensor, split: str) -> None:
        """Adds a batch's logits to the split's metrics, corrected when there is a correction."""
        logits = self.remedy.correct(logits)
        self.losses[split].update(F.cross_entropy(logits, labels), weight=len(labels))
        # Scores, not logits: torchmetrics takes inputs within [0, 1] for probabilities, which
        # an untrained network's small logits can be.
        self.metrics[split].update(logits.softmax(dim=1), labels)
        if split == "test" and self.trainer.testing:
            self.confusion.update(logits, labels)

    def _compute(self, split: str) -> dict:
        """The split's metrics since the last reset, as plain numbers; then a reset."""
        values = {key: value.item() for key, value in self.metrics[split].compute().items()}
        values[LOSS] = self.losses[split].compute().item()
        values = in_order(values, self.groups)
        self.metrics[split].reset()
        self.losses[split].reset()
        return values

    def validation_step(self, batch, batch_idx, dataloader_idx=0):
        images, labels = batch
        split, logits = self.eval_splits[dataloader_idx], self(images)
        if not (self.remedy.fits_correction and "val" in self.eval_splits):
            self._evaluate(logits, labels, split)
        elif split == "val":  # evaluated once the correction is fitted
            self.held_logits.update(logits)
            self.held_labels.update(labels)
        else:
            self._held_test.append((logits, labels))

    def _fit_correction(self) -> None:
        """Fits the correction on the whole validation split (every process's share), then
        evaluates this process's share of both splits with it."""
        local = [dim_zero_cat(metric.value) for metric in (self.held_logits, self.held_labels)]
        logits, labels = self.held_logits.compute(), self.held_labels.compute()
        for metric in (self.held_logits, self.held_labels):
            metric.reset()
        self.remedy.fit_correction(logits, labels.long())
        self._evaluate(local[0], local[1].long(), "val")
        for logits, labels in self._held_test:
            self._evaluate(logits, labels, "test")
        self._held_test = []

    def on_validation_epoch_end(self):
        if self.held_labels.update_count:
            self._fit_correction()
        computed = {split: self._compute(split) for split in self.eval_splits}  # and reset
        if self.trainer.sanity_checking:  # +trainer.num_sanity_val_steps: not an epoch
            return
        logged, per_class = {}, {}
        for split, values in computed.items():
            scalars = {key: value for key, value in values.items() if "/" not in key}
            self._last_eval[split] = scalars
            logged |= {f"{split}/{key}": value for key, value in scalars.items()}
            if split == "test":  # per class in sections of their own: test_recall/<class>
                per_class |= {f"test_{key}": v for key, v in values.items() if "/" in key}
        self._publish(logged, per_class)

    def _publish(self, values: dict[str, float], per_class: dict | None = None) -> None:
        """An epoch's numbers to the loggers, with the epoch as the x axis (epochs compare
        across runs whose training sets, and so steps per epoch, differ), and the single
        numbers to `trainer.callback_metrics` too, where callbacks that monitor a metric
        (EarlyStopping, ModelCheckpoint) read them.

        Not through self.log: every value that takes costs about 0.5 ms (Lightning moves its
        whole record of the value to the device each time), 20 ms an epoch for the 40 values
        of the digits, half a compact network's epoch on a CPU. These are computed once an
        epoch by torchmetrics and are the same in every process: nothing to reduce.
        """
        for logger in self.loggers:
            logger.log_metrics(values | (per_class or {}), step=self.current_epoch + 1)
        self.trainer.callback_metrics.update(
            {key: torch.tensor(value) for key, value in values.items()}
        )

    def test_step(self, batch, batch_idx):
        images, labels = batch
        self._evaluate(self(images), labels, "test")

    def on_test_epoch_end(self):
        values = self._compute("test")
        self.test_results = split_values(values, self.class_names) | {
            "confusion_matrix": self.confusion.compute().tolist()
        }
        self.confusion.reset()

    def on_save_checkpoint(self, checkpoint: dict) -> None:
        # As one JSON string: torch.save pickles a list of dicts of floats one object at a
        # time, through a Python hook each, which grows with the run's epochs.
        checkpoint["history"] = json.dumps(self.history)
        checkpoint["epoch_seconds"] = self.epoch_seconds

    def on_load_checkpoint(self, checkpoint: dict) -> None:
        self.history = json.loads(checkpoint["history"])
        self.epoch_seconds = checkpoint["epoch_seconds"]

    def configure_optimizers(self):
        # L2 regularization applies to weights, not to biases or batch-norm parameters.
        decay = [p for p in self.parameters() if p.ndim > 1]
        no_decay = [p for p in self.parameters() if p.ndim <= 1]
        optimizer = torch.optim.SGD(
            [
                # Named: a remedy's second stage sets its own weight decay on the weights.
                {"params": decay, "weight_decay": self.remedy.weight_decay, "name": "weights"},
                {"params": no_decay, "weight_decay": 0.0, "name": "biases"},
            ],
            lr=self.lr,
            momentum=self.momentum,
        )
        return {"optimizer": optimizer, "lr_scheduler": self.schedule(optimizer)}
