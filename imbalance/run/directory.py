"""A run's directory: one writer at a time, nothing written by a command it refuses, and
output that cannot be written said in one line.

- One writer: a run holds an exclusive lock on LOCK (an empty file) in its directory while it
  runs; a second run started into the same directory is refused in one line. The operating
  system releases the lock when its process ends, killed or not, so no stale lock blocks the
  next run.
- Nothing written by a refused command: `.hydra/` (the composed config, Hydra's settings and
  the overrides) is written once the directory is accepted (a fresh one, or a run of the same
  config to resume or skip), not before the run starts as Hydra would (`hydra.output_subdir`
  is null); a refused command leaves the log alone too (DirectoryRefused).
- Output that cannot be written: the run's (or sweep's) directory is created before anything
  else (WritableOutput, a Hydra callback), and a write that fails later, a full disk included,
  ends the run with one line naming the path and the cause (`cannot_write`).
"""

import contextlib
import errno
import fcntl
import os
import sys
from collections.abc import Iterator
from pathlib import Path

from hydra.core.hydra_config import HydraConfig
from hydra.experimental.callback import Callback
from lightning.pytorch.utilities import rank_zero_only
from omegaconf import DictConfig, OmegaConf

from imbalance.errors import ConfigError
from imbalance.run.results import atomic_write

LOCK = ".lock"
ELSEWHERE = "(hydra.run.dir=..., or a sweep's hydra.sweep.dir=...)"


class DirectoryRefused(ConfigError):
    """The directory holds another run, or one that is running: the command changes nothing in
    it, its log included."""


@contextlib.contextmanager
def only_writer(run_dir: Path) -> Iterator[None]:
    """Holds the run directory's lock while the block runs; DirectoryRefused if another
    process holds it (this process's own lock does not refuse it). A multi-device run's other
    processes share their first one's lock."""
    if rank_zero_only.rank != 0:
        yield
        return
    run_dir.mkdir(parents=True, exist_ok=True)
    with open(run_dir / LOCK, "a+") as lock:
        try:
            # A POSIX lock, not flock's: DataLoader workers forked from this process do not
            # share it, so it goes with this process; and it holds on NFS.
            fcntl.lockf(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as error:
            if error.errno not in (errno.EACCES, errno.EAGAIN):
                raise
            raise DirectoryRefused(
                f"{run_dir} is in use by a run still going (it holds {run_dir / LOCK}): wait "
                f"for it to end, or give this run a directory of its own {ELSEWHERE}"
            ) from None
        yield  # the lock goes with the file's closing, or with the process


def write_hydra_files(run_dir: Path, cfg: DictConfig) -> None:
    """`.hydra/config.yaml`, `hydra.yaml` and `overrides.yaml`, as Hydra writes them."""
    hydra = HydraConfig.instance().cfg
    files = {
        "config.yaml": cfg,
        "hydra.yaml": hydra,
        "overrides.yaml": hydra.hydra.overrides.task,
    }
    (run_dir / ".hydra").mkdir(exist_ok=True)
    for name, content in files.items():
        text = OmegaConf.to_yaml(content).encode()
        atomic_write(run_dir / ".hydra" / name, lambda file, text=text: file.write(text))


# Failures to write that the user can act on, and what to do.
ADVICE = {
    errno.ENOSPC: "free space on that disk, or write elsewhere",
    errno.EDQUOT: "free space within the quota, or write elsewhere",
    errno.EROFS: "the file system is read-only: write elsewhere",
    errno.EACCES: "write where you have permission",
    errno.EPERM: "write where you have permission",
    errno.ENOTDIR: "a part of the path is a file, not a folder: choose another path",
    errno.ENOENT: "choose a path that can be created",
}


def cannot_write(
    error: BaseException, run_dir: Path | None = None, places: dict[str, str | None] | None = None
) -> str | None:
    """The one line for a write that failed somewhere in `error`'s chain: a full disk or quota
    or a read-only file system anywhere, other causes in `run_dir`. None for other errors.
    `places` ({setting: its folder}, e.g. data.cache_dir) names the setting that moves a path
    under one of them elsewhere; the run's directory's otherwise."""
    while error is not None:
        if isinstance(error, OSError) and error.errno in ADVICE:
            path = error.filename
            anywhere = error.errno in (errno.ENOSPC, errno.EDQUOT, errno.EROFS)
            inside = path is not None and run_dir is not None and within(path, run_dir)
            setting = next(
                (
                    setting
                    for setting, folder in (places or {}).items()
                    if folder is not None and path is not None and within(path, folder)
                ),
                None,
            )
            if anywhere or inside or setting:
                where = f" {path}" if path is not None else ""
                cause = error.strerror or os.strerror(error.errno)
                elsewhere = f"({setting}=...)" if setting else ELSEWHERE
                return f"cannot write{where}: {cause.lower()}; {ADVICE[error.errno]} {elsewhere}"
        error = error.__cause__ or error.__context__
    return None


def within(path, folder: Path) -> bool:
    """Whether `path` lies in `folder` (or is it), both as absolute paths."""
    return Path(os.path.abspath(path)).is_relative_to(os.path.abspath(folder))


class WritableOutput(Callback):
    """Creates the run's (or the sweep's) directory before Hydra does, and ends the command in
    one line where it cannot be created or written (status 2)."""

    def on_run_start(self, config: DictConfig, **kwargs) -> None:
        check_writable(Path(config.hydra.run.dir))

    def on_multirun_start(self, config: DictConfig, **kwargs) -> None:
        check_writable(Path(config.hydra.sweep.dir))


def check_writable(folder: Path) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
        if not os.access(folder, os.W_OK):
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(folder))
    except OSError as error:
        if error.filename is None:
            error.filename = str(folder)
        line = cannot_write(error, folder) or f"cannot write {folder}: {error}"
        print(f"error: {line}", file=sys.stderr)
        sys.exit(2)
