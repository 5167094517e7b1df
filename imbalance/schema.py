"""The schema of the config's plain nodes, those without a `_target_`: their keys, the kind of
value each takes and the range of each number. The YAML files hold the values, this file what
they may be; a node with a `_target_` has its schema in its class's signature. `imbalance.checks`
reads both, and tests/test_schema.py holds every shipped YAML file to them.

A field typed `float` takes any number, `int` an integer, `X | None` also null; a number that is
not optional must have a value. Other kinds (`bool`, `str`, `Any`) are left to what reads them.
"""

import math
from dataclasses import dataclass, field
from typing import Any


def within(allowed: str, test) -> Any:
    """A field whose numbers must pass `test`, which `allowed` says in words."""
    return field(metadata={"range": (allowed, test)})


def finite() -> Any:
    return within("finite and at least 0", lambda value: 0 <= value < math.inf)


@dataclass(kw_only=True)
class Optim:
    lr: float = finite()  # 0: the weights stay as they are
    base_batch: int | None = within("at least 1, or null", lambda value: value >= 1)
    momentum: float = within("within [0, 1]", lambda value: 0 <= value <= 1)
    schedule: Any


@dataclass(kw_only=True)
class Reg:
    weight_decay: float = finite()
    augment: Any
    dropout: float = within("within [0, 1)", lambda value: 0 <= value < 1)
    batch_norm: bool
    label_smoothing: float = within("within [0, 1]", lambda value: 0 <= value <= 1)


@dataclass(kw_only=True)
class Stage2:
    epochs: int
    lr: float = finite()
    reinit: bool
    sampler: Any
    loss: Any
    weight_decay: float | None = finite()
    trains: str


@dataclass(kw_only=True)
class Head:
    type: str
    scale: float | None


@dataclass(kw_only=True)
class Remedy:
    sampler: Any
    loss: Any
    mix: Any
    constraint: Any
    weight_decay: float | None = finite()
    classifier: Any
    correction: Any
    stage2: Stage2 | None
    head: Head | None
    grid: Any


@dataclass(kw_only=True)
class Run:
    data: Any
    model: Any
    reg: Reg
    remedy: Remedy
    trainer: Any
    optim: Optim
    ratio: float
    profile: str
    mu: float
    seed: int
    flush_denormal: bool
    optimized_metric: str
    rerun: bool
    checkpoint_every_s: float = within("at least 0 (0: every epoch)", lambda value: 0 <= value)


# Settings of nodes with a `_target_` that the run reads itself, and so must have a value.
READ_BY_THE_RUN = {"trainer.max_epochs": int, "data.seed": int}
