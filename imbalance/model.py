"""The CNN of the study, built from a list of layers written like the paper's Table 2."""

from collections.abc import Mapping, Sequence

import torch
from torch import nn

from imbalance.errors import ConfigError


class InputLayer(nn.Module):
    """MATLAB's image input layer: pixel values times `scale`, minus the mean training image.

    The mean starts at zero and is set from the training set with `set_mean` before training; it is
    a buffer, so it travels with the weights.
    """

    def __init__(self, channels: int, size: int, scale: float, zero_center: bool):
        super().__init__()
        self.scale = scale
        self.zero_center = zero_center
        self.register_buffer("mean", torch.zeros(channels, size, size))

    def set_mean(self, mean_image: torch.Tensor) -> None:
        if self.zero_center:
            self.mean.copy_(mean_image)

    def forward(self, pixels: torch.Tensor) -> torch.Tensor:
        return (pixels - self.mean) * self.scale


class CNN(nn.Module):
    """Convolutions (each: conv, [batch norm], ReLU, [max pool]) then fully connected layers.

    `layers` holds dicts: `{type: conv, out, kernel, stride, padding, pool, pool_stride}` or
    `{type: fc, out}`; the last must be `{type: fc}` with no `out`: the number of classes. Batch
    norm (after every convolution) and dropout (before the last layer) are switches that the
    regularizer sets, not parts of the layer list.
    """

    def __init__(
        self,
        layers: Sequence[Mapping],
        in_channels: int,
        input_size: int,
        num_classes: int,
        input_scale: float = 1.0,
        zero_center: bool = True,
        init_std: float | None = None,
        batch_norm: bool = False,
        dropout: float = 0.0,
        channels_last: bool = True,
    ):
        super().__init__()
        convs = [spec for spec in layers if spec.get("type") == "conv"]
        fcs = [spec for spec in layers if spec.get("type") == "fc"]
        if len(convs) + len(fcs) != len(layers) or layers[-1].get("type") != "fc":
            raise ConfigError(
                "model.layers must be conv layers, then fc layers, the last an fc without 'out' "
                f"(its size is the number of classes); got types {[s.get('type') for s in layers]}"
            )
        if list(layers[: len(convs)]) != convs:
            raise ConfigError("model.layers: every conv layer must come before the fc layers")
        if "out" in fcs[-1]:
            raise ConfigError("model.layers: drop 'out' from the last fc layer, it is set by data")

        self.input = InputLayer(in_channels, input_size, input_scale, zero_center)
        features, channels = [], in_channels
        for spec in convs:
            stride, padding = spec.get("stride", 1), spec.get("padding", 0)
            features.append(nn.Conv2d(channels, spec["out"], spec["kernel"], stride, padding))
            if batch_norm:
                features.append(nn.BatchNorm2d(spec["out"]))
            features.append(nn.ReLU(inplace=True))
            if spec.get("pool"):
                features.append(nn.MaxPool2d(spec["pool"], spec.get("pool_stride", spec["pool"])))
            channels = spec["out"]
        self.features = nn.Sequential(*features, nn.Flatten())

        with torch.no_grad():
            try:
                width = self.features(torch.zeros(1, in_channels, input_size, input_size)).shape[1]
            except RuntimeError as error:  # a convolution or pooling left no pixels
                raise ConfigError(
                    f"model.layers shrink a {input_size}x{input_size} image to nothing ({error}); "
                    "use a larger data.image_size, or fewer layers or smaller strides"
                ) from error
        classifier = []
        for spec in fcs[:-1]:
            classifier += [nn.Linear(width, spec["out"]), nn.ReLU(inplace=True)]
            width = spec["out"]
        if dropout > 0:
            classifier.append(nn.Dropout(dropout))
        classifier.append(nn.Linear(width, num_classes))
        self.classifier = nn.Sequential(*classifier)

        if init_std is not None:
            for module in self.modules():
                if isinstance(module, nn.Conv2d | nn.Linear):
                    nn.init.normal_(module.weight, 0.0, init_std)
                    nn.init.zeros_(module.bias)

        # Channels-last (NHWC) convolutions: the same numbers to float precision, and on the
        # CPU (oneDNN) a training step of the paper network takes 14% less time (README).
        self.memory_format = torch.channels_last if channels_last else torch.contiguous_format
        self.to(memory_format=self.memory_format)

    def forward(self, pixels: torch.Tensor) -> torch.Tensor:
        """Logits for images in 0-255 pixel values, float [n, C, H, W]."""
        images = self.input(pixels).contiguous(memory_format=self.memory_format)
        return self.classifier(self.features(images))
