"""A report appears whole or not at all: its files are written into a folder of their own
beside the destination, then moved into place together, and the files of an earlier report in
that folder that this one does not write (paired.md of a run with --baseline...) are removed
with them. The files a report wrote are listed in the folder's `.report-files`, so that only
a report's own files are ever removed from a folder it shares with others (--out DIR)."""

import contextlib
import shutil
import signal
import tempfile
from collections.abc import Iterator
from pathlib import Path

LISTED = ".report-files"


@contextlib.contextmanager
def staged(out: Path, owned: list[str] = ()) -> Iterator[Path]:
    """A folder to write the report into; on leaving without an error, each file there is moved
    into `out`, and each file of the earlier report there (its `.report-files`, and `owned`:
    names this folder's reports always own) that this one lacks is removed from `out`. On an
    error or Ctrl-C, `out` is left as it was."""
    stage = Path(tempfile.mkdtemp(prefix=".report-", dir=out))
    try:
        yield stage
        written = sorted(path.name for path in stage.iterdir())
        earlier = set(owned) | set(_listed(out))
        (stage / LISTED).write_text("".join(f"{name}\n" for name in written))
        with no_interruption():
            for name in [*written, LISTED]:
                (stage / name).replace(out / name)
            for name in earlier - set(written):
                (out / name).unlink(missing_ok=True)
    finally:
        shutil.rmtree(stage, ignore_errors=True)


def _listed(out: Path) -> list[str]:
    try:
        names = (out / LISTED).read_text().split("\n")
    except FileNotFoundError:
        return []
    return [name for name in names if name and "/" not in name and name != LISTED]


@contextlib.contextmanager
def no_interruption() -> Iterator[None]:
    """Ctrl-C is ignored while the block runs (a few renames), so that a report is never half
    moved into place."""
    try:
        previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    except ValueError:  # not the main thread: no signal reaches this block anyway
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
