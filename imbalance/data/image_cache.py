"""Decoded images kept on disk and shared by every job: an image file is decoded and resized at
most once per size, whatever the number of jobs, sweeps or ratios that use it.

An entry is keyed by everything that changes its content: the file's bytes (their sha256: a file
replaced in place is decoded again, whatever its size and times say), the output size and the
decoder's version. Entries are written to a temporary file and renamed into place, so jobs
filling the cache at once never see half an image; at worst two of them decode the same image.
An entry that is damaged (half-written by a crash, emptied) or gone is decoded again, with one
line in the log.
"""

import functools
import hashlib
import io
import logging
from collections.abc import Callable
from pathlib import Path

import numpy as np

from imbalance.run.results import atomic_write

log = logging.getLogger(__name__)

Decode = Callable[[str, int], np.ndarray]


def cached_decode(
    path: str, size: int, decoder: str, decode: Decode, cache_dir: Path
) -> np.ndarray:
    """`decode(path, size)`, from `cache_dir` when an earlier job already did it."""
    entry = cache_entry(path, size, decoder, cache_dir)
    if entry is None:  # not there, or a dangling link: the decoder says so as for any bad file
        return decode(path, size)
    image = read_entry(entry, (size, size, 3))
    return image if image is not None else write_entry(entry, decode(path, size))


def cached_file(path: str, size: int, decoder: str, decode: Decode, cache_dir: Path) -> Path:
    """The cache entry of `decode(path, size)`, decoded now only when no job did it before (or
    its entry is damaged): an `.npy` file of the image, for reading back a batch at a time."""
    entry = cache_entry(path, size, decoder, cache_dir)
    if entry is None:
        decode(path, size)  # raises, naming the file
    if not _whole(entry, (size, size, 3)):
        write_entry(entry, decode(path, size))
    return entry


def cache_entry(path: str, size: int, decoder: str, cache_dir: Path) -> Path | None:
    """Where the decoded image of `path` at `size` lives in `cache_dir`; None for a file that
    cannot be read at all."""
    try:
        with open(path, "rb") as file:
            content = hashlib.file_digest(file, "sha256").hexdigest()
    except OSError:
        return None
    digest = hashlib.sha256(f"{content}|{size}|{decoder}".encode()).hexdigest()
    return cache_dir / digest[:2] / f"{digest}.npy"


def read_entry(entry: Path, shape: tuple[int, ...]) -> np.ndarray | None:
    """The image an entry holds, or None when there is none: no file yet, or one that is not
    a uint8 array of `shape` (half-written, emptied, of another version), said in the log."""
    try:
        image = np.load(entry)
    except FileNotFoundError:
        return None
    except (OSError, ValueError, EOFError) as error:
        log.warning(f"image cache entry {entry} is damaged ({error}): decoded again")
        return None
    if image.dtype != np.uint8 or image.shape != shape:
        log.warning(
            f"image cache entry {entry} holds a {image.dtype} array of {image.shape}, not an "
            f"image of {shape}: decoded again"
        )
        return None
    return image


def _whole(entry: Path, shape: tuple[int, ...]) -> bool:
    """Whether an entry is there at the size of an image of `shape`, told without reading it
    (its header is checked when it is read); one that is not is said in the log."""
    try:
        size = entry.stat().st_size
    except FileNotFoundError:
        return False
    if size != _entry_bytes(shape):
        log.warning(f"image cache entry {entry} has {size} bytes, not an image's: decoded again")
        return False
    return True


@functools.cache
def _entry_bytes(shape: tuple[int, ...]) -> int:
    """The bytes of an entry that holds a uint8 image of `shape`."""
    buffer = io.BytesIO()
    np.save(buffer, np.zeros(shape, np.uint8))
    return buffer.tell()


def write_entry(entry: Path, image: np.ndarray) -> np.ndarray:
    """`image` into the cache's `entry`, whole or not at all (written aside, then renamed)."""
    entry.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(entry, lambda file: np.save(file, image))
    return image
