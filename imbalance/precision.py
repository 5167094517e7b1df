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


def bfloat16_where_fast(accelerator: str) -> str:
    """trainer.precision for presets that may trade float32's last digits for speed:
    bf16-mixed where the device that trains computes in bfloat16 natively (a GPU that has it;
    a CPU with AVX512-BF16 or AMX), else 32-true (emulated, bfloat16 would be slower), e.g.
    precision: ${bfloat16_where_fast:${trainer.accelerator}}."""
    if accelerator in ("auto", "gpu", "cuda") and torch.cuda.is_available():
        native = torch.cuda.is_bf16_supported(including_emulation=False)
        return "bf16-mixed" if native else "32-true"
    if accelerator in ("auto", "cpu"):
        native = torch.cpu._is_avx512_bf16_supported() or torch.cpu._is_amx_tile_supported()
        return "bf16-mixed" if native else "32-true"
    return "32-true"
