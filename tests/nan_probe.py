"""A callback for runs started by the tests: the network's weights made NaN when epoch `epoch`
starts, as a learning rate far too high leaves them, so that its first step's loss is NaN."""

import lightning as L
import torch


class NanWeightsAt(L.Callback):
    def __init__(self, epoch: int):
        self.epoch = epoch

    def on_train_epoch_start(self, trainer, module):
        if trainer.current_epoch + 1 == self.epoch:
            with torch.no_grad():
                next(module.net.parameters()).fill_(float("nan"))
