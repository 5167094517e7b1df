"""Image files in class folders: any class-per-folder tree, one that comes with its splits
(`train/<class>/`, `test/<class>/`, optionally `val/<class>/`), and Caltech101 in its own layout.

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

from imbalance.data.sources.catalog import FileCatalog, is_hidden, pick_classes
from imbalance.data.spelling import class_name
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
    files with `extensions` are images (None: torchvision's list).

    A root that holds `train/` and `test/` (and optionally `val/`), each `<class>/<image>`, comes
    with its splits (`split_folders`): the catalog gives them, and the run tests on `test/`
    whole, draws its training images from `train/` by the profile and validates on `val/`."""

    def __init__(self, extensions: Sequence[str] | None = None):
        self.types = image_types(extensions)

    def catalog(self, root: str | None, classes: Sequence[str] | None) -> FileCatalog:
        if root is None:
            raise ConfigError("the folder source needs data.root=<dir with one folder per class>")
        folders = split_folders(Path(root))
        if folders:
            return _split_catalog(Path(root), folders, classes, self.types)
        return _folder_catalog(Path(root), classes, self.types)


SPLIT_NAMES = ("train", "val", "test")


def split_folders(root: Path) -> dict[str, Path]:
    """{split: folder} of a root laid out by split, whose folders are `train/`, `test/` and
    optionally `val/`, nothing else; {} for any other root, a plain class-per-folder tree (where
    a class may well be named `train`: CIFAR-100 has one).

    Raises ConfigError for a root of split folders alone that lacks `train/` or `test/`."""
    if not root.is_dir():
        return {}
    folders = {e.name: e for e in root.iterdir() if e.is_dir() and not is_hidden(e.name)}
    if not folders or not folders.keys() <= set(SPLIT_NAMES):
        return {}
    lacking = [name for name in ("train", "test") if name not in folders]
    if lacking:
        have = "/ and ".join(name for name in SPLIT_NAMES if name in folders) + "/"
        raise ConfigError(
            f"'{root}' holds {have} but no {lacking[0]}/: a folder that comes with its splits "
            f"holds train/<class>/ and test/<class>/ (val/<class>/ optional); add "
            f"{lacking[0]}/, or point data.root at a folder of class folders"
        )
    return {name: folders[name] for name in SPLIT_NAMES if name in folders}


def _split_catalog(
    root: Path, folders: dict[str, Path], classes: Sequence[str] | None, types: tuple[str, ...]
) -> FileCatalog:
    """Every split folder's class folders as one catalog, its splits given; ids are paths
    relative to `root` (`train/cat/1.png`). Refused in one line: a class that has a folder in
    one split and not in another, and a file in two splits (`image_files`)."""
    present = {split: set(class_folders(folder)) for split, folder in folders.items()}
    every = set().union(*present.values())
    for name in sorted(every):
        lacking = [split for split, names in present.items() if name not in names]
        if lacking and (classes is None or name in classes):
            having = [split for split in present if split not in lacking]
            raise ConfigError(
                f"class '{name}' has a folder in {'/, '.join(having)}/ but not in "
                f"{'/, '.join(lacking)}/ under '{root}': every split holds the same classes; add "
                "the folder, remove the class, or choose classes with data.classes"
            )
    names = pick_classes(sorted(every), classes, f"'{root}' (its class folders)")
    paths, labels, splits, seen = [], [], {}, {}
    for split, folder in folders.items():
        catalog = _folder_catalog(folder, names, types, seen, split)
        splits[split] = np.arange(len(paths), len(paths) + len(catalog.paths))
        paths += catalog.paths
        labels.append(catalog.labels)
    return FileCatalog(names, np.concatenate(labels), paths, str(root), splits)


# A file (`file_identity`) -> where it was first found (its split, its class) and its path.
Seen = dict[tuple, tuple[tuple[str | None, str | None], str]]


def image_files(
    folder: Path,
    types: tuple[str, ...] = IMG_EXTENSIONS,
    skipped: Counter | None = None,
    seen: Seen | None = None,
    owner: tuple[str | None, str | None] = (None, None),
) -> list[str]:
    """Every image file under `folder`, at any depth, in torchvision's ImageFolder order (by
    folder path, then by name), each file once: a second path to a file already found (a link,
    a hard link, a folder linked twice) is passed over, and a folder linked into itself (a
    loop) is read once. Files and folders passed over are counted into `skipped` by reason
    (`passed_over`; a folder's files are not counted one by one), with an extension's count for
    files that are not an image type ("not an image type: .gif").

    `seen`, shared between calls, holds the files found so far and their `owner` (split,
    class). Raises ConfigError for a file found before under another owner: one image in two
    classes or two splits."""
    skipped = Counter() if skipped is None else skipped
    seen = {} if seen is None else seen
    walked, visited = [], set()
    for root, folders, files in os.walk(folder, followlinks=True):
        here = file_identity(root)
        if here in visited:  # a folder reached a second time, through a link
            folders[:] = []
            skipped[LINKS[0]] += 1
            continue
        visited.add(here)
        kept = []
        for name in folders:
            reason = passed_over(name, None)
            if reason is None:
                kept.append(name)
            else:
                skipped[f"{reason} folder"] += 1
        folders[:] = sorted(kept)  # the first path to a folder reached twice: by name
        walked.append((root, files))
    found = []
    for root, files in sorted(walked):
        for name in sorted(files):
            reason = passed_over(name, types)
            path = os.path.join(root, name)
            if reason is None:
                (split, label), first = seen.setdefault(file_identity(path), (owner, path))
                if first == path:
                    found.append(path)
                elif (split, label) == owner:
                    skipped[LINKS[1]] += 1
                elif split != owner[0]:
                    raise ConfigError(
                        f"'{first}' and '{path}' are one file: one image in two splits ({split} "
                        f"and {owner[0]}); keep it in one"
                    )
                else:
                    raise ConfigError(
                        f"'{first}' and '{path}' are one file, in two classes: keep it in one"
                    )
            elif reason == "not an image type":
                skipped[f"{reason}: {Path(name).suffix.lower() or '(no extension)'}"] += 1
            else:
                skipped[reason] += 1
    return found


def file_identity(path: str | Path) -> tuple:
    """The file (or folder) a path leads to, whatever its spelling, links and hard links: its
    device and inode; its resolved path where the file system numbers no inodes (FAT, some
    network mounts give 0). A dangling link is its own."""
    try:
        stat = os.stat(path)
    except OSError:
        stat = os.lstat(path)
    if stat.st_ino == 0:
        return stat.st_dev, os.path.realpath(path)
    return stat.st_dev, stat.st_ino


LINKS = ("link to a folder already read", "second path to an image already read")


def log_skipped(folder: Path, skipped: Counter, types: tuple[str, ...]) -> None:
    """One line in the run's log for the files passed over under `folder`, by reason: a
    warning where some are not an image type (images the user may have meant) or second paths
    to what was read (a tree that may not be what the user thinks), else info."""
    if not skipped:
        return
    line = "passed over under {}: {}".format(
        folder, ", ".join(f"{count} {reason}" for reason, count in sorted(skipped.items()))
    )
    if any(reason.startswith("not an image type") for reason in skipped):
        read = " ".join(types)
        log.warning(f"{line} (image types read: {read}; data.source.extensions=[...] changes them)")
    elif skipped.keys() & set(LINKS):
        log.warning(f"{line} (each file and folder is read once, whatever the links to it)")
    else:
        log.info(line)


def _folder_catalog(
    folder: Path,
    classes: Sequence[str] | None,
    types: tuple[str, ...],
    seen: Seen | None = None,
    split: str | None = None,
) -> FileCatalog:
    if not folder.is_dir():
        raise ConfigError(f"data root '{folder}' does not exist or is not a folder; fix data.root")
    folders = class_folders(folder)
    available = sorted(folders)
    if classes is not None:
        missing = [name for name in classes if name not in folders]
        if missing:
            raise ConfigError(
                f"class folder '{folder / missing[0]}' is missing; "
                f"fix data.root or data.classes (the folder has: {quoted(available) or 'none'})"
            )
    names = list(classes) if classes is not None else available
    if not names:
        raise ConfigError(f"'{folder}' has no class folders; fix data.root")
    paths, labels, skipped, seen = [], [], Counter(), {} if seen is None else seen
    for name in sorted(names):  # torchvision's order: classes by name, whatever their labels
        found = image_files(folder / folders[name], types, skipped, seen, (split, name))
        paths += found
        labels += [names.index(name)] * len(found)
    log_skipped(folder, skipped, types)
    labels = np.array(labels, dtype=np.int64)
    empty = [name for i, name in enumerate(names) if not np.any(labels == i)]
    if empty:
        raise ConfigError(
            f"class folder '{folder / folders[empty[0]]}' holds no image files "
            f"({' '.join(types)}); add images, fix data.root, or list its image types in "
            "data.source.extensions"
        )
    return FileCatalog(names, labels, paths, str(folder))


def class_folders(folder: Path) -> dict[str, str]:
    """{class name: folder name} of the class folders in `folder`. A class name is its folder's
    name in Unicode's composed form (NFC), the form typed on a keyboard: macOS writes names
    decomposed ("crème" as "cre\u0300me"), which would not equal the name a user types."""
    found: dict[str, str] = {}
    for entry in sorted(folder.iterdir()):
        if not entry.is_dir() or is_hidden(entry.name):
            continue
        name = class_name(entry.name)
        if name in found:
            raise ConfigError(
                f"'{folder / found[name]}' and '{entry}' are one class name written two ways "
                "(Unicode's composed and decomposed forms): merge the two folders"
            )
        found[name] = entry.name
    return found


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
            classes = sorted(set(class_folders(folder)) - {self.BACKGROUND})
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
