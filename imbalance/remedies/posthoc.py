"""Corrections of a trained network's logits at evaluation time: every evaluation (each epoch's
validation and test passes, and the final test) sees the corrected logits."""

from collections.abc import Mapping

import torch

from imbalance.errors import ConfigError
from imbalance.metrics import ClassRates
from imbalance.remedies.counts import priors
from imbalance.remedies.parts import Correction

# tau=auto tries these: 0 (no correction) to 2 in steps of 0.1.
TAUS = [round(0.1 * i, 1) for i in range(21)]


class LogitAdjustment(Correction):
    """logits - tau * log(prior), the priors from the training split (Menon et al. 2021, eq. 8).
    tau=1 is Buda et al. 2018's thresholding, the softmax outputs divided by the class priors.

    tau: a number, or "auto": chosen among TAUS on the validation split by balanced accuracy
        (ties to the smallest tau), anew at every evaluation, never on the test split.
    """

    def __init__(self, class_counts: Mapping[str, int], tau: float | str = 1.0):
        super().__init__()
        self.auto = tau == "auto"
        if not self.auto and (isinstance(tau, str | bool) or not isinstance(tau, int | float)):
            raise ConfigError(f"tau={tau} is neither a number nor auto")
        self.register_buffer("tau", torch.tensor(1.0 if self.auto else float(tau)))
        self.register_buffer("log_prior", priors(class_counts, "thresholding").log())

    def forward(self, logits: torch.Tensor) -> torch.Tensor:
        return logits - self.tau * self.log_prior

    def fit(self, logits: torch.Tensor, labels: torch.Tensor) -> float:
        """Sets tau (with auto) to the value of TAUS with the best balanced accuracy of these
        validation logits [n, C] and labels [n]; returns it."""
        if self.auto:
            # The study's balanced accuracy: the mean recall of the classes in the split.
            # The logits are every process's already: no gathering.
            classes = [str(c) for c in range(logits.shape[1])]
            rates = ClassRates(classes, {}, sync_on_compute=False).to(logits.device)
            scores = []
            for tau in TAUS:
                rates.reset()
                rates.update((logits - tau * self.log_prior).argmax(dim=1), labels)
                scores.append(rates.compute()["balanced_acc"])
            self.tau.fill_(TAUS[int(torch.stack(scores).argmax())])
        return self.tau.item()

    def values(self) -> dict[str, float]:
        return {"tau": self.tau.item()}
