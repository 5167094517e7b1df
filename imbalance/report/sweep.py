"""A sweep directory read back: the finished runs' results, and the jobs that did not finish."""

import itertools
import json
from dataclasses import dataclass
from pathlib import Path

from hydra._internal.config_loader_impl import get_overrides_dirname
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.core.override_parser.types import Glob
from omegaconf import OmegaConf

from imbalance.errors import ConfigError
from imbalance.resolvers import job_name
from imbalance.run.results import COMMAND_KEYS, FILENAME, diverged, read_results
from imbalance.run.sweep_dir import FAILURES, JOBS, excluded_keys


@dataclass
class Sweep:
    path: Path
    runs: list[dict]  # each job's results.json, in the order of the sweep's axes
    missing: list[str]  # jobs without results: "<overrides> (why)"


def newest_sweep(root: Path = Path("outputs/multirun")) -> Path:
    """The last of `root`'s sweep directories by name (their names are their start times).
    Empty ones are no sweep: printing the config (`--cfg hydra --resolve`) makes one."""
    found = root.glob("*") if root.is_dir() else []
    sweeps = sorted(path for path in found if path.is_dir() and any(path.iterdir()))
    if not sweeps:
        raise ConfigError(f"no sweep under {root}/; run one: python -m imbalance.train -m ...")
    return sweeps[-1]


def read_sweep(path: Path) -> Sweep:
    """The finished runs under `path`, a sweep's directory (or a folder of runs gathered by
    hand). Raises ConfigError for a folder that holds other sweeps, whose runs would be mixed,
    and for a results.json that is not a run's."""
    if not path.is_dir():
        raise ConfigError(f"'{path}' is not a directory; give a sweep's outputs/multirun/<time>")
    inner = sorted(file.parent for file in path.rglob("multirun.yaml") if file.parent != path)
    if inner:
        named = ", ".join(f"'{sweep}'" for sweep in inner[:3])
        more = f" and {len(inner) - 3} more" if len(inner) > 3 else ""
        raise ConfigError(
            f"'{path}' holds {len(inner)} sweep(s) ({named}{more}), whose runs would be mixed; "
            f"give one sweep's directory, e.g. {inner[-1]} (to pool sweeps on purpose, copy "
            "their job directories into one folder)"
        )
    runs, failures = [], _failures(path)
    for file in sorted(path.rglob(FILENAME)):
        run = _run(file)
        if "diverged" in run:  # a failed job, whose results say how it failed
            failures.setdefault(str(file.parent.relative_to(path)), diverged(run["diverged"]))
        else:
            runs.append(run)
    if not runs:
        raise ConfigError(
            f"no finished runs (no {FILENAME}) under '{path}'; "
            f"give a sweep's directory, e.g. outputs/multirun/<time>"
        )
    started = {
        _job_key(OmegaConf.load(file)): str(file.parent.parent.relative_to(path))
        for file in path.rglob(".hydra/overrides.yaml")
    }
    expected = _grid_jobs(path)
    if expected is None:
        axes = _sweep_axes(path, set(started))
        runs.sort(key=lambda run: _position(run["overrides"], axes))
        expected = [] if axes is None else [frozenset(job) for job in itertools.product(*axes)]
    else:  # in the order the sweeper ran them
        order = {job: i for i, job in enumerate(expected)}
        runs.sort(key=lambda run: order.get(_job_key(run["overrides"]), len(order)))
    finished = {_job_key(run["overrides"]) for run in runs}
    unstarted = _directory_names(path, [job for job in expected if job not in started], expected)
    missing = [
        f"{started[key]} ({_why(failures.get(started[key]))})"
        for key in started
        if key not in finished
    ] + [
        f"{name} ({_why(failures[name]) if name in failures else 'never ran'})"
        for name in unstarted
    ]
    return Sweep(path, runs, sorted(missing))


def _grid_jobs(path: Path) -> list[frozenset[str]] | None:
    """A grid sweep's jobs (`imbalance.tune`), as its sweeper listed them; None for others."""
    listing = path / JOBS
    if not listing.is_file():
        return None
    try:
        return [_job_key(job) for job in json.loads(listing.read_text())]
    except ValueError as error:
        raise ConfigError(f"'{listing}' is unreadable ({error}); delete it") from error


def _failures(path: Path) -> dict[str, str]:
    """The sweep's failed jobs and why, as the sweeper listed them ({} where none failed)."""
    listing = path / FAILURES
    try:
        return json.loads(listing.read_text()) if listing.is_file() else {}
    except ValueError as error:
        raise ConfigError(f"'{listing}' is unreadable ({error}); delete it") from error


def _why(failure: str | None) -> str:
    return f"failed: {failure}" if failure else "failed or unfinished"


def _directory_names(
    path: Path, jobs: list[frozenset[str]], every: list[frozenset[str]]
) -> list[str]:
    """The directories that `jobs` of the sweep at `path` (whose jobs are `every`) would
    have: named as the sweeper names them (hydra_plugins.imbalance_plugins.sweeper), by what
    varies."""
    if not jobs:
        return []
    sweep = OmegaConf.load(path / "multirun.yaml")
    naming = OmegaConf.select(sweep, "hydra.job.config.override_dirname", default={})
    configured = list(naming.get("exclude_keys") or [])
    excluded = excluded_keys([sorted(job) for job in every], configured)
    separators = naming.get("item_sep", ","), naming.get("kv_sep", "=")
    parser = OverridesParser.create()
    return sorted(
        job_name(get_overrides_dirname(parser.parse_overrides(sorted(job)), excluded, *separators))
        for job in jobs
    )


# What the report reads of every run's results.json.
RUN_KEYS = ("overrides", "choices", "config", "classes", "minority", "counts", "test")


def _run(file: Path) -> dict:
    """`file`, a run's results.json; ConfigError (one line) when it is not one."""
    try:
        run = read_results(file.parent)
        # A run that diverged has no test results.
        needed = [key for key in RUN_KEYS if key != "test" or "diverged" not in run]
        missing = [key for key in needed if key not in run] if isinstance(run, dict) else RUN_KEYS
        why = f"it lacks {', '.join(missing)}" if missing else None
    except ValueError as error:  # not JSON, or not UTF-8
        why = f"unreadable: {error}"
    if why:
        raise ConfigError(
            f"'{file}' is not a run's {FILENAME} ({why}); move it out of the sweep's directory "
            "or give the sweep's own directory"
        )
    return run


# Overrides that say how a command treated the jobs' directories, not what the jobs are.
NOT_SETTINGS = COMMAND_KEYS


def _job_key(overrides) -> frozenset[str]:
    return frozenset(
        str(override)
        for override in overrides
        if str(override).split("=", 1)[0] not in NOT_SETTINGS
    )


def _position(overrides: list[str], axes: list[list[str]] | None) -> tuple:
    """Where a job comes in its sweep: the order in which the user typed each axis's values."""
    chosen = set(overrides)
    return tuple(
        next((i for i, value in enumerate(axis) if value in chosen), len(axis))
        for axis in axes or []
    )


def _sweep_axes(path: Path, started: set[frozenset[str]]) -> list[list[str]] | None:
    """Each override of the sweep as its jobs' `key=value` strings, from multirun.yaml; None
    where the jobs are not known in advance (no multirun.yaml, or an optimizer's sweep). A
    glob over a config group (`remedy='glob(*)'`) is expanded by Hydra's config loader when
    the sweep starts: its values are those of the jobs that started, in name order."""
    config_file = path / "multirun.yaml"
    if not config_file.is_file():
        return None
    overrides = OverridesParser.create().parse_overrides(
        list(OmegaConf.load(config_file).hydra.overrides.task)
    )
    axes = {}  # a key given twice takes its last value, as in the jobs
    for override in overrides:
        key = override.get_key_element()
        axes.pop(key, None)
        if key in NOT_SETTINGS:
            continue
        if isinstance(override.value(), Glob):
            prefix = f"{key}="
            axes[key] = sorted({o for job in started for o in job if o.startswith(prefix)})
        elif override.is_sweep_override():
            if not override.is_discrete_sweep():
                return None
            axes[key] = [f"{key}={value}" for value in override.sweep_string_iterator()]
        else:
            axes[key] = [f"{key}={override.get_value_element_as_str()}"]
    return list(axes.values())
