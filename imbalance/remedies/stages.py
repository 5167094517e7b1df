"""A second stage after the first, in the same run: one history, one TensorBoard run."""

import lightning as L
from torch import nn

from imbalance.errors import ConfigError


class SecondStage(L.Callback):
    """`epochs` more epochs after the first stage's `first_stage_epochs` (trainer.max_epochs)
    that train only the network's last layer, or LWS's `scales` where given, at a constant
    learning rate `lr` and, unless None, weight decay `weight_decay` (on the optimizer's
    parameter group named "weights", as StudyModule names it); everything else is frozen and the
    network in evaluation mode (batch-norm statistics fixed, no dropout). With `reinit` the last
    layer starts again from the network's initialisation: classifier re-training, cRT (Kang et
    al. 2020); without, it is fine-tuned: Buda et al. 2018's two-phase training. The stage's
    sampler and loss are the remedy's.

    A Lightning callback, which the module hands the Trainer (`configure_callbacks`).

    Raises ConfigError for a stage of no epochs.
    """

    def __init__(
        self,
        epochs: int,
        lr: float,
        reinit: bool,
        first_stage_epochs: int,
        weight_decay: float | None = None,
        scales: nn.Module | None = None,
    ):
        if epochs < 1:
            raise ConfigError(f"remedy.stage2.epochs={epochs} must be at least 1")
        self.epochs, self.lr, self.reinit = epochs, lr, reinit
        self.first_stage_epochs, self.weight_decay, self.scales = (
            first_stage_epochs,
            weight_decay,
            scales,
        )

    @property
    def first_epoch(self) -> int:
        """The stage's first epoch, counted from 1."""
        return self.first_stage_epochs + 1

    def on_train_epoch_start(self, trainer: L.Trainer, module: L.LightningModule) -> None:
        """Freezes at every epoch of the stage, not only its first: a run resumed from a
        checkpoint midway through the stage freezes again."""
        epoch = trainer.current_epoch + 1
        if epoch < self.first_epoch:
            return
        last = module.net.classifier[-1]
        trained = list((self.scales or last).parameters())
        optimizer = trainer.optimizers[0]
        for parameter in module.parameters():
            parameter.requires_grad_(False)
        for parameter in trained:
            parameter.requires_grad_(True)
        if epoch == self.first_epoch:
            for parameter in trained:
                optimizer.state.pop(parameter, None)  # no momentum from the first stage
            if self.reinit:
                module.net.reset_last_layer()
        module.net.eval()
        last.train()
        for group in optimizer.param_groups:
            group["lr"] = self.lr
            if self.weight_decay is not None and group.get("name") == "weights":
                group["weight_decay"] = self.weight_decay
