"""Which training images an epoch draws: `torch.utils.data.Sampler`s handed to the training
DataLoader. Under distributed training Lightning wraps them (`DistributedSamplerWrapper`) and
gives each process its share of the same draw.

Each draw is fixed by (seed, epoch): Lightning calls `set_epoch` before every epoch, so every
process draws the same indices and a run repeats exactly, whatever else uses the global RNG.
"""

from collections.abc import Iterator, Mapping

import numpy as np
import torch

from imbalance.errors import ConfigError
from imbalance.remedies.counts import count_tensor
from imbalance.remedies.parts import EpochSampler


class Shuffle(EpochSampler):
    """No remedy: every training image once per epoch, in an order drawn anew each epoch, as
    DataLoader(shuffle=True) draws it, but from (seed, epoch) instead of the global RNG: a run
    resumed from a checkpoint draws the order the uninterrupted run drew."""

    def __len__(self) -> int:
        return len(self.labels)

    def __iter__(self) -> Iterator[int]:
        return iter(self.rng().permutation(len(self.labels)).tolist())


class OverSampler(EpochSampler):
    """Random oversampling (Buda et al. 2018): every epoch shows every training image once and
    tops up every other class to the largest class's count n_max with randomly chosen copies of
    its images, drawn anew each epoch, all in random order: epochs of C * n_max images.

    Raises ConfigError for a class without training images.
    """

    def __init__(self, labels: torch.Tensor, class_counts: Mapping[str, int], seed: int):
        super().__init__(labels, class_counts, seed)
        self.largest = int(count_tensor(class_counts, "oversampling").max())

    def __len__(self) -> int:
        return self.largest * len(self.members)

    def __iter__(self) -> Iterator[int]:
        rng = self.rng()
        copies = [rng.choice(m, self.largest - len(m), replace=True) for m in self.members]
        return iter(rng.permutation(np.concatenate([*self.members, *copies])).tolist())


class ClassPowerSampler(EpochSampler):
    """Draws `len(labels)` images per epoch, with replacement, class c with probability
    n_c^q / sum_i n_i^q and the images of a class uniformly (Kang et al. 2020, eq. 1):

    power q=0: class-balanced sampling, every class equally often (a class-aware sampler,
        Shen et al. 2016; Kang et al.'s class-balanced sampling, as cRT re-trains with it);
    q=0.5: square-root sampling (Mahajan et al. 2018); q=1: the data's own distribution.

    Raises ConfigError for a class without training images.
    """

    def __init__(
        self,
        labels: torch.Tensor,
        class_counts: Mapping[str, int],
        seed: int,
        power: float = 0.0,
    ):
        super().__init__(labels, class_counts, seed)
        if power < 0:
            raise ConfigError(f"sampler power={power} must be at least 0")
        self.counts = count_tensor(class_counts, "a class sampler").numpy()
        self.class_p = self.counts**power / (self.counts**power).sum()

    def __len__(self) -> int:
        return len(self.labels)

    def __iter__(self) -> Iterator[int]:
        per_image = self.class_p[self.labels] / self.counts[self.labels]
        draw = self.rng().choice(len(self.labels), len(self.labels), p=per_image)
        return iter(draw.tolist())


class DeferredSampler(ClassPowerSampler):
    """Deferred re-sampling, DRS (Cao et al. 2019): every image once per epoch, as `Shuffle`
    draws it, before `drw_epoch` (counted from 1); from it on, the draw of `ClassPowerSampler`
    (class-balanced with power 0). Epochs keep one length: nothing else changes at the switch.
    """

    def __init__(
        self,
        labels: torch.Tensor,
        class_counts: Mapping[str, int],
        seed: int,
        drw_epoch: int,
        power: float = 0.0,
    ):
        super().__init__(labels, class_counts, seed, power)
        if drw_epoch < 1:
            raise ConfigError(f"drw_epoch={drw_epoch} must be at least 1 (the first epoch)")
        self.drw_epoch = drw_epoch

    def __iter__(self) -> Iterator[int]:
        if self.epoch + 1 < self.drw_epoch:  # set_epoch counts from 0
            return iter(self.rng().permutation(len(self.labels)).tolist())
        return super().__iter__()


class ProgressiveSampler(ClassPowerSampler):
    """Progressively-balanced sampling (Kang et al. 2020, eq. 2): in epoch t of T (t from 0),
    class c is drawn with probability (1 - t/T) n_c / n + (t/T) / C, from the data's own
    distribution in the first epoch towards class balance in the last; `len(labels)` images
    per epoch, with replacement, the images of a class uniformly.
    """

    def __init__(
        self, labels: torch.Tensor, class_counts: Mapping[str, int], seed: int, epochs: int
    ):
        super().__init__(labels, class_counts, seed, power=1.0)
        if epochs < 1:
            raise ConfigError(f"epochs={epochs} must be at least 1")
        self.epochs = epochs
        self.instance_p = self.class_p
        self.balanced_p = np.full(len(self.counts), 1 / len(self.counts))

    def set_epoch(self, epoch: int) -> None:
        super().set_epoch(epoch)
        share = min(epoch, self.epochs) / self.epochs
        self.class_p = (1 - share) * self.instance_p + share * self.balanced_p


class UnderSampler(EpochSampler):
    """Every epoch draws n_min images of every class (the smallest class's count), without
    replacement and anew each epoch, in random order (random undersampling, Buda et al. 2018):
    epochs of C * n_min images.

    Raises ConfigError for a class without training images.
    """

    def __init__(self, labels: torch.Tensor, class_counts: Mapping[str, int], seed: int):
        super().__init__(labels, class_counts, seed)
        self.smallest = int(count_tensor(class_counts, "undersampling").min())

    def __len__(self) -> int:
        return self.smallest * len(self.members)

    def __iter__(self) -> Iterator[int]:
        rng = self.rng()
        draw = np.concatenate([rng.choice(m, self.smallest, replace=False) for m in self.members])
        return iter(rng.permutation(draw).tolist())
