"""Hydra's basic sweeper, with job directories named by what varies across the sweep.

Each job's directory is named by its overrides (`hydra.job.override_dirname`). An override that
every job of the sweep shares (`data.test=balanced` in `-m remedy=none,focal data.test=balanced`)
tells the jobs apart no more than the sweep's directory does, so it is left out of the names:
`remedy=focal`, not `data.test=balanced,remedy=focal`. results.json keeps every override.
Where that would leave two jobs the same name, or one none (jobs that differ only in keys
never named, such as data.root), every override stays in the names.

The names depend on the whole sweep: run the same command into a sweep's directory to resume
it (a command over part of its values would name its jobs differently).

Every job runs, whatever the others do: a job that fails (bad input, a crash, a loss that
diverged) is recorded, and the sweep goes on. At its end, the failed jobs are listed with
their one-line reasons in the log and in FAILURES in the sweep's directory (which the report
reads), and the command exits with status 1.

With `grid: true` (`python -m imbalance.tune`), each job of the sweep becomes one job per point
of its remedy's grid (`imbalance.grid.grid_jobs`), listed in JOBS in the sweep's directory.
"""

import json
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from hydra._internal.core_plugins.basic_sweeper import BasicSweeper
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.core.override_parser.types import Override
from hydra.core.utils import JobReturn, JobStatus
from omegaconf import OmegaConf

from imbalance.errors import ConfigError, JobFailed
from imbalance.grid import grid_jobs
from imbalance.run.results import atomic_write
from imbalance.run.sweep_dir import FAILURES, JOBS, excluded_keys

log = logging.getLogger(__name__)


def failure(job: JobReturn) -> str:
    """Why `job` failed, in one line: JobFailed's own line (imbalance.train), else the error."""
    error = job._return_value  # the public return_value raises it, with a line on stderr
    line = str(error) if isinstance(error, JobFailed) else f"{type(error).__name__}: {error}"
    return " ".join(line.split())


class Sweeper(BasicSweeper):
    def __init__(self, max_batch_size: int | None, params: dict | None = None, grid: bool = False):
        super().__init__(max_batch_size, params)
        self.grid = grid

    def sweep(self, arguments: list[str]) -> list[Sequence[JobReturn]]:
        """Hydra's sweep, every batch launched whatever failed in the ones before; then the
        failed jobs listed (FAILURES) and the command ended with status 1 if there are any."""
        params = [*self._parse_config(), *arguments]
        parser = OverridesParser.create(config_loader=self.hydra_context.config_loader)
        parsed = parser.parse_overrides(params)
        sweep_dir = Path(self.config.hydra.sweep.dir)
        if self.grid:
            try:
                points = self.grid_points(parsed)
            except ConfigError as error:
                print(f"error: {error}", file=sys.stderr)
                sys.exit(2)
            self.overrides = list(self.split_overrides_to_chunks(points, self.max_batch_size))
        else:
            self.overrides = self.split_arguments(parsed, self.max_batch_size)
        sweep_dir.mkdir(parents=True, exist_ok=True)
        OmegaConf.save(self.config, sweep_dir / "multirun.yaml")
        if self.grid:
            atomic_write(sweep_dir / JOBS, lambda file: file.write(json.dumps(points).encode()))
        else:
            (sweep_dir / JOBS).unlink(missing_ok=True)  # an earlier grid sweep's, into this one
        returns, failed, launched = [], {}, 0
        while not self.is_done():
            batch = self.get_job_batch()
            self.validate_batch_is_legal(batch)
            jobs = self.launcher.launch(batch, initial_job_idx=launched)
            for job in jobs:
                if job.status != JobStatus.COMPLETED:
                    directory = os.path.relpath(job.hydra_cfg.hydra.runtime.output_dir, sweep_dir)
                    failed[directory] = failure(job)
            launched += len(batch)
            returns.append(jobs)
        listing = sweep_dir / FAILURES
        if not failed:
            listing.unlink(missing_ok=True)  # an earlier try's failures, run again
            return returns
        atomic_write(listing, lambda file: file.write(json.dumps(failed, indent=1).encode()))
        for directory, why in failed.items():
            log.error(f"failed: {directory}: {why}")
        print(
            f"error: {len(failed)} of {launched} jobs failed, listed with their reasons in "
            f"{listing}; the others finished. Fix the cause and run the same command again: "
            "finished jobs are skipped",
            file=sys.stderr,
        )
        sys.exit(1)

    def grid_points(self, overrides: list[Override]) -> list[list[str]]:
        """Every job of the sweep's cartesian product, at every point of its remedy's grid."""
        (jobs,) = self.split_arguments(overrides, None)
        loader = self.hydra_context.config_loader
        return [
            point
            for job in jobs
            for point in grid_jobs(job, loader.load_sweep_config(self.config, list(job)))
        ]

    def get_job_batch(self) -> Sequence[Sequence[str]]:
        batch = super().get_job_batch()
        jobs = [job for jobs in self.overrides for job in jobs]
        configured = self.config.hydra.job.config.override_dirname.exclude_keys
        keys = excluded_keys(jobs, configured)
        if keys == list(configured):
            return batch  # every override in the names, as Hydra gives them
        exclude = f"hydra.job.config.override_dirname.exclude_keys=[{','.join(map(repr, keys))}]"
        return [[*job, exclude] for job in batch]
