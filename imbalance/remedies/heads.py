"""A remedy's last layer of the network (`remedy.head`): linear, or cosine similarities."""

from collections.abc import Mapping
from functools import partial

import torch
import torch.nn.functional as F
from torch import nn

from imbalance.errors import ConfigError

HEADS = ("linear", "cosine")


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


def last_layer(head: Mapping | None):
    """What makes the last layer of `head`, `{type: linear}` (also None) or `{type: cosine,
    scale: s}`, for (in_features, num_classes). Raises ConfigError for another type."""
    head = dict(head or {"type": "linear"})
    if head.get("type") not in HEADS:
        raise ConfigError(f"remedy.head type={head.get('type')} is not one of {', '.join(HEADS)}")
    if head["type"] == "cosine":
        return partial(CosineLinear, scale=head.get("scale", 1.0))
    return nn.Linear
