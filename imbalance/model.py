"""The CNN of the study, built from a list of layers written like the paper's Table 2."""

from collections.abc import Mapping, Sequence

import torch
import torch.nn.functional as F
from torch import nn

from imbalance.errors import ConfigError


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


class CosineLinear(nn.Module):
    """A last layer of cosine similarities: scale * cos(feature, w_c) for every class c, features
    and weights normalised to unit length, no bias (the normalised head that LDAM's authors,
    Cao et al. 2019, train with; their scale s is `scale`). Weights [out, in] as nn.Linear's."""

    def __init__(self, in_features: int, out_features: int, scale: float):
        super().__init__()
        self.scale = scale
        self.weight = nn.Parameter(torch.empty(out_features, in_features))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        nn.init.kaiming_uniform_(self.weight, a=5**0.5)  # nn.Linear's own initialisation

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        cosine = F.normalize(features, dim=1) @ F.normalize(self.weight, dim=1).T
        return self.scale * cosine


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


HEADS = ("linear", "cosine")


def last_layer(in_features: int, num_classes: int, head: Mapping | None) -> nn.Module:
    """A network's last layer: linear, or the remedy's `head` `{type: cosine, scale: s}`
    (`CosineLinear`). Raises ConfigError for another type."""
    head = dict(head or {"type": "linear"})
    if head.get("type") not in HEADS:
        raise ConfigError(f"remedy.head type={head.get('type')} is not one of {', '.join(HEADS)}")
    if head["type"] == "cosine":
        return CosineLinear(in_features, num_classes, head.get("scale", 1.0))
    return nn.Linear(in_features, num_classes)


def classifier(
    in_features: int, num_classes: int, dropout: float, head: Mapping | None
) -> nn.Sequential:
    """The end of a classifier: dropout when `dropout` > 0, then `last_layer`."""
    last = last_layer(in_features, num_classes, head)
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


class CNN(Network):
    """Convolutions (each: conv, [batch norm], ReLU, [max pool]) then fully connected layers.

    `layers` holds dicts: `{type: conv, out, kernel, stride, padding, pool, pool_stride}` or
    `{type: fc, out}`; the last must be `{type: fc}` with no `out`: the number of classes. Batch
    norm (after every convolution) and dropout (before the last layer) are switches that the
    regularizer sets, not parts of the layer list; `head` is the remedy's choice of last layer:
    None (a linear layer) or `{type: cosine, scale: s}` (`CosineLinear`).
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
        head: Mapping | None = None,
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
        hidden = []
        for spec in fcs[:-1]:
            hidden += [nn.Linear(width, spec["out"]), nn.ReLU(inplace=True)]
            width = spec["out"]
        self.classifier = nn.Sequential(*hidden, *classifier(width, num_classes, dropout, head))

        self.init_std = init_std
        for module in self.modules():
            self._initialise(module)

        self._set_memory_format(channels_last)

    def _initialise(self, module: nn.Module) -> None:
        """N(0, init_std) weights and zero biases when init_std is set; else PyTorch's own."""
        if self.init_std is not None and isinstance(module, nn.Conv2d | nn.Linear | CosineLinear):
            nn.init.normal_(module.weight, 0.0, self.init_std)
            if getattr(module, "bias", None) is not None:
                nn.init.zeros_(module.bias)
