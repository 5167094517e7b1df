"""What the framework is measured against (`make bench`), each timed per epoch on one run's data:

- `floor`: the same network, data, batch size and steps as a bare PyTorch loop over tensors
  already in memory: the compute floor.
- `lightning_floor`: the same loop in Lightning's Trainer, in the smallest LightningModule (the
  loss, a test forward pass, nothing logged, no checkpoint): what Lightning's own loop costs,
  the floor of anything trained through it.
- `fabric_floor`: the same loop in Lightning Fabric (the run's DataLoaders, Fabric's backward
  and optimizer step): a loop on Lightning with nothing but the training in it.
- `naive`: the pipeline most users would write: a DataLoader that decodes (image files) and
  resizes every image with PIL every epoch, in a plain Lightning module.

All train then evaluate on the test split every epoch, as a framework run does.
"""

import time

import lightning as L
import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from torch.utils.data import DataLoader, Dataset

from imbalance.build import build


def mixed_precision(precision: str, device: torch.device):
    """The autocast context and gradient scaler of Lightning's `precision` setting, for a bare
    loop: bf16-mixed autocasts to bfloat16; 16-mixed to float16, its loss scaled; 32-true does
    neither. Raises ValueError for another setting, which a bare loop would not follow."""
    precision = str(precision)
    if precision not in ("32-true", "32", "bf16-mixed", "16-mixed"):
        raise ValueError(f"the bare loop runs 32-true, bf16-mixed or 16-mixed, not {precision}")
    half = torch.bfloat16 if precision.startswith("bf16") else torch.float16
    autocast = torch.autocast(device.type, dtype=half, enabled=precision.endswith("-mixed"))
    return autocast, torch.amp.GradScaler(device.type, enabled=precision == "16-mixed")


def floor(cfg) -> list[float]:
    """Seconds per epoch of a bare loop: uint8 tensors in memory, SGD, no metrics, no logging,
    on the device a framework run with this config trains on, at its precision."""
    # A Trainer only to resolve the accelerator (auto, gpu...) to a device as a run does.
    trainer = L.Trainer(accelerator=cfg.trainer.accelerator, devices=1, logger=False)
    device = trainer.strategy.root_device
    data, module = build(cfg)
    net, augment = module.net.to(device), module.augment
    optimizer = module.configure_optimizers()["optimizer"]
    autocast, scaler = mixed_precision(cfg.trainer.precision, device)
    (train_images, train_labels), (test_images, test_labels) = (
        [tensor.to(device) for tensor in data.train_set.tensors],
        [tensor.to(device) for tensor in data.test_set.tensors],
    )
    seconds = []
    for _ in range(cfg.trainer.max_epochs):
        started = time.perf_counter()
        net.train()
        for batch in torch.randperm(len(train_labels), device=device).split(data.batch_size):
            images = train_images[batch].float()
            if augment is not None:
                images = augment(images)
            with autocast:
                loss = F.cross_entropy(net(images), train_labels[batch])
            optimizer.zero_grad()
            scaler.scale(loss).backward()
            scaler.step(optimizer)
            scaler.update()
        net.eval()
        with torch.no_grad(), autocast:
            for batch in torch.arange(len(test_labels), device=device).split(data.eval_batch_size):
                net(test_images[batch].float()).argmax(dim=1)
        if device.type == "cuda":
            torch.cuda.synchronize(device)  # the epoch's kernels done, not only queued
        seconds.append(time.perf_counter() - started)
    return seconds


class DecodedEveryEpoch(Dataset):
    """Image `i` opened with `open_image(i)`, a PIL image, and resized on every access."""

    def __init__(self, open_image, labels: np.ndarray, size: int):
        self.open_image, self.labels, self.size = open_image, labels, size

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, i):
        with self.open_image(i) as image:
            image = image.resize((self.size, self.size), Image.Resampling.BICUBIC)
        pixels = torch.from_numpy(np.array(image))
        pixels = pixels.unsqueeze(0) if pixels.ndim == 2 else pixels.permute(2, 0, 1)
        return pixels.float(), int(self.labels[i])


def _opener(catalog, indices: np.ndarray):
    """Image j of the split as a PIL image: a file decoded to RGB, or an array in memory."""
    if hasattr(catalog, "paths"):
        paths = np.array(catalog.paths)[indices]
        return lambda j: Image.open(paths[j]).convert("RGB")
    images = catalog.images[torch.as_tensor(indices)].numpy()  # uint8 [n, channels, h, w]
    return lambda j: Image.fromarray(
        images[j].squeeze(0) if len(images[j]) == 1 else images[j].transpose(1, 2, 0)
    )


class PlainModule(L.LightningModule):
    """Cross-entropy and the run's optimizer; with `log`, the training loss and the test
    split's loss and accuracy through `self.log`, as Lightning's examples do."""

    def __init__(self, net, optimizer, augment, log: bool = True):
        super().__init__()
        self.net, self.optimizer, self.augment = net, optimizer, augment
        self.with_logging = log

    def training_step(self, batch, batch_idx):
        images, labels = batch
        images = images.float()  # uint8 from memory, float from the naive pipeline
        if self.augment is not None:  # the same augmentation as a framework run, if any
            images = self.augment(images)
        loss = F.cross_entropy(self.net(images), labels)
        if self.with_logging:
            self.log("train_loss", loss)
        return loss

    def validation_step(self, batch, batch_idx, dataloader_idx=0):  # a validation split too
        images, labels = batch
        logits = self.net(images.float())
        if self.with_logging:
            self.log("val_loss", F.cross_entropy(logits, labels))
            self.log("val_acc", (logits.argmax(dim=1) == labels).float().mean())

    def configure_optimizers(self):
        return self.optimizer


class EpochTimer(L.Callback):
    """Seconds per epoch, from one epoch's start to the next's (its test pass and Lightning's
    work between epochs included, as a framework run's are), the last to the end of fit."""

    def __init__(self):
        self.starts, self.seconds = [], []

    def on_train_epoch_start(self, trainer, module):
        self.starts.append(time.perf_counter())

    def on_train_end(self, trainer, module):
        ends = [*self.starts[1:], time.perf_counter()]
        self.seconds = [end - start for start, end in zip(self.starts, ends, strict=True)]


def fit_timed(cfg, module: L.LightningModule, **fit_args) -> list[float]:
    """Seconds per epoch of `module` fitted with `fit_args` (Trainer.fit's: the data) by a
    Trainer with nothing of its own: no logger, checkpoint, progress bar or summary."""
    timer = EpochTimer()
    trainer = L.Trainer(
        max_epochs=cfg.trainer.max_epochs,
        accelerator=cfg.trainer.accelerator,
        devices=1,
        precision=cfg.trainer.precision,
        logger=False,
        callbacks=[timer],
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        num_sanity_val_steps=0,
    )
    trainer.fit(module, **fit_args)
    return timer.seconds


def lightning_floor(cfg) -> list[float]:
    """Seconds per epoch of the floor's network, data and steps in Lightning's Trainer: the
    run's own data (on the device, as a run's), a module that only computes the loss and the
    forward pass of the evaluation splits (the test split, and a validation split if the run
    has one, as a run evaluates them)."""
    data, module = build(cfg)
    optimizer = module.configure_optimizers()["optimizer"]
    return fit_timed(
        cfg, PlainModule(module.net, optimizer, module.augment, log=False), datamodule=data
    )


def fabric_floor(cfg) -> list[float]:
    """Seconds per epoch of the floor's loop written with Lightning Fabric: the run's own data
    (on the device) through its DataLoaders, `Fabric.backward`, the optimizer Fabric wraps."""
    fabric = L.Fabric(
        accelerator=cfg.trainer.accelerator, devices=1, precision=cfg.trainer.precision
    )
    data, module = build(cfg)
    data.sets = {split: images.to(fabric.device) for split, images in data.sets.items()}
    net, optimizer = fabric.setup(module.net, module.configure_optimizers()["optimizer"])
    train, test = fabric.setup_dataloaders(data.train_dataloader(), data.test_dataloader())
    seconds = []
    for _ in range(cfg.trainer.max_epochs):
        started = time.perf_counter()
        net.train()
        for images, labels in train:
            images = images.float()
            if module.augment is not None:
                images = module.augment(images)
            loss = F.cross_entropy(net(images), labels)
            optimizer.zero_grad()
            fabric.backward(loss)
            optimizer.step()
        net.eval()
        with torch.no_grad(), fabric.autocast():
            for images, _ in test:
                net(images.float()).argmax(dim=1)
        if fabric.device.type == "cuda":
            torch.cuda.synchronize(fabric.device)
        seconds.append(time.perf_counter() - started)
    return seconds


def naive(cfg, workers: int) -> list[float]:
    """Seconds per epoch of a DataLoader that decodes and resizes every image every epoch, in
    plain Lightning."""
    data, module = build(cfg)
    catalog, splits = data.select()
    loaders = [
        DataLoader(
            DecodedEveryEpoch(
                _opener(catalog, np.asarray(indices)), catalog.labels[indices], data.image_size
            ),
            batch_size=size,
            shuffle=shuffle,
            num_workers=workers,
            persistent_workers=workers > 0,
        )
        for indices, size, shuffle in (
            (splits["train"], data.batch_size, True),
            (splits["test"], data.eval_batch_size, False),
        )
    ]
    optimizer = module.configure_optimizers()["optimizer"]
    plain = PlainModule(module.net, optimizer, module.augment)
    return fit_timed(cfg, plain, train_dataloaders=loaders[0], val_dataloaders=loaders[1])
