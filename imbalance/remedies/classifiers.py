"""Changes of the trained classifier (the network's last layer), hooked onto that layer's
output: the trained weights stay as they are, in checkpoints too.

Each applies at every evaluation, so the validation split that tunes it (`imbalance.tune`) and
the test split see the classifier as it will be used.
"""

import torch
import torch.nn.functional as F
from torch import nn

from imbalance.errors import ConfigError
from imbalance.remedies.parts import ClassifierChange


class _LastLayerChange(ClassifierChange):
    """A change of a linear last layer with an output per class, `num_classes` of them."""

    def attach(self, last: nn.Module) -> None:
        """Hooks the change onto `last`, a linear layer of an output per class."""
        if not isinstance(last, nn.Linear):
            raise ConfigError(
                f"{type(self).__name__} changes a linear last layer, and this network's is "
                f"{type(last).__name__}: drop remedy.head, or choose another remedy"
            )
        if last.out_features != self.num_classes:
            raise ConfigError(
                f"{type(self).__name__} changes a last layer of {self.num_classes} outputs, one "
                f"per class, and this network's has {last.out_features}"
            )
        super().attach(last)


class TauNorm(_LastLayerChange):
    """Tau-normalisation (Kang et al. 2020, eq. 3): at evaluation, each class's weight vector
    w_c divided by ||w_c||^tau, the bias kept; training sees the weights as they are. tau=0
    leaves every logit as it was, tau=1 gives every class a weight vector of norm 1."""

    def __init__(self, num_classes: int, tau: float = 1.0):
        super().__init__(num_classes)
        if not tau >= 0:
            raise ConfigError(f"tau={tau} must be at least 0")
        self.tau = tau

    def changed(self, layer: nn.Linear, inputs: tuple, output: torch.Tensor):
        if self.training:
            return None  # the output as it is
        norms = torch.linalg.vector_norm(layer.weight, dim=1, keepdim=True)
        return F.linear(inputs[0], layer.weight / norms**self.tau, layer.bias)


class LearnedScales(_LastLayerChange):
    """Learnable weight scaling, LWS (Kang et al. 2020): every class's logit multiplied by a
    scale of its own, 1 until a second stage (`stage2.trains: scales`) learns them with the
    rest of the network frozen."""

    def __init__(self, num_classes: int):
        super().__init__(num_classes)
        self.scales = nn.Parameter(torch.ones(num_classes), requires_grad=False)

    def changed(self, layer: nn.Linear, inputs: tuple, output: torch.Tensor) -> torch.Tensor:
        return output * self.scales
