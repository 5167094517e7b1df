"""Constraints on the weights, applied after every optimizer step."""

import torch
from torch import nn

from imbalance.errors import ConfigError
from imbalance.remedies.parts import Constraint


class MaxNorm(Constraint):
    """MaxNorm by projected gradient descent (Alshammari et al. 2022): after every step, each
    unit's weights (a row of a linear layer, a filter of a convolution) with an L2 norm above
    `radius` are scaled back onto the ball of that radius. Every layer's weights are
    constrained, not biases or batch-norm parameters; in a second stage only the classifier
    trains, so only it can move."""

    def __init__(self, radius: float = 1.0):
        super().__init__()
        if not radius > 0:
            raise ConfigError(f"radius={radius} must be greater than 0")
        self.radius = radius

    @torch.no_grad()
    def forward(self, net: nn.Module) -> None:
        for weight in net.parameters():
            if weight.ndim < 2:
                continue
            norms = torch.linalg.vector_norm(weight.flatten(1), dim=1)
            scale = (self.radius / norms).clamp(max=1.0)
            weight.mul_(scale.view(-1, *[1] * (weight.ndim - 1)))
