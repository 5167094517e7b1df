"""A remedy as one object: built from `cfg.remedy` (conf/remedy/*.yaml) and the training split,
it owns every part the remedy is made of and answers the run through a few hooks.

    last_layer(in, classes)  the network's last layer (the head: linear, cosine)
    sampler(epoch)           the training images an epoch draws
    start_epoch(e)           the loss's schedule (DRW)
    callbacks()              what acts on the Trainer: a second stage's freezing
    training_loss(...)       the logits and loss of a training batch, mixed where it mixes
    after_step(net)          a constraint on the weights after every optimizer step
    attach(net)              a change of the trained classifier (tau-normalisation, LWS)
    fit_correction(...)      the correction at evaluation, fitted on the validation split
    correct(logits)          that correction
    epoch_values()           what it changed this epoch, for the history (stage, tau)
    ends_a_stage(epoch)      where a checkpoint is due before a second stage
    trainer_settings(...)    the Trainer's epochs and loader reloads (from the config alone,
    check_devices(...)       before the data is read), and the device counts it can train on

The module and the Trainer call only these; a new remedy adds a part here and a YAML.
"""

from collections.abc import Mapping

import torch
from hydra.errors import InstantiationException
from hydra.utils import instantiate
from lightning.pytorch import Callback
from omegaconf import DictConfig, OmegaConf
from torch import nn
from torch.utils.data import Sampler

from imbalance.errors import ConfigError
from imbalance.remedies.classifiers import LearnedScales
from imbalance.remedies.heads import last_layer
from imbalance.remedies.parts import (
    ClassifierChange,
    Constraint,
    Correction,
    EpochSampler,
    Loss,
    Mix,
)
from imbalance.remedies.samplers import Shuffle
from imbalance.remedies.stages import SecondStage

# The arguments `Remedy` gives its parts (the config's keys: imbalance/schema.py).
GIVEN = {
    "remedy.loss": {"class_counts", "label_smoothing"},
    "remedy.stage2.loss": {"class_counts", "label_smoothing"},
    "remedy.sampler": {"labels", "class_counts", "seed"},
    "remedy.stage2.sampler": {"labels", "class_counts", "seed"},
    "remedy.mix": {"class_counts", "seed"},
    "remedy.classifier": {"num_classes"},
    "remedy.correction": {"class_counts"},
}
# What each part must be (imbalance.remedies.parts), by its key.
CONTRACTS = {
    "loss": Loss,
    "sampler": EpochSampler,
    "mix": Mix,
    "constraint": Constraint,
    "classifier": ClassifierChange,
    "correction": Correction,
}
# Settings that name an epoch of the first stage.
EPOCH_KEYS = ("loss.drw_epoch", "sampler.drw_epoch")
TRAINS = ("last_layer", "scales")


class Remedy(nn.Module):
    """What `parts` (cfg.remedy) do to a run whose training split has `labels` and
    `class_counts`, for `max_epochs` first-stage epochs. `weight_decay` and `label_smoothing`
    are the regularizer's; the remedy's own weight decay (remedy.weight_decay) overrules it.

    A submodule of the LightningModule: its parts' buffers and parameters (class weights,
    margins, LWS's scales) follow the network to its device and into checkpoints.

    Raises ConfigError for settings that do not fit the run: a first-stage epoch beyond
    max_epochs, an empty second stage, a correction fitted on a validation split the run lacks.
    """

    def __init__(
        self,
        parts: DictConfig,
        labels: torch.Tensor,
        class_counts: Mapping[str, int],
        seed: int,
        max_epochs: int,
        weight_decay: float,
        label_smoothing: float,
        has_val: bool,
    ):
        super().__init__()
        for key in EPOCH_KEYS:
            epoch = OmegaConf.select(parts, key, default=1)
            if epoch > max_epochs:
                raise ConfigError(
                    f"remedy.{key}={epoch} is beyond trainer.max_epochs={max_epochs}: no epoch "
                    f"would be re-weighted or re-sampled; lower it or raise trainer.max_epochs"
                )

        def part(key: str, config: DictConfig, **given):
            """The part at remedy.`key`, its bad input named by that key."""
            try:
                built = instantiate(config, **given)
            except InstantiationException as error:
                if isinstance(error.__cause__, ConfigError):
                    raise ConfigError(f"remedy.{key}: {error.__cause__}") from None
                raise
            contract = CONTRACTS[key.rpartition(".")[2]]
            if not isinstance(built, contract):
                kind = f"imbalance.remedies.parts.{contract.__name__}"
                raise ConfigError(
                    f"remedy.{key}: {config.get('_target_')} is no {kind}: subclass it, and "
                    "give what its documentation asks of a part of its kind"
                )
            return built

        def sampler(key: str, config: DictConfig | None):
            if config is None:
                return Shuffle(labels, class_counts, seed)
            return part(key, config, labels=labels, class_counts=class_counts, seed=seed)

        def loss(key: str, config: DictConfig):
            return part(key, config, class_counts=class_counts, label_smoothing=label_smoothing)

        self.last_layer = last_layer(parts.head)
        self.samplers = {1: sampler("sampler", parts.sampler)}
        self.loss = loss("loss", parts.loss)
        self.mix = None
        if parts.mix is not None:
            self.mix = part("mix", parts.mix, class_counts=class_counts, seed=seed)
        self.constraint = None
        if parts.constraint is not None:
            self.constraint = part("constraint", parts.constraint)
        self.classifier = None
        if parts.classifier is not None:
            self.classifier = part("classifier", parts.classifier, num_classes=len(class_counts))
        self.correction = None
        if parts.correction is not None:
            self.correction = part("correction", parts.correction, class_counts=class_counts)
            if self.correction.auto and not has_val:
                raise ConfigError(
                    "remedy.correction.tau=auto chooses tau on the validation split, and this "
                    "run has none: set data.val_fraction, e.g. data.val_fraction=0.2"
                )
        self.weight_decay = weight_decay if parts.weight_decay is None else parts.weight_decay
        self.stage, self.stage_loss, self.trains = None, None, "last_layer"
        second = parts.stage2
        if second is not None:
            self.stage = SecondStage(
                second.epochs, second.lr, second.reinit, max_epochs, second.get("weight_decay")
            )
            self.samplers[self.stage.first_epoch] = sampler("stage2.sampler", second.sampler)
            if second.get("loss") is not None:
                self.stage_loss = loss("stage2.loss", second.loss)
            self.trains = second.get("trains", "last_layer")
            if self.trains not in TRAINS:
                raise ConfigError(
                    f"remedy.stage2.trains={self.trains} is not one of {', '.join(TRAINS)}"
                )
            if self.trains == "scales" and second.reinit:
                raise ConfigError(
                    "remedy.stage2.reinit=true would draw the last layer afresh, and "
                    "remedy.stage2.trains=scales keeps it frozen: set remedy.stage2.reinit=false"
                )
        learns_scales = isinstance(self.classifier, LearnedScales)
        if learns_scales != (self.trains == "scales"):
            raise ConfigError(
                "LWS's scales (remedy.classifier: imbalance.remedies.classifiers.LearnedScales) "
                "are learned by a second stage with remedy.stage2.trains=scales, and this remedy "
                f"has {'no such stage' if learns_scales else 'no scales'}: give both, or neither"
            )
        if learns_scales:
            self.stage.scales = self.classifier
        self.epoch = 1

    @staticmethod
    def trainer_settings(remedy: DictConfig, max_epochs: int) -> dict:
        """The Trainer's arguments that the remedy sets: every epoch it trains, a second stage's
        after trainer.max_epochs, and loaders made anew each epoch where its sampler changes."""
        stage2 = remedy.stage2
        return {
            "max_epochs": max_epochs + (stage2.epochs if stage2 else 0),
            "reload_dataloaders_every_n_epochs": 1 if stage2 else 0,
        }

    @staticmethod
    def check_devices(remedy: DictConfig, world_size: int) -> None:
        """Raises ConfigError for a remedy that cannot train on `world_size` devices."""
        if world_size > 1 and remedy.stage2 is not None:
            raise ConfigError(
                "a remedy with a second stage (remedy.stage2) runs on one device: distributed "
                "training of a partly frozen network is not supported yet; use trainer.devices=1"
            )

    def sampler(self, epoch: int) -> Sampler:
        """The sampler of `epoch` (counted from 1): its stage's."""
        return self.samplers[max(first for first in self.samplers if first <= epoch)]

    def ends_a_stage(self, epoch: int) -> bool:
        """Whether `epoch` (counted from 1) is the last of a stage that another follows."""
        return self.stage is not None and epoch == self.stage.first_epoch - 1

    @property
    def in_stage2(self) -> bool:
        return self.stage is not None and self.epoch >= self.stage.first_epoch

    def attach(self, net: nn.Module) -> None:
        """Hooks the remedy's change of the classifier onto `net`'s last layer."""
        if self.classifier is not None:
            self.classifier.attach(net.classifier[-1])

    def callbacks(self) -> list[Callback]:
        """The parts that act on the Trainer, as Lightning callbacks: a second stage."""
        return [] if self.stage is None else [self.stage]

    def start_epoch(self, epoch: int) -> None:
        """At the start of every epoch (counted from 1)."""
        self.epoch = epoch
        for loss in (self.loss, self.stage_loss):
            if loss is not None:
                loss.set_epoch(epoch)

    def training_loss(
        self, net: nn.Module, images: torch.Tensor, labels: torch.Tensor, step: int
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """The logits and the loss of a training batch at optimizer step `step` (from 1)."""
        loss = self.stage_loss if self.in_stage2 and self.stage_loss is not None else self.loss
        if self.mix is None:
            logits = net(images)
            return logits, loss(logits, labels)
        images, others, share = self.mix(images, labels, step)
        logits = net(images)
        return logits, self.mix.loss(loss, logits, labels, others, share)

    def after_step(self, net: nn.Module) -> None:
        """After every optimizer step."""
        if self.constraint is not None:
            self.constraint(net)

    @property
    def fits_correction(self) -> bool:
        """Whether evaluation waits for the validation split to fit the correction on (a
        correction of a fixed tau keeps it: fitting leaves it as it is)."""
        return self.correction is not None

    def fit_correction(self, logits: torch.Tensor, labels: torch.Tensor) -> None:
        """Fits the correction on the whole validation split's logits and labels."""
        self.correction.fit(logits, labels)

    def correct(self, logits: torch.Tensor) -> torch.Tensor:
        """The logits as evaluated: corrected where the remedy corrects them."""
        return logits if self.correction is None else self.correction(logits)

    def epoch_values(self) -> dict[str, float]:
        """What the remedy changes between epochs, for the history (`remedy/` in TensorBoard)."""
        values = {}
        if self.stage is not None:
            values["stage"] = 1 + self.in_stage2
        if self.correction is not None:
            values |= self.correction.values()
        return values
