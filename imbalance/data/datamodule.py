"""The imbalanced data set of one run: a source's images, subset, split, decoded once, batched."""

import gc
import logging
import math
import os
import warnings
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path
from typing import Literal

import lightning as L
import numpy as np
import torch
from lightning.pytorch.overrides.distributed import UnrepeatedDistributedSampler
from torch.utils.data import DataLoader, Sampler

from imbalance.data.batch_size import auto_batch_size
from imbalance.data.image_cache import cached_decode
from imbalance.data.manifest import (
    SPLITS,
    manifest_of,
    read_manifest,
    select_from_manifest,
    splits_hash,
)
from imbalance.data.spelling import class_name, expand
from imbalance.data.storage import InMemoryImages, OnDiskImages, in_memory, workers
from imbalance.data.subsets import (
    PROFILES,
    balanced_test,
    data_imbalance,
    largest_fitting,
    minority_count,
    natural_sizes,
    nested_selection,
    profile_sizes,
    shot_groups,
    shot_groups_by_count,
    smallest_nonempty,
    stratified_split,
    validation_split,
)
from imbalance.errors import ConfigError, quoted

log = logging.getLogger(__name__)

# Images in memory need no worker processes, which would only add start-up time.
warnings.filterwarnings("ignore", ".*does not have many workers.*")


TEST_SETS = ("stratified", "balanced")


def already_batched(batch):
    return batch


# How profile=natural groups the classes: the field's thresholds, or thirds of the classes.
SHOT_RULES = ("thresholds", "thirds")


class ImbalancedDataModule(L.LightningDataModule):
    """A source's classes made imbalanced by a profile, split per class into train, validation
    and test (`imbalance.data.subsets`), or the splits of a manifest (`imbalance.data.manifest`).
    A source that gives its own splits (file lists, a folder with train/ and test/) is tested on
    its test split whole, and trained on its training split as it is with the natural profile,
    or on images the profile draws from it; one that gives only its test set (CIFAR's files) is
    tested on all of it, the profile drawing the training images from the rest.

    `per_class` is the images per class at 1:1: train and test together with
    `test="stratified"` (the paper's: the test set shares the training imbalance), the training
    images alone with `test="balanced"` (`test_per_class` images of every class, drawn first,
    the same at every ratio and profile). `val_fraction` of each class's training images are held
    out as validation. `seed` draws the images; it is the config's `data.seed`.

    With the step profile, the first `round(mu * len(classes))` names of `minority` are the
    minority classes; the other profiles ignore `mu` and `minority`. The natural profile takes
    every image of every class as the source has it (at most `max_per_class` a class), ignoring
    `ratio` and `per_class`, and groups the classes as many-shot (more than `many_shot` training
    images), medium- and few-shot (fewer than `few_shot`).

    `batch_size="auto"` trains at a batch that follows the number of training images of each of
    the run's `processes` (`imbalance.data.batch_size`), set when the data is set up.

    Images are kept in memory as uint8 and indexed a batch at a time, or, past a size
    (`in_memory`, `imbalance.data.storage`), kept in the on-disk image cache in `cache_dir` and
    read a batch at a time by worker processes; image files are decoded through that cache
    when it is set. With `on_device`, images in memory are copied once to the device the model
    trains on (a GPU), so that no batch crosses the bus; turn it off for a data set larger than
    the device's memory.

    Under distributed training each process trains on its share of the training set (Lightning's
    DistributedSampler) and evaluates a share of the test and validation sets in which every
    image is evaluated exactly once; the metrics gather the shares.

    Raises ConfigError (one line) for a value out of range, for data too small for the subset
    asked for, and for a class left without a training or a test image, unless `allow_empty`
    names it.
    """

    def __init__(
        self,
        source,
        image_size: int,
        minority: Sequence[str] | None = None,
        per_class: int | None = 32,
        root: str | None = None,
        classes: Sequence[str] | None = None,
        test_fraction: float = 0.3,
        batch_size: int | Literal["auto"] = 10,
        eval_batch_size: int = 100,
        ratio: float = 1.0,
        mu: float = 0.5,
        profile: str = "step",
        seed: int = 0,
        test: str = "stratified",
        test_per_class: int = 10,
        val_fraction: float = 0.0,
        manifest: str | None = None,
        cache_dir: str | None = None,
        on_device: bool = True,
        max_per_class: int | None = None,
        many_shot: int = 100,
        few_shot: int = 20,
        shot_groups: str = "thresholds",
        in_memory: str | bool = "auto",
        allow_empty: Sequence[str] = (),
    ):
        super().__init__()
        sizes = {
            "image_size": image_size,
            "batch_size": batch_size,
            "eval_batch_size": eval_batch_size,
        }
        for key, value in sizes.items():
            if key == "batch_size" and value == "auto":
                continue
            if isinstance(value, bool) or not isinstance(value, int):
                also = " or auto" if key == "batch_size" else ""
                raise ConfigError(f"data.{key}={value} is not an integer{also}")
            if value < 1:
                raise ConfigError(f"data.{key}={value} must be at least 1")
        if profile not in PROFILES:
            raise ConfigError(f"profile={profile} is not one of {', '.join(PROFILES)}")
        if per_class is None and profile != "natural":
            raise ConfigError(
                f"profile={profile} draws data.per_class images a class at 1:1, and "
                "data.per_class is not set: set it, or add profile=natural to train on the "
                "training split as it is"
            )
        if test not in TEST_SETS:
            raise ConfigError(f"data.test={test} is not one of {', '.join(TEST_SETS)}")
        if not 0 <= val_fraction < 1:
            raise ConfigError(f"data.val_fraction={val_fraction} is outside [0, 1)")
        if in_memory not in ("auto", True, False):
            raise ConfigError(f"data.in_memory={in_memory} is not one of auto, true, false")
        self.source = source
        self.root = expand(root)
        # Names from the command line may arrive as numbers (data.minority=[5,6]).
        self.classes = None if classes is None else [class_name(str(name)) for name in classes]
        self.minority = [class_name(str(name)) for name in minority or []]
        self.allow_empty = [class_name(str(name)) for name in allow_empty or []]
        self.per_class = per_class
        self.image_size = image_size
        self.test_fraction = test_fraction
        self.batch_size = batch_size  # "auto": set by setup, from the training images
        self.eval_batch_size = eval_batch_size
        self.ratio = ratio
        self.mu = mu
        self.profile = profile
        self.seed = seed
        self.test = test
        self.test_per_class = test_per_class
        self.val_fraction = val_fraction
        self.manifest = expand(manifest)
        self.cache_dir = None if cache_dir is None else Path(expand(cache_dir))
        self.on_device = on_device
        self.max_per_class = max_per_class
        self.many_shot = many_shot
        self.few_shot = few_shot
        if shot_groups not in SHOT_RULES:
            raise ConfigError(
                f"data.shot_groups={shot_groups} is not one of {', '.join(SHOT_RULES)}"
            )
        self.shot_groups = shot_groups
        self.in_memory = in_memory
        self.sets: dict[str, InMemoryImages | OnDiskImages] = {}
        self.processes = 1  # the processes the run trains in, each on its share of the images
        self._one_fails: bool | None = None  # a batch of one image fails the network
        # The sampler of an epoch (counted from 1): a run's remedy's (Remedy.sampler). None:
        # every image once, shuffled by torch.
        self.sampler_of: Callable[[int], Sampler] | None = None

    @property
    def train_set(self) -> InMemoryImages | OnDiskImages | None:
        return self.sets.get("train")

    @property
    def test_set(self) -> InMemoryImages | OnDiskImages | None:
        return self.sets.get("test")

    @property
    def val_set(self) -> InMemoryImages | OnDiskImages | None:
        return self.sets.get("val")

    def setup(self, stage: str | None = None) -> None:
        if not self.sets:
            catalog, splits = self.select()
            self.sets = self._decode(catalog, splits)
            self.batch_size = self.batch_for(len(self.sets["train"]))
        # Set up again by the Trainer, which knows the device.
        if self.on_device and self.trainer is not None:
            device = self.trainer.strategy.root_device
            self.sets = {
                split: images if images.on_disk else images.to(device)
                for split, images in self.sets.items()
            }

    def batch_for(self, images: int) -> int:
        """The batch of each process for `images` training images: `batch_size`, or where it is
        auto, from each process's share of them."""
        if self.batch_size != "auto":
            return self.batch_size
        return auto_batch_size(math.ceil(images / self.processes))

    def select(self) -> tuple:
        """The source's catalog and the catalog indices of each split (`train`, `val`, `test`),
        before decoding; also sets `class_names`, `channels`, `groups`, `minority_names`,
        `splits` (the manifest of the run) and `splits_hash`."""
        catalog = self.source.catalog(self.root, self.classes)
        self.class_names = catalog.class_names
        if len(self.class_names) < 2:
            raise ConfigError(
                f"an imbalance study needs at least 2 classes, and the data has "
                f"{len(self.class_names)} ({quoted(self.class_names)}): add classes, or fix "
                "data.root or data.classes"
            )
        self.channels = catalog.channels
        labels, ids = catalog.labels, catalog.ids  # ids: one relative path per file, made once
        given = catalog.splits
        if self.profile == "step":
            self.minority_names = self._minority_names()
        if self.manifest is not None:
            content = read_manifest(self.manifest)
            self._check_manifest_run(content)
            where = self.root or type(self.source).__name__
            splits = select_from_manifest(self.class_names, labels, ids, content, where)
            splits.setdefault("val", np.array([], dtype=np.int64))
            if given is not None and "test" in given:
                self._check_manifest_test(splits["test"], given["test"])
        elif given is not None and "train" in given and self.profile == "natural":
            splits = self._given(labels, given)
        elif given is not None:
            splits = self._draw_from_given(labels, given)
        else:
            splits = self._draw(labels)
        self._check_no_empty_class(labels, splits, given is not None and "test" in given)
        self._set_groups(np.bincount(labels[splits["train"]], minlength=len(self.class_names)))
        self.splits = manifest_of(self.class_names, labels, ids, splits)
        self.splits_hash = splits_hash(self.splits)
        return catalog, splits

    def _check_no_empty_class(
        self, labels: np.ndarray, splits: dict[str, np.ndarray], test_given: bool
    ) -> None:
        """A class with no training or no test image is refused, unless `allow_empty` names it:
        its recall would be undefined, or it would never be learnt, with a run that exits 0."""
        for split, what in (("train", "training"), ("test", "test")):
            counts = np.bincount(labels[splits[split]], minlength=len(self.class_names))
            empty = [
                name
                for name, count in zip(self.class_names, counts, strict=True)
                if count == 0 and name not in self.allow_empty
            ]
            if not empty:
                continue
            shown = ", ".join(f"{n} {c}" for n, c in zip(self.class_names, counts, strict=True))
            raise ConfigError(
                f"{len(empty)} class(es) would have no {what} image ({quoted(empty)}; {what} "
                f"images: {shown}): {self._fits_every_class(labels, split, test_given)}, or "
                f"name them in data.allow_empty=[{','.join(empty)}] to run without them"
            )

    def _fits_every_class(self, labels: np.ndarray, split: str, test_given: bool) -> str:
        """What setting gives every class an image of `split`, as a hint."""
        stratified = not test_given and self.test == "stratified"
        if self.profile == "natural" or (split == "test" and not stratified):
            return "give them images, or leave them out of the data (data.classes, or the lists)"
        # A class's images drawn beside a stratified test split: one of 2 goes to test.
        need = 2 if stratified else 1
        fits = smallest_nonempty(
            lambda b: [n // need for n in self._drawn_sizes(b)],
            self.per_class,
            int(np.bincount(labels).max()),
        )
        hint = f"data.per_class={fits} gives every class one" if fits else "lower the ratio"
        return f"{hint} (data.per_class={self.per_class} at ratio={self.ratio} does not)"

    def _draw(self, labels: np.ndarray) -> dict[str, np.ndarray]:
        balanced = self.test == "balanced"
        held_out = self.test_per_class if balanced else 0
        if balanced:
            test = balanced_test(labels, held_out, self.seed, self.class_names)
        selection = self._selection(labels, held_out)
        if balanced:
            train = selection
        else:
            train, test = stratified_split(labels, selection, self.test_fraction)
            if not len(test):  # nothing to score the run on: refused before it trains
                raise ConfigError(
                    f"the test split is empty: at data.per_class={self.per_class} and "
                    f"ratio={self.ratio} every class has at most one image, which is trained "
                    "on; raise data.per_class"
                )
        train, val = validation_split(labels, train, self.val_fraction)
        return {"train": train, "val": val, "test": test}

    def _draw_from_given(
        self, labels: np.ndarray, given: dict[str, np.ndarray]
    ) -> dict[str, np.ndarray]:
        """The test split a source gives, whole; the training split drawn by the profile from
        the training split it gives (a folder's train/), or from every image but the test split
        (CIFAR); validation the split it gives (val/), else `val_fraction` of the drawn
        training split."""
        self._check_given_test()
        test = given["test"]
        pool = given.get("train", np.setdiff1d(np.arange(len(labels)), test))
        given_val = given.get("val", np.array([], dtype=np.int64))
        if len(given_val):
            self._check_given_val()
        train, val = validation_split(
            labels, pool[self._selection(labels[pool], 0)], self.val_fraction
        )
        return {"train": train, "val": given_val if len(given_val) else val, "test": test}

    def _selection(self, labels: np.ndarray, held_out: int) -> np.ndarray:
        """Indices into `labels` of the images the profile draws of each class, after the first
        `held_out` of each class's order (a balanced test set's)."""
        available = np.bincount(labels, minlength=len(self.class_names))
        if self.profile == "natural":  # fits the images by construction
            sizes = natural_sizes(available, held_out, self.max_per_class, self.class_names)
        else:
            sizes = self._drawn_sizes(self.per_class)
        try:
            return nested_selection(labels, sizes, self.seed, self.class_names, held_out)
        except ConfigError as error:  # too few images for the drawn sizes: say what would fit
            fits = largest_fitting(available, self._drawn_sizes, self.per_class, held_out)
            hint = f" (data.per_class={fits} fits at ratio={self.ratio})" if fits else ""
            raise ConfigError(f"{error}{hint}") from error

    def _drawn_sizes(self, per_class: int) -> list[int]:
        """Each class's images the profile draws at `per_class` (not the natural profile)."""
        is_minority = [
            self.profile == "step" and name in self.minority_names for name in self.class_names
        ]
        return profile_sizes(self.profile, is_minority, per_class, self.ratio)

    def _check_manifest_test(self, listed: np.ndarray, given: np.ndarray) -> None:
        """A run of a source that gives its test set tests on all of it, with a manifest too."""
        if set(listed.tolist()) != set(given.tolist()):
            raise ConfigError(
                f"data.manifest's test split is not the test set this source gives "
                f"({len(listed)} images listed, {len(given)} given), which a run of it tests on "
                "whole: use a manifest made from a run of this source"
            )

    def _check_given_test(self) -> None:
        if self.test != "stratified":
            raise ConfigError(
                f"data.test={self.test} would draw a test set, and this source gives its own: "
                "drop data.test"
            )

    def _check_given_val(self) -> None:
        if self.val_fraction:
            raise ConfigError(
                f"data.val_fraction={self.val_fraction} would draw a validation split, and this "
                "source gives its own: drop data.val_fraction"
            )

    def _given(self, labels: np.ndarray, given: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """The splits a source gives (file lists), as they are; without a validation split,
        `val_fraction` of the training split is held out as one."""
        self._check_given_test()
        if len(given.get("val", [])):
            self._check_given_val()
        if self.max_per_class is not None:
            raise ConfigError(
                "data.max_per_class would cap the splits this source gives, which are used as "
                "they are: drop data.max_per_class"
            )
        splits = {split: given.get(split, np.array([], dtype=np.int64)) for split in SPLITS}
        if not len(splits["val"]):  # drawn at random, as from a drawn subset
            train = np.random.default_rng(self.seed).permutation(splits["train"])
            splits["train"], splits["val"] = validation_split(labels, train, self.val_fraction)
        return splits

    def _check_manifest_run(self, content: dict) -> None:
        """A results.json used as a manifest was a run at some ratio and profile (and, for
        step, some minority classes): this run, on its images, says the same or its name and
        its groups would lie about its data."""
        made = content.get("config", {})
        ours = {"ratio": self.ratio, "profile": self.profile}
        if self.profile == "step":
            ours |= {"mu": self.mu, "data.minority": self.minority}
            made = made | {"data.minority": made.get("data", {}).get("minority")}
        for key, value in ours.items():
            theirs = made.get(key)
            if key == "data.minority" and theirs is not None:
                theirs = [str(name) for name in theirs]
            if theirs is not None and theirs != value:
                shown = f"[{','.join(theirs)}]" if isinstance(theirs, list) else theirs
                raise ConfigError(
                    f"data.manifest comes from a run with {key}={shown} but this run has "
                    f"{key}={value}; set {key}={shown}"
                )

    def _set_groups(self, train_counts: np.ndarray) -> None:
        """`groups`: group name -> its classes, for the metrics of each group, and `imbalance`,
        the largest training class over the smallest. Step: `majority` and `minority`; natural:
        `many`, `medium` and `few` by the field's thresholds (more than `many_shot` training
        images, fewer than `few_shot`), or with `shot_groups="thirds"` by thirds of the classes
        by their counts, as the drawn profiles (linear, exponential, long tail) always group
        them. A group without classes is left out."""
        self.imbalance = data_imbalance(train_counts.tolist())
        if self.profile == "step":
            minority = set(self.minority_names)
            self.groups = {
                "minority": list(self.minority_names),
                "majority": [name for name in self.class_names if name not in minority],
            }
            return
        if self.profile == "natural" and self.shot_groups == "thresholds":
            shots = shot_groups_by_count(train_counts.tolist(), self.many_shot, self.few_shot)
            empty = [g for g in ("many", "medium", "few") if g not in shots]
            if empty and len(shots) >= 3:
                log.info(
                    f"no {' and no '.join(empty)}-shot class by the field's thresholds (more than "
                    f"data.many_shot={self.many_shot} training images, fewer than data.few_shot="
                    f"{self.few_shot}): data.shot_groups=thirds groups the classes by thirds of "
                    "their counts"
                )
        else:
            shots = shot_groups(train_counts.tolist())
        self.groups = {
            group: [
                name for name, shot in zip(self.class_names, shots, strict=True) if shot == group
            ]
            for group in ("many", "medium", "few")
            if group in shots
        }
        self.minority_names = self.groups.get("few", [])

    def _minority_names(self) -> list[str]:
        unknown = [name for name in self.minority if name not in self.class_names]
        if unknown:
            raise ConfigError(
                f"minority class '{unknown[0]}' is not among the classes "
                f"({quoted(self.class_names)}); fix data.minority"
            )
        k = minority_count(len(self.class_names), self.mu)
        if not self.minority:
            raise ConfigError(
                f"profile=step needs minority classes, and data.minority lists none: list them "
                f"(mu={self.mu}: the first {k}), or add profile=natural, which trains on the "
                "data's own imbalance (a given training split as it is)"
            )
        if k > len(self.minority):
            raise ConfigError(
                f"mu={self.mu} needs {k} minority classes but data.minority lists "
                f"{len(self.minority)}; list more classes in data.minority or lower mu"
            )
        return self.minority[:k]

    def _decode(self, catalog, splits: dict[str, np.ndarray]) -> dict:
        """Every split's images in one pass, so that unreadable files of every split are named
        at once, before training: into memory, or into the image cache on disk
        (`imbalance.data.storage`)."""
        everything = np.concatenate(list(splits.values()))
        labels = torch.from_numpy(catalog.labels[everything])
        ends = np.cumsum([len(indices) for indices in splits.values()])[:-1].tolist()
        label_parts = labels.tensor_split(ends)
        size, channels = self.image_size, catalog.channels
        if in_memory(self.in_memory, len(everything), channels, size):
            images = catalog.decode(everything, size, self.cache_dir)
            return {
                split: InMemoryImages(image_part, label_part)
                for split, image_part, label_part in zip(
                    splits, images.tensor_split(ends), label_parts, strict=True
                )
            }
        if not hasattr(catalog, "cached"):
            raise ConfigError(
                f"data.in_memory={self.in_memory}: this source's images are in memory already; "
                "set data.in_memory=true"
            )
        if self.cache_dir is None:
            raise ConfigError(
                "images kept on disk (data.in_memory) live in the image cache: set "
                "data.cache_dir, e.g. data.cache_dir=outputs/.cache"
            )
        files = catalog.cached(everything, size, self.cache_dir)
        sources = np.array([os.fsencode(catalog.paths[i]) for i in everything])
        # An entry gone while the run reads it: decoded again, through the cache.
        decode = partial(
            cached_decode,
            size=size,
            decoder=catalog.DECODER,
            decode=catalog.decode_file,
            cache_dir=self.cache_dir,
        )
        starts = [0, *ends]
        return {
            split: OnDiskImages(
                files[start : start + len(label_part)],
                label_part,
                sources[start : start + len(label_part)],
                decode,
            )
            for split, start, label_part in zip(splits, starts, label_parts, strict=True)
        }

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    def counts(self, split: str) -> dict[str, int]:
        """Images per class in the 'train', 'val' or 'test' split."""
        labels = self.sets[split].labels
        per_class = torch.bincount(labels, minlength=self.num_classes).tolist()
        return dict(zip(self.class_names, per_class, strict=True))

    def train_mean_image(self) -> torch.Tensor:
        """The mean training image [C, H, W] in 0-255 pixel values (for zero-centring)."""
        return self.train_set.mean_image()

    def train_dataloader(self) -> DataLoader:
        """Batches of the training split, in random order or as `sampler_of` this epoch
        draws them."""
        epoch = 1 + (self.trainer.current_epoch if self.trainer is not None else 0)
        sampler = None if self.sampler_of is None else self.sampler_of(epoch)
        if hasattr(sampler, "set_epoch"):
            # Lightning starts the loader's iterator before it sets the epoch, and workers draw
            # their first batches from the sampler at once: set it first.
            sampler.set_epoch(epoch - 1)
        return DataLoader(
            self.train_set,
            self.batch_size,
            shuffle=sampler is None,
            sampler=sampler,
            drop_last=self._drops_a_batch_of_one(
                len(self.train_set if sampler is None else sampler)
            ),
            collate_fn=already_batched,
            # With a sampler, which draws from (seed, epoch), the loader takes nothing from the
            # global RNG either (each new iterator would draw a seed there, and where Lightning
            # makes one differs between a resumed run and the original).
            generator=None if sampler is None else torch.Generator(),
            **self._loading(self.train_set),
        )

    def _drops_a_batch_of_one(self, images: int) -> bool:
        """Whether an epoch of `images` (each process's share of them) ends in a batch of one
        image that the network's batch norm cannot train on (the module's `batch_of_one_fails`):
        that batch is then dropped, a different image each epoch as the order changes, which the
        log says once."""
        world = self.trainer.world_size if self.trainer is not None else 1
        share = math.ceil(images / world)
        model = self.trainer.lightning_module if self.trainer is not None else None
        if share % self.batch_size != 1 or share == 1 or model is None:
            return False
        if self._one_fails is None:
            image = self.train_set.__getitems__([0])[0]
            self._one_fails = model.batch_of_one_fails(image)
            if self._one_fails:
                log.info(
                    f"an epoch of {share} training images ends in a batch of one (data."
                    f"batch_size={self.batch_size}), which the network's batch norm cannot "
                    "train on: each epoch leaves out its last image, a different one each epoch"
                )
        return self._one_fails

    @property
    def eval_splits(self) -> list[str]:
        """What the Trainer's validation loop evaluates every epoch, in the order of
        `val_dataloader`'s loaders: the validation split when there is one (first, so that a
        correction can be fitted on it), then the test split (the paper's curves)."""
        return ["val", "test"] if len(self.val_set or []) else ["test"]

    def val_dataloader(self) -> list[DataLoader]:
        return [self._eval_loader(split) for split in self.eval_splits]

    def test_dataloader(self) -> DataLoader:
        return self._eval_loader("test")

    def _eval_loader(self, split: str) -> DataLoader:
        images, sampler = self.sets[split], None
        if self.trainer is not None and self.trainer.world_size > 1:
            # Lightning's own choice, a DistributedSampler, would repeat images to even out the
            # shares, and the repeats would count twice in the metrics.
            sampler = UnrepeatedDistributedSampler(
                images, self.trainer.world_size, self.trainer.global_rank, shuffle=False
            )
        return DataLoader(
            images, self.eval_batch_size, sampler=sampler, collate_fn=already_batched,
            **self._loading(images),
        )  # fmt: skip

    def teardown(self, stage: str) -> None:
        gc.unfreeze()

    def _loading(self, images) -> dict:
        """How a loader reads `images`: on disk, in worker processes; and batches copied to a
        GPU at every step (images on disk, or `on_device` off) in pinned memory, so that the
        copy is queued behind the GPU's work instead of waiting for it."""
        on_gpu = self.trainer is not None and self.trainer.strategy.root_device.type == "cuda"
        copied = images.on_disk or not self.on_device
        if images.on_disk:
            # The workers are forked from this process and share its pages until they write to
            # them; the garbage collector writes to every object it visits, so a worker's
            # first collection would copy the run's objects into it. Frozen, it skips them
            # (until teardown: frozen, they would never be collected).
            gc.freeze()
        return {"num_workers": workers() if images.on_disk else 0, "pin_memory": on_gpu and copied}
