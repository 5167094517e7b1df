"""scikit-learn's bundled handwritten digits: the default data set, in memory, no download."""

from collections.abc import Sequence

import numpy as np
import torch

from imbalance.data.sources.catalog import ArrayCatalog, pick_classes


class Digits:
    """scikit-learn's bundled handwritten digits: 1,797 real 8x8 greyscale images, no download."""

    def catalog(self, root: str | None, classes: Sequence[str] | None) -> ArrayCatalog:
        from sklearn.datasets import load_digits

        digits = load_digits()
        names = pick_classes([str(d) for d in range(10)], classes, "the digits data set")
        keep = np.isin(digits.target, [int(name) for name in names])
        remap = {int(name): i for i, name in enumerate(names)}
        labels = np.array([remap[t] for t in digits.target[keep]], dtype=np.int64)
        # Pixel values run 0 to 16; stretch them to the 0 to 255 of every other source.
        pixels = np.rint(digits.images[keep] * (255 / 16)).astype(np.uint8)
        ids = np.flatnonzero(keep).tolist()
        return ArrayCatalog(names, labels, torch.from_numpy(pixels).unsqueeze(1), ids)
