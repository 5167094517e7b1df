"""The config's values and keys that no class checks, before any image is decoded.

`check_config` stops a run with one line for a path that does not exist, a missing value, a
number typed as text, a value out of range, a key that nothing reads (a typo, or a setting of
another group), and a setting of the step profile given to another profile.
"""

import inspect
import math
import os
import re
from collections.abc import Sequence

import torch
from hydra.errors import InstantiationException
from hydra.utils import get_object, instantiate
from omegaconf import DictConfig, ListConfig, OmegaConf

from imbalance.data.spelling import expand
from imbalance.errors import ConfigError, quoted
from imbalance.metrics import GROUPS, scalar_names
from imbalance.remedies import remedy

# Settings that only the step profile reads (the minority classes and their fraction), those
# that only the profiles drawing sizes from a ratio read, and those only the natural one reads.
STEP_ONLY = ("mu", "data.minority")
DRAWN_ONLY = ("ratio", "data.per_class")
NATURAL_ONLY = ("data.max_per_class", "data.many_shot", "data.few_shot")
# Numbers typed on the command line, where `ratio=abc` is a valid string; those in REQUIRED
# must be there (the data settings may be missing from a data config of one's own).
NUMBERS = {
    "ratio": int | float,
    "mu": int | float,
    "seed": int,
    "data.seed": int,
    "trainer.max_epochs": int,
    "data.per_class": int,
    "data.test_fraction": int | float,
    "data.test_per_class": int,
    "data.val_fraction": int | float,
    "optim.lr": int | float,
    "optim.momentum": int | float,
    "optim.schedule.warmup_epochs": int,
    "optim.schedule.gamma": int | float,
    "optim.schedule.every": int,
    "reg.weight_decay": int | float,
    "reg.dropout": int | float,
    "reg.label_smoothing": int | float,
    "data.max_per_class": int,
    "data.many_shot": int,
    "data.few_shot": int,
    "checkpoint_every_s": int | float,
    "remedy.weight_decay": int | float,
    "remedy.stage2.weight_decay": int | float,
    "remedy.stage2.epochs": int,
    "remedy.stage2.lr": int | float,
}
REQUIRED = (
    "ratio", "mu", "seed", "data.seed", "trainer.max_epochs",
    "optim.lr", "optim.momentum",
    "reg.weight_decay", "reg.dropout", "reg.label_smoothing", "checkpoint_every_s",
)  # fmt: skip
# The ranges of plain settings: beyond them a run fails midway inside torch, or trains on a
# meaningless value (a negative or infinite weight decay).
RANGES = {
    "optim.lr": ("finite and at least 0", lambda value: 0 <= value < math.inf),  # 0: frozen
    "optim.momentum": ("within [0, 1]", lambda value: 0 <= value <= 1),
    "reg.weight_decay": ("finite and at least 0", lambda value: 0 <= value < math.inf),
    "reg.dropout": ("within [0, 1)", lambda value: 0 <= value < 1),
    "reg.label_smoothing": ("within [0, 1]", lambda value: 0 <= value <= 1),
    "checkpoint_every_s": ("at least 0 (0: every epoch)", lambda value: 0 <= value),
    "remedy.weight_decay": ("finite and at least 0", lambda value: 0 <= value < math.inf),
    "remedy.stage2.weight_decay": ("finite and at least 0", lambda value: 0 <= value < math.inf),
    "remedy.stage2.lr": ("finite and at least 0", lambda value: 0 <= value < math.inf),
}


def check_config(cfg: DictConfig, overrides: Sequence[str] = ()) -> None:
    """Raises ConfigError for paths that do not exist and missing values (in one line, the paths
    first), NUMBERS that are not numbers, seeds, epochs and RANGES out of range, an unknown
    optimized_metric, keys that nothing reads (`unread_keys`), step-only settings given on
    the command line (`overrides`) for another profile, and a schedule that cannot be built."""
    step = cfg.profile == "step"
    missing = sorted(
        {key for key in OmegaConf.missing_keys(cfg) if step or key != "data.minority"}
        | {key for key in REQUIRED if OmegaConf.select(cfg, key) is None}  # null, or left out
    )
    for key in PATHS:
        if OmegaConf.select(cfg, key) in ("None", "none"):
            raise ConfigError(f"{key}=None is a folder named 'None'; write {key}=null for none")
    # What was given and is wrong comes before what was not given.
    can_download = OmegaConf.select(cfg, "data.source.download") is not None
    problems = [
        f"{key}='{path}' does not exist; fix {key}"
        + (", or add data.source.download=true" if key == "data.root" and can_download else "")
        for key, path in absent_paths(cfg)
    ]
    if missing:
        verb = "has no value: give it" if len(missing) == 1 else "have no value: give them"
        example = " ".join(f"{key}=..." for key in missing)
        problems.append(f"{', '.join(missing)} {verb}, e.g. {example}")
    if problems:
        raise ConfigError("; ".join(problems))
    for key, types in NUMBERS.items():
        value = OmegaConf.select(cfg, key)
        if value is None:  # not REQUIRED
            continue
        if isinstance(value, bool) or not isinstance(value, types):
            kind = "an integer" if types is int else "a number"
            raise ConfigError(f"{key}={value} is not {kind}")
    for key, (allowed, within) in RANGES.items():
        value = OmegaConf.select(cfg, key)
        if value is not None and not within(value):
            raise ConfigError(f"{key}={value} must be {allowed}")
    for key in ("seed", "data.seed"):  # numpy's and torch's seeds are unsigned 32-bit
        if not 0 <= OmegaConf.select(cfg, key) < 2**32:
            raise ConfigError(f"{key}={OmegaConf.select(cfg, key)} is outside 0 to 2^32 - 1")
    if cfg.trainer.max_epochs < 1:
        raise ConfigError(
            f"trainer.max_epochs={cfg.trainer.max_epochs} trains nothing; give at least 1"
        )
    every_metric = scalar_names(GROUPS)  # before the images are decoded
    if cfg.optimized_metric not in every_metric:
        raise ConfigError(
            f"optimized_metric={cfg.optimized_metric} is not one of {', '.join(every_metric)}"
        )
    natural = cfg.profile == "natural"
    for override in overrides:
        key = override.split("=", 1)[0].lstrip("+~")
        if not step and key in STEP_ONLY:
            raise ConfigError(
                f"{key} applies to profile=step only and profile={cfg.profile} would ignore it; "
                f"drop {key}=... from the command line"
            )
        if natural and key in DRAWN_ONLY:
            raise ConfigError(
                f"{key} sets the class sizes that profile=step, linear and exponential draw; "
                f"profile=natural trains on every image the data has and would ignore it: drop "
                f"{key}=... (data.max_per_class caps the images of a class)"
            )
        if not natural and key in NATURAL_ONLY:
            raise ConfigError(
                f"{key} applies to profile=natural only and profile={cfg.profile} would ignore "
                f"it; drop {key}=... from the command line"
            )
    unread = unread_keys(cfg)
    if unread:
        key, reader = unread[0]
        raise ConfigError(f"{key} is a key that nothing reads ({reader}); drop it or fix its name")
    check_schedule(cfg.optim)


def check_schedule(optim: DictConfig) -> None:
    """Builds `optim.schedule` once on a stand-in optimizer, so that a schedule that cannot be
    followed stops the run here (EpochSchedule's own ConfigError, or torch's refusal)."""
    stand_in = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=optim.lr)
    try:
        instantiate(optim.schedule)(stand_in)
    except (InstantiationException, TypeError, ValueError) as error:
        reason = " ".join(str(error.__cause__ or error).split())
        raise ConfigError(f"optim.schedule cannot be built ({reason}); fix its settings") from error


# Path settings, where `None` on the command line is the text "None", not Hydra's null.
PATHS = ("data.root", "data.cache_dir", "data.manifest")


def absent_paths(cfg: DictConfig) -> list[tuple[str, str]]:
    """(key, path) for each path setting that names nothing on disk: data.root (unless the
    source downloads what is missing) and data.manifest."""
    keys = ["data.manifest"]
    if not OmegaConf.select(cfg, "data.source.download", default=False):
        keys.insert(0, "data.root")
    absent = []
    for key in keys:
        path = OmegaConf.select(cfg, key)  # None when null or missing
        if path is not None and not os.path.exists(expand(path)):
            absent.append((key, expand(path)))
    return absent


# The keys of the config's plain nodes (those without a _target_), by path.
PLAIN = {
    "": {
        "data", "model", "reg", "remedy", "trainer", "ratio", "profile", "mu", "seed", "optim",
        "flush_denormal", "optimized_metric", "rerun", "checkpoint_every_s",
    },
    "optim": {"lr", "momentum", "schedule"},
    "reg": {"weight_decay", "augment", "dropout", "batch_norm", "label_smoothing"},
    **remedy.KEYS,
}  # fmt: skip
LAYER_KEYS = {"type", "out", "kernel", "stride", "padding", "pool", "pool_stride"}
# Arguments that imbalance.build.build gives these nodes' targets itself: in the config they
# would be overruled, so nothing reads them there either.
GIVEN = {
    "data": {"ratio", "mu", "profile"},
    "model": {"in_channels", "input_size", "num_classes", "batch_norm", "dropout", "head"},
    **remedy.GIVEN,
    "trainer": {"logger", "reload_dataloaders_every_n_epochs"},
    "optim.schedule": {"optimizer"},
}
HYDRA_KEYS = {"_target_", "_partial_", "_recursive_", "_convert_", "_args_"}


def unread_keys(cfg: DictConfig) -> list[tuple[str, str]]:
    """(key, what reads its node) for every key of the config that nothing reads: a key of a
    `_target_` node that its class or function does not take (unless it takes **kwargs) or that
    the code gives it (GIVEN), a key of a plain node not in PLAIN, and a key of a model layer
    not in LAYER_KEYS. A key that an interpolation refers to (`data.root: ${paths.data}`) is
    read."""
    found = []
    referenced = set(re.findall(r"\$\{([\w.]+)\}", str(OmegaConf.to_container(cfg))))

    def read_elsewhere(path: str) -> bool:
        return any(ref == path or ref.startswith(f"{path}.") for ref in referenced)

    def visit(node: DictConfig, path: str) -> None:
        if "_target_" in node:
            try:
                target = get_object(node._target_)
            except Exception as error:  # noqa: BLE001 - any import failure reads the same
                reason = str(error).strip().splitlines()[0]
                raise ConfigError(
                    f"{path}._target_={node._target_} cannot be imported ({reason})"
                ) from error
            parameters = inspect.signature(target).parameters.values()
            if not any(p.kind == inspect.Parameter.VAR_KEYWORD for p in parameters):
                takes = {p.name for p in parameters} - GIVEN.get(path, set())
                reader = f"{node._target_} takes: {', '.join(sorted(takes))}"
                found.extend(
                    (f"{path}.{key}", reader) for key in node if key not in takes | HYDRA_KEYS
                )
        elif path in PLAIN:
            reader = f"{path or 'the top level'} has: {', '.join(sorted(PLAIN[path]))}"
            found.extend(
                (f"{path + '.' if path else ''}{key}", reader)
                for key in node
                if key not in PLAIN[path]
            )
        for key in node:
            child = node._get_node(key)
            child_path = f"{path}.{key}" if path else str(key)
            if isinstance(child, DictConfig) and not child._is_none():
                visit(child, child_path)
            elif isinstance(child, ListConfig) and child_path == "model.layers":
                for i, layer in enumerate(child):
                    found.extend(
                        (f"model.layers[{i}].{key}", f"a layer has: {quoted(sorted(LAYER_KEYS))}")
                        for key in layer
                        if key not in LAYER_KEYS
                    )
            elif isinstance(child, ListConfig):  # e.g. trainer.callbacks: their own targets
                for i, item in enumerate(child):
                    if isinstance(item, DictConfig):
                        visit(item, f"{child_path}[{i}]")

    visit(cfg, "")
    return [(key, reader) for key, reader in found if not read_elsewhere(key)]
