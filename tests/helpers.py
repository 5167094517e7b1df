import os
import subprocess
import sys
from pathlib import Path

import numpy as np
from PIL import Image

REPO = Path(__file__).resolve().parents[1]

# Small enough that a run takes a few seconds on 2 CPU cores.
TINY = ["data.per_class=8", "data.image_size=16", "trainer.max_epochs=2"]


def make_image_tree(root: Path, counts: dict[str, int], grey: str | None = None) -> Path:
    """A class-per-folder tree of random JPEGs of varied sizes; `grey` gets a greyscale image."""
    rng = np.random.default_rng(0)
    for name, count in counts.items():
        folder = root / name
        folder.mkdir(parents=True)
        for i in range(count):
            height, width = rng.integers(20, 40, size=2)
            pixels = rng.integers(0, 256, size=(height, width, 3), dtype=np.uint8)
            image = Image.fromarray(pixels)
            if name == grey and i == 0:
                image = image.convert("L")
            image.save(folder / f"image_{i + 1:04d}.jpg")
    return root


def run_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    """`python -m imbalance.train ARGS` in `cwd`, as a user runs it."""
    return subprocess.run(
        [sys.executable, "-m", "imbalance.train", *args],
        cwd=cwd,
        env={**os.environ, "PYTHONWARNINGS": "ignore::DeprecationWarning"},
        capture_output=True,
        text=True,
        timeout=240,
    )
