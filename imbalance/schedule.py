"""The learning rate's schedule, epoch by epoch: a linear warm-up, then the rate multiplied by
`gamma` every few epochs or after given epochs (the long-tail recipe of Cao et al. 2019)."""

import math
from collections.abc import Sequence

import torch
from torch.optim.lr_scheduler import LRScheduler

from imbalance.errors import ConfigError


class EpochSchedule(LRScheduler):
    """The rate of epoch e (counted from 1), stepped once an epoch:

    - e <= warmup_epochs: lr * e / warmup_epochs (linear warm-up);
    - after that, lr multiplied by `gamma` once for every `every` epochs passed (the rate of
      epoch e has (e - 1) // every of them: torch's StepLR), or once for every epoch of
      `milestones` that e is past (torch's MultiStepLR; Cao et al.: [160, 180] with gamma 0.01);
      one multiplication at a time, as torch does, so that a step schedule's rates are StepLR's
      to the last bit.

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
        if any(epoch < 1 for epoch in milestones or []):
            raise ConfigError(
                f"optim.schedule.milestones={list(milestones)} must be epochs, counted from 1"
            )
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


def last_full_rate_epoch(schedule, epochs: int) -> int:
    """The last epoch (from 1) before `schedule` (optim.schedule) first lowers the rate, at
    most `epochs`: where a deferred remedy starts (conf/remedy/drw.yaml)."""
    every, milestones = schedule.get("every"), schedule.get("milestones")
    first_step = every if every else min(milestones, default=epochs) if milestones else epochs
    return min(first_step, epochs)
