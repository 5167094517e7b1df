"""Where images come from: one module per kind of data set, each source giving a catalog
(`catalog.py`). The configs name a source by its short path, `imbalance.data.sources.<Source>`."""

from imbalance.data.sources.catalog import (
    ArrayCatalog,
    FileCatalog,
    UnreadableImage,
    UnreadableImages,
    is_hidden,
)
from imbalance.data.sources.cifar import CIFAR10, CIFAR100
from imbalance.data.sources.digits import Digits
from imbalance.data.sources.filelist import FileLists
from imbalance.data.sources.folder import Caltech101, ImageFolder, image_files

__all__ = [
    "ArrayCatalog", "CIFAR10", "CIFAR100", "Caltech101", "Digits", "FileCatalog", "FileLists",
    "ImageFolder", "UnreadableImage", "UnreadableImages", "image_files", "is_hidden",
]  # fmt: skip
