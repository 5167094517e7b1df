"""Data augmentation drawn per sample and applied to a whole batch at once, on its device."""

import math

import torch
import torch.nn.functional as F
from torch import nn


class RandomAffine(nn.Module):
    """Random rotation, left-right flip and translation, independent for every image of a batch.

    rotation: degrees, drawn uniformly in [-rotation, rotation].
    hflip: probability of a left-right flip.
    translate: pixels each way at `reference_size`, scaled to the batch's image size, drawn
        uniformly in [-translate, translate] for each axis.
    Uncovered pixels are 0 (black), as in MATLAB's imageDataAugmenter.
    """

    def __init__(
        self,
        rotation: float = 0.0,
        hflip: float = 0.0,
        translate: float = 0.0,
        reference_size: int = 227,
    ):
        super().__init__()
        self.rotation = rotation
        self.hflip = hflip
        self.translate = translate
        self.reference_size = reference_size

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        n = images.shape[0]
        draw = torch.rand(n, 4, device=images.device, dtype=images.dtype)
        angle = (draw[:, 0] * 2 - 1) * math.radians(self.rotation)
        flip = torch.where(draw[:, 1] < self.hflip, -1.0, 1.0).to(images.dtype)
        # affine_grid's coordinates span the image as [-1, 1], so a shift of `translate` pixels
        # at `reference_size` is 2 * translate / reference_size at any image size.
        shift = (draw[:, 2:] * 2 - 1) * (2 * self.translate / self.reference_size)
        cos, sin = torch.cos(angle), torch.sin(angle)
        theta = torch.stack(
            [
                torch.stack([cos * flip, -sin, shift[:, 0]], dim=1),
                torch.stack([sin * flip, cos, shift[:, 1]], dim=1),
            ],
            dim=1,
        )
        grid = F.affine_grid(theta, list(images.shape), align_corners=False)
        return F.grid_sample(
            images, grid, mode="bilinear", padding_mode="zeros", align_corners=False
        )


class RandomCropFlip(nn.Module):
    """The long-tail recipe's augmentation (torchvision's RandomCrop(size, padding) then
    RandomHorizontalFlip, as Cao et al. 2019 train on CIFAR): each image of the batch padded
    with `padding` black pixels a side, a window of its own size cropped at a random offset
    (each of the 2 * padding + 1 offsets a side equally likely), and flipped left-right with
    probability `hflip`; independent for every image, as one gather on the batch's device.
    """

    def __init__(self, padding: int = 4, hflip: float = 0.5):
        super().__init__()
        self.padding = padding
        self.hflip = hflip

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        n, _, height, width = images.shape
        device = images.device
        padded = F.pad(images, [self.padding] * 4)
        top = torch.randint(0, 2 * self.padding + 1, (n, 1), device=device)
        left = torch.randint(0, 2 * self.padding + 1, (n, 1), device=device)
        flip = torch.rand(n, 1, device=device) < self.hflip
        across = torch.arange(width, device=device)
        rows = top + torch.arange(height, device=device)  # [n, height]
        cols = left + torch.where(flip, width - 1 - across, across)  # [n, width]
        batch = torch.arange(n, device=device)[:, None, None]
        # [n, height, width, channels] from advanced indexing, back to [n, channels, h, w].
        return padded.permute(0, 2, 3, 1)[batch, rows[:, :, None], cols[:, None, :]].permute(
            0, 3, 1, 2
        )
