from types import SimpleNamespace

import pytest
import torch
from torch.utils.data import DataLoader, DistributedSampler

from imbalance.data.datamodule import ImbalancedDataModule
from imbalance.data.sources import Digits
from imbalance.errors import ConfigError


def digits(ratio=3, image_size=16, **kwargs) -> ImbalancedDataModule:
    data = ImbalancedDataModule(
        Digits(), minority=list("56789"), per_class=16, image_size=image_size, ratio=ratio, **kwargs
    )
    data.setup("fit")
    return data


def test_counts_follow_step_imbalance_and_the_split():
    data = digits(ratio=3)
    # 160 / (5 + 5 * 3) = 8 minority, 24 majority; 30% of each for test, rounded half up.
    assert data.counts("train") == {
        **{str(d): 17 for d in range(5)},
        **{str(d): 6 for d in range(5, 10)},
    }
    assert data.counts("test") == {
        **{str(d): 7 for d in range(5)},
        **{str(d): 2 for d in range(5, 10)},
    }
    assert data.minority_names == list("56789") and data.channels == 1


def test_batches_are_whole_uint8_tensors_and_cover_the_split_once():
    data = digits(batch_size=10, eval_batch_size=32)
    batches = list(data.train_dataloader())
    assert [len(labels) for _, labels in batches] == [10] * 11 + [5]
    images, _ = batches[0]
    assert images.dtype == torch.uint8 and images.shape == (10, 1, 16, 16)
    seen = torch.cat([labels for _, labels in batches])
    assert sorted(seen.tolist()) == sorted(data.train_set.tensors[1].tolist())
    assert [len(labels) for _, labels in data.test_dataloader()] == [32, 13]


def test_loaders_survive_lightnings_distributed_sampler():
    data = digits(batch_size=10)
    loader = data.train_dataloader()
    # What Lightning does under DDP: the same loader, its sampler replaced by a shard of it.
    sampler = DistributedSampler(loader.dataset, num_replicas=2, rank=0, shuffle=True)
    shard = DataLoader(loader.dataset, 10, sampler=sampler, collate_fn=loader.collate_fn)
    sizes = [len(labels) for _, labels in shard]
    assert len(loader.dataset) == 115
    assert sum(sizes) == 58 and max(sizes) == 10  # half the images, still in batches of 10


def test_mean_image_is_of_the_training_images():
    data = digits()
    assert torch.allclose(data.train_mean_image(), data.train_set.tensors[0].float().mean(0))


def test_same_seed_same_images_another_seed_others():
    first, again, other = digits(seed=0), digits(seed=0), digits(seed=1)
    assert torch.equal(first.train_set.tensors[0], again.train_set.tensors[0])
    assert not torch.equal(first.train_set.tensors[0], other.train_set.tensors[0])


@pytest.mark.parametrize("key", ["image_size", "batch_size", "eval_batch_size"])
def test_sizes_below_one_are_refused_by_name(key):
    with pytest.raises(ConfigError, match=f"^data.{key}=0 must be at least 1$"):
        digits(**{key: 0})


def attach(data: ImbalancedDataModule, device="cpu", world_size=1, rank=0) -> None:
    """What the datamodule sees of a Trainer: its device and its processes."""
    strategy = SimpleNamespace(root_device=torch.device(device))
    data.trainer = SimpleNamespace(strategy=strategy, world_size=world_size, global_rank=rank)


@pytest.mark.parametrize("on_device", [True, False])
def test_images_move_once_to_the_trainers_device_unless_told_not_to(on_device):
    data = digits(on_device=on_device)
    attach(data, device="meta")  # a device without memory stands in for a GPU
    data.setup("fit")
    expected = "meta" if on_device else "cpu"
    tensors = (*data.train_set.tensors, *data.test_set.tensors)
    assert {tensor.device.type for tensor in tensors} == {expected}
    images, labels = next(iter(data.train_dataloader()))
    assert images.device.type == labels.device.type == expected


def test_each_process_tests_its_own_share_and_every_image_once():
    data = digits(ratio=3, eval_batch_size=4)
    shares = []
    for rank in (0, 1):
        attach(data, world_size=2, rank=rank)
        shares.append(torch.cat([labels for _, labels in data.test_dataloader()]))
    assert len(data.test_set) == 45 and [len(share) for share in shares] == [23, 22]
    assert sorted(torch.cat(shares).tolist()) == sorted(data.test_set.tensors[1].tolist())


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a GPU")
def test_on_a_gpu_the_images_and_the_augmented_batches_stay_there(tmp_path, config):
    from hydra.utils import instantiate

    from imbalance.train import build

    overrides = ["reg=full", "data.per_class=8", "data.image_size=16", "trainer.max_epochs=1"]
    cfg = config(*overrides, "trainer.accelerator=gpu")
    data, module = build(cfg)
    devices = set()
    module.augment.register_forward_hook(lambda _, args, out: devices.add(out.device.type))
    trainer = instantiate(cfg.trainer, logger=False, default_root_dir=tmp_path)
    trainer.fit(module, datamodule=data)
    assert data.train_set.tensors[0].is_cuda and data.test_set.tensors[0].is_cuda
    assert devices == {"cuda"} and len(module.history) == 1
