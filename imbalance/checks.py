"""The config's values and keys that no class checks, before any image is decoded.

`check_config` stops a run with one line for a path that does not exist, a missing value, a
number typed as text, a value out of range, a key that nothing reads (a typo, or a setting of
another group), and a setting of the step profile given to another profile.
"""

import difflib
import inspect
import os
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, fields, is_dataclass
from types import UnionType
from typing import Literal, Union, get_args, get_origin, get_type_hints

import torch
from hydra.errors import InstantiationException
from hydra.utils import get_object, instantiate
from omegaconf import DictConfig, ListConfig, OmegaConf

from imbalance.data.spelling import expand
from imbalance.errors import ConfigError, quoted
from imbalance.metrics import GROUPS, scalar_names
from imbalance.remedies import remedy
from imbalance.run.resume import MOVED
from imbalance.schema import READ_BY_THE_RUN, Run

# Settings that only the step profile reads (the minority classes and their fraction), those
# that only the profiles drawing sizes from a ratio read, and those only the natural one reads.
STEP_ONLY = ("mu", "data.minority")
DRAWN_ONLY = ("ratio", "data.per_class")
NATURAL_ONLY = ("data.max_per_class", "data.many_shot", "data.few_shot", "data.shot_groups")


@dataclass(frozen=True)
class Number:
    """A setting that takes a number: an integer or any number, optionally null, in a range."""

    key: str
    types: type | UnionType
    optional: bool
    words: tuple[str, ...] = ()  # what it may be instead of a number: data.batch_size=auto
    allowed: tuple[str, Callable] | None = None


def number_kind(annotation) -> tuple[type | UnionType, bool, tuple[str, ...]] | None:
    """(the types a setting's value may have, whether it may be null, the words it may be
    instead) for an annotation of a number: `int`, `float` (any number), either with `| None`
    or `| Literal["auto"]`; None for any other."""
    union = isinstance(annotation, UnionType) or get_origin(annotation) is Union
    listed = get_args(annotation) if union else (annotation,)
    words = tuple(
        word for member in listed if get_origin(member) is Literal for word in get_args(member)
    )
    members = {member for member in listed if get_origin(member) is not Literal}
    optional = type(None) in members
    members.discard(type(None))
    if members == {int}:
        return int, optional, words
    if float in members and members <= {int, float}:
        return int | float, optional, words
    return None


def plain_nodes(schema=Run, path: str = "") -> dict[str, type]:
    """The plain nodes of the config, by path: the dataclasses of `imbalance.schema`."""
    nodes = {path: schema}
    for f in fields(schema):
        for member in get_args(f.type) or (f.type,):
            if is_dataclass(member):
                nodes |= plain_nodes(member, f"{path}.{f.name}" if path else f.name)
    return nodes


def numbers(cfg: DictConfig) -> list[Number]:
    """The settings of `cfg` that take numbers: those of its plain nodes (`imbalance.schema`,
    where the node is there), those the run reads of a target's node (READ_BY_THE_RUN), and
    those that a `_target_`'s signature types as numbers, where the node gives them."""
    found = []
    for path, schema in plain_nodes().items():
        if path and OmegaConf.select(cfg, path) is None:
            continue  # an optional node left out: a remedy without a second stage
        for f in fields(schema):
            if (kind := number_kind(f.type)) is not None:
                key = f"{path}.{f.name}" if path else f.name
                found.append(Number(key, *kind, f.metadata.get("range")))
    found += [Number(key, kind, optional=False) for key, kind in READ_BY_THE_RUN.items()]

    def visit(node: DictConfig, path: str) -> None:
        if "_target_" in node:
            for name, annotation in signature_types(node._target_).items():
                if name in node and (kind := number_kind(annotation)) is not None:
                    found.append(Number(f"{path}.{name}", *kind))
        for key in node:
            child = node._get_node(key)
            if isinstance(child, DictConfig) and not child._is_none():
                visit(child, f"{path}.{key}" if path else str(key))

    visit(cfg, "")
    first = {}
    for number in found:  # the run's own reading of a key before its target's
        first.setdefault(number.key, number)
    return list(first.values())


def signature_types(target: str) -> dict:
    """The annotations of `target`'s parameters (its class's constructor), as types; {} for
    a target that cannot be imported here (`unread_keys` says why) or annotations that
    cannot be read."""
    try:
        obj = get_object(target)
        return get_type_hints(obj.__init__ if inspect.isclass(obj) else obj)
    except Exception:  # noqa: BLE001 - no types: nothing to check
        return {}


def check_config(cfg: DictConfig, overrides: Sequence[str] = ()) -> None:
    """Raises ConfigError for paths that do not exist and missing values (in one line, the paths
    first), `numbers` that are not numbers or out of their range, seeds and epochs out of
    range, an unknown optimized_metric, keys that nothing reads (`unread_keys`), step-only
    settings given on the command line (`overrides`) for another profile, and a schedule that
    cannot be built."""
    step = cfg.profile == "step"
    settings = numbers(cfg)
    missing = sorted(
        {key for key in OmegaConf.missing_keys(cfg) if step or key != "data.minority"}
        | {
            number.key
            for number in settings
            if not number.optional and OmegaConf.select(cfg, number.key) is None  # or left out
        }
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
    for number in settings:
        value = OmegaConf.select(cfg, number.key)
        if value is None or value in number.words:  # optional, or a word it may be
            continue
        if isinstance(value, bool) or not isinstance(value, number.types):
            kind = "an integer" if number.types is int else "a number"
            words = "".join(f" or {word}" for word in number.words)
            raise ConfigError(f"{number.key}={value} is not {kind}{words}")
    for number in settings:
        value = OmegaConf.select(cfg, number.key)
        if value in number.words:
            continue
        if number.allowed is not None and value is not None and not number.allowed[1](value):
            raise ConfigError(f"{number.key}={value} must be {number.allowed[0]}")
    for key in ("seed", "data.seed"):  # numpy's and torch's seeds are unsigned 32-bit
        if not 0 <= OmegaConf.select(cfg, key, default=0) < 2**32:
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
        key, reader, keys, given = unread[0]
        raise ConfigError(
            f"{key} is a key that nothing reads ({reader}); drop it or fix its name"
            + did_you_mean(key, keys, given)
        )
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


def known_keys(node: DictConfig, path: str) -> tuple[set[str], str] | None:
    """The keys that the node at `path` can have, and what says so (its `_target_`'s signature,
    less what the code gives it, GIVEN; or its schema, `imbalance.schema`); None for a node of
    any keys (a target that takes **kwargs, a remedy's grid).

    Raises ConfigError for a `_target_` that cannot be imported."""
    if "_target_" in node:
        try:
            target = get_object(node._target_)
        except Exception as error:  # noqa: BLE001 - any import failure reads the same
            reason = str(error).strip().splitlines()[0]
            moved = f": it is {MOVED[node._target_]} now" if node._target_ in MOVED else ""
            raise ConfigError(
                f"{path}._target_={node._target_} cannot be imported ({reason}){moved}"
            ) from error
        parameters = inspect.signature(target).parameters.values()
        if any(p.kind == inspect.Parameter.VAR_KEYWORD for p in parameters):
            return None
        takes = {p.name for p in parameters} - GIVEN.get(path, set())
        return takes | HYDRA_KEYS, f"{node._target_} takes: {', '.join(sorted(takes))}"
    plain = plain_nodes()
    if path in plain:
        keys = {f.name for f in fields(plain[path])}
        return keys, f"{path or 'the top level'} has: {', '.join(sorted(keys))}"
    return None


def did_you_mean(key: str, keys: set[str], given: Iterable[str] = ()) -> str:
    """The nearest of `keys` to a misspelled `key`, as "; did you mean <key>?", or nothing:
    the nearest of those the config gives already (`given`: trainer.max_epochs before
    trainer.min_epochs), else of all."""
    parent, _, name = key.rpartition(".")
    for candidates in (set(given) & keys, keys):
        close = difflib.get_close_matches(name, sorted(candidates - HYDRA_KEYS), n=1, cutoff=0.6)
        if close:
            return f"; did you mean {parent}{'.' if parent else ''}{close[0]}?"
    return ""


def unread_keys(cfg: DictConfig) -> list[tuple[str, str, set[str], set[str]]]:
    """(key, what reads its node, the keys it reads, the keys it has) for every key of the
    config that nothing reads: a key of a node that its `known_keys` lack, and a key of a model
    layer not in LAYER_KEYS. A key that an interpolation refers to (`data.root: ${paths.data}`)
    is read."""
    found = []
    referenced = set(re.findall(r"\$\{([\w.]+)\}", str(OmegaConf.to_container(cfg))))

    def read_elsewhere(path: str) -> bool:
        return any(ref == path or ref.startswith(f"{path}.") for ref in referenced)

    def visit(node: DictConfig, path: str) -> None:
        if (known := known_keys(node, path)) is not None:
            keys, reader = known
            found.extend(
                (f"{path + '.' if path else ''}{key}", reader, keys, set(node))
                for key in node
                if key not in keys
            )
        for key in node:
            child = node._get_node(key)
            child_path = f"{path}.{key}" if path else str(key)
            if isinstance(child, DictConfig) and not child._is_none():
                visit(child, child_path)
            elif isinstance(child, ListConfig) and child_path == "model.layers":
                reader = f"a layer has: {quoted(sorted(LAYER_KEYS))}"
                for i, layer in enumerate(child):
                    found.extend(
                        (f"model.layers[{i}].{key}", reader, LAYER_KEYS, set(layer))
                        for key in layer
                        if key not in LAYER_KEYS
                    )
            elif isinstance(child, ListConfig):  # e.g. trainer.callbacks: their own targets
                for i, item in enumerate(child):
                    if isinstance(item, DictConfig):
                        visit(item, f"{child_path}[{i}]")

    visit(cfg, "")
    return [found_key for found_key in found if not read_elsewhere(found_key[0])]


def hydras_refusal(error: Exception, overrides: Sequence[str]) -> str | None:
    """Hydra's refusal of a command line's `overrides` (a key that the config lacks, without
    the + that would add it; an option that its group lacks) as one line with the nearest
    valid key or option; None for any other refusal."""
    text = str(error)
    if match := re.search(r"Could not override '([^']+)'", text):
        key = match.group(1)
        parent = key.rpartition(".")[0]
        others = [o for o in overrides if o.split("=", 1)[0].lstrip("+~") != key]
        cfg = composed(others)
        node = OmegaConf.select(cfg, parent) if parent else cfg
        known = known_keys(node, parent) if isinstance(node, DictConfig) else None
        if known is None:
            return None
        keys, reader = known
        if key.rpartition(".")[2] in keys:  # read, but not in the config yet: it needs the +
            value = next((o.split("=", 1)[1] for o in overrides if o.startswith(f"{key}=")), "...")
            return f"{key} is not in the config yet: add it with +{key}={value}"
        return (
            f"{key} is a key that nothing reads ({reader}); drop it or fix its name"
            + did_you_mean(key, keys, node)
        )
    if match := re.search(r"Could not find '(.+)/([^/']+)'", text):
        group, option = match.groups()
        options = re.findall(r"(?m)^\t(\S+)$", text)
        close = difflib.get_close_matches(option, options, n=1, cutoff=0.6)
        return f"{group}={option} is none of {group}'s options ({', '.join(options)})" + (
            f"; did you mean {group}={close[0]}?" if close else ""
        )
    return None


def composed(overrides: Sequence[str]) -> DictConfig:
    """The run's config with those of `overrides` that compose (a sweep's lists left out), or
    with none."""
    from hydra import compose, initialize_config_module
    from hydra.core.global_hydra import GlobalHydra
    from hydra.core.override_parser.overrides_parser import OverridesParser

    GlobalHydra.instance().clear()
    with initialize_config_module("imbalance.conf", version_base="1.3"):
        try:
            parsed = OverridesParser.create().parse_overrides(list(overrides))
            return compose("train", [o.input_line for o in parsed if not o.is_sweep_override()])
        except Exception:  # noqa: BLE001 - the defaults tell the keys too
            return compose("train")
