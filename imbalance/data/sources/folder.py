"""Image files in class folders: any class-per-folder tree, and Caltech101 in its own layout.

A file is read as an image by its extension (`extensions`: torchvision's list unless the
config gives another). Every file passed over is counted by reason in the run's log: hidden
(`.name`), a system file (`@eaDir`, `Thumbs.db`, `desktop.ini`), or not an image type (by
extension: a `.gif` among JPEGs says which type to add).
"""

import logging
import os
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from torchvision.datasets.folder import IMG_EXTENSIONS

from imbalance.data.sources.catalog import FileCatalog, is_hidden
from imbalance.errors import ConfigError, quoted

log = logging.getLogger(__name__)

SYSTEM_FILES = ("thumbs.db", "desktop.ini")  # lowercase


def image_types(extensions: Sequence[str] | None) -> tuple[str, ...]:
    """The extensions read as images, lowercase with their dot: torchvision's by default."""
    if extensions is None:
        return IMG_EXTENSIONS
    if isinstance(extensions, str):  # data.source.extensions=gif: one type
        extensions = [extensions]
    types = tuple(f".{e.lower().lstrip('.')}" for e in extensions)
    if not types:
        raise ConfigError("data.source.extensions is empty: list the image types to read")
    return types


def passed_over(name: str, types: tuple[str, ...] | None) -> str | None:
    """Why the file (or, with `types` None, the folder) `name` is not read, or None."""
    if name.startswith("."):
        return "hidden"
    if is_hidden(name) or name.lower() in SYSTEM_FILES:
        return "system"
    if types is not None and not name.lower().endswith(types):
        return "not an image type"
    return None


class ImageFolder:
    """Any class-per-folder image tree: `<root>/<class>/<image>`; class names are folder names;
    files with `extensions` are images (None: torchvision's list)."""

    def __init__(self, extensions: Sequence[str] | None = None):
        self.types = image_types(extensions)

    def catalog(self, root: str | None, classes: Sequence[str] | None) -> FileCatalog:
        if root is None:
            raise ConfigError("the folder source needs data.root=<dir with one folder per class>")
        return _folder_catalog(Path(root), classes, self.types)


def image_files(
    folder: Path, types: tuple[str, ...] = IMG_EXTENSIONS, skipped: Counter | None = None
) -> list[str]:
    """Every image file under `folder`, at any depth, in torchvision's ImageFolder order (by
    folder path, then by name). Files and folders passed over are counted into `skipped` by
    reason (`passed_over`; a folder's files are not counted one by one), with an extension's
    count for files that are not an image type ("not an image type: .gif")."""
    skipped = Counter() if skipped is None else skipped
    walked = []
    for root, folders, files in os.walk(folder, followlinks=True):
        kept = []
        for name in folders:
            reason = passed_over(name, None)
            if reason is None:
                kept.append(name)
            else:
                skipped[f"{reason} folder"] += 1
        folders[:] = kept
        walked.append((root, files))
    found = []
    for root, files in sorted(walked):
        for name in sorted(files):
            reason = passed_over(name, types)
            if reason is None:
                found.append(os.path.join(root, name))
            elif reason == "not an image type":
                skipped[f"{reason}: {Path(name).suffix.lower() or '(no extension)'}"] += 1
            else:
                skipped[reason] += 1
    return found


def log_skipped(folder: Path, skipped: Counter, types: tuple[str, ...]) -> None:
    """One line in the run's log for the files passed over under `folder`, by reason: a
    warning where some are not an image type (images the user may have meant), else info."""
    if not skipped:
        return
    line = "passed over under {}: {}".format(
        folder, ", ".join(f"{count} {reason}" for reason, count in sorted(skipped.items()))
    )
    if not any(reason.startswith("not an image type") for reason in skipped):
        log.info(line)
        return
    read = " ".join(types)
    log.warning(f"{line} (image types read: {read}; data.source.extensions=[...] changes them)")


def _folder_catalog(
    folder: Path, classes: Sequence[str] | None, types: tuple[str, ...]
) -> FileCatalog:
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
    paths, labels, skipped = [], [], Counter()
    for name in sorted(names):  # torchvision's order: classes by name, whatever their labels
        found = image_files(folder / name, types, skipped)
        paths += found
        labels += [names.index(name)] * len(found)
    log_skipped(folder, skipped, types)
    labels = np.array(labels, dtype=np.int64)
    empty = [name for i, name in enumerate(names) if not np.any(labels == i)]
    if empty:
        raise ConfigError(
            f"class folder '{folder / empty[0]}' holds no image files ({' '.join(types)}); add "
            "images, fix data.root, or list its image types in data.source.extensions"
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

    def __init__(self, download: bool = False, extensions: Sequence[str] | None = None):
        self.download = download
        self.types = image_types(extensions)

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
        return _folder_catalog(folder, classes, self.types)

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
