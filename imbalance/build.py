"""Where the config groups meet: a run's data, network, remedy and Trainer built from its
config, for `imbalance.train` and every command that builds a run (splits, bench)."""

import copy
from collections.abc import Sequence

import lightning as L
from hydra.errors import InstantiationException
from hydra.types import RunMode
from hydra.utils import instantiate
from lightning.fabric.utilities.exceptions import MisconfigurationException
from lightning.pytorch.strategies.launchers import _SubprocessScriptLauncher
from omegaconf import DictConfig, OmegaConf

from imbalance.checks import check_config
from imbalance.data.datamodule import ImbalancedDataModule
from imbalance.errors import ConfigError
from imbalance.metrics import scalar_names
from imbalance.module import StudyModule
from imbalance.precision import weights_in
from imbalance.remedies.remedy import Remedy


def datamodule(cfg: DictConfig) -> ImbalancedDataModule:
    """The run's data as the config describes it, not set up yet."""
    minority = cfg.data.get("minority") if cfg.profile == "step" else None
    return instantiate(cfg.data, ratio=cfg.ratio, mu=cfg.mu, profile=cfg.profile, minority=minority)


def build(
    cfg: DictConfig, overrides: Sequence[str] | None = (), processes: int = 1
) -> tuple[ImbalancedDataModule, StudyModule]:
    """The run's data, ready, and its LightningModule, as the config describes them, checked
    first with `overrides`, the command line's (`check_config`); None: checked already. The
    run's rates are the config's at the batch of all `processes` together (`at_batch`)."""
    if overrides is not None:
        check_config(cfg, overrides)
    L.seed_everything(cfg.seed, workers=True)
    data = datamodule(cfg)
    data.processes = processes
    data.setup("fit")  # sets data.batch_size where it is auto
    cfg = at_batch(cfg, data.batch_size * processes)
    metrics = scalar_names(list(data.groups))
    if cfg.optimized_metric not in metrics:
        raise ConfigError(
            f"optimized_metric={cfg.optimized_metric} is not a metric of profile={cfg.profile}: "
            f"choose one of {', '.join(metrics)}"
        )
    remedy = Remedy(
        cfg.remedy,
        data.train_set.labels,
        data.counts("train"),
        cfg.seed,
        cfg.trainer.max_epochs,
        weight_decay=cfg.reg.weight_decay,
        label_smoothing=cfg.reg.label_smoothing,
        has_val="val" in data.eval_splits,
    )
    with weights_in(cfg.trainer.precision):
        net = instantiate(
            cfg.model,
            in_channels=data.channels,
            input_size=data.image_size,
            num_classes=data.num_classes,
            batch_norm=cfg.reg.batch_norm,
            dropout=cfg.reg.dropout,
            head=remedy.last_layer,
        )
    net.input.set_mean(data.train_mean_image())
    data.sampler_of = remedy.sampler
    module = StudyModule(
        net,
        data.class_names,
        data.groups,
        lr=cfg.optim.lr,
        momentum=cfg.optim.momentum,
        schedule=instantiate(cfg.optim.schedule),
        remedy=remedy,
        augment=instantiate(cfg.reg.augment),
        eval_splits=data.eval_splits,
    )
    return data, module


# The rates a config gives, each a rate at optim.base_batch.
RATES = ("optim.lr", "remedy.stage2.lr")


def at_batch(cfg: DictConfig, batch: int) -> DictConfig:
    """`cfg` with its RATES at `batch` images a step (all processes together), the config's
    being rates at `optim.base_batch` (null: at any batch): in proportion to the batch, the
    linear scaling rule of Goyal et al. 2017, which keeps an epoch's update about the same. A
    rate that follows another (`${optim.lr}`, `${times:0.1,${optim.lr}}`) follows it; `cfg`
    itself is left as given."""
    base = cfg.optim.base_batch
    if base is None or batch == base:
        return cfg
    scaled = copy.deepcopy(cfg)
    for key in RATES:
        parent, name = key.rsplit(".", 1)
        node = OmegaConf.select(scaled, parent)
        if (
            node is not None
            and node.get(name) is not None
            and not OmegaConf.is_interpolation(node, name)
        ):
            node[name] = node[name] * batch / base
    return scaled


def trained_at(data: ImbalancedDataModule, module: StudyModule) -> dict:
    """The batch and rates a run (`build`'s) trains at (results.json's `effective`), where its
    config may give rules for them: data.batch_size=auto, rates at optim.base_batch."""
    return {
        "data.batch_size": data.batch_size,
        "processes": data.processes,
        "optim.lr": module.lr,
        **({"remedy.stage2.lr": module.remedy.stage.lr} if module.remedy.stage else {}),
    }


def batch_rule(cfg: DictConfig, effective: dict) -> str:
    """The run's batch and rate (`effective`), and the rules that made them, for the log."""
    rules = ["data.batch_size=auto"] if cfg.data.batch_size == "auto" else []
    if effective["optim.lr"] != cfg.optim.lr:
        rules.append(f"optim.lr={cfg.optim.lr:g} at optim.base_batch={cfg.optim.base_batch}")
    processes = effective["processes"]
    return (
        f"batch {effective['data.batch_size']}"
        + (f" in each of {processes} processes" if processes > 1 else "")
        + f", rate {effective['optim.lr']:g}"
        + (f" ({'; '.join(rules)})" if rules else "")
    )


# The Trainer settings that depend on the machine, named when Lightning refuses them.
TRAINER_HARDWARE = ("accelerator", "devices", "strategy", "precision")


def make_trainer(
    cfg: DictConfig, callbacks: Sequence = (), plugins: Sequence = (), **kwargs
) -> L.Trainer:
    """The run's Trainer from `cfg.trainer` (and `kwargs`, e.g. the logger), with `callbacks`
    and `plugins` after the user's own (+trainer.callbacks=[...], +trainer.plugins=[...]), and
    the settings the remedy sets (a second stage's epochs).

    Raises ConfigError (one line) for settings Lightning cannot use: an accelerator the machine
    lacks, an unknown strategy or precision, a device count out of range."""
    given = {key: instantiate(cfg.trainer.get(key)) or [] for key in ("callbacks", "plugins")}
    try:
        return instantiate(
            cfg.trainer,
            **Remedy.trainer_settings(cfg.remedy, cfg.trainer.max_epochs),
            callbacks=[*given["callbacks"], *callbacks],
            plugins=[*given["plugins"], *plugins],
            **kwargs,
        )
    except InstantiationException as error:
        refused = ValueError | TypeError | ImportError | MisconfigurationException
        if isinstance(error.__cause__, refused):
            reason = " ".join(str(error.__cause__).split())
            settings = ", ".join(
                f"trainer.{key}={cfg.trainer.get(key)}" for key in TRAINER_HARDWARE
            )
            raise ConfigError(
                f"Lightning's Trainer refuses {settings}: {reason}; change the one at fault "
                "(trainer.accelerator=auto trains on what the machine has)"
            ) from error
        raise


def check_launch(trainer: L.Trainer, mode: RunMode, remedy: DictConfig) -> None:
    """A run on several devices works as `trainer.strategy=ddp` starts it: every device's
    process runs this command line, so every process holds the run's history and results; and
    with a remedy that can train on several devices (`Remedy.check_devices`)."""
    if trainer.world_size == 1:
        return
    Remedy.check_devices(remedy, trainer.world_size)
    # No public API tells how a strategy starts its processes; its launcher does.
    if not isinstance(trainer.strategy.launcher, _SubprocessScriptLauncher):
        raise ConfigError(
            "a run on several devices needs trainer.strategy=ddp: strategies that spawn or fork "
            "their processes (ddp_spawn, ddp_fork) train in children whose history and test "
            "results this run cannot collect"
        )
    # In a local sweep, running the command line again would run the whole sweep again.
    if (
        mode == RunMode.MULTIRUN
        and not trainer.strategy.cluster_environment.creates_processes_externally
    ):
        raise ConfigError(
            f"a run on {trainer.world_size} devices cannot be a job of a local sweep (-m): run "
            "it on its own, without -m, or sweep through hydra/launcher=slurm with "
            "hydra.launcher.tasks_per_node equal to trainer.devices"
        )
