"""Decoded images kept on disk and shared by every job: an image file is decoded and resized at
most once per size, whatever the number of jobs, sweeps or ratios that use it.

An entry is keyed by everything that changes its content: the file (absolute path, size and
modification time), the output size and the decoder's version. Entries are written to a
temporary file and renamed into place, so jobs filling the cache at once never see half an
image; at worst two of them decode the same image.
"""

import hashlib
import os
from collections.abc import Callable
from pathlib import Path

import numpy as np

from imbalance.results import atomic_write


def cached_decode(
    path: str, size: int, decoder: str, decode: Callable[[str, int], np.ndarray], cache_dir: Path
) -> np.ndarray:
    """`decode(path, size)`, from `cache_dir` when an earlier job already did it."""
    entry = cache_entry(path, size, decoder, cache_dir)
    if entry is None:  # not there, or a dangling link: the decoder says so as for any bad file
        return decode(path, size)
    try:
        return np.load(entry)
    except FileNotFoundError:
        pass
    return _fill(entry, decode(path, size))


def cached_file(
    path: str, size: int, decoder: str, decode: Callable[[str, int], np.ndarray], cache_dir: Path
) -> Path:
    """The cache entry of `decode(path, size)`, decoded now only when no job did it before: an
    `.npy` file of the image, for reading back a batch at a time."""
    entry = cache_entry(path, size, decoder, cache_dir)
    if entry is None:
        decode(path, size)  # raises, naming the file
    if not entry.exists():
        _fill(entry, decode(path, size))
    return entry


def cache_entry(path: str, size: int, decoder: str, cache_dir: Path) -> Path | None:
    """Where the decoded image of `path` at `size` lives in `cache_dir`; None for a file that
    cannot be read at all."""
    try:
        stat = os.stat(path)
    except OSError:
        return None
    key = f"{os.path.abspath(path)}|{stat.st_size}|{stat.st_mtime_ns}|{size}|{decoder}"
    digest = hashlib.sha256(key.encode()).hexdigest()
    return cache_dir / digest[:2] / f"{digest}.npy"


def _fill(entry: Path, image: np.ndarray) -> np.ndarray:
    entry.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(entry, lambda file: np.save(file, image))
    return image
