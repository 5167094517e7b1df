"""The config's values and keys that no class checks, before any image is decoded.

`check_config` stops a run with one line for a missing value, a number typed as text, a value
out of range, a key that nothing reads (a typo, or a setting of another group), and a setting
of the step profile given to another profile.
"""

import inspect
from collections.abc import Sequence

from hydra.utils import get_object
from omegaconf import DictConfig, ListConfig, OmegaConf

from imbalance.errors import ConfigError, quoted
from imbalance.metrics import GROUPS, scalar_names

# Settings that only the step profile reads (the minority classes and their fraction).
STEP_ONLY = ("mu", "data.minority")
# Numbers typed on the command line, where `ratio=abc` is a valid string.
NUMBERS = {
    "ratio": int | float,
    "mu": int | float,
    "seed": int,
    "data.seed": int,
    "data.per_class": int,
    "data.test_fraction": int | float,
    "data.test_per_class": int,
    "data.val_fraction": int | float,
}


def check_config(cfg: DictConfig, overrides: Sequence[str] = ()) -> None:
    """Raises ConfigError for missing values, NUMBERS that are not numbers, seeds and epochs out
    of range, an unknown optimized_metric, keys that nothing reads (`unread_keys`), and
    step-only settings given on the command line (`overrides`) for another profile."""
    step = cfg.profile == "step"
    missing = sorted(
        key for key in OmegaConf.missing_keys(cfg) if step or key not in ("data.minority",)
    )
    if missing:
        raise ConfigError(f"{missing[0]} has no value: give one, e.g. {missing[0]}=...")
    for key, types in NUMBERS.items():
        value = OmegaConf.select(cfg, key)  # None: a data config without the key
        if value is not None and (isinstance(value, bool) or not isinstance(value, types)):
            kind = "an integer" if types is int else "a number"
            raise ConfigError(f"{key}={value} is not {kind}")
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
    for override in overrides:
        key = override.split("=", 1)[0].lstrip("+~")
        if not step and key in STEP_ONLY:
            raise ConfigError(
                f"{key} applies to profile=step only and profile={cfg.profile} would ignore it; "
                f"drop {key}=... from the command line"
            )
    unread = unread_keys(cfg)
    if unread:
        key, reader = unread[0]
        raise ConfigError(f"{key} is a key that nothing reads ({reader}); drop it or fix its name")


# The keys of the config's plain nodes (those without a _target_), by path; "*": any key.
PLAIN = {
    "": {
        "data", "model", "reg", "remedy", "trainer", "ratio", "profile", "mu", "seed", "optim",
        "flush_denormal", "optimized_metric",
    },
    "optim": {"lr", "momentum", "lr_step_epochs", "lr_gamma"},
    "reg": {"weight_decay", "augment", "dropout", "batch_norm", "label_smoothing"},
    "remedy": {"sampler", "loss", "correction", "stage2", "head"},
    "remedy.stage2": {"epochs", "lr", "reinit", "sampler"},
    "remedy.head": {"type", "scale"},
}  # fmt: skip
LAYER_KEYS = {"type", "out", "kernel", "stride", "padding", "pool", "pool_stride"}
HYDRA_KEYS = {"_target_", "_partial_", "_recursive_", "_convert_", "_args_"}


def unread_keys(cfg: DictConfig) -> list[tuple[str, str]]:
    """(key, what reads its node) for every key of the config that nothing reads: a key of a
    `_target_` node that its class or function does not take (unless it takes **kwargs), a
    key of a plain node not in PLAIN, and a key of a model layer not in LAYER_KEYS."""
    found = []

    def visit(node: DictConfig, path: str) -> None:
        if "_target_" in node:
            try:
                target = get_object(node._target_)
            except Exception as error:  # noqa: BLE001 - any import failure reads the same
                raise ConfigError(
                    f"{path}._target_={node._target_} cannot be imported ({error})"
                ) from error
            signature = inspect.signature(target)
            parameters = signature.parameters.values()
            if any(p.kind == inspect.Parameter.VAR_KEYWORD for p in parameters):
                return
            takes = {p.name for p in parameters}
            reader = f"{node._target_} takes: {', '.join(sorted(takes))}"
            found.extend((f"{path}.{key}", reader) for key in node if key not in takes | HYDRA_KEYS)
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

    visit(cfg, "")
    return found
