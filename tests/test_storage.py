"""A run's images in memory or on disk: the same images, the same batches, a memory bound."""

import os
from pathlib import Path

import pytest
import torch

from helpers import make_image_tree
from imbalance.data.datamodule import ImbalancedDataModule
from imbalance.data.sources import Digits, ImageFolder
from imbalance.data.storage import IN_MEMORY_LIMIT, OnDiskImages, in_memory
from imbalance.errors import ConfigError
from imbalance.remedies.samplers import Shuffle


def test_auto_keeps_images_in_memory_up_to_the_limit():
    per_image = 3 * 64 * 64
    fits = IN_MEMORY_LIMIT // per_image
    assert in_memory("auto", fits, 3, 64) and not in_memory("auto", fits + 1, 3, 64)
    assert in_memory(True, 10**9, 3, 64) and not in_memory(False, 1, 3, 64)


def folder_data(root, cache, setting) -> ImbalancedDataModule:
    data = ImbalancedDataModule(
        ImageFolder(), minority=None, per_class=32, image_size=12, root=str(root),
        profile="natural", batch_size=7, eval_batch_size=9,
        cache_dir=None if cache is None else str(cache),
        val_fraction=0.2, in_memory=setting,
    )  # fmt: skip
    data.setup("fit")
    return data


@pytest.fixture(scope="module")
def both(tmp_path_factory):
    root = make_image_tree(tmp_path_factory.mktemp("storage") / "images", {"a": 23, "b": 9})
    cache = root.parent / "cache"
    return folder_data(root, cache, True), folder_data(root, cache, False)


def test_on_disk_the_same_images_come_in_the_same_batches(both):
    memory, disk = both
    assert not memory.train_set.on_disk and isinstance(disk.train_set, OnDiskImages)
    assert memory.splits_hash == disk.splits_hash
    for data in both:  # the sampler a run gets (Remedy.sampler): batches drawn by (seed, epoch)
        sampler = Shuffle(data.train_set.labels, data.counts("train"), seed=3)
        data.sampler_of = lambda epoch, sampler=sampler: sampler
    pairs = [
        (memory.train_dataloader(), disk.train_dataloader()),
        *zip(memory.val_dataloader(), disk.val_dataloader(), strict=True),
        (memory.test_dataloader(), disk.test_dataloader()),
    ]
    assert len(pairs[0][0]) == 3  # 18 training images in batches of 7
    for in_memory_loader, on_disk_loader in pairs:
        assert on_disk_loader.num_workers > 0  # read by workers
        batches = list(zip(in_memory_loader, on_disk_loader, strict=True))
        for (images, labels), (disk_images, disk_labels) in batches:
            assert disk_images.dtype == torch.uint8 and torch.equal(images, disk_images)
            assert torch.equal(labels, disk_labels)
    assert torch.allclose(memory.train_mean_image(), disk.train_mean_image(), atol=1e-4)


def test_images_on_disk_need_a_cache_and_files(tmp_path):
    root = make_image_tree(tmp_path / "images", {"a": 3, "b": 3})
    with pytest.raises(ConfigError, match="set data.cache_dir"):
        folder_data(root, None, False)
    digits = ImbalancedDataModule(
        Digits(), minority=list("56789"), per_class=8, image_size=8, in_memory=False
    )
    with pytest.raises(ConfigError, match="in memory already; set data.in_memory=true"):
        digits.setup("fit")
    with pytest.raises(ConfigError, match="data.in_memory=sometimes is not one of auto, true"):
        ImbalancedDataModule(Digits(), image_size=8, per_class=8, in_memory="sometimes")


def test_a_damaged_cache_entry_is_named_when_nothing_can_decode_it_again(tmp_path):
    import numpy as np

    files = [tmp_path / f"{i}.npy" for i in range(2)]
    for file in files:
        np.save(file, np.full((4, 4, 3), 7, dtype=np.uint8))
    images = OnDiskImages(files, torch.tensor([0, 1]))
    assert images.__getitems__([1, 0])[0].tolist() == torch.full((2, 3, 4, 4), 7).tolist()
    files[1].write_bytes(files[1].read_bytes()[:-5])  # cut short, as by a full disk
    with pytest.raises(ConfigError, match=f"image cache entry {files[1]} is not a 4x4x3 image"):
        images.__getitems__([0, 1])


def test_cache_entries_deleted_or_damaged_while_a_run_reads_them_are_decoded_again(both, caplog):
    memory, disk = both
    entries = [Path(os.fsdecode(file)) for file in disk.train_set.files]
    entries[0].unlink()  # the first: its header is read when the set is made
    entries[3].write_bytes(b"")
    for entry in entries[5:]:
        entry.unlink()
    expected = memory.train_set.tensors[0]
    again = OnDiskImages(disk.train_set.files, disk.train_set.labels, disk.train_set.sources,
                         disk.train_set.decode)  # fmt: skip
    loader = torch.utils.data.DataLoader(
        again, batch_size=4, num_workers=2, collate_fn=lambda batch: batch
    )
    assert torch.equal(torch.cat([images for images, _ in loader]), expected)
    assert all(entry.stat().st_size > 0 for entry in entries)  # written back
    lines = [r.getMessage() for r in caplog.records if "image cache entry" in r.getMessage()]
    assert f"image cache entry {entries[0]} is gone or damaged: decoded again from " in lines[0]
