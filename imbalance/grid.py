"""A remedy's grid (`grid` in conf/remedy/<name>.yaml): the values to try at the remedy's keys, as
its paper gives them, and at the optimizer's (OUTSIDE); and the jobs of a sweep that tries every
point of it (`python -m imbalance.tune`, through the sweeper), each on a validation split.
"""

import copy
import itertools
from collections.abc import Sequence

from omegaconf import DictConfig, OmegaConf

from imbalance.errors import ConfigError

VAL_FRACTION = 0.2
_ABSENT = object()
# Settings outside the remedy that a grid may name, under their own key: the optimizer's
# (`grid: {optim: {lr: [...]}}`, or `'+remedy.grid.optim.lr=[0.01,0.03,0.1]'`): a learning rate
# picked on the validation split for each remedy, or for a data set of one's own.
OUTSIDE = ("optim",)


def grid_axes(grid: dict, prefix: str = "remedy") -> dict[str, list]:
    """`{"loss": {"gamma": [0.5, 1]}}` -> `{"remedy.loss.gamma": [0.5, 1]}`: each list of the
    grid at the key it sets; a key of OUTSIDE at the grid's top, at its own place
    (`{"optim": {"lr": [...]}}` -> `optim.lr`). Raises ConfigError for a leaf that is not a list
    of values."""
    axes = {}
    for key, value in grid.items():
        path = key if prefix == "remedy" and key in OUTSIDE else f"{prefix}.{key}"
        if isinstance(value, dict):
            axes |= grid_axes(value, path)
        elif isinstance(value, list) and value:
            axes[path] = list(dict.fromkeys(value))  # a value twice is one grid point
        else:
            raise ConfigError(
                f"remedy.grid gives {path} the value {value!r}: give the list of values to try, "
                "e.g. [0.5, 1.0]"
            )
    return axes


def _text(value) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


def grid_jobs(job: Sequence[str], config: DictConfig) -> list[list[str]]:
    """The jobs that tune `job` (a sweep job's overrides, whose composed config is `config`):
    one per point of its remedy's grid, the keys `job` sets itself left as they are, and
    data.val_fraction=VAL_FRACTION where the run would have no validation split.

    Raises ConfigError when the command line itself sets data.val_fraction=0 (no validation
    split), and for a grid key that names no setting of the remedy."""
    given = {override.split("=", 1)[0].lstrip("+~") for override in job}
    has_val = OmegaConf.select(config, "data.val_fraction", default=0) or OmegaConf.select(
        config, "data.source.val", default=None
    )
    if not has_val and "data.val_fraction" in given:
        raise ConfigError(
            "imbalance.tune picks each remedy's values on the validation split, and "
            "data.val_fraction=0 holds none out: give one, e.g. data.val_fraction=0.2"
        )
    base = [*job, *([] if has_val else [f"data.val_fraction={VAL_FRACTION}"])]
    remedy = OmegaConf.select(config, "hydra.runtime.choices.remedy", default="this remedy")

    def axes_of(cfg: DictConfig, keys) -> dict[str, list]:
        """The grid's axes under `keys` (of its top), resolved in `cfg`, each checked to name a
        setting; those the command line sets left out."""
        grid = cfg.remedy.get("grid")
        found = {}
        for top in keys:
            if grid is not None and top in grid:
                node = OmegaConf.to_container(grid[top], resolve=True)
                found |= grid_axes({top: node})
        for key in found:
            if OmegaConf.select(cfg, key, default=_ABSENT) is _ABSENT:
                raise ConfigError(
                    f"remedy={remedy}'s grid names {key}, which is no setting of that remedy: "
                    f"fix the key under grid: in conf/remedy/{remedy}.yaml (or remedy.grid; of "
                    f"the other settings, {', '.join(OUTSIDE)} may be tuned too)"
                )
        return {key: values for key, values in found.items() if key not in given}

    grid = config.remedy.get("grid")
    inside = [key for key in (grid or {}) if key not in OUTSIDE]
    outside = axes_of(config, OUTSIDE)
    points = []
    # The optimizer's points first: a remedy's values that follow its rate (crt's stage2.lr,
    # ${optim.lr}) are resolved at each point's rate.
    for values in itertools.product(*outside.values()):
        at = copy.deepcopy(config)
        for key, value in zip(outside, values, strict=True):
            OmegaConf.update(at, key, value)
        head = [*base, *(f"{key}={_text(v)}" for key, v in zip(outside, values, strict=True))]
        tails = [[]]
        for key, options in axes_of(at, inside).items():
            tails = [[*tail, f"{key}={_text(value)}"] for tail in tails for value in options]
        points += [[*head, *tail] for tail in tails]
    return points
