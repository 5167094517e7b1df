"""The learning rate's schedule, epoch by epoch: a linear warm-up, then the rate multiplied by
`gamma` every few epochs or after given epochs (the long-tail recipe of Cao et al. 2019)."""

import math
from collections.abc import Mapping, Sequence

import torch
from torch.optim.lr_scheduler import LRScheduler

from imbalance.errors import ConfigError


class EpochSchedule(LRScheduler):
    """The rate of epoch e (counted from 1), stepped once an epoch:

    - lr multiplied by `gamma` once for every `every` epochs passed (the rate of epoch e has
      (e - 1) // every of them: torch's StepLR), or once for every epoch of `milestones` that e
      is past (torch's MultiStepLR; Cao et al.: [160, 180] with gamma 0.01); one multiplication
      at a time, as torch does, so that a step schedule's rates are StepLR's to the last bit;
    - and over the warm-up, e <= warmup_epochs, that rate times e / warmup_epochs.

    Raises ConfigError for a negative warm-up, a gamma not above 0, a step of no epochs, a
    milestone before epoch 1, or both `every` and `milestones`.
    """

    def __init__(
        self,
        optimizer: torch.optim.Optimizer,
        warmup_epochs: int = 0,
        gamma: float = 0.1,
        every: int | None = None,
        milestones: Sequence[int] | None = None,
    ):
        if warmup_epochs < 0:
            raise ConfigError(f"optim.schedule.warmup_epochs={warmup_epochs} must be at least 0")
        if not 0 < gamma < math.inf:
            raise ConfigError(f"optim.schedule.gamma={gamma} must be finite and greater than 0")
        if every is not None and every < 1:
            raise ConfigError(f"optim.schedule.every={every} must be at least 1, or null")
        check_milestones(milestones)
        if every is not None and milestones:
            raise ConfigError(
                "optim.schedule sets both every and milestones: a step every few epochs, or "
                "steps after given epochs; set the other to null"
            )
        self.warmup_epochs, self.gamma, self.every = warmup_epochs, gamma, every
        self.milestones = sorted(milestones or [])
        super().__init__(optimizer)

    def steps(self, epoch: int) -> int:
        """How many times the rate of `epoch` (from 1) has been multiplied by gamma."""
        if self.every is not None:
            return (epoch - 1) // self.every
        return sum(epoch > milestone for milestone in self.milestones)

    def get_lr(self) -> list[float]:
        epoch = self.last_epoch + 1  # last_epoch counts the steps taken, from 0
        rates = []
        for base in self.base_lrs:
            rate = base * epoch / self.warmup_epochs if epoch <= self.warmup_epochs else base
            for _ in range(self.steps(epoch)):
                rate *= self.gamma
            rates.append(rate)
        return rates


def check_milestones(milestones) -> None:
    """Raises ConfigError unless `milestones` is null or a list of epochs (integers from 1)."""
    epochs = list(milestones) if isinstance(milestones, Sequence) else None
    if milestones is not None and (
        epochs is None or not all(type(epoch) is int and epoch >= 1 for epoch in epochs)
    ):
        raise ConfigError(
            f"optim.schedule.milestones={milestones} must be a list of epochs counted from 1, "
            "e.g. [160,180], or null"
        )


def first_lowered_epoch(schedule: Mapping, epochs: int) -> int:
    """The first epoch (from 1) at a rate `schedule` (optim.schedule, an EpochSchedule's) has
    lowered, at most `epochs`: where a deferred remedy starts, as Cao et al.'s deferred
    re-weighting starts with the rate's first fall (conf/remedy/drw.yaml).

    Raises ConfigError for a schedule without `every` and `milestones` (another scheduler),
    whose first fall is not known here: the remedy's epoch must then be given.
    """
    if "every" not in schedule and "milestones" not in schedule:
        raise ConfigError(
            f"optim.schedule._target_={schedule.get('_target_')} does not say when the rate "
            "first falls, where a deferred remedy starts: give the remedy's epoch, e.g. "
            "remedy.loss.drw_epoch=160"
        )
    every, milestones = schedule.get("every"), schedule.get("milestones")
    check_milestones(milestones)
    if every:
        return min(every + 1, epochs)
    return min(min(milestones) + 1, epochs) if milestones else epochs
