"""Where a run's decoded images live while it trains: in memory, or on disk for data larger
than memory.

In memory (`InMemoryImages`), the fastest: uint8 tensors, a batch one indexing of them, and
on a GPU copied there once. On disk (`OnDiskImages`): each image decoded once into the shared
image cache (`imbalance.data.image_cache`, one fixed-size uint8 array a file), read back a
batch at a time by DataLoader workers through the page cache that every job shares; the run
holds a batch, never the data set, so its memory does not grow with the data set. Both give
a batch as the same uint8 [n, C, H, W] tensor and its labels, for the same indices, so a
sampler draws the same batches on either; augmentation is applied to whole batches on the
model's device in both.

`data.in_memory=auto` keeps a run's images in memory up to IN_MEMORY_LIMIT bytes of decoded
pixels (all splits together), and on disk past it; `true` and `false` choose.
"""

import logging
import math
import os
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset, TensorDataset

from imbalance.errors import ConfigError

log = logging.getLogger(__name__)

IN_MEMORY_LIMIT = 4 * 2**30  # bytes of decoded pixels
MEAN_CHUNK = 1024  # images read at a time for the mean image of a data set on disk


def in_memory(setting: str | bool, images: int, channels: int, size: int) -> bool:
    """Whether `images` decoded images of `channels` x `size` x `size` bytes stay in memory
    under `data.in_memory` (`auto`, true or false)."""
    if setting == "auto":
        return images * channels * size * size <= IN_MEMORY_LIMIT
    return bool(setting)


def workers() -> int:
    """DataLoader workers that read images on disk: the cores this process may use, at most 4."""
    cores = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else range(os.cpu_count())
    return min(4, len(cores))


class InMemoryImages(TensorDataset):
    """uint8 images and their labels in memory. A DataLoader gets a whole batch through one
    indexing of the tensors (`__getitems__`), not one lookup per image; its sampler stays the
    standard one, which Lightning replaces for distributed training."""

    on_disk = False

    @property
    def labels(self) -> torch.Tensor:
        return self.tensors[1]

    def __getitems__(self, indices: list[int]) -> tuple[torch.Tensor, ...]:
        index = torch.as_tensor(indices)
        device = self.tensors[0].device
        if device.type == "cuda":
            # Indexing with a CPU index copies it from pageable memory, which waits for every
            # kernel queued on the GPU (the last step's); pinned, the copy is queued instead.
            index = index.pin_memory().to(device, non_blocking=True)
        return tuple(tensor[index] for tensor in self.tensors)

    def to(self, device: torch.device) -> "InMemoryImages":
        return InMemoryImages(*(tensor.to(device) for tensor in self.tensors))

    def mean_image(self) -> torch.Tensor:
        """The mean image [C, H, W], float64: sums of whole numbers, exact in any order, so the
        same on every CPU and GPU; summed a chunk at a time, never the whole set in float64."""
        images = self.tensors[0]
        total = sum(chunk.double().sum(dim=0) for chunk in images.split(MEAN_CHUNK))
        return total / len(images)


class OnDiskImages(Dataset):
    """Images in the image cache, one `.npy` file of uint8 [H, W, C] each (`files`), and their
    labels, read a batch at a time.

    A file is read whole into the batch, through the page cache that every job on the machine
    shares, rather than memory-mapped: mapping a file of a few kilobytes costs more system
    calls than reading it. Every file of a set holds an image of the same shape, so its header
    is parsed once and each file's size checked against it. An entry that is gone or damaged
    (deleted or cut short while the run reads it) is decoded again from its image file
    (`sources`, with `decode(path)`, which goes through the cache under the file's key as it
    is now), with one line in the log; without them, it stops the run in one line that names
    it."""

    on_disk = True

    def __init__(
        self,
        files: np.ndarray | Sequence[Path],
        labels: torch.Tensor,
        sources: np.ndarray | None = None,
        decode: Callable[[str], np.ndarray] | None = None,
    ):
        # One array of bytes, not a Python object per file: workers that read an object's
        # reference count copy its page, so a list would grow every worker with the data set.
        if not isinstance(files, np.ndarray):
            files = np.array([os.fsencode(file) for file in files])
        self.files = files
        self.labels = labels
        self.sources, self.decode = sources, decode
        self.shape, self.header = (), 0
        if len(files):
            first = self._read(0)
            self.shape = first.shape
            self.header = np.load(files[0], mmap_mode="r").offset

    def __len__(self) -> int:
        return len(self.files)

    def _read(self, index: int) -> np.ndarray:
        if not self.shape:  # the first entry, read whole to learn the shape
            try:
                return np.load(self.files[index])
            except (OSError, ValueError, EOFError):
                return self._decode_again(index)
        pixels = math.prod(self.shape)
        try:
            descriptor = os.open(self.files[index], os.O_RDONLY)
        except FileNotFoundError:
            return self._decode_again(index)
        try:
            data = os.read(descriptor, self.header + pixels + 1)
        finally:
            os.close(descriptor)
        if len(data) != self.header + pixels or not data.startswith(b"\x93NUMPY"):
            return self._decode_again(index)
        return np.frombuffer(data, np.uint8, offset=self.header).reshape(self.shape)

    def _decode_again(self, index: int) -> np.ndarray:
        entry = os.fsdecode(self.files[index])
        if self.decode is None:
            shape = f"a {'x'.join(map(str, self.shape))} image" if self.shape else "an image"
            raise ConfigError(
                f"image cache entry {entry} is not {shape} (gone, damaged, or written by "
                "another version): delete it and run again, it is decoded anew"
            )
        source = os.fsdecode(self.sources[index])
        log.warning(f"image cache entry {entry} is gone or damaged: decoded again from {source}")
        return self.decode(source)

    def __getitems__(self, indices: list[int]) -> tuple[torch.Tensor, torch.Tensor]:
        images = np.stack([self._read(i) for i in indices])
        pixels = torch.from_numpy(images).permute(0, 3, 1, 2).contiguous()
        return pixels, self.labels[torch.as_tensor(indices)]

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        images, labels = self.__getitems__([index])
        return images[0], labels[0]

    def mean_image(self) -> torch.Tensor:
        """The mean image [C, H, W], float64, summed a chunk at a time: never the whole set in
        memory."""
        total = None
        for start in range(0, len(self), MEAN_CHUNK):
            chunk = self.__getitems__(list(range(start, min(start + MEAN_CHUNK, len(self)))))[0]
            part = chunk.double().sum(dim=0)
            total = part if total is None else total + part
        return total / len(self)
