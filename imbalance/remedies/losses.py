"""Training losses for imbalanced data: logits [n, C] and labels [n] in, a scalar out.

Each takes the training split's class counts (class name -> images, in label order) and keeps
what it derives from them as buffers, so it follows the model to its device and into
checkpoints. Per-class weights, and the epoch from which they apply (deferred re-weighting,
DRW), are one part, `ClassWeights`, that every loss holds.
"""

from collections.abc import Mapping

import torch
import torch.nn.functional as F
from torch import nn

from imbalance.errors import ConfigError
from imbalance.remedies.counts import count_tensor, priors
from imbalance.remedies.parts import Loss

WEIGHTINGS = ("none", "inverse", "effective_number")


class ClassWeights(nn.Module):
    """Per-class loss weights, normalised to mean 1, and the epoch they start at.

    weighting: `none`; `inverse`, w_c proportional to 1 / n_c; `effective_number`, w_c
        proportional to (1 - beta) / (1 - beta^n_c) (Cui et al. 2019, eq. 4), the inverse of the
        "effective number" of a class's images.
    drw_epoch: the first weighted epoch, counted from 1; a later one is deferred re-weighting
        (DRW, Cao et al. 2019): plain training first, re-weighting after.

    Raises ConfigError for an unknown weighting or a class without training images.
    """

    def __init__(
        self,
        class_counts: Mapping[str, int],
        weighting: str = "none",
        beta: float = 0.9999,
        drw_epoch: int = 1,
    ):
        super().__init__()
        if weighting not in WEIGHTINGS:
            raise ConfigError(f"weighting={weighting} is not one of {', '.join(WEIGHTINGS)}")
        if not 0 <= beta < 1:
            raise ConfigError(f"beta={beta} is outside [0, 1)")
        if drw_epoch < 1:
            raise ConfigError(f"drw_epoch={drw_epoch} must be at least 1 (the first epoch)")
        self.weighting = weighting
        self.from_epoch = drw_epoch
        weights = torch.ones(len(class_counts))
        if weighting != "none":
            counts = count_tensor(class_counts, f"weighting={weighting}")
            raw = 1 / counts if weighting == "inverse" else (1 - beta) / (1 - beta**counts)
            weights = (raw * len(raw) / raw.sum()).float()
        self.register_buffer("weights", weights)
        self.active = weighting != "none" and self.from_epoch == 1

    def set_epoch(self, epoch: int) -> None:
        """Called at the start of every epoch (counted from 1): the one place DRW switches."""
        self.active = self.weighting != "none" and epoch >= self.from_epoch

    def forward(self) -> torch.Tensor | None:
        """The weights [C] this epoch, or None while unweighted."""
        return self.weights if self.active else None


class CrossEntropy(Loss):
    """Cross-entropy, optionally weighted per class (re-weighting by inverse frequency; Cui et
    al. 2019's class-balanced loss; DRW). Weighted, it is the mean weighted by w_y over the
    batch, as `F.cross_entropy` computes it and LDAM-DRW's code uses it."""

    def __init__(
        self,
        class_counts: Mapping[str, int],
        weighting: str = "none",
        beta: float = 0.9999,
        drw_epoch: int = 1,
        label_smoothing: float = 0.0,
    ):
        super().__init__()
        self.weights = ClassWeights(class_counts, weighting, beta, drw_epoch)
        self.label_smoothing = label_smoothing

    def set_epoch(self, epoch: int) -> None:
        """Called at the start of every epoch (counted from 1)."""
        self.weights.set_epoch(epoch)

    def forward(self, logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        return F.cross_entropy(
            logits, labels, weight=self.weights(), label_smoothing=self.label_smoothing
        )

    def per_sample(self, logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        """Each image's loss [n], times w_y when weighted (remix averages them)."""
        return F.cross_entropy(
            logits,
            labels,
            weight=self.weights(),
            label_smoothing=self.label_smoothing,
            reduction="none",
        )


class FocalLoss(CrossEntropy):
    """Focal loss (Lin et al. 2017, eq. 5): -(1 - p_y)^gamma log p_y, averaged over the batch;
    with a weighting, the mean weighted by w_y (divided by the sum of w_y, as F.cross_entropy
    does, so that gamma=0 is exactly `CrossEntropy` with the same weighting; Cui et al.'s code
    divides by the batch size instead). No label smoothing: the modulating factor is defined
    for one-hot targets."""

    def __init__(
        self,
        class_counts: Mapping[str, int],
        gamma: float = 2.0,
        weighting: str = "none",
        beta: float = 0.9999,
        drw_epoch: int = 1,
        label_smoothing: float = 0.0,
    ):
        if label_smoothing:
            raise ConfigError(
                "the focal loss takes no label smoothing; use a reg with label_smoothing: 0"
            )
        if gamma < 0:
            raise ConfigError(f"gamma={gamma} must be at least 0")
        super().__init__(class_counts, weighting, beta, drw_epoch)
        self.gamma = gamma

    def forward(self, logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        losses, weights = self.per_sample(logits, labels), self.weights()
        if weights is None:
            return losses.mean()
        return losses.sum() / weights[labels].sum()

    def per_sample(self, logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        log_p = F.log_softmax(logits, dim=1).gather(1, labels[:, None]).squeeze(1)
        # 1 - p_y, kept from 0: the slope of x^gamma is infinite at 0 for gamma < 1, and its
        # product with the slope of 1 - p_y there (0) would be NaN.
        one_minus_p = (-torch.expm1(log_p)).clamp_min(torch.finfo(log_p.dtype).tiny)
        losses = -(one_minus_p**self.gamma) * log_p
        weights = self.weights()
        return losses if weights is None else weights[labels] * losses


class LDAMLoss(CrossEntropy):
    """Label-distribution-aware margin loss (Cao et al. 2019, eq. 10): cross-entropy on the
    logits with the true class's logit lowered by scale * m_y, where m_c = C / n_c^(1/4) and C
    makes the largest margin `max_margin`. With a cosine head of scale s (`head: cosine` in the
    remedy, as its authors ran it), `scale` is that s: the loss is then s * (cos - m_y).
    Usually with DRW (`ldam_drw`)."""

    def __init__(
        self,
        class_counts: Mapping[str, int],
        max_margin: float = 0.5,
        scale: float = 1.0,
        weighting: str = "none",
        beta: float = 0.9999,
        drw_epoch: int = 1,
        label_smoothing: float = 0.0,
    ):
        super().__init__(class_counts, weighting, beta, drw_epoch, label_smoothing)
        counts = count_tensor(class_counts, "the LDAM loss")
        margins = counts ** (-0.25)
        self.register_buffer("margins", (margins * max_margin / margins.max()).float())
        self.scale = scale

    def forward(self, logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        return super().forward(self._shifted(logits, labels), labels)

    def per_sample(self, logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        return super().per_sample(self._shifted(logits, labels), labels)

    def _shifted(self, logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        return logits - self.scale * F.one_hot(labels, logits.shape[1]) * self.margins


class LogitAdjustedLoss(Loss):
    """Logit-adjusted cross-entropy (Menon et al. 2021, eq. 10): cross-entropy on
    logits + tau * log(prior), the priors from the training split. tau=1 is the balanced
    softmax (Ren et al. 2020); uniform priors make it plain cross-entropy."""

    def __init__(
        self,
        class_counts: Mapping[str, int],
        tau: float = 1.0,
        label_smoothing: float = 0.0,
    ):
        super().__init__()
        self.tau = tau
        self.register_buffer("log_prior", priors(class_counts, "the logit-adjusted loss").log())
        self.label_smoothing = label_smoothing

    def forward(self, logits: torch.Tensor, labels: torch.Tensor, reduction: str = "mean"):
        return F.cross_entropy(
            logits + self.tau * self.log_prior,
            labels,
            label_smoothing=self.label_smoothing,
            reduction=reduction,
        )

    def per_sample(self, logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        return self(logits, labels, reduction="none")
