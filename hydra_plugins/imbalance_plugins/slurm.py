"""hydra-submitit-launcher's SLURM launcher, which first checks that the cluster can run the
sweep's jobs at all: where no node of the partition has what each job asks for, it says so in
one line and submits nothing, instead of leaving jobs that would wait forever
(imbalance/run/cluster.py). Where `sinfo` is missing or fails, it submits as before. A submission
that `sbatch` refuses ends with one line too, after sbatch's own message."""

import subprocess
import sys
from collections.abc import Sequence

from hydra.core.utils import JobReturn
from hydra_plugins.hydra_submitit_launcher.submitit_launcher import (
    SlurmLauncher as SubmititSlurmLauncher,
)

from imbalance.run.cluster import Request, read_cluster, refusal


class SlurmLauncher(SubmititSlurmLauncher):
    def launch(
        self, job_overrides: Sequence[Sequence[str]], initial_job_idx: int
    ) -> Sequence[JobReturn]:
        # Imported here, as the base class does: Hydra imports every plugin at every start.
        from submitit.core.utils import FailedJobError

        cluster = read_cluster()
        problem = cluster and refusal(Request.of(self.params), cluster)
        if problem:
            stop(problem)
        try:
            return super().launch(job_overrides, initial_job_idx)
        except FailedJobError as error:
            cause = error.__cause__
            if not (isinstance(cause, subprocess.CalledProcessError) and cause.cmd[0] == "sbatch"):
                raise
            reason = (cause.stderr or "").strip().splitlines() or ["no reason given"]
            for prefix in ("sbatch: error: ", "Batch job submission failed: "):
                reason[-1] = reason[-1].removeprefix(prefix)
            stop(
                f"sbatch refused the jobs: {reason[-1]}; check the hydra.launcher settings "
                f"against the cluster (sinfo)"
            )


def stop(message: str) -> None:
    """Ends the command as imbalance.train ends on bad input: one line, exit status 2."""
    print(f"error: {message}", file=sys.stderr)
    sys.exit(2)
