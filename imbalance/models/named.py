"""Any classification network of torchvision, by name, its last layer sized to the classes."""

import logging
import os
from collections.abc import Mapping

import torch
import torchvision
from torch import nn
from torchvision.models import get_model_builder, get_weight, list_models

from imbalance.errors import ConfigError
from imbalance.models.network import InputLayer, LastLayer, Network, classifier

log = logging.getLogger(__name__)


def _last_linear(net: nn.Module) -> tuple[str, nn.Linear]:
    """The network's last nn.Linear (its classifier), with its path (`fc`, `classifier.3`)."""
    found = [
        (name, module) for name, module in net.named_modules() if isinstance(module, nn.Linear)
    ]
    if not found:
        raise ConfigError(
            "this torchvision network has no linear last layer to size to the classes"
        )
    return found[-1]


class TorchvisionNet(Network):
    """torchvision's network `name` (`torchvision.models.list_models()`), with `weights` None
    (initialised as torchvision does), a torchvision weights name (`ResNet18_Weights.DEFAULT`,
    downloaded by torchvision when not in its cache) or a file of weights (a state dict saved by
    `torch.save`, read with `weights_only=True`). Its last linear layer is replaced by one of
    `num_classes` outputs (or the remedy's `head`), after `dropout`.

    Pixels are scaled by `input_scale` and zero-centred by the mean training image (`input`, as
    the study's CNN); a greyscale image is repeated into the three channels torchvision's
    networks take. Batch norm is the network's own: `batch_norm` does not change it.
    """

    def __init__(
        self,
        name: str,
        in_channels: int,
        input_size: int,
        num_classes: int,
        weights: str | None = None,
        input_scale: float = 1 / 255,
        zero_center: bool = True,
        batch_norm: bool = True,
        dropout: float = 0.0,
        channels_last: bool = True,
        head: LastLayer | None = None,
    ):
        super().__init__()
        try:
            builder = get_model_builder(name)
        except ValueError:
            names = list_models(module=torchvision.models)
            raise ConfigError(
                f"model.name={name} is not one of torchvision's {len(names)} classification "
                f"networks, e.g. resnet18, resnet50, mobilenet_v3_small, efficientnet_b0, "
                f"convnext_tiny, vit_b_16"
            ) from None
        file = None if weights is None else os.path.expanduser(weights)
        if file is not None and os.path.exists(file):
            self.features = builder(weights=None)
            self._load(file, num_classes)
        else:
            self.features = builder(weights=self._torchvision_weights(weights))
        if not batch_norm:
            log.info(f"{name} keeps its own normalisation layers: reg.batch_norm=false leaves them")
        path, old = _last_linear(self.features)
        parent, _, attribute = path.rpartition(".")
        setattr(self.features.get_submodule(parent), attribute, nn.Identity())
        self.classifier = classifier(old.in_features, num_classes, dropout, head)
        self.input = InputLayer(in_channels, input_size, input_scale, zero_center, out_channels=3)
        self._set_memory_format(channels_last)

    @staticmethod
    def _torchvision_weights(weights: str | None):
        """torchvision's weights enum for a weights name; None for none."""
        if weights is None:
            return None
        try:
            return get_weight(weights)
        except (ValueError, AttributeError):
            raise ConfigError(
                f"model.weights={weights} is neither a file nor a torchvision weights name such "
                "as ResNet18_Weights.IMAGENET1K_V1 (torchvision.models.get_model_weights(name) "
                "lists a network's); null trains from scratch"
            ) from None

    def _load(self, path: str, num_classes: int) -> None:
        """The file's weights, all but those of the last linear layer, which is replaced by one
        of the run's classes: a file of a network trained on other classes is welcome."""
        last = _last_linear(self.features)[0]
        try:
            state = torch.load(path, map_location="cpu", weights_only=True)
            if not isinstance(state, Mapping):
                raise TypeError(f"it holds a {type(state).__name__}, not a dict of tensors")
            kept = {k: v for k, v in state.items() if k.rpartition(".")[0] != last}
            self.features.load_state_dict(kept, strict=False)
            missing, unexpected = self._mismatch(kept, last)
            if missing or unexpected:
                raise ValueError(f"missing {missing[:3]}, unexpected {unexpected[:3]}")
        except Exception as error:  # noqa: BLE001 - any unreadable or mismatched file reads the same
            reason = " ".join(str(error).split())[:300]
            raise ConfigError(
                f"model.weights={path} is not a state dict of this network ({reason}); save one "
                "with torch.save(net.state_dict(), path)"
            ) from None
        if f"{last}.weight" in state:
            log.info(
                f"model.weights={path}: its last layer ({last}, {len(state[f'{last}.weight'])} "
                f"outputs) is left out; the run's, of {num_classes} classes, starts afresh"
            )

    def _mismatch(self, state: Mapping, last: str) -> tuple[list[str], list[str]]:
        """The network's keys that `state` lacks and the keys it has that the network lacks,
        the last layer's aside."""
        own = {k for k in self.features.state_dict() if k.rpartition(".")[0] != last}
        return sorted(own - state.keys()), sorted(state.keys() - own)
