"""Hydra's basic sweeper, with job directories named by what varies across the sweep.

Each job's directory is named by its overrides (`hydra.job.override_dirname`). An override that
every job of the sweep shares (`data.test=balanced` in `-m remedy=none,focal data.test=balanced`)
tells the jobs apart no more than the sweep's directory does, so it is left out of the names:
`remedy=focal`, not `data.test=balanced,remedy=focal`. results.json keeps every override.
Where that would leave two jobs the same name, or one none (jobs that differ only in keys
never named, such as data.root), every override stays in the names.

The names depend on the whole sweep: run the same command into a sweep's directory to resume
it (a command over part of its values would name its jobs differently).
"""

from collections.abc import Sequence

from hydra._internal.core_plugins.basic_sweeper import BasicSweeper
from hydra.core.override_parser.overrides_parser import OverridesParser

PARSER = OverridesParser.create()


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


class Sweeper(BasicSweeper):
    def get_job_batch(self) -> Sequence[Sequence[str]]:
        batch = super().get_job_batch()
        jobs = [job for jobs in self.overrides for job in jobs]
        keys = [*self.config.hydra.job.config.override_dirname.exclude_keys, *shared_keys(jobs)]
        if not named_apart(jobs, keys):
            return batch  # every override in the names, as Hydra gives them
        exclude = f"hydra.job.config.override_dirname.exclude_keys=[{','.join(map(repr, keys))}]"
        return [[*job, exclude] for job in batch]
