"""Images of CIFAR's shapes for the CIFAR-LT benchmark where the real ones cannot be downloaded:
`data.source._target_=imbalance.bench.generated.CIFARShapes` in place of CIFAR10. The same
sizes, the same path through the framework (the given test set, the training images drawn by
the profile); random pixels, so only the timings mean anything."""

from collections.abc import Sequence

import numpy as np
import torch

from imbalance.data.sources.catalog import ArrayCatalog, pick_classes
from imbalance.errors import ConfigError


class CIFARShapes:
    """`classes` classes of `train_per_class` training and `test_per_class` test images, uint8
    3 x 32 x 32, random under a fixed seed; CIFAR-10's by default. `download` is CIFAR10's
    setting, refused: there is nothing to fetch."""

    def __init__(
        self,
        download: bool = False,
        classes: int = 10,
        train_per_class: int = 5000,
        test_per_class: int = 1000,
    ):
        if download:
            raise ConfigError("generated images have nothing to download: drop download=true")
        self.classes = classes
        self.train_per_class = train_per_class
        self.test_per_class = test_per_class

    def catalog(self, root: str | None, classes: Sequence[str] | None) -> ArrayCatalog:
        names = pick_classes([f"class{c}" for c in range(self.classes)], classes, "CIFARShapes")
        labels = np.concatenate(
            [np.tile(np.arange(len(names)), n) for n in (self.train_per_class, self.test_per_class)]
        )
        generator = torch.Generator().manual_seed(0)
        images = torch.randint(
            0, 256, (len(labels), 3, 32, 32), dtype=torch.uint8, generator=generator
        )
        train = len(names) * self.train_per_class
        ids = [f"train/{i}" for i in range(train)] + [
            f"test/{i}" for i in range(len(labels) - train)
        ]
        return ArrayCatalog(
            names, labels, images, ids, splits={"test": np.arange(train, len(labels))}
        )
