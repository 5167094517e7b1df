"""What trainer.precision means before Lightning's Trainer exists: the weights' float type, and
the CIFAR-LT presets' choice of bfloat16."""

import pytest
import torch
from torch import nn

from imbalance.precision import bfloat16_where_fast, weights_in


def test_a_float64_run_draws_its_weights_in_float64_and_others_in_float32():
    with weights_in("64-true"):
        assert nn.Linear(2, 2).weight.dtype == torch.float64
    assert torch.get_default_dtype() == torch.float32  # restored
    with weights_in("bf16-mixed"):
        assert nn.Linear(2, 2).weight.dtype == torch.float32
    with pytest.raises(RuntimeError), weights_in(64):
        raise RuntimeError("a failed build")
    assert torch.get_default_dtype() == torch.float32  # restored after an error too


@pytest.mark.parametrize(
    ("accelerator", "cuda", "gpu_bf16", "cpu_bf16", "expected"),
    [
        ("auto", False, False, True, "bf16-mixed"),  # a CPU with AVX512-BF16 or AMX
        ("cpu", False, False, False, "32-true"),  # emulated, bfloat16 would be slower
        ("auto", True, True, False, "bf16-mixed"),  # an H100, an A100
        ("gpu", True, False, True, "32-true"),  # a V100 or T4: emulated on the GPU
        ("cpu", True, True, False, "32-true"),  # told to train on this CPU, without it
        ("mps", False, False, True, "32-true"),
    ],
)  # fmt: skip
def test_the_cifar_presets_take_bfloat16_where_the_device_computes_in_it(
    monkeypatch, accelerator, cuda, gpu_bf16, cpu_bf16, expected
):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: cuda)
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda including_emulation=True: gpu_bf16)
    monkeypatch.setattr(torch.cpu, "_is_avx512_bf16_supported", lambda: cpu_bf16)
    monkeypatch.setattr(torch.cpu, "_is_amx_tile_supported", lambda: False)
    assert bfloat16_where_fast(accelerator) == expected
