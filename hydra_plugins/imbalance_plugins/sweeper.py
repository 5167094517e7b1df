"""Hydra's basic sweeper, with job directories named by what varies across the sweep.

Each job's directory is named by its overrides (`hydra.job.override_dirname`). An override that
every job of the sweep shares (`data.test=balanced` in `-m remedy=none,focal data.test=balanced`)
tells the jobs apart no more than the sweep's directory does, so it is left out of the names:
`remedy=focal`, not `data.test=balanced,remedy=focal`. results.json keeps every override.
"""

from collections.abc import Sequence

from hydra._internal.core_plugins.basic_sweeper import BasicSweeper
from hydra.core.override_parser.overrides_parser import OverridesParser


def shared_keys(jobs: Sequence[Sequence[str]]) -> list[str]:
    """The keys whose `key=value` is the same in every job; none where nothing varies (one job,
    or the same job twice), so that every job keeps a name."""
    if len({frozenset(job) for job in jobs}) < 2:
        return []
    common = set(jobs[0]).intersection(*jobs[1:])
    parsed = OverridesParser.create().parse_overrides(sorted(common))
    return [override.key_or_group for override in parsed]


class Sweeper(BasicSweeper):
    def get_job_batch(self) -> Sequence[Sequence[str]]:
        batch = super().get_job_batch()
        shared = shared_keys([job for jobs in self.overrides for job in jobs])
        if not shared:
            return batch
        keys = [*self.config.hydra.job.config.override_dirname.exclude_keys, *shared]
        exclude = f"hydra.job.config.override_dirname.exclude_keys=[{','.join(map(repr, keys))}]"
        return [[*job, exclude] for job in batch]
