"""What each part of a remedy is: the methods the run calls on it, with what they do when a
part leaves them out. A part of your own subclasses one of these (one class, one YAML naming it
under `_target_`); `Remedy` refuses a part that does not, in one line.

Every part is built by `instantiate` from its YAML node and what `Remedy` gives it from the
training split (its class counts: class name -> images, in label order), and is a submodule of
the run: what it keeps as buffers follows the network to its device and into checkpoints.
"""

from collections.abc import Mapping

import numpy as np
import torch
from torch import nn
from torch.utils.data import Sampler


class Loss(nn.Module):
    """The training loss (`remedy.loss`), built with `class_counts` and the regularizer's
    `label_smoothing`, besides its own settings.

    per_sample(logits, labels)  each image's loss [n] from logits [n, C] and labels [n]: the one
                                method a loss must have (mixing weighs these per image)
    forward(logits, labels)     the batch's loss: their mean, unless the loss says otherwise
    set_epoch(epoch)            at every epoch's start, counted from 1: nothing, unless the loss
                                changes between epochs (DRW)
    """

    def per_sample(self, logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError(f"{type(self).__name__} must define per_sample(logits, labels)")

    def forward(self, logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        return self.per_sample(logits, labels).mean()

    def set_epoch(self, epoch: int) -> None:
        pass


class EpochSampler(Sampler[int]):
    """Which training images an epoch draws (`remedy.sampler`), built with the training split's
    `labels` [n], `class_counts` and the run's `seed`: a `torch.utils.data.Sampler` of indices
    into the training split, with `__iter__` and `__len__`. `set_epoch(epoch)` (counted from 0)
    comes before every epoch: draw from `rng()`, fixed by (seed, epoch), and a resumed run
    draws what the uninterrupted one drew."""

    def __init__(self, labels: torch.Tensor, class_counts: Mapping[str, int], seed: int):
        self.labels = np.asarray(torch.as_tensor(labels).cpu())
        self.members = [np.flatnonzero(self.labels == c) for c in range(len(class_counts))]
        self.seed = seed
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def rng(self) -> np.random.Generator:
        return np.random.default_rng([self.seed, self.epoch])


class Mix(nn.Module):
    """A training batch mixed with itself (`remedy.mix`), built with `class_counts` and `seed`.

    forward(images, labels, step)  the mixed images, the labels of the images mixed in, and the
                                   share of the first labels in the loss: a number, or one per
                                   image [n]; `step` counts optimizer steps from 1
    loss(loss, logits, ...)        the mixed batch's loss under the remedy's `Loss`
    """

    def forward(
        self, images: torch.Tensor, labels: torch.Tensor, step: int
    ) -> tuple[torch.Tensor, torch.Tensor, float | torch.Tensor]:
        raise NotImplementedError(
            f"{type(self).__name__} must define forward(images, labels, step)"
        )

    @staticmethod
    def loss(
        loss: Loss, logits: torch.Tensor, labels: torch.Tensor, others: torch.Tensor, share
    ) -> torch.Tensor:
        if isinstance(share, float):
            return share * loss(logits, labels) + (1 - share) * loss(logits, others)
        first, second = loss.per_sample(logits, labels), loss.per_sample(logits, others)
        return (share * first + (1 - share) * second).mean()


class Constraint(nn.Module):
    """Applied to the network after every optimizer step (`remedy.constraint`):
    forward(net) changes its weights in place."""

    def forward(self, net: nn.Module) -> None:
        raise NotImplementedError(f"{type(self).__name__} must define forward(net)")


class ClassifierChange(nn.Module):
    """A change of the trained last layer (`remedy.classifier`), built with `num_classes`:
    `attach(last)` hooks `changed` onto the last layer's output; the trained weights stay as
    they are. Its parameters, if any, are what a second stage with `trains: scales` learns."""

    def __init__(self, num_classes: int):
        super().__init__()
        self.num_classes = num_classes

    def attach(self, last: nn.Module) -> None:
        last.register_forward_hook(self.changed)

    def changed(self, layer: nn.Module, inputs: tuple, output: torch.Tensor):
        """The layer's output as changed, or None for the output as it is."""
        raise NotImplementedError(f"{type(self).__name__} must define changed(...)")


class Correction(nn.Module):
    """A correction of the logits at evaluation (`remedy.correction`), built with
    `class_counts`.

    forward(logits)      the corrected logits [n, C]
    fit(logits, labels)  before the evaluations that follow, on the whole validation split's
                         logits and labels when `auto` (then the run needs a validation split);
                         nothing by default
    values()             what it reports each epoch in the history (e.g. its tau): none
    """

    auto = False

    def forward(self, logits: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError(f"{type(self).__name__} must define forward(logits)")

    def fit(self, logits: torch.Tensor, labels: torch.Tensor) -> None:
        pass

    def values(self) -> dict[str, float]:
        return {}
