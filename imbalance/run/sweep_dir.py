"""A sweep's directory: the files the sweeper writes there beside its jobs' directories, and
how the jobs' directories are named. The sweeper (hydra_plugins/imbalance_plugins) writes them,
the report reads them."""

from collections.abc import Sequence

from hydra.core.override_parser.overrides_parser import OverridesParser

PARSER = OverridesParser.create()
FAILURES = "failed_jobs.json"  # {job directory: why it failed}
JOBS = "grid_jobs.json"  # a grid sweep's jobs, each as its overrides, in order


def shared_keys(jobs: Sequence[Sequence[str]]) -> list[str]:
    """The keys whose `key=value` is the same in every job."""
    common = set(jobs[0]).intersection(*jobs[1:])
    return [override.key_or_group for override in PARSER.parse_overrides(sorted(common))]


def named_apart(jobs: Sequence[Sequence[str]], excluded: Sequence[str]) -> bool:
    """Whether every job keeps a name of its own, distinct from the others', once the keys in
    `excluded` are left out of the names."""
    names = []
    for job in jobs:
        overrides = PARSER.parse_overrides(list(job))
        names.append(
            tuple(sorted(o.input_line for o in overrides if o.key_or_group not in excluded))
        )
    return all(names) and len(set(names)) == len(names)


def excluded_keys(jobs: Sequence[Sequence[str]], exclude_keys: Sequence[str]) -> list[str]:
    """The keys left out of the jobs' directory names: `exclude_keys` (the config's), and
    those every job shares where the names stay apart without them."""
    keys = [*exclude_keys, *shared_keys(jobs)]
    return keys if named_apart(jobs, keys) else list(exclude_keys)
