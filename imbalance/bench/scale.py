"""Data larger than memory, measured (`python -m imbalance.bench --scale 20000,100000`).

For each size, a long-tailed folder of generated 64-pixel JPEGs is made in a temporary folder
(`make_folder`: 100 classes, the largest 100 times the smallest), then trained on for 2
epochs with the compact network twice, side by side:

- (a) a framework run, `profile=natural data.in_memory=false`: decoded once into the image
  cache, read back by DataLoader workers;
- (c) the pipeline a user would otherwise write: a DataLoader whose workers decode and resize
  every image every epoch (`baselines.naive`), in plain Lightning.

Each gives images a second of its first epoch (the framework's includes decoding every image
into the cache) and of its later one, and its peak anonymous memory: the most its processes
held at once (workers included, pages they share with their parent counted once; the page
cache of mapped files is not counted). And what the image cache's keys cost: the sha256 of
every file's bytes, against a stat of each (`key_seconds`).
"""

import os
import threading
import time
from pathlib import Path

import numpy as np
from PIL import Image

from imbalance.data.subsets import exponential_sizes

CLASSES, RATIO, SIZE = 100, 100, 64


def long_tail_counts(total: int, classes: int = CLASSES, ratio: float = RATIO) -> list[int]:
    """Images per class of a folder of about `total` images, falling exponentially from the
    first class to the last, `ratio` times smaller (the exponential profile's sizes)."""
    return exponential_sizes(classes, round(total / classes), ratio)


def make_folder(root: Path, total: int, seed: int = 0) -> Path:
    """A class-per-folder tree of about `total` JPEGs of SIZE pixels, long-tailed: blocks of
    colour and noise, so that they compress and decode as photos do, not as pure noise."""
    rng = np.random.default_rng(seed)
    for c, count in enumerate(long_tail_counts(total)):
        folder = root / f"class_{c:03d}"
        folder.mkdir(parents=True)
        for i in range(count):
            blocks = rng.integers(0, 256, size=(8, 8, 3), dtype=np.uint8)
            pixels = np.kron(blocks, np.ones((SIZE // 8, SIZE // 8, 1), dtype=np.uint8))
            pixels = pixels + rng.integers(0, 16, size=pixels.shape, dtype=np.uint8)
            Image.fromarray(pixels).save(folder / f"{i:05d}.jpg", quality=90)
    return root


def key_seconds(root: Path) -> tuple[float, float, int]:
    """Seconds to key every image file under `root` as the image cache does (the sha256 of its
    bytes, `image_cache.cache_entry`), seconds to stat each (what a key of path, size and times
    took before), and the files' bytes; the page cache warmed by a first read."""
    from imbalance.data.image_cache import cache_entry

    files = sorted(str(path) for path in root.rglob("*.jpg"))
    for file in files:
        Path(file).read_bytes()
    start = time.perf_counter()
    for file in files:
        cache_entry(file, SIZE, "bench", root)
    hashed = time.perf_counter() - start
    start = time.perf_counter()
    for file in files:
        os.stat(file)
    return hashed, time.perf_counter() - start, sum(os.path.getsize(f) for f in files)


def anonymous_memory(pid: int) -> int:
    """The anonymous memory of process `pid` and all its descendants, in bytes (0 for a process
    gone): the sum of their Pss_Anon, in which a page that forked workers still share with
    their parent counts once, split between them (their RssAnon would count it in each)."""
    total, pending = 0, [pid]
    while pending:
        current = pending.pop()
        try:
            rollup = Path(f"/proc/{current}/smaps_rollup").read_text()
            for task in Path(f"/proc/{current}/task").iterdir():
                pending += [int(p) for p in (task / "children").read_text().split()]
        except (FileNotFoundError, ProcessLookupError):
            continue
        for line in rollup.splitlines():
            if line.startswith("Pss_Anon:"):
                total += int(line.split()[1]) * 1024
    return total


class PeakMemory:
    """The most anonymous memory a process tree held at once, sampled every `every` seconds
    from a thread while the process runs: `with PeakMemory(pid) as peak: ...; peak.bytes`."""

    def __init__(self, pid: int, every: float = 0.1):
        self.pid, self.every, self.bytes = pid, every, 0
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._done.is_set():
            self.bytes = max(self.bytes, anonymous_memory(self.pid))
            time.sleep(self.every)

    def __enter__(self) -> "PeakMemory":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._done.set()
        self._thread.join()
