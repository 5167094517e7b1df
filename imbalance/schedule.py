"""The learning rate's schedule, epoch by epoch: a linear warm-up, then a step every few epochs
or fixed factors from given epochs on (the long-tail recipe of Cao et al. 2019)."""

from collections.abc import Mapping

import torch
from torch.optim.lr_scheduler import LRScheduler

from imbalance.errors import ConfigError


class EpochSchedule(LRScheduler):
    """The rate of epoch e (counted from 1), stepped once an epoch:

    - e <= warmup_epochs: rate * e / warmup_epochs (linear warm-up);
    - `milestones` ({epoch: factor}): rate * the factor of the last milestone m with e > m
      (Cao et al.: {160: 0.01, 180: 0.0001}, the rate falls after epochs 160 and 180);
    - else, with `every`: the rate multiplied by `gamma` after every `every` epochs, one
      multiplication at a time as torch's StepLR does, so that the presets' rates (and their
      runs) stay the same to the last bit.

    Raises ConfigError for a negative warm-up, a step of no epochs, or milestones together
    with a step.
    """

    def __init__(
        self,
        optimizer: torch.optim.Optimizer,
        warmup_epochs: int = 0,
        every: int | None = None,
        gamma: float = 0.1,
        milestones: Mapping[int, float] | None = None,
    ):
        if warmup_epochs < 0:
            raise ConfigError(f"optim.schedule.warmup_epochs={warmup_epochs} must be at least 0")
        if every is not None and every < 1:
            raise ConfigError(f"optim.schedule.every={every} must be at least 1, or null")
        if every is not None and milestones:
            raise ConfigError(
                "optim.schedule sets both every and milestones: a step every few epochs, or "
                "fixed factors from given epochs on; set the other to null"
            )
        self.warmup_epochs, self.every, self.gamma = warmup_epochs, every, gamma
        self.milestones = sorted((int(epoch), float(f)) for epoch, f in (milestones or {}).items())
        super().__init__(optimizer)

    def factor(self, epoch: int) -> float:
        """The rate of `epoch` (from 1) over the initial rate, without the step's rounding."""
        if epoch <= self.warmup_epochs:
            return epoch / self.warmup_epochs
        passed = [f for m, f in self.milestones if epoch > m]
        return passed[-1] if passed else 1.0

    def get_lr(self) -> list[float]:
        epoch = self.last_epoch + 1  # last_epoch counts the steps taken, from 0
        rates = []
        for base in self.base_lrs:
            rate = base * self.factor(epoch)
            if self.every is not None:
                for _ in range((epoch - 1) // self.every):
                    rate *= self.gamma
            rates.append(rate)
        return rates
