"""The configs compose to what they claim, and each regularizer switches exactly what it names."""

import pytest
import torch
from hydra.utils import instantiate
from torch import nn

from helpers import REPO
from imbalance.build import build
from imbalance.checks import check_config
from imbalance.data.augment import RandomAffine
from imbalance.errors import ConfigError

FAST = ["data.per_class=8", "data.image_size=16"]


def switches(module) -> dict:
    """What a regularizer may change in a built run."""
    optimizer = module.configure_optimizers()["optimizer"]
    decay, no_decay = optimizer.param_groups
    dropouts = [m for m in module.net.modules() if isinstance(m, nn.Dropout)]
    augment = module.augment
    return {
        "weight_decay": decay["weight_decay"],
        "bias_decay": no_decay["weight_decay"],
        "batch_norms": sum(isinstance(m, nn.BatchNorm2d) for m in module.net.modules()),
        "dropout": dropouts[0].p if dropouts else 0.0,
        "augment": augment and (type(augment), augment.rotation, augment.hflip, augment.translate),
        "label_smoothing": module.remedy.loss.label_smoothing,
    }


NONE = {
    "weight_decay": 0.0,
    "bias_decay": 0.0,
    "batch_norms": 0,
    "dropout": 0.0,
    "augment": None,
    "label_smoothing": 0.0,
}
FULL = {
    **NONE,
    "weight_decay": 0.0005,
    "dropout": 0.5,
    "augment": (RandomAffine, 20, 0.5, 3),
}
NORM = {**FULL, "batch_norms": 4}


@pytest.mark.parametrize("reg, expected", [("none", NONE), ("full", FULL), ("norm", NORM)])
def test_each_regularizer_switches_exactly_what_it_names(reg, expected, config):
    _, module = build(config(f"reg={reg}", *FAST))
    assert switches(module) == expected
    # Dropout, when on, sits right before the last layer.
    if expected["dropout"]:
        assert isinstance(module.net.classifier[-2], nn.Dropout)


def test_regularizers_leave_everything_else_alone(config):
    configs = [config(f"reg={reg}") for reg in ("none", "full", "norm")]
    for cfg in configs[1:]:
        for key in ("data", "model", "optim", "trainer", "ratio", "mu", "seed"):
            assert cfg[key] == configs[0][key]


def test_weight_decay_skips_biases_and_batch_norm(config):
    _, module = build(config("reg=norm", *FAST))
    decay, no_decay = module.configure_optimizers()["optimizer"].param_groups
    assert all(p.ndim > 1 for p in decay["params"])
    assert all(p.ndim == 1 for p in no_decay["params"])
    biases = {id(m.bias) for m in module.net.modules() if isinstance(m, nn.Conv2d | nn.Linear)}
    assert biases <= {id(p) for p in no_decay["params"]}


def test_paper_preset_sets_what_the_paper_sets(config):
    cfg = config("experiment=paper")
    assert list(cfg.data.classes) == [
        "airplanes", "Faces", "watch", "Leopards", "bonsai",
        "water_lilly", "strawberry", "wild_cat", "binocular", "metronome",
    ]  # fmt: skip
    assert list(cfg.data.minority) == [
        "water_lilly",
        "strawberry",
        "wild_cat",
        "binocular",
        "metronome",
    ]
    assert cfg.data.source._target_ == "imbalance.data.sources.Caltech101"
    assert (cfg.mu, cfg.data.per_class, cfg.data.test_fraction) == (0.5, 32, 0.3)
    assert cfg.data.image_size == 227
    assert cfg.data.batch_size == 10
    assert (cfg.optim.lr, cfg.optim.momentum) == (0.001, 0.9)
    assert (cfg.optim.schedule.every, cfg.optim.schedule.gamma) == (10, 0.1)
    assert (cfg.optim.schedule.warmup_epochs, cfg.optim.schedule.milestones) == (0, None)
    assert cfg.trainer.max_epochs == 50
    # MATLAB R2018a: raw 0-255 pixels, zero-centred by the mean training image; N(0, 0.01), 0 bias.
    assert cfg.model._target_ == "imbalance.models.cnn.CNN"
    assert (cfg.model.input_scale, cfg.model.zero_center, cfg.model.init_std) == (1.0, True, 0.01)
    assert [(layer.type, layer.get("out")) for layer in cfg.model.layers] == [
        ("conv", 32), ("conv", 64), ("conv", 128), ("conv", 128), ("fc", 512), ("fc", None),
    ]  # fmt: skip
    # The paper's regularizers apply unchanged on top of the preset.
    assert config("experiment=paper", "reg=full").reg.weight_decay == 0.0005


def test_default_is_the_embedded_study(config):
    cfg = config()
    assert cfg.data.source._target_ == "imbalance.data.sources.Digits"
    assert (cfg.ratio, cfg.mu, cfg.data.per_class, len(cfg.data.classes)) == (1, 0.5, 32, 10)
    assert cfg.reg.batch_norm is False


def test_a_regularizer_from_outside_the_package_is_one_yaml_file(tmp_path, config):
    (tmp_path / "reg").mkdir()
    (tmp_path / "reg" / "strong.yaml").write_text(
        "defaults: [norm, _self_]\naugment: {rotation: 30, translate: 6}\nlabel_smoothing: 0.1\n"
    )
    cfg = config("reg=strong", f"hydra.searchpath=[file://{tmp_path}]", *FAST)
    _, module = build(cfg)
    assert switches(module) == {
        **NORM,
        "augment": (RandomAffine, 30, 0.5, 6),
        "label_smoothing": 0.1,
    }


def test_slurm_launcher_composes_with_defaults_for_a_cpu_node(config, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # resolving hydra.sweep.dir makes the directory
    cfg = config("hydra/launcher=slurm", hydra=True)
    launcher = cfg.hydra.launcher
    # The launcher that checks the request against the cluster before submitting.
    assert launcher._target_ == "hydra_plugins.imbalance_plugins.slurm.SlurmLauncher"
    # The cluster's default partition, no GPU request (null: no line reaches sbatch), 2 CPUs.
    assert (launcher.partition, launcher.gpus_per_node) == (None, None)
    assert (launcher.tasks_per_node, launcher.cpus_per_task, launcher.mem_gb) == (1, 2, 4)
    assert (launcher.array_parallelism, launcher.timeout_min) == (64, 60)
    assert launcher.submitit_folder == f"{cfg.hydra.sweep.dir}/.submitit/%j"  # beside the jobs
    gpu = config(
        "hydra/launcher=slurm",
        "hydra.launcher.partition=gpu",
        "hydra.launcher.gpus_per_node=1",
        "hydra.launcher.cpus_per_task=8",
        hydra=True,
    ).hydra.launcher
    assert (gpu.partition, gpu.gpus_per_node, gpu.cpus_per_task) == ("gpu", 1, 8)


def test_joblib_launcher_is_available(config):
    cfg = config("hydra/launcher=joblib", hydra=True)
    assert cfg.hydra.launcher._target_.endswith("JoblibLauncher")


def test_the_trainer_options_a_user_reaches_for_are_plain_overrides(monkeypatch, config):
    monkeypatch.setattr(torch.backends.cudnn, "benchmark", False)  # restored after the test
    trainer = instantiate(config().trainer, accelerator="cpu", logger=False)
    assert trainer.precision == "32-true" and not torch.backends.cudnn.benchmark
    # No `+` needed for these.
    cfg = config("trainer.precision=bf16-mixed", "trainer.benchmark=true")
    trainer = instantiate(cfg.trainer, accelerator="cpu", logger=False)
    assert trainer.precision == "bf16-mixed" and torch.backends.cudnn.benchmark


@pytest.mark.parametrize(
    "override, message",
    [
        ("ratio=abc", "ratio=abc is not a number"),
        ("mu=true", "mu=True is not a number"),
        ("seed=1.5", "seed=1.5 is not an integer"),
        ("data.val_fraction=abc", "data.val_fraction=abc is not a number"),
        ("data.test_per_class=ten", "data.test_per_class=ten is not an integer"),
        ("seed=-1", r"seed=-1 is outside 0 to 2\^32 - 1"),
        ("data.seed=4294967296", r"data.seed=4294967296 is outside 0 to 2\^32 - 1"),
        ("trainer.max_epochs=0", "trainer.max_epochs=0 trains nothing; give at least 1"),
        # The optimizer's and regularizer's: each used to end in a traceback from torch, midway
        # through building or training, or (a negative weight decay) to train silently.
        ("optim.lr=abc", "optim.lr=abc is not a number"),
        ("optim.lr=-1", "optim.lr=-1 must be finite and at least 0"),
        ("optim.lr=inf", "optim.lr=inf must be finite and at least 0"),
        ("optim.momentum=null", "optim.momentum has no value: give it, e.g. optim.momentum=..."),
        ("~reg.label_smoothing", r"reg.label_smoothing has no value: give it, e.g. \S+=\.\.\."),
        ("optim.momentum=-0.5", r"optim.momentum=-0.5 must be within \[0, 1\]"),
        ("optim.schedule.every=0", "optim.schedule.every=0 must be at least 1, or null"),
        ("optim.schedule.every=2.5", "optim.schedule.every=2.5 is not an integer"),
        ("optim.schedule.gamma=0", "optim.schedule.gamma=0 must be finite and greater than 0"),
        ("optim.schedule.warmup_epochs=-1", "optim.schedule.warmup_epochs=-1 must be at least 0"),
        (
            "optim.schedule.milestones=[160,180]",
            "optim.schedule sets both every and milestones: .*; set the other to null",
        ),
        ("reg.weight_decay=-1", "reg.weight_decay=-1 must be finite and at least 0"),
        ("reg.dropout=1.5", r"reg.dropout=1.5 must be within \[0, 1\)"),
        ("reg.label_smoothing=2", r"reg.label_smoothing=2 must be within \[0, 1\]"),
    ],
)
def test_the_settings_must_be_numbers_in_range(override, message, config):
    with pytest.raises(ConfigError, match=f"^{message}$"):
        build(config(override, *FAST))


@pytest.mark.parametrize(
    "override, reason",
    [
        ("trainer.strategy=dpp", "You selected an invalid strategy name: `strategy='dpp'`."),
        ("trainer.devices=0", "`Trainer(devices=0)` value is not a valid input"),
        ("trainer.devices=-5", "`devices` selected with `CPUAccelerator` should be an int > 0"),
    ],
)
def test_trainer_settings_lightning_refuses_are_one_line(override, reason, config):
    from imbalance.build import make_trainer

    with pytest.raises(ConfigError) as error:
        make_trainer(config(override, "trainer.accelerator=cpu"), logger=False)
    message = str(error.value)
    assert message.startswith("Lightning's Trainer refuses trainer.accelerator=cpu, ")
    assert override in message and reason in message and "\n" not in message
    assert message.endswith("(trainer.accelerator=auto trains on what the machine has)")


def test_every_missing_value_is_named_at_once(config):
    with pytest.raises(ConfigError) as error:
        build(config("data=folder"))
    assert str(error.value) == (
        "data.minority, data.root have no value: give them, e.g. data.minority=... data.root=..."
    )


def test_ratio_and_mu_may_be_fractions(config):
    data, _ = build(config("ratio=3.5", "mu=0.3", "seed=2", *FAST))
    assert len(data.minority_names) == 3


def test_data_seed_fixes_the_images_while_seed_changes_the_weights(config):
    runs = [build(config(f"seed={seed}", "data.seed=3", *FAST)) for seed in (0, 1)]
    (data0, module0), (data1, module1) = runs
    assert data0.splits == data1.splits and data0.splits_hash == data1.splits_hash
    first = next(module0.net.parameters())
    assert not torch.equal(first, next(module1.net.parameters()))
    # Without data.seed, the seed draws the images too.
    assert build(config("seed=1", *FAST))[0].splits_hash != data0.splits_hash


def test_step_only_settings_given_to_another_profile_are_refused(config):
    cfg = config("profile=linear", "mu=0.3", *FAST)
    with pytest.raises(ConfigError, match="^mu applies to profile=step only"):
        build(cfg, overrides=["profile=linear", "mu=0.3"])
    with pytest.raises(ConfigError, match="^data.minority applies to profile=step only"):
        build(cfg, overrides=["data.minority=[1,2]"])
    data, _ = build(cfg, overrides=["profile=linear"])  # mu in the config, not given: fine
    assert list(data.groups) == ["many", "medium", "few"]


@pytest.mark.parametrize(
    "profile, override, message",
    [
        ("natural", "ratio=3", "^ratio sets the class sizes that profile=step, linear and expo"),
        ("natural", "data.per_class=5", "^data.per_class sets the class sizes"),
        ("natural", "mu=0.3", "^mu applies to profile=step only"),
        ("step", "data.max_per_class=5", "^data.max_per_class applies to profile=natural only"),
    ],
)
def test_settings_a_profile_would_ignore_are_refused(config, profile, override, message):
    overrides = [f"profile={profile}", override]
    with pytest.raises(ConfigError, match=message):
        check_config(config(*overrides), overrides)


def test_optimized_metric_may_be_any_metric_of_the_run(config):
    build(config("optimized_metric=g_mean", *FAST))
    build(config("profile=exponential", "optimized_metric=few_recall", *FAST))
    with pytest.raises(ConfigError, match="^optimized_metric=few_recall is not a metric of"):
        build(config("optimized_metric=few_recall", *FAST))  # step has minority and majority
    with pytest.raises(ConfigError, match="^optimized_metric=acuracy is not one of acc, "):
        build(config("optimized_metric=acuracy", *FAST))


def test_a_remedy_combining_existing_parts_is_one_yaml_file(tmp_path, config):
    (tmp_path / "remedy").mkdir()
    (tmp_path / "remedy" / "oversample_focal.yaml").write_text(
        "# Oversampling with the focal loss.\n"
        "defaults: [focal, _self_]\n"
        "sampler:\n"
        "  _target_: imbalance.remedies.samplers.OverSampler\n"
    )
    cfg = config(
        "remedy=oversample_focal", "ratio=3", f"hydra.searchpath=[file://{tmp_path}]", *FAST
    )
    data, module = build(cfg)
    assert type(module.remedy.loss).__name__ == "FocalLoss" and module.remedy.loss.gamma == 2.0
    assert type(module.remedy.sampler(1)).__name__ == "OverSampler"
    assert type(data.train_dataloader().sampler).__name__ == "OverSampler"


@pytest.mark.parametrize(
    "override, message",
    [
        ("+reg.dropuot=0.5", "^reg.dropuot is a key that nothing reads \\(reg has: augment, "),
        ("+data.foo=1", "^data.foo is a key that nothing reads \\(imbalance.data.datamodule"),
        ("+trainer.bogus=1", "^trainer.bogus is a key that nothing reads \\(lightning.pytorch"),
        ("+optim.nesterov=true", "^optim.nesterov is a key that nothing reads"),
        ("+remedy.loss.gama=2", "^remedy.loss.gama is a key that nothing reads"),
        ("+model.layers.0.strides=2", r"^model.layers\[0\].strides is a key that nothing reads"),
        ("+ratios=3", "^ratios is a key that nothing reads \\(the top level has: "),
        ("data.source._target_=nowhere.Nothing", "^data.source._target_=nowhere.Nothing cannot"),
        ("+data.ratio=10", "^data.ratio is a key that nothing reads"),  # the code gives ratio
        ("+model.dropout=0.5", "^model.dropout is a key that nothing reads"),  # reg's switch
        ("+trainer.logger=false", "^trainer.logger is a key that nothing reads"),
        (
            "+trainer.callbacks=[{_target_:lightning.pytorch.callbacks.EarlyStopping,bogus:1}]",
            r"^trainer.callbacks\[0\].bogus is a key that nothing reads",
        ),
        ("trainer.max_epochs=null", "^trainer.max_epochs has no value: give it"),
        ("data.seed=null", "^data.seed has no value: give it"),
    ],
)
def test_a_key_that_nothing_reads_is_an_error_naming_it(override, message, config):
    with pytest.raises(ConfigError, match=message):
        build(config(override, *FAST))


def test_trainer_arguments_passed_on_purpose_and_interpolated_keys_keep_working(config):
    build(config("+trainer.gradient_clip_val=1.0", *FAST))
    build(config("+paths.pixels=16", "data.image_size=${paths.pixels}", "data.per_class=8"))


def test_every_option_of_every_group_reads_all_its_keys(config):
    from imbalance.checks import unread_keys

    for group in ("data", "model", "reg", "remedy", "trainer", "experiment"):
        for option in sorted((REPO / "conf" / group).glob("*.yaml")):
            assert unread_keys(config(f"{group}={option.stem}")) == [], option
