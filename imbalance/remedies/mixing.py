"""Training batches mixed with themselves, and the loss of a mixed batch.

Each batch is mixed with a permutation of itself: images lam * x + (1 - lam) * x[order], lam drawn
from Beta(alpha, alpha) once per batch. Both draws come from (seed, step), not from the global
RNG: a run resumed from a checkpoint mixes as the uninterrupted run did.
"""

from collections.abc import Mapping

import numpy as np
import torch

from imbalance.errors import ConfigError
from imbalance.remedies.counts import count_tensor
from imbalance.remedies.parts import Mix


class MixUp(Mix):
    """Mixup (Zhang et al. 2018): the loss of a mixed batch is lam * loss(logits, y) +
    (1 - lam) * loss(logits, y[order]), the loss a remedy trains with (weighted by class under
    DRW, as imbalanced-DL's mixup_drw). alpha=0 draws lam = 1 every time: a plain run."""

    def __init__(self, class_counts: Mapping[str, int], seed: int, alpha: float = 1.0):
        super().__init__()
        if not alpha >= 0:
            raise ConfigError(f"alpha={alpha} must be at least 0 (0: no mixing)")
        self.alpha, self.seed = alpha, seed

    def forward(
        self, images: torch.Tensor, labels: torch.Tensor, step: int
    ) -> tuple[torch.Tensor, torch.Tensor, float | torch.Tensor]:
        """The mixed images, the labels of the images mixed in, and the share of the first
        labels in the loss: lam, or one per image (`Remix`). `step` counts from 1."""
        rng = np.random.default_rng([self.seed, step])
        lam = float(rng.beta(self.alpha, self.alpha)) if self.alpha > 0 else 1.0
        order = torch.from_numpy(rng.permutation(len(labels))).to(labels.device)
        mixed = lam * images + (1 - lam) * images[order]
        return mixed, labels[order], self.shares(lam, labels, labels[order])

    def shares(self, lam: float, labels: torch.Tensor, others: torch.Tensor):
        return lam


class Remix(MixUp):
    """Remix (Chou et al. 2020): images mixed as mixup mixes them, and the label of a pair given
    wholly to its minority image where the count ratio is at least kappa and the majority image
    contributes less than tau: label share 0 for y when n_y / n_y' >= kappa and lam < tau, 1
    when n_y' / n_y >= kappa and 1 - lam < tau, lam otherwise. The loss is the mean over the
    batch of each image's shares of its per-image losses (the authors' code)."""

    def __init__(
        self,
        class_counts: Mapping[str, int],
        seed: int,
        alpha: float = 1.0,
        kappa: float = 3.0,
        tau: float = 0.5,
    ):
        super().__init__(class_counts, seed, alpha)
        if not kappa >= 1:
            raise ConfigError(f"kappa={kappa} must be at least 1 (a ratio of class counts)")
        if not 0 <= tau <= 1:
            raise ConfigError(f"tau={tau} is outside [0, 1]")
        self.kappa, self.tau = kappa, tau
        self.register_buffer("counts", count_tensor(class_counts, "remix").float())

    def shares(self, lam: float, labels: torch.Tensor, others: torch.Tensor) -> torch.Tensor:
        ratio = self.counts[labels] / self.counts[others]
        share = torch.full(labels.shape, lam, device=labels.device)
        if lam < self.tau:
            # masked_fill, not share[mask] = ...: a boolean index waits for the GPU
            share.masked_fill_(ratio >= self.kappa, 0.0)
        if 1 - lam < self.tau:
            share.masked_fill_(ratio * self.kappa <= 1, 1.0)
        return share
