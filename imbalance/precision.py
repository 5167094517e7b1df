"""What a run's `trainer.precision` means for the parts built before Lightning's Trainer."""

from collections.abc import Iterator
from contextlib import contextmanager

import torch

DOUBLE = ("64", "64-true", "double")


@contextmanager
def weights_in(precision: str | int) -> Iterator[None]:
    """Networks built inside draw their weights as float64 for a float64 run (trainer.precision
    64-true), as float32 otherwise. Drawn as float32 and then widened, a float64 run would start
    from float32 rounding, and CPUs round float32 differently (their vector widths differ)."""
    saved = torch.get_default_dtype()
    if str(precision) in DOUBLE:
        torch.set_default_dtype(torch.float64)
    try:
        yield
    finally:
        torch.set_default_dtype(saved)
