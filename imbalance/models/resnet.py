"""ResNet-32 for 32 x 32 images (He et al. 2016, section 4.2), as the long-tail literature
trains it on CIFAR-10-LT and CIFAR-100-LT (Cao et al. 2019's `resnet32`)."""

import logging

import torch
import torch.nn.functional as F
from torch import nn

from imbalance.errors import ConfigError
from imbalance.models.network import InputLayer, LastLayer, Network, classifier

log = logging.getLogger(__name__)


class BasicBlock(nn.Module):
    """Two 3 x 3 convolutions with batch norm, and the input added back. Where the block halves
    the size and doubles the channels, the shortcut takes every other pixel and pads the new
    channels with zeros: the paper's option A, which adds no parameters."""

    def __init__(self, in_channels: int, channels: int, stride: int):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, channels, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(channels)
        self.conv2 = nn.Conv2d(channels, channels, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(channels)
        self.pad = channels - in_channels
        self.stride = stride

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        shortcut = x
        if self.stride != 1 or self.pad:
            shortcut = x[:, :, :: self.stride, :: self.stride]
            shortcut = F.pad(shortcut, (0, 0, 0, 0, self.pad // 2, self.pad - self.pad // 2))
        return F.relu(out + shortcut)


class ResNet32(Network):
    """A 3 x 3 convolution of 16 channels, then three stages of `blocks` basic blocks (5 for
    ResNet-32: 6 * 5 + 2 = 32 layers) of 16, 32 and 64 channels, the last two starting at
    stride 2, global average pooling and the last layer; Kaiming-normal initialisation.

    Pixels are scaled by `input_scale` and zero-centred by the mean training image (`input`, as
    the study's CNN). Batch norm is part of a ResNet: `batch_norm=False` (reg=none) does not
    remove it, and a log line says so. `dropout` comes before the last layer; `head` is the
    remedy's last layer, as `imbalance.models.cnn.CNN` takes it.
    """

    def __init__(
        self,
        in_channels: int,
        input_size: int,
        num_classes: int,
        blocks: int = 5,
        input_scale: float = 1 / 255,
        zero_center: bool = True,
        batch_norm: bool = True,
        dropout: float = 0.0,
        channels_last: bool = True,
        head: LastLayer | None = None,
    ):
        super().__init__()
        if blocks < 1:
            raise ConfigError(f"model.blocks={blocks} must be at least 1")
        if not batch_norm:
            log.info("a ResNet keeps its batch norm: reg.batch_norm=false does not remove it")
        self.input = InputLayer(in_channels, input_size, input_scale, zero_center)
        stages, channels = [], 16
        for width, stride in ((16, 1), (32, 2), (64, 2)):
            for i in range(blocks):
                stages.append(BasicBlock(channels, width, stride if i == 0 else 1))
                channels = width
        self.features = nn.Sequential(
            nn.Conv2d(in_channels, 16, 3, 1, 1, bias=False),
            nn.BatchNorm2d(16),
            nn.ReLU(inplace=True),
            *stages,
            nn.AdaptiveAvgPool2d(1),
            nn.Flatten(),
        )
        self.classifier = classifier(64, num_classes, dropout, head)
        for module in self.modules():
            self._initialise(module)
        self._set_memory_format(channels_last)

    @staticmethod
    def _initialise(module: nn.Module) -> None:
        if isinstance(module, nn.Conv2d | nn.Linear):
            nn.init.kaiming_normal_(module.weight)
