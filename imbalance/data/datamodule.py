"""The imbalanced data set of one run: a source's images, subset, split, decoded once, batched."""

import warnings
from collections.abc import Sequence
from pathlib import Path

import lightning as L
import numpy as np
import torch
from lightning.pytorch.overrides.distributed import UnrepeatedDistributedSampler
from torch.utils.data import DataLoader, TensorDataset

from imbalance.data.subsets import minority_count, nested_selection, step_sizes, stratified_split
from imbalance.errors import ConfigError

# The images are tensors in memory: worker processes would only add start-up time.
warnings.filterwarnings("ignore", ".*does not have many workers.*")


class InMemoryImages(TensorDataset):
    """uint8 images and their labels in memory. A DataLoader gets a whole batch through one
    indexing of the tensors (`__getitems__`), not one lookup per image; its sampler stays the
    standard one, which Lightning replaces for distributed training."""

    def __getitems__(self, indices: list[int]) -> tuple[torch.Tensor, ...]:
        index = torch.as_tensor(indices)
        return tuple(tensor[index] for tensor in self.tensors)

    def to(self, device: torch.device) -> "InMemoryImages":
        return InMemoryImages(*(tensor.to(device) for tensor in self.tensors))


def already_batched(batch):
    return batch


class ImbalancedDataModule(L.LightningDataModule):
    """Step imbalance over a source's classes, split per class into train and test.

    The first `round(mu * len(classes))` names of `minority` are the minority classes. Images are
    kept in memory as uint8 and indexed a batch at a time; image files are decoded through the
    on-disk cache in `cache_dir` when it is set. With `on_device`, the images are copied once to
    the device the model trains on (a GPU), so that no batch crosses the bus; turn it off for a
    data set larger than the device's memory.

    Under distributed training each process trains on its share of the training set (Lightning's
    DistributedSampler) and tests on a share of the test set in which every image is evaluated
    exactly once; the metrics gather the shares.
    """

    def __init__(
        self,
        source,
        minority: Sequence[str],
        per_class: int,
        image_size: int,
        root: str | None = None,
        classes: Sequence[str] | None = None,
        test_fraction: float = 0.3,
        batch_size: int = 10,
        eval_batch_size: int = 100,
        ratio: float = 1.0,
        mu: float = 0.5,
        seed: int = 0,
        cache_dir: str | None = None,
        on_device: bool = True,
    ):
        super().__init__()
        sizes = {
            "image_size": image_size,
            "batch_size": batch_size,
            "eval_batch_size": eval_batch_size,
        }
        for key, value in sizes.items():
            if value < 1:
                raise ConfigError(f"data.{key}={value} must be at least 1")
        self.source = source
        self.root = root
        # Names from the command line may arrive as numbers (data.minority=[5,6]).
        self.classes = None if classes is None else [str(name) for name in classes]
        self.minority = [str(name) for name in minority]
        self.per_class = per_class
        self.image_size = image_size
        self.test_fraction = test_fraction
        self.batch_size = batch_size
        self.eval_batch_size = eval_batch_size
        self.ratio = ratio
        self.mu = mu
        self.seed = seed
        self.cache_dir = None if cache_dir is None else Path(cache_dir)
        self.on_device = on_device
        self.train_set: InMemoryImages | None = None
        self.test_set: InMemoryImages | None = None

    def setup(self, stage: str | None = None) -> None:
        if self.train_set is None:
            catalog, train, test = self.select()
            self.train_set = self._decode(catalog, train)
            self.test_set = self._decode(catalog, test)
        # Set up again by the Trainer, which knows the device.
        if self.on_device and self.trainer is not None:
            device = self.trainer.strategy.root_device
            self.train_set = self.train_set.to(device)
            self.test_set = self.test_set.to(device)

    def select(self):
        """The source's catalog and the indices of the train and test images, before decoding;
        also sets `class_names`, `channels` and `minority_names`."""
        catalog = self.source.catalog(self.root, self.classes)
        self.class_names = catalog.class_names
        self.channels = catalog.channels
        self.minority_names = self._minority_names()
        is_minority = [name in self.minority_names for name in self.class_names]
        sizes = step_sizes(is_minority, self.per_class, self.ratio)
        selection = nested_selection(catalog.labels, sizes, self.seed, self.class_names)
        train, test = stratified_split(catalog.labels, selection, self.test_fraction)
        return catalog, train, test

    def _minority_names(self) -> list[str]:
        unknown = [name for name in self.minority if name not in self.class_names]
        if unknown:
            raise ConfigError(
                f"minority class '{unknown[0]}' is not among the classes "
                f"({', '.join(self.class_names)}); fix data.minority"
            )
        k = minority_count(len(self.class_names), self.mu)
        if k > len(self.minority):
            raise ConfigError(
                f"mu={self.mu} needs {k} minority classes but data.minority lists "
                f"{len(self.minority)}; list more classes in data.minority or lower mu"
            )
        return self.minority[:k]

    def _decode(self, catalog, indices: np.ndarray) -> InMemoryImages:
        images = catalog.decode(indices, self.image_size, self.cache_dir)
        return InMemoryImages(images, torch.from_numpy(catalog.labels[indices]))

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    def counts(self, split: str) -> dict[str, int]:
        """Images per class in the 'train' or 'test' split."""
        labels = (self.train_set if split == "train" else self.test_set).tensors[1]
        per_class = torch.bincount(labels, minlength=self.num_classes).tolist()
        return dict(zip(self.class_names, per_class, strict=True))

    def train_mean_image(self) -> torch.Tensor:
        """The mean training image [C, H, W] in 0-255 pixel values (for zero-centring)."""
        return self.train_set.tensors[0].float().mean(dim=0)

    def train_dataloader(self) -> DataLoader:
        return DataLoader(self.train_set, self.batch_size, shuffle=True, collate_fn=already_batched)

    def val_dataloader(self) -> DataLoader:
        return self.test_dataloader()

    def test_dataloader(self) -> DataLoader:
        sampler = None
        if self.trainer is not None and self.trainer.world_size > 1:
            # Lightning's own choice, a DistributedSampler, would repeat images to even out the
            # shares, and the repeats would count twice in the metrics.
            sampler = UnrepeatedDistributedSampler(
                self.test_set, self.trainer.world_size, self.trainer.global_rank, shuffle=False
            )
        return DataLoader(
            self.test_set, self.eval_batch_size, sampler=sampler, collate_fn=already_batched
        )
