"""The resolvers that conf/*.yaml use, registered with OmegaConf when `imbalance` is imported."""

import hashlib
import math
from pathlib import Path

from omegaconf import OmegaConf

from imbalance.precision import bfloat16_where_fast
from imbalance.schedule import first_lowered_epoch

# For schedules that must fit the run, e.g. conf/remedy/drw.yaml's
# drw_epoch: ${first_lowered_epoch:${optim.schedule},${trainer.max_epochs}}
OmegaConf.register_new_resolver("min", min, replace=True)
OmegaConf.register_new_resolver("first_lowered_epoch", first_lowered_epoch, replace=True)


# conf/experiment/cifar10_lt.yaml's precision: ${bfloat16_where_fast:${trainer.accelerator}}
OmegaConf.register_new_resolver("bfloat16_where_fast", bfloat16_where_fast, replace=True)


def epoch_at(share: float, epochs: int) -> int:
    """The epoch `share` of the way through `epochs` (counted from 1, at least 1): a grid of DRW
    epochs that fits any length of run, e.g. ${epoch_at:0.8,${trainer.max_epochs}}."""
    return max(1, math.floor(share * epochs + 0.5))  # halves up: 0.5 of 5 epochs is 3


OmegaConf.register_new_resolver("epoch_at", epoch_at, replace=True)


def times(factor: float, value: float) -> float:
    """A setting relative to another, e.g. a second stage's rate ${times:0.1,${optim.lr}}; to 12
    significant digits, so that 0.1 x 0.01 reads 0.001 in a job's name."""
    return float(f"{factor * value:.12g}")


OmegaConf.register_new_resolver("times", times, replace=True)

# Job directories are named by their overrides (conf/train.yaml: ${job_name:...}).
MAX_NAME_BYTES = 200  # file systems allow 255 bytes a name


def job_name(overrides: str) -> str:
    """`overrides` (Hydra's override dirname), cut to MAX_NAME_BYTES with a short hash of the
    whole appended when longer, so that every job of a sweep keeps a distinct, legal name;
    results.json keeps the full overrides."""
    if len(overrides.encode()) <= MAX_NAME_BYTES:
        return overrides
    digest = hashlib.sha256(overrides.encode()).hexdigest()[:10]
    head = overrides.encode()[: MAX_NAME_BYTES - 12].decode(errors="ignore")
    return f"{head}~{digest}"


OmegaConf.register_new_resolver("job_name", job_name, replace=True)


def fresh_dir(path: str) -> str:
    """`path`, created now; `path_2`, `path_3`... when another sweep (or run) made it first,
    say in the same second. mkdir succeeds for one process only, so two never share a
    directory. Registered with a cache: every job of a sweep gets the sweep's one value."""
    candidate, number = Path(path), 1
    while True:
        try:
            candidate.mkdir(parents=True)
            return str(candidate)
        except FileExistsError:
            number += 1
            candidate = Path(f"{path}_{number}")


OmegaConf.register_new_resolver("fresh_dir", fresh_dir, use_cache=True, replace=True)
