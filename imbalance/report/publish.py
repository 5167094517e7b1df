"""A report appears whole or not at all: its files are written into a folder of their own
beside the destination, then moved into place together, and an earlier report's files that
this one does not write (paired.md from a run with --baseline...) are removed with them."""

import contextlib
import shutil
import signal
import tempfile
from collections.abc import Iterator
from pathlib import Path


@contextlib.contextmanager
def staged(out: Path, names: list[str]) -> Iterator[Path]:
    """A folder to write the report into; on leaving without an error, each file there is moved
    into `out`, and every one of `names` (the report's possible files) it lacks is removed from
    `out`. On an error or Ctrl-C, `out` is left as it was."""
    stage = Path(tempfile.mkdtemp(prefix=".report-", dir=out))
    try:
        yield stage
        with no_interruption():
            written = {path.name for path in stage.iterdir()}
            for name in sorted(written):
                (stage / name).replace(out / name)
            for name in set(names) - written:
                (out / name).unlink(missing_ok=True)
    finally:
        shutil.rmtree(stage, ignore_errors=True)


@contextlib.contextmanager
def no_interruption() -> Iterator[None]:
    """Ctrl-C waits until the block is done (a few renames), then interrupts as usual."""
    caught = []
    try:
        previous = signal.signal(signal.SIGINT, lambda *args: caught.append(args))
    except ValueError:  # not the main thread: no signal reaches this block anyway
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
        if caught:
            raise KeyboardInterrupt
