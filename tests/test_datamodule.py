import json
from types import SimpleNamespace

import pytest
import torch
from torch.utils.data import DataLoader, DistributedSampler

from imbalance.data.datamodule import ImbalancedDataModule
from imbalance.data.sources import Digits, ImageFolder, UnreadableImages
from imbalance.errors import ConfigError


def digits(ratio=3, image_size=16, minority=tuple("56789"), **kwargs) -> ImbalancedDataModule:
    data = ImbalancedDataModule(
        Digits(), minority=minority, per_class=16, image_size=image_size, ratio=ratio, **kwargs
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
    pixels = data.train_set.tensors[0]
    mean = data.train_mean_image()  # float64 sums of whole numbers: exact, the same on any CPU
    assert mean.dtype == torch.float64
    assert torch.equal(mean, pixels.long().sum(0).double() / len(pixels))


def test_same_seed_same_images_another_seed_others():
    first, again, other = digits(seed=0), digits(seed=0), digits(seed=1)
    assert torch.equal(first.train_set.tensors[0], again.train_set.tensors[0])
    assert not torch.equal(first.train_set.tensors[0], other.train_set.tensors[0])


@pytest.mark.parametrize("key", ["image_size", "batch_size", "eval_batch_size"])
def test_sizes_below_one_are_refused_by_name(key):
    with pytest.raises(ConfigError, match=f"^data.{key}=0 must be at least 1$"):
        digits(**{key: 0})


def test_a_size_that_is_not_a_number_is_refused_and_only_the_batch_may_be_auto():
    with pytest.raises(ConfigError, match="^data.batch_size=big is not an integer or auto$"):
        digits(batch_size="big")
    with pytest.raises(ConfigError, match="^data.eval_batch_size=auto is not an integer$"):
        digits(eval_batch_size="auto")


def attach(data: ImbalancedDataModule, device="cpu", world_size=1, rank=0) -> None:
    """What the datamodule sees of a Trainer: its device and its processes."""
    strategy = SimpleNamespace(root_device=torch.device(device))
    data.trainer = SimpleNamespace(
        strategy=strategy, world_size=world_size, global_rank=rank, current_epoch=0,
        lightning_module=None,
    )  # fmt: skip


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


@pytest.mark.parametrize(("on_device", "device", "pinned"), [
    (False, "cuda", True), (True, "cuda", False), (False, "cpu", False)
])  # fmt: skip
def test_batches_copied_to_a_gpu_at_every_step_come_pinned(on_device, device, pinned):
    data = digits(on_device=on_device)
    attach(data, device=device)
    loaders = [data.train_dataloader(), *data.val_dataloader(), data.test_dataloader()]
    assert [loader.pin_memory for loader in loaders] == [pinned] * 3


def test_each_process_tests_its_own_share_and_every_image_once():
    data = digits(ratio=3, eval_batch_size=4)
    shares = []
    for rank in (0, 1):
        attach(data, world_size=2, rank=rank)
        shares.append(torch.cat([labels for _, labels in data.test_dataloader()]))
    assert len(data.test_set) == 45 and [len(share) for share in shares] == [23, 22]
    assert sorted(torch.cat(shares).tolist()) == sorted(data.test_set.tensors[1].tolist())


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a GPU")
def test_on_a_gpu_images_stay_there_and_batches_are_indexed_without_waiting(tmp_path, config):
    from hydra.utils import instantiate

    from imbalance.build import build

    overrides = ["reg=full", "data.per_class=8", "data.image_size=16", "trainer.max_epochs=1"]
    cfg = config(*overrides, "trainer.accelerator=gpu")
    data, module = build(cfg)
    devices = set()
    module.augment.register_forward_hook(lambda _, args, out: devices.add(out.device.type))
    trainer = instantiate(cfg.trainer, logger=False, default_root_dir=tmp_path)
    trainer.fit(module, datamodule=data)
    assert data.train_set.tensors[0].is_cuda and data.test_set.tensors[0].is_cuda
    assert devices == {"cuda"} and len(module.history) == 1
    # A batch is indexed without waiting for the GPU: the next step's batch while the last
    # step's kernels still run.
    torch.cuda.set_sync_debug_mode("error")
    try:
        images, labels = data.train_set.__getitems__(list(range(10)))
    finally:
        torch.cuda.set_sync_debug_mode("default")
    assert images.is_cuda and labels.tolist() == data.train_set.tensors[1][:10].tolist()
    # Off the device, the batches come pinned, so that their copy to the GPU is queued too.
    data = digits(on_device=False)
    attach(data, device="cuda")
    data.setup("fit")
    images, labels = next(iter(data.train_dataloader()))
    assert not images.is_cuda and images.is_pinned() and labels.is_pinned()


def split_ids(data: ImbalancedDataModule) -> dict[str, set]:
    return {
        split: {i for ids in by_class.values() for i in ids}
        for split, by_class in data.splits.items()
    }


def test_a_balanced_test_set_holds_the_same_images_at_ratios_1_and_15():
    one = digits(ratio=1, test="balanced", test_per_class=5)
    fifteen = digits(ratio=15, profile="exponential", test="balanced", test_per_class=5)
    assert one.counts("test") == {str(d): 5 for d in range(10)}
    assert one.splits["test"] == fifteen.splits["test"]
    assert torch.equal(one.test_set.tensors[0], fifteen.test_set.tensors[0])
    for data in (one, fifteen):
        ids = split_ids(data)
        assert ids["test"].isdisjoint(ids["train"])
    # Training sizes are the profile's, the test images apart: 16 per class at 1:1.
    assert one.counts("train") == {str(d): 16 for d in range(10)}


def test_the_validation_split_is_held_out_of_training_per_class():
    data = digits(ratio=3, val_fraction=0.25)
    ids = split_ids(data)
    assert ids["val"] and all(ids["val"].isdisjoint(ids[other]) for other in ("train", "test"))
    # At 3:1, 17 and 6 training images per class before the split: round(4.25) and round(1.5).
    assert data.counts("val") == {
        **{str(d): 4 for d in range(5)},
        **{str(d): 2 for d in range(5, 10)},
    }
    assert data.counts("train") == {
        **{str(d): 13 for d in range(5)},
        **{str(d): 4 for d in range(5, 10)},
    }
    assert data.eval_splits == ["val", "test"] and len(data.val_dataloader()) == 2
    assert digits().eval_splits == ["test"]


def test_long_tail_profiles_report_many_medium_and_few_classes():
    data = digits(ratio=7, profile="linear", minority=None)
    assert data.groups == {
        "many": ["0", "1", "2"],
        "medium": ["3", "4", "5", "6"],
        "few": ["7", "8", "9"],
    }
    assert data.minority_names == ["7", "8", "9"]
    sizes = [data.counts("train")[name] + data.counts("test")[name] for name in data.class_names]
    assert max(sizes) == 7 * min(sizes) and sum(sizes) == 160


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"profile": "zipf"}, "profile=zipf is not one of step, linear, exponential"),
        ({"test": "even"}, "data.test=even is not one of stratified, balanced"),
        ({"val_fraction": 1.0}, r"data.val_fraction=1.0 is outside \[0, 1\)"),
        (
            {"test": "balanced", "test_per_class": 170},
            "class '0' has 178 images but data.test=balanced needs 170 test images plus 24 for",
        ),
    ],
    ids=[
        "unknown profile",
        "unknown test set",
        "val fraction",
        "class too small for a balanced test",
    ],
)
def test_bad_split_settings_are_one_line(kwargs, message):
    with pytest.raises(ConfigError, match=message) as error:
        digits(**kwargs)
    assert "\n" not in str(error.value)


def test_a_manifest_reproduces_a_runs_splits_exactly(tmp_path):
    import json

    first = digits(ratio=7, seed=3, val_fraction=0.2)
    results = tmp_path / "results.json"
    results.write_text(json.dumps({"config": {"ratio": 7}, "splits": first.splits}))
    again = digits(ratio=7, seed=0, manifest=str(results))  # the seed draws nothing now
    assert again.splits == first.splits and again.splits_hash == first.splits_hash
    for split in ("train", "val", "test"):
        for mine, theirs in zip(again.sets[split].tensors, first.sets[split].tensors, strict=True):
            assert torch.equal(mine, theirs)
    assert digits(ratio=7, seed=4).splits_hash != first.splits_hash


def test_bad_manifests_are_one_clear_line(tmp_path):
    import json

    good = digits(ratio=3).splits
    cases = {
        "absent.json": (None, "data.manifest='.*absent.json' does not exist"),
        "not_json.json": ("{", "is not a JSON file"),
        "no_splits.json": ({"test": {}}, "has no manifest: it needs a key 'splits'"),
        "bad_class.json": (
            {"splits": {**good, "test": {**good["test"], "cat": [1]}}},
            "class 'cat' is not in the data",
        ),
        "bad_image.json": (
            {"splits": {**good, "train": {**good["train"], "0": [99999]}}},
            "image '99999' of class '0' is not in the data",
        ),
        "twice.json": (
            {"splits": {**good, "val": {"0": good["train"]["0"][:1]}}},
            r"lists image '\d+' in train and again in val",
        ),
        "other_mu.json": (
            {"config": {"ratio": 3, "mu": 0.3}, "splits": good},
            "comes from a run with mu=0.3 but this run has mu=0.5; set mu=0.3",
        ),
        "other_ratio.json": (
            {"config": {"ratio": 15}, "splits": good},
            "comes from a run with ratio=15 but this run has ratio=3; set ratio=15",
        ),
    }
    for name, (content, message) in cases.items():
        if content is not None:
            text = content if isinstance(content, str) else json.dumps(content)
            (tmp_path / name).write_text(text)
        with pytest.raises(ConfigError, match=message) as error:
            digits(ratio=3, manifest=str(tmp_path / name))
        assert "\n" not in str(error.value), name


def folder_data(root, **kwargs) -> ImbalancedDataModule:
    data = ImbalancedDataModule(
        ImageFolder(), minority=["b"], per_class=6, image_size=8, root=root, **kwargs
    )
    data.setup("fit")
    return data


def test_unreadable_files_of_every_split_are_named_at_once(image_tree):
    root = image_tree({"a": 6, "b": 6})
    for path in sorted((root / "a").iterdir()) + sorted((root / "b").iterdir()):
        path.write_bytes(b"not an image")  # in the training and the test split alike
    with pytest.raises(UnreadableImages) as error:
        folder_data(str(root))
    assert len(error.value.files) == 12


def test_paths_take_the_home_folder_and_environment_variables(image_tree, tmp_path, monkeypatch):
    root = image_tree({"a": 6, "b": 6})
    monkeypatch.setenv("HOME", str(root.parent))
    monkeypatch.setenv("CACHES", str(tmp_path / "caches"))
    data = folder_data(f"~/{root.name}", cache_dir="$CACHES/decoded")
    assert data.root == str(root) and data.cache_dir == tmp_path / "caches" / "decoded"
    assert list((tmp_path / "caches" / "decoded").rglob("*.npy"))
    manifest = tmp_path / "manifest.json"
    manifest.write_text(json.dumps({"splits": data.splits}))
    monkeypatch.setenv("RUNS", str(tmp_path))
    assert folder_data(f"~/{root.name}", manifest="${RUNS}/manifest.json").splits == data.splits


def test_a_subset_with_no_test_image_is_refused_before_training():
    with pytest.raises(ConfigError) as error:
        ImbalancedDataModule(Digits(), minority=tuple("56789"), per_class=1, image_size=8).setup()
    assert str(error.value) == (
        "the test split is empty: at data.per_class=1 and ratio=1.0 every class has at most one "
        "image, which is trained on; raise data.per_class"
    )
