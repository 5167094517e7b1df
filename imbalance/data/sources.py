"""Where images come from: one source per kind of data set, each giving a `Catalog`.

A catalog lists every image's class without decoding anything, so that the imbalanced subset is
chosen from labels alone; only the chosen images are then decoded and resized, once (and,
with a cache directory, once for every job that shares it).
"""

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from torchvision.datasets.folder import IMG_EXTENSIONS
from torchvision.transforms.v2.functional import InterpolationMode, resize

from imbalance.data.decode import to_rgb8
from imbalance.data.image_cache import cached_decode
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
    ids: list[int]

    @property
    def channels(self) -> int:
        return self.images.shape[1]

    def decode(
        self, indices: Sequence[int], size: int, cache_dir: Path | None = None
    ) -> torch.Tensor:
        """Already in memory: resizing is cheap, so `cache_dir` is not used."""
        chosen = self.images[torch.as_tensor(np.asarray(indices, dtype=np.int64))]
        return resize(chosen, [size, size], InterpolationMode.BICUBIC, antialias=True)


def _pick_classes(available: list[str], wanted: Sequence[str] | None, where: str) -> list[str]:
    if wanted is None:
        return list(available)
    missing = [name for name in wanted if name not in available]
    if missing:
        raise ConfigError(
            f"class '{missing[0]}' is not in {where} (it has: {quoted(available)}); "
            f"fix data.classes or data.minority"
        )
    return list(wanted)


class Digits:
    """scikit-learn's bundled handwritten digits: 1,797 real 8x8 greyscale images, no download."""

    def catalog(self, root: str | None, classes: Sequence[str] | None) -> ArrayCatalog:
        from sklearn.datasets import load_digits

        digits = load_digits()
        names = _pick_classes([str(d) for d in range(10)], classes, "the digits data set")
        keep = np.isin(digits.target, [int(name) for name in names])
        remap = {int(name): i for i, name in enumerate(names)}
        labels = np.array([remap[t] for t in digits.target[keep]], dtype=np.int64)
        # Pixel values run 0 to 16; stretch them to the 0 to 255 of every other source.
        pixels = np.rint(digits.images[keep] * (255 / 16)).astype(np.uint8)
        ids = np.flatnonzero(keep).tolist()
        return ArrayCatalog(names, labels, torch.from_numpy(pixels).unsqueeze(1), ids)


class ImageFolder:
    """Any class-per-folder image tree: `<root>/<class>/<image>`; class names are folder names."""

    def catalog(self, root: str | None, classes: Sequence[str] | None) -> FileCatalog:
        if root is None:
            raise ConfigError("the folder source needs data.root=<dir with one folder per class>")
        return _folder_catalog(Path(root), classes)


def image_files(folder: Path) -> list[str]:
    """Every image file under `folder`, at any depth, in torchvision's ImageFolder order (by
    folder path, then by name), leaving out hidden and system files and folders (`is_hidden`)."""
    walked = []
    for root, folders, files in os.walk(folder, followlinks=True):
        folders[:] = [name for name in folders if not is_hidden(name)]
        walked.append((root, files))
    return [
        os.path.join(root, name)
        for root, files in sorted(walked)
        for name in sorted(files)
        if not is_hidden(name) and name.lower().endswith(IMG_EXTENSIONS)
    ]


def _folder_catalog(folder: Path, classes: Sequence[str] | None) -> FileCatalog:
    if not folder.is_dir():
        raise ConfigError(f"data root '{folder}' does not exist or is not a folder; fix data.root")
    available = sorted(
        entry.name for entry in folder.iterdir() if entry.is_dir() and not is_hidden(entry.name)
    )
    if classes is not None:
        missing = [name for name in classes if name not in available]
        if missing:
            raise ConfigError(
                f"class folder '{folder / missing[0]}' is missing; "
                f"fix data.root or data.classes (the folder has: {quoted(available) or 'none'})"
            )
    names = list(classes) if classes is not None else available
    if not names:
        raise ConfigError(f"'{folder}' has no class folders; fix data.root")
    paths, labels = [], []
    for name in sorted(names):  # torchvision's order: classes by name, whatever their labels
        found = image_files(folder / name)
        paths += found
        labels += [names.index(name)] * len(found)
    labels = np.array(labels, dtype=np.int64)
    empty = [name for i, name in enumerate(names) if not np.any(labels == i)]
    if empty:
        raise ConfigError(
            f"class folder '{folder / empty[0]}' holds no image files "
            f"({' '.join(IMG_EXTENSIONS)}); add images or fix data.root"
        )
    return FileCatalog(names, labels, paths, str(folder))


class Caltech101:
    """Caltech101 in its own layout, `101_ObjectCategories/<class>/image_NNNN.jpg`.

    `root` may be the `101_ObjectCategories` folder itself, its parent, or the parent's parent as
    torchvision lays it out (`<root>/caltech101/101_ObjectCategories`). With `download`, a root
    without the files is filled through torchvision.
    """

    FOLDER = "101_ObjectCategories"

    def __init__(self, download: bool = False):
        self.download = download

    def catalog(self, root: str | None, classes: Sequence[str] | None) -> FileCatalog:
        if root is None:
            raise ConfigError("Caltech101 needs data.root=<folder holding 101_ObjectCategories>")
        folder = self.locate(Path(root))
        if folder is None and self.download:
            self._download(Path(root))
            folder = self.locate(Path(root))
        if folder is None:
            raise ConfigError(
                f"no Caltech101 under data.root='{root}' (looked for {self.FOLDER} there, in it "
                f"and in caltech101/ below it); fix data.root, or add data.source.download=true"
            )
        return _folder_catalog(folder, classes)

    @classmethod
    def locate(cls, root: Path) -> Path | None:
        for folder in (root, root / cls.FOLDER, root / "caltech101" / cls.FOLDER):
            if folder.name == cls.FOLDER and folder.is_dir():
                return folder
        return None

    @staticmethod
    def _download(root: Path) -> None:
        from torchvision.datasets import Caltech101 as TorchvisionCaltech101

        try:
            TorchvisionCaltech101(str(root), download=True)
        except Exception as error:  # any network or archive failure means the same to the user
            raise ConfigError(
                f"Caltech101 is not under '{root}' and downloading it failed ({error}); "
                f"download it by hand and point data.root at it"
            ) from error
