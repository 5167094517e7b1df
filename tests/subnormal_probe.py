"""A callback for runs started by the tests (PYTHONPATH=tests): does every CPU thread flush
subnormal results to zero while the model trains?"""

import lightning as L
import torch


class CountSubnormalResults(L.Callback):
    """Prints how many of 2**22 products below float32's normal range stay non-zero, computed
    on all of torch's CPU threads at the end of training."""

    def on_train_end(self, trainer, pl_module):
        products = torch.full((1 << 22,), 1e-30) * 1e-9  # 1e-39: subnormal, or 0 when flushed
        print(f"subnormal results: {int(products.count_nonzero())}")
