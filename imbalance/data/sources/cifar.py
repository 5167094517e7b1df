"""CIFAR-10 and CIFAR-100, from torchvision's files or from a copy in image files laid out by
split: the given test set whole, the training images drawn from the given training set by the
profile (profile=long_tail: CIFAR-10-LT and CIFAR-100-LT)."""

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from torchvision import datasets

from imbalance.data.sources.catalog import ArrayCatalog, FileCatalog, pick_classes
from imbalance.data.sources.folder import ImageFolder, split_folders
from imbalance.errors import ConfigError


class CIFAR10:
    """CIFAR-10 as torchvision reads it from `root` (the folder that holds
    `cifar-10-batches-py`, or that folder itself), fetched there first with `download`; or, where
    `root` holds `train/<class>/` and `test/<class>/`, a copy in image files (PNG: lossless) read
    as a folder that comes with its splits, its classes the sorted folder names, which is
    CIFAR's label order.

    The files are Python pickles: torchvision checks each against its MD5 sum before it
    unpickles it, so only the published files are ever read (this source adds no way around
    that check). An image's id is its set and its index there: `train/123`, `test/45`.
    """

    dataset = datasets.CIFAR10
    name = "CIFAR-10"
    classes = 10

    def __init__(self, download: bool = False):
        self.download = download

    def catalog(self, root: str | None, classes: Sequence[str] | None) -> ArrayCatalog:
        """Both sets in memory, the test set given as the `test` split; the training split is
        drawn from the training set by the profile.

        Raises ConfigError when `root` holds no copy that passes torchvision's check, or the
        download fails."""
        root = self._root(root)
        if split_folders(root):
            return self._from_files(root, classes)
        train, test = (self._read(root, train) for train in (True, False))
        names = pick_classes(train.classes, classes, f"{self.name}'s classes")
        wanted = np.array([train.classes.index(name) for name in names])
        remap = np.full(len(train.classes), -1)
        remap[wanted] = np.arange(len(names))
        labels, images, ids = [], [], []
        for part, data in (("train", train), ("test", test)):
            targets = np.asarray(data.targets)
            keep = np.flatnonzero(np.isin(targets, wanted))
            labels.append(remap[targets[keep]])
            images.append(torch.from_numpy(data.data[keep]).permute(0, 3, 1, 2))
            ids += [f"{part}/{i}" for i in keep.tolist()]
        trained, tested = (len(part) for part in labels)
        return ArrayCatalog(
            names,
            np.concatenate(labels).astype(np.int64),
            torch.cat(images).contiguous(),
            ids,
            splits={"test": np.arange(trained, trained + tested)},
        )

    def _from_files(self, root: Path, classes: Sequence[str] | None) -> FileCatalog:
        catalog = ImageFolder().catalog(str(root), classes)
        if classes is None and len(catalog.class_names) != self.classes:
            raise ConfigError(
                f"data.root={root} holds {len(catalog.class_names)} class folders in each split, "
                f"and {self.name} has {self.classes}: point data.root at a copy of {self.name} "
                "(train/<class>/, test/<class>/), or use data=folder for other images"
            )
        return catalog

    def _root(self, root: str | None) -> Path:
        if root is None:
            raise ConfigError(
                f"data.root is not set: give the folder that holds (or is to hold, with "
                f"data.source.download=true) {self.dataset.base_folder}"
            )
        root = Path(root)
        return root.parent if root.name == self.dataset.base_folder else root

    def _read(self, root: Path, train: bool):
        try:
            return self.dataset(str(root), train=train, download=self.download)
        except RuntimeError as error:
            if "not found or corrupted" not in str(error):
                raise
            if self.download:  # fetched, and still not the published files
                raise ConfigError(
                    f"{self.name} was downloaded into data.root={root} but its files fail "
                    f"torchvision's check ({error}): remove {root / self.dataset.base_folder} "
                    "and the archive beside it, and run again"
                ) from None
            raise ConfigError(
                f"data.root={root} holds no {self.name} that passes torchvision's check "
                f"({root / self.dataset.base_folder}, its files whole): add "
                "data.source.download=true to fetch it there, or set data.root to the folder "
                f"that holds {self.dataset.base_folder}"
            ) from None
        except OSError as error:  # the download: no network, a proxy, a full disk
            raise ConfigError(
                f"{self.name} could not be downloaded into data.root={root} ({error}); fetch "
                f"{self.dataset.url} by hand and unpack it there"
            ) from error


class CIFAR100(CIFAR10):
    """CIFAR-100 (its 100 fine classes), read as CIFAR10 reads CIFAR-10: `root` holds
    `cifar-100-python`."""

    dataset = datasets.CIFAR100
    name = "CIFAR-100"
    classes = 100
