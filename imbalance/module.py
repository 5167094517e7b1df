"""Training of one run: loss, optimizer and schedule, and the metrics of the study."""

import logging
import time
import warnings

import lightning as L
import torch
import torch.nn.functional as F
from torch import nn
from torchmetrics import MeanMetric, MetricCollection
from torchmetrics.classification import (
    MulticlassAccuracy,
    MulticlassConfusionMatrix,
    MulticlassPrecision,
    MulticlassRecall,
)
from torchmetrics.wrappers import ClasswiseWrapper

log = logging.getLogger(__name__)

# Every value this module logs comes from a torchmetrics metric, whose compute() has already
# gathered the states of all processes: Lightning's sync_dist would average equal numbers.
warnings.filterwarnings("ignore", ".*when logging on epoch level in distributed setting.*")


def evaluation_metrics(class_names: list[str]) -> MetricCollection:
    """Accuracy, balanced accuracy (mean per-class recall) and per-class precision and recall.

    A class that is never predicted has precision 0 (torchmetrics' zero_division=0).
    """
    n = len(class_names)
    return MetricCollection(
        {
            "acc": MulticlassAccuracy(n, average="micro"),
            "balanced_acc": MulticlassAccuracy(n, average="macro"),
            "precision": ClasswiseWrapper(
                MulticlassPrecision(n, average=None), class_names, prefix="precision/"
            ),
            "recall": ClasswiseWrapper(
                MulticlassRecall(n, average=None), class_names, prefix="recall/"
            ),
        },
        compute_groups=False,
    )


class StudyModule(L.LightningModule):
    """Cross-entropy, SGD with momentum and a step learning-rate schedule.

    Every epoch it logs train and test accuracy and loss (`train/`, `test/`) and per-class test
    precision and recall (`test_precision/<class>`, `test_recall/<class>`), and keeps them in
    `history`. `trainer.test` then fills `test_results` with the final metrics and the confusion
    matrix (rows: true class, columns: predicted class). The test split plays the part of the
    paper's validation data: it is watched, never used to pick a model.
    """

    def __init__(
        self,
        net: nn.Module,
        class_names: list[str],
        lr: float,
        momentum: float,
        lr_step_epochs: int,
        lr_gamma: float,
        weight_decay: float = 0.0,
        label_smoothing: float = 0.0,
        augment: nn.Module | None = None,
    ):
        super().__init__()
        self.net = net
        self.augment = augment
        self.class_names = list(class_names)
        self.lr = lr
        self.momentum = momentum
        self.lr_step_epochs = lr_step_epochs
        self.lr_gamma = lr_gamma
        self.weight_decay = weight_decay
        self.label_smoothing = label_smoothing

        n = len(class_names)
        self.train_acc = MulticlassAccuracy(n, average="micro")
        self.train_loss = MeanMetric()
        self.epoch_metrics = evaluation_metrics(self.class_names)
        self.epoch_loss = MeanMetric()
        self.final_metrics = evaluation_metrics(self.class_names)
        self.final_loss = MeanMetric()
        self.confusion = MulticlassConfusionMatrix(n)

        self.history: list[dict] = []
        self.epoch_seconds: list[float] = []  # wall time of each epoch, its test pass included
        self.test_results: dict | None = None
        self._last_test: dict = {}

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.net(images.float())

    def on_train_epoch_start(self):
        self._epoch_started = time.perf_counter()
        # Read now: the schedule steps at the epoch's last batch, before on_train_epoch_end.
        self._epoch_lr = self.trainer.optimizers[0].param_groups[0]["lr"]

    def training_step(self, batch, batch_idx):
        images, labels = batch
        images = images.float()
        if self.augment is not None:
            images = self.augment(images)
        logits = self.net(images)
        loss = F.cross_entropy(logits, labels, label_smoothing=self.label_smoothing)
        self.train_acc.update(logits, labels)
        self.train_loss.update(loss.detach(), weight=len(labels))
        return loss

    def on_train_epoch_end(self):
        # Lightning runs the epoch's test pass (its validation loop) before this hook.
        train = {"acc": self.train_acc.compute().item(), "loss": self.train_loss.compute().item()}
        self.train_acc.reset()
        self.train_loss.reset()
        self.log_dict({f"train/{key}": value for key, value in train.items()} | self._x_axis())
        test, self._last_test = self._last_test, {}
        epoch = {
            "epoch": self.current_epoch + 1,
            "train_acc": train["acc"],
            "train_loss": train["loss"],
            "test_acc": test.get("acc"),  # None in an epoch without a test pass
            "test_loss": test.get("loss"),
            "lr": self._epoch_lr,  # the rate this epoch trained with
        }
        self.history.append(epoch)
        self.epoch_seconds.append(time.perf_counter() - self._epoch_started)
        tested = f"test acc {test['acc']:.3f} loss {test['loss']:.3f}" if test else "no test pass"
        log.info(
            f"epoch {epoch['epoch']}/{self.trainer.max_epochs}: "
            f"train acc {train['acc']:.3f} loss {train['loss']:.3f}, {tested}"
        )

    def _evaluate(self, batch, metrics: MetricCollection, loss_metric: MeanMetric) -> torch.Tensor:
        images, labels = batch
        logits = self(images)
        loss_metric.update(F.cross_entropy(logits, labels), weight=len(labels))
        metrics.update(logits, labels)
        return logits

    def validation_step(self, batch, batch_idx):
        self._evaluate(batch, self.epoch_metrics, self.epoch_loss)

    def on_validation_epoch_end(self):
        values = self.epoch_metrics.compute()
        values["loss"] = self.epoch_loss.compute()
        self.epoch_metrics.reset()
        self.epoch_loss.reset()
        self._last_test = {key: value.item() for key, value in values.items()}
        # "test/acc" is a scalar; "test_precision/<class>" puts per-class values in a section.
        logged = {f"test{'_' if '/' in key else '/'}{key}": v for key, v in values.items()}
        self.log_dict(logged | self._x_axis())

    def _x_axis(self) -> dict:
        # Lightning plots a logged "step" as the x value: epochs compare across runs whose
        # training sets (and so steps per epoch) differ.
        return {"step": float(self.current_epoch + 1)}

    def test_step(self, batch, batch_idx):
        logits = self._evaluate(batch, self.final_metrics, self.final_loss)
        self.confusion.update(logits, batch[1])

    def on_test_epoch_end(self):
        values = {key: value.item() for key, value in self.final_metrics.compute().items()}
        self.test_results = {
            "acc": values["acc"],
            "balanced_acc": values["balanced_acc"],
            "loss": self.final_loss.compute().item(),
            "precision": {name: values[f"precision/{name}"] for name in self.class_names},
            "recall": {name: values[f"recall/{name}"] for name in self.class_names},
            "confusion_matrix": self.confusion.compute().tolist(),
        }
        for metric in (self.final_metrics, self.final_loss, self.confusion):
            metric.reset()

    def configure_optimizers(self):
        # L2 regularization applies to weights, not to biases or batch-norm parameters.
        decay = [p for p in self.parameters() if p.ndim > 1]
        no_decay = [p for p in self.parameters() if p.ndim <= 1]
        optimizer = torch.optim.SGD(
            [
                {"params": decay, "weight_decay": self.weight_decay},
                {"params": no_decay, "weight_decay": 0.0},
            ],
            lr=self.lr,
            momentum=self.momentum,
        )
        schedule = torch.optim.lr_scheduler.StepLR(optimizer, self.lr_step_epochs, self.lr_gamma)
        return {"optimizer": optimizer, "lr_scheduler": schedule}
