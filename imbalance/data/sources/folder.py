"""Image files in class folders: any class-per-folder tree, and Caltech101 in its own layout."""

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from torchvision.datasets.folder import IMG_EXTENSIONS

from imbalance.data.sources.catalog import FileCatalog, is_hidden
from imbalance.errors import ConfigError, quoted


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
    without the files is filled through torchvision. Without `classes`, every object class:
    the folders but BACKGROUND_Google.
    """

    FOLDER = "101_ObjectCategories"
    # Not an object class: clutter, left out as torchvision's Caltech101 leaves it out.
    BACKGROUND = "BACKGROUND_Google"

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
        if classes is None:  # every object class
            classes = sorted(
                entry.name
                for entry in folder.iterdir()
                if entry.is_dir() and not is_hidden(entry.name) and entry.name != self.BACKGROUND
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
