"""What a source gives: a catalog that lists every image's class without decoding anything, so
that the imbalanced subset is chosen from labels alone; only the chosen images are then decoded
and resized, once (and, with a cache directory, once for every job that shares it)."""

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from torchvision.transforms.v2.functional import InterpolationMode, resize

from imbalance.data.decode import to_rgb8
from imbalance.data.image_cache import cached_decode, cached_file
from imbalance.errors import ConfigError, quoted


class UnreadableImage(Exception):
    """An image file that PIL cannot decode."""


class UnreadableImages(ConfigError):
    """Image files that cannot be read, all of them: `files` lists each as 'path (why)'."""

    def __init__(self, files: list[str]):
        self.files = files
        shown = "; ".join(files[:3]) + ("; ..." if len(files) > 3 else "")
        super().__init__(
            f"{len(files)} image file(s) cannot be read: {shown}; remove or replace them"
        )


def is_hidden(name: str) -> bool:
    """Names that are not data: hidden files and folders (`.thumbnails`, macOS `._x.jpg`) and
    those a NAS keeps beside the data (Synology's `@eaDir`)."""
    return name.startswith((".", "@"))


@dataclass(frozen=True)
class FileCatalog:
    """Image files on disk, decoded to RGB. `folder` holds the class folders; an image's id is
    its path relative to it (`airplanes/image_0001.jpg`), the same on every machine."""

    class_names: list[str]
    labels: np.ndarray
    paths: list[str]
    folder: str
    # The splits the source gives (split -> catalog indices); None: the profile draws them.
    splits: dict[str, np.ndarray] | None = None
    channels = 3

    @property
    def ids(self) -> list[str]:
        return [Path(os.path.relpath(path, self.folder)).as_posix() for path in self.paths]

    # Part of every cache key: change it whenever `decode_file` changes what it returns.
    DECODER = "PIL, imbalance.data.decode.to_rgb8, bicubic resize, HWC uint8, v3"

    def decode(
        self, indices: Sequence[int], size: int, cache_dir: Path | None = None
    ) -> torch.Tensor:
        """uint8 images [n, 3, size, size], through the on-disk cache when one is given.

        Raises UnreadableImages naming every file of `indices` that cannot be read.
        """
        images = torch.empty(len(indices), 3, size, size, dtype=torch.uint8)
        unreadable = []
        for row, i in enumerate(indices):
            try:
                if cache_dir is None:
                    pixels = self.decode_file(self.paths[i], size)
                else:
                    pixels = cached_decode(
                        self.paths[i], size, self.DECODER, self.decode_file, cache_dir
                    )
            except UnreadableImage as error:
                unreadable.append(str(error))
                continue
            images[row] = torch.from_numpy(pixels).permute(2, 0, 1)
        if unreadable:  # all of them at once, not one per attempt
            raise UnreadableImages(unreadable)
        return images

    def cached(self, indices: Sequence[int], size: int, cache_dir: Path) -> np.ndarray:
        """The image cache's file of each image of `indices` at `size`, as an array of file
        names in bytes (a Path a file would take several times the memory, which grows with
        the data set), decoding those no job decoded before; the images are not kept in memory.

        Raises UnreadableImages naming every file of `indices` that cannot be read.
        """
        files, unreadable = [], []
        for i in indices:
            try:
                path = self.paths[i]
                entry = cached_file(path, size, self.DECODER, self.decode_file, cache_dir)
                files.append(os.fsencode(entry))
            except UnreadableImage as error:
                unreadable.append(str(error))
        if unreadable:
            raise UnreadableImages(unreadable)
        return np.array(files)

    @staticmethod
    def decode_file(path: str, size: int) -> np.ndarray:
        """[size, size, 3] uint8: the file as 8-bit RGB (`imbalance.data.decode`), then a plain
        resize to size x size, bicubic and antialiased like MATLAB's imresize.

        Raises UnreadableImage for any file PIL cannot read, whatever the reason: not an image,
        truncated, a dangling link, too large (PIL's decompression-bomb limit)...
        """
        try:
            with Image.open(path) as image:
                image = to_rgb8(image).resize((size, size), Image.Resampling.BICUBIC)
        except Exception as error:  # noqa: BLE001 - PIL raises many kinds; each means the same
            raise UnreadableImage(f"{path} ({type(error).__name__}: {error})") from error
        return np.array(image)


@dataclass(frozen=True)
class ArrayCatalog:
    """Images already in memory: uint8 [n, channels, h, w]. An image's id is its index in the
    source's own data set, whichever classes were chosen."""

    class_names: list[str]
    labels: np.ndarray
    images: torch.Tensor
    ids: list[int] | list[str]
    # The splits the source gives (split -> catalog indices); None: the profile draws them.
    splits: dict[str, np.ndarray] | None = None

    @property
    def channels(self) -> int:
        return self.images.shape[1]

    def decode(
        self, indices: Sequence[int], size: int, cache_dir: Path | None = None
    ) -> torch.Tensor:
        """Already in memory: resizing is cheap, so `cache_dir` is not used."""
        chosen = self.images[torch.as_tensor(np.asarray(indices, dtype=np.int64))]
        return resize(chosen, [size, size], InterpolationMode.BICUBIC, antialias=True)


def pick_classes(available: list[str], wanted: Sequence[str] | None, where: str) -> list[str]:
    if wanted is None:
        return list(available)
    missing = [name for name in wanted if name not in available]
    if missing:
        raise ConfigError(
            f"class '{missing[0]}' is not in {where} (it has: {quoted(available)}); "
            f"fix data.classes or data.minority"
        )
    return list(wanted)
