"""The study's CNN, built from a list of layers written like the paper's Table 2."""

from collections.abc import Mapping, Sequence

import torch
from torch import nn

from imbalance.errors import ConfigError
from imbalance.models.network import InputLayer, LastLayer, Network, classifier


class CNN(Network):
    """Convolutions (each: conv, [batch norm], ReLU, [max pool]) then fully connected layers.

    `layers` holds dicts: `{type: conv, out, kernel, stride, padding, pool, pool_stride}` or
    `{type: fc, out}`; the last must be `{type: fc}` with no `out`: the number of classes. Batch
    norm (after every convolution) and dropout (before the last layer) are switches that the
    regularizer sets, not parts of the layer list; `head` makes the remedy's last layer
    (`Remedy.last_layer`; None: a linear one).
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
        head: LastLayer | None = None,
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
        drawn = isinstance(module, nn.Conv2d | nn.Linear) or module is self.classifier[-1]
        if self.init_std is not None and drawn:
            nn.init.normal_(module.weight, 0.0, self.init_std)
            if getattr(module, "bias", None) is not None:
                nn.init.zeros_(module.bias)
