"""What every network of a run shares: the input layer (scaling, zero-centring), the end of the
classifier, and the `Network` base the run uses (`input`, `features`, `classifier`)."""

from collections.abc import Callable

import torch
from torch import nn

# A last layer made for (in_features, num_classes): a remedy's head (`Remedy.last_layer`).
LastLayer = Callable[[int, int], nn.Module]


class InputLayer(nn.Module):
    """MATLAB's image input layer: pixel values times `scale`, minus the mean training image;
    a greyscale image repeated into `out_channels` where a network takes more (torchvision's).

    The mean starts at zero and is set from the training set with `set_mean` before training; it is
    a buffer, so it travels with the weights.
    """

    def __init__(
        self, channels: int, size: int, scale: float, zero_center: bool, out_channels: int = 0
    ):
        super().__init__()
        self.scale = scale
        self.zero_center = zero_center
        self.out_channels = out_channels if channels == 1 else 0
        self.register_buffer("mean", torch.zeros(channels, size, size))

    def set_mean(self, mean_image: torch.Tensor) -> None:
        if self.zero_center:
            self.mean.copy_(mean_image)

    def forward(self, pixels: torch.Tensor) -> torch.Tensor:
        images = (pixels - self.mean) * self.scale
        return images.expand(-1, self.out_channels, -1, -1) if self.out_channels else images


def classifier(
    in_features: int, num_classes: int, dropout: float, head: LastLayer | None
) -> nn.Sequential:
    """The end of a classifier: dropout when `dropout` > 0, then the last layer, `head`'s
    (the remedy's, `Remedy.last_layer`) or a linear one."""
    last = (head or nn.Linear)(in_features, num_classes)
    return nn.Sequential(*([nn.Dropout(dropout)] if dropout > 0 else []), last)


class Network(nn.Module):
    """What a run uses of a network: `input` (pixels scaled and zero-centred), `features`,
    `classifier` (its last layer last), `memory_format`, and `_initialise` for a layer drawn
    afresh."""

    input: InputLayer
    features: nn.Module
    classifier: nn.Sequential
    memory_format: torch.memory_format

    def _initialise(self, module: nn.Module) -> None:
        pass  # the layer's own initialisation

    def _set_memory_format(self, channels_last: bool) -> None:
        """Channels-last (NHWC) convolutions, or not: the same numbers to float precision,
        faster for oneDNN on CPUs (BENCHMARKS.md); `forward` lays the input out the same way."""
        self.memory_format = torch.channels_last if channels_last else torch.contiguous_format
        self.to(memory_format=self.memory_format)

    def reset_last_layer(self) -> None:
        """The last layer drawn afresh from the network's initialisation (classifier
        re-training)."""
        last = self.classifier[-1]
        last.reset_parameters()
        self._initialise(last)

    def forward(self, pixels: torch.Tensor) -> torch.Tensor:
        """Logits for images in 0-255 pixel values, float [n, C, H, W]."""
        images = self.input(pixels).contiguous(memory_format=self.memory_format)
        return self.classifier(self.features(images))


def batch_of_one_fails(model: nn.Module, image: torch.Tensor) -> bool:
    """Whether training `model` on a batch of one image would fail: some batch norm layer would
    see one value a channel, whose variance is undefined (torchvision's ResNets at 32 pixels,
    after their last downsampling; a BatchNorm1d). Batch norm over a map of several pixels
    takes one image. Probed by one pass of `image` ([1, C, H, W]) in eval mode, which changes
    no statistic."""
    values = []
    hooks = [
        module.register_forward_pre_hook(lambda _, args: values.append(args[0][0, 0].numel()))
        for module in model.modules()
        if isinstance(module, nn.modules.batchnorm._BatchNorm)
    ]
    if not hooks:
        return False
    training = model.training
    model.eval()
    try:
        with torch.no_grad():
            model(image)
    finally:
        model.train(training)
        for hook in hooks:
            hook.remove()
    return min(values) == 1
